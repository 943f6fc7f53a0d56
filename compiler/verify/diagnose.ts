// Naming the likely mistake in a wrong gradient: sign flipped, a constant factor, transposed, a missing
// or extra factor of a scalar, a missing term for a parameter used twice, one term with the wrong factor,
// or σ′ written as σ·σ. Each pattern is tested numerically at several points, so a coincidence at one
// point does not produce a wrong diagnosis.

import type { Node } from '../ir/node.js';
import { topo, substitute, make } from '../ir/node.js';
import * as B from '../ir/build.js';
import { evaluate, type Env } from '../ir/interpret.js';
import { printExpr } from '../ir/print.js';
import { reverse } from '../autodiff/reverse.js';
import { simplify } from '../simplify/index.js';
import type { Model } from '../frontend/model.js';
import { resolveAdjoints, type Target } from './target.js';
import { classicMistake } from './mistakes.js';
import { valueNames } from '../autodiff/names.js';

const norm = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, x) => s + x * x, 0));
export function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-6): boolean {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += (a[i] - b[i]) ** 2;
  return Math.sqrt(d) <= tol * Math.max(norm(a), norm(b)) + 1e-12; // relative, with a floor only for exact zeros
}

export function transposeOf(d: Float64Array, shape: readonly number[]): Float64Array {
  const [m, n] = shape, out = new Float64Array(d.length);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[j * m + i] = d[i * n + j];
  return out;
}

/** What a claim is compared with: ∂L/∂X, or a Hessian (verify --hessian), as values at a point. */
export interface Comparison {
  /** How sentences name it: ∂L/∂W, ∂²L/∂w². */
  readonly label: string;
  readonly shape: readonly number[];
  derivedAt(env: Env): Float64Array;
  /** The derived formula, when there is one (its terms are searched for one with a wrong factor). */
  readonly derived: Node | null;
  /** The variable's first-order target: the activations on its path, its uses. */
  readonly t: Target;
  readonly order: 1 | 2;
}

/** What every check needs: the claim (resolved, and as written), what it should equal, the test points, and tests over them. */
export interface Checks {
  readonly model: Model;
  readonly t: Target;
  readonly cmp: Comparison;
  readonly C: Node;
  readonly written: Node;
  readonly envs: readonly Env[];
  readonly names: (n: Node) => string | undefined;
  evalAll(roots: Node[], env: Env): Float64Array[];
  /** Whether test(claim, derived, point) holds at every point. */
  holds(test: (c: Float64Array, d: Float64Array, env: Env) => boolean): boolean;
  /** Whether a corrected claim (placeholders resolved) equals what it should at every point. */
  equalsGradient(candidate: Node): boolean;
}

/**
 * `claim` has its dL/dz placeholders resolved; `written` is the claim as written (the placeholders kept), which
 * the classic-mistake search corrects, so that its sentences use the student's own terms. The checks run in
 * order, the plainest first; the first that holds is the diagnosis.
 */
export function diagnose(model: Model, t: Target, claim: Node, envs: Env[], written: Node = claim): string | undefined {
  const D = t.derived;
  const cmp: Comparison = { label: `∂L/∂${t.name}`, shape: D.shape, derivedAt: (env) => evaluate([D], env).get(D)!.data as Float64Array, derived: D, t, order: 1 };
  return diagnoseAgainst(model, cmp, claim, envs, written);
}

export type Check = (cx: Checks) => string | undefined;

/** The diagnosis against any comparison; `first` are checks tried before the common ones (a Hessian's own). */
export function diagnoseAgainst(model: Model, cmp: Comparison, claim: Node, envs: Env[], written: Node = claim, first: Check[] = []): string | undefined {
  const t = cmp.t;
  const evalAll = (roots: Node[], env: Env) => { const v = evaluate(roots, env); return roots.map((r) => v.get(r)!.data as Float64Array); };
  const sameShape = (r: Node) => r.shape.length === cmp.shape.length && r.shape.every((x, i) => x === cmp.shape[i]);
  const cx: Checks = {
    model, t, cmp, C: claim, written, envs, names: forwardNames(t), evalAll,
    holds: (test) => envs.every((env) => test(evalAll([claim], env)[0], cmp.derivedAt(env), env)),
    equalsGradient: (candidate) => {
      try {
        const r = resolveAdjoints(model, candidate);
        return sameShape(r) && envs.every((env) => { const c = evalAll([r], env)[0]; return c.every(Number.isFinite) && close(c, cmp.derivedAt(env)); });
      } catch {
        return false; // a correction that cannot be built or evaluated is no correction
      }
    },
  };
  const common: Check[] = cmp.order === 1 ? [wholeGradient, classic, scalarFactor, missingTerm, wrongFactorInTerm, sigmoidSquared] : [wholeGradient, classic, scalarFactor, wrongFactorInTerm, sigmoidSquared];
  for (const check of [...first, ...common]) {
    const found = check(cx);
    if (found) return found;
  }
  return undefined;
}

const ratio = (c: Float64Array, d: Float64Array) => { let cd = 0, dd = 0; for (let i = 0; i < d.length; i++) { cd += c[i] * d[i]; dd += d[i] * d[i]; } return dd > 0 ? cd / dd : NaN; };

/** The whole claim off by its sign, a constant factor (the same at every point), or a transpose. */
function wholeGradient({ cmp, C, envs, evalAll, holds }: Checks): string | undefined {
  const d0 = cmp.derivedAt(envs[0]);
  if (norm(d0) > 0 && holds((c, d) => close(c, d.map((x) => -x)))) return `sign flipped: the claim is −${cmp.label}`;
  const k = ratio(evalAll([C], envs[0])[0], d0);
  if (Number.isFinite(k) && Math.abs(k - 1) > 1e-9 && Math.abs(k) > 1e-9 && holds((c, d) => close(c, d.map((x) => k * x)))) {
    return `off by a constant factor: the claim is ${fmt(k)} × ${cmp.label}`;
  }
  const shape = cmp.shape;
  if (shape.length === 2 && shape[0] === shape[1] && holds((c, d) => close(c, transposeOf(d, shape)))) return `transposed: the claim is (${cmp.label})ᵀ`;
  return undefined;
}

/** The mistakes students make most (mistakes.ts): corrections printed in the claim's terms, outputs named too. */
function classic({ t, written, equalsGradient }: Checks): string | undefined {
  const allNames = valueNames(t.g);
  allNames.delete(t.g.loss);
  return classicMistake({ claim: written, t, equalsGradient, names: (n) => allNames.get(n) });
}

/** A missing or extra factor of one scalar input, param or dim (the label y, say). */
function scalarFactor({ model, cmp, holds, evalAll }: Checks): string | undefined {
  const scalars = [...model.inputs.filter((i) => i.shape.length === 0 && i.classes === undefined).map((i) => i.node), ...model.params.filter((p) => p.shape.length === 0).map((p) => p.node), ...[...model.dims].map(([n, d]) => B.dim(n, d.value))];
  for (const s of scalars) {
    const name = printExpr(s, 'text');
    if (holds((c, d, env) => { const sv = evalAll([s], env)[0][0]; return close(c.map((x) => x * sv), d); })) return `a factor ${name} is missing: the claim times ${name} is ${cmp.label}`;
    if (holds((c, d, env) => { const sv = evalAll([s], env)[0][0]; return close(c, d.map((x) => x * sv)); })) return `an extra factor ${name}: the claim is ${name} × ${cmp.label}`;
  }
  return undefined;
}

/** A parameter used more than once: the claim is the gradient with one use left out. */
function missingTerm({ t, holds, evalAll, names }: Checks): string | undefined {
  if (t.kind !== 'param') return undefined;
  const uses = topo([t.g.loss]).filter((n) => n.args.includes(t.node));
  if (uses.length < 2) return undefined;
  for (const use of uses) {
    const frozen = B.variable(`__frozen_${t.name}`, t.node.shape);
    const lossWithout = substitute(t.g.loss, (n) => (n === use ? make(n.op, n.args.map((a) => (a === t.node ? frozen : a)), n.attr) : undefined));
    const adj = reverse(lossWithout, [t.node]).get(t.node);
    const partial = adj ? simplify(substitute(adj, (n) => (n === frozen ? t.node : undefined))) : B.constant(0, t.node.shape);
    if (holds((c, _d, env) => close(c, evalAll([partial], env)[0]))) {
      // Show the use in context: W' alone says less than W' * a.
      const shown = use.op === 'transpose' ? topo([t.g.loss]).find((n) => n.args.includes(use)) ?? use : use;
      return `a missing term: ${t.name} is used ${uses.length} times, and the claim leaves out the term through its use in ${printExpr(shown, 'text', names)}`;
    }
  }
  return undefined;
}

/** One term of a sum with the wrong factor (a regularizer's 2λW written λW). */
function wrongFactorInTerm({ cmp, C, envs, holds, evalAll }: Checks): string | undefined {
  const D = cmp.derived;
  if (!D) return undefined;
  const terms: Node[] = [];
  const collect = (n: Node) => { if (n.op === 'add') { collect(n.args[0]); collect(n.args[1]); } else terms.push(n); };
  collect(D);
  if (terms.length < 2) return undefined;
  for (const term of terms) {
    const [c, d, tv] = evalAll([C, D, term], envs[0]);
    const a = ratio(c.map((x, i) => x - d[i]), tv);
    if (!Number.isFinite(a) || Math.abs(a) < 1e-9) continue;
    if (holds((cc, dd, env) => close(cc.map((x, i) => x - dd[i]), evalAll([term], env)[0].map((x) => a * x)))) {
      return `one term has the wrong factor: the claim has ${fmt(1 + a)} × (${printExpr(term, 'text')}) where ${cmp.label} has 1 ×`;
    }
  }
  return undefined;
}

/** σ′ written as σ·σ: a product in the claim has one sigmoid twice, and σ(1 − σ) for one of them is right. */
function sigmoidSquared({ written, equalsGradient, names }: Checks): string | undefined {
  for (const n of topo([written])) {
    if (n.op !== 'mul' && n.op !== 'pow') continue;
    const factors: Node[] = [];
    const flat = (m: Node) => { if (m.op === 'mul') { flat(m.args[0]); flat(m.args[1]); } else factors.push(m); };
    if (n.op === 'pow' && n.args[0].op === 'sigmoid' && B.isConst(n.args[1], 2)) factors.push(n.args[0], n.args[0]); else flat(n);
    const twice = factors.find((f, i) => f.op === 'sigmoid' && factors.indexOf(f) !== i);
    if (twice && equalsGradient(substitute(written, (m) => (m === n ? B.mul(B.div(n, twice), B.sub(B.constant(1), twice)) : undefined)))) {
      const t0 = names(twice.args[0]) ?? printExpr(twice.args[0], 'text', names);
      return `σ′ written as σ·σ: the derivative of sigmoid(${t0}) is sigmoid(${t0}) .* (1 - sigmoid(${t0})), not sigmoid(${t0}) .* sigmoid(${t0})`;
    }
  }
  return undefined;
}

export function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(6)));
}

/** Print forward values by the model's names (a1, z2), except the node being printed itself. */
export function forwardNames(t: Target): (n: Node) => string | undefined {
  const byNode = valueNames(t.g, { lossPathOnly: true });
  return (n) => byNode.get(n);
}

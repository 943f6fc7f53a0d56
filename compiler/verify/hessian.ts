// `gradc verify --hessian`: is a hand-derived Hessian right? The same three stages as a gradient — shape,
// symbolic identity with the derived closed form, then a fast-check property over seeded random points —
// against the Hessian evaluated from the derived product H eⱼ, so that a claim is checked even where gradc
// itself finds no closed form. The diagnoses are the gradient's (sign, factor, transpose, a classic
// mistake) and the Hessian's own: a missing symmetrisation (A for A + Aᵀ, 2A for a non-symmetric A) and a
// curvature factor left out (x xᵀ for σ(s)(1 − σ(s)) x xᵀ).

import fc from 'fast-check';
import type { Model } from '../frontend/model.js';
import type { Node } from '../ir/node.js';
import { opOf, sameShape, showShape, topo } from '../ir/node.js';
import { evaluate, type Env } from '../ir/interpret.js';
import { tensor, toNested, type Tensor } from '../ir/tensor.js';
import { printExpr } from '../ir/print.js';
import * as B from '../ir/build.js';
import { newSimplifier } from '../simplify/index.js';
import { prettify } from '../simplify/pretty.js';
import { close, diagnoseAgainst, transposeOf, type Check, type Checks, type Comparison } from './diagnose.js';
import { hessianTargetOf, type HessianTarget } from './hessian-target.js';
import { targetOf } from './target.js';
import { binaryLabel, constantOfShape, pointArbitrary, relativeGap, round, sameNormalForm, toEnv, type Verdict, type VerifyOptions } from './verify.js';
import { hessianLines } from '../cli/hessian.js';

/** ∂²L/∂w², or ∂²L/∂w∂bᵀ for a cross block, as sentences name it. */
export function hessianLabel(model: Model, wrt: readonly string[]): string {
  const L = model.loss.name;
  return wrt.length === 1 || wrt[0] === wrt[1] ? `∂²${L}/∂${wrt[0]}²` : `∂²${L}/∂${wrt[0]}∂${wrt[1]}ᵀ`;
}

/** Shape and symbolic checks at the model's own sizes; undefined to go on numerically. */
export function quickHessianVerdict(model: Model, wrt: readonly string[], claim: Node, claimText: string): Verdict | undefined {
  const ht = hessianTargetOf(model, wrt);
  claim = constantOfShape(claim, ht.shape);
  const base = { wrt: wrt.join(', '), claim: claimText, ...derivedText(ht) };
  if (!sameShape(claim.shape, ht.shape)) return { ...base, verdict: 'FAIL', method: 'shape', message: shapeMessage(model, ht, claim, wrt) };
  if (ht.closed) {
    const simp = newSimplifier();
    const c = simp.simplify(claim), d = simp.simplify(ht.closed);
    if (c === d || sameNormalForm(c, d, claim, ht.closed)) {
      return { ...base, verdict: 'PASS', method: 'symbolic', message: `the claim is symbolically identical to ${hessianLabel(model, wrt)}` };
    }
  }
  return undefined;
}

/** The derived Hessian as `gradc hessian` prints it (the closed form, or else H v), and its name. */
function derivedText(ht: HessianTarget): { derived: string; derivedName: string } {
  const line = hessianLines(ht.h, 'text')[0];
  const at = line.indexOf(' = ');
  return { derivedName: line.slice(0, at), derived: line.slice(at + 3) };
}

function shapeMessage(model: Model, ht: HessianTarget, claim: Node, wrt: readonly string[]): string {
  const want = ht.shape;
  const s = `the claim has shape ${showShape(claim.shape)}, ${hessianLabel(model, wrt)} has shape ${showShape(want)}`;
  const rows = ht.h.rows.leaf;
  if (claim.rank === 2 && want.length === 2 && claim.shape[0] === want[1] && claim.shape[1] === want[0]) return `${s}: transpose it (rows are ${wrt[0]}'s entries, columns ${wrt[wrt.length - 1]}'s)`;
  if (sameShape(claim.shape, rows.shape) && !rows.isScalar) return `${s}: that is the shape of ${wrt[0]} itself — a gradient, or a Hessian-vector product; the Hessian has one row and one column per entry`;
  if (rows.rank === 2 && want.length === 2) return `${s}: for a matrix ${wrt[0]} [${rows.shape.join(', ')}], the Hessian is ${want[0]} × ${want[1]}, ${wrt[0]} flattened row by row (a Kronecker product kron(A, B) has that shape)`;
  return s;
}

/** The numeric property check at small sizes, with a counterexample and a diagnosis when it fails. */
export function numericHessianVerdict(model: Model, wrt: readonly string[], claim: Node, claimText: string, opts: VerifyOptions): Verdict {
  const ht = hessianTargetOf(model, wrt);
  claim = constantOfShape(claim, ht.shape);
  const what = hessianLabel(model, wrt);
  const t = targetOf(model, wrt[0]);
  const kinks = topo([claim, t.g.loss]).filter((n) => opOf(n.op).kink).map((n) => n.args[0]);
  const awayFromKinks = (env: Env) => { const v = evaluate(kinks, env); return kinks.every((k) => Array.from(v.get(k)!.data).every((x) => Math.abs(x) > 1e-3)); };
  const claimAt = (env: Env) => evaluate([claim], ht.leafEnv(env)).get(claim)!.data as Float64Array;
  const coordinate = fc.integer({ min: -8, max: 8 }).map((k) => k / 4);
  // A ±1 label takes only its own values: with them y² = 1, and the textbook's Hessian drops it.
  const label = binaryLabel(t.g);
  const property = fc.property(pointArbitrary(model, coordinate, label), (pt) => {
    const env = toEnv(model, pt);
    fc.pre(awayFromKinks(env));
    const c = claimAt(env), d = ht.valueAt(env);
    fc.pre(d.every(Number.isFinite) && c.every(Number.isFinite));
    return close(c, d);
  });
  const result = fc.check(property, { seed: opts.seed, numRuns: opts.runs });
  const base = { wrt: wrt.join(', '), claim: claimText, ...derivedText(ht), method: 'numeric' as const };
  if (!result.failed) {
    return { ...base, verdict: 'PASS', points: result.numRuns, message: `the claim agrees with ${what} at ${result.numRuns} random points (seed ${opts.seed}, relative tolerance 1e-6)` };
  }
  // A point with short nonzero coordinates where the difference is plain to see, as for a gradient.
  const candidates = fc.sample(pointArbitrary(model, fc.constantFrom(-1.5, -1, -0.5, 0.5, 1, 1.5), label), { seed: opts.seed, numRuns: 60 })
    .map((pt) => toEnv(model, pt)).filter(awayFromKinks)
    .map((env) => ({ env, c: claimAt(env), d: ht.valueAt(env) }))
    .filter((p) => p.c.every(Number.isFinite) && p.d.every(Number.isFinite))
    .map((p) => ({ ...p, gap: relativeGap(p.c, p.d) })).filter((p) => p.gap > 1e-6);
  const shrunk = result.counterexample as [Record<string, unknown>] | null;
  const readable = candidates.find((p) => p.gap >= 0.1) ?? [...candidates].sort((a, b) => b.gap - a.gap)[0];
  if (!readable && !shrunk) {
    return { ...base, verdict: 'FAIL', points: result.numRuns, message: `the claim could not be checked: at almost every random point a value is not finite or sits on a kink (${result.numSkips} points skipped)` };
  }
  const env = readable?.env ?? toEnv(model, shrunk![0]);
  const more: Env[] = [env];
  fc.sample(pointArbitrary(model, coordinate, label), { seed: opts.seed + 1, numRuns: 40 }).map((pt) => toEnv(model, pt)).forEach((e) => { if (more.length < 5 && awayFromKinks(e)) more.push(e); });
  const cmp: Comparison = { label: what, shape: ht.shape, derivedAt: (e) => ht.valueAt(e), derived: ht.closed, t, order: 2 };
  const diagnosis = diagnoseAgainst(model, cmp, claim, more.map(ht.leafEnv), claim, hessianChecks(ht));
  const shaped = (d: ArrayLike<number>) => round(toNested(tensor(ht.shape, Float64Array.from(d)) as Tensor));
  return {
    ...base, verdict: 'FAIL', diagnosis, points: result.numRuns,
    message: `the claim differs from ${what}`,
    counterexample: {
      point: Object.fromEntries([...model.inputs, ...model.params].map((d) => [d.name, round(toNested(env.get(d.name)!))])),
      claimed: shaped(claimAt(env)),
      derived: shaped(ht.valueAt(env)),
      finiteDifference: shaped(ht.finiteDifferencesAt(env)),
    },
  };
}

/** The Hessian's own mistakes, tried before the ones a gradient shares. */
function hessianChecks(ht: HessianTarget): Check[] {
  return [(cx) => symmetrisation(cx), (cx) => missingCurvature(cx, ht)];
}

/**
 * A Hessian is symmetric. xᵀAx has Hessian A + Aᵀ: a claim of A (or Aᵀ) leaves out the symmetrisation, and
 * 2A is right only for a symmetric A — its symmetric part is the Hessian.
 */
function symmetrisation({ cmp, holds, C, envs, evalAll }: Checks): string | undefined {
  const shape = cmp.shape;
  if (shape.length !== 2 || shape[0] !== shape[1]) return undefined;
  const c0 = evalAll([C], envs[0])[0];
  if (close(c0, transposeOf(c0, shape))) return undefined; // a symmetric claim is not missing its symmetrisation
  if (holds((c, d) => close(c.map((x, k) => x + transposeOf(c, shape)[k]), d))) {
    return `missing symmetrisation: the claim is not symmetric, and the claim plus its transpose is ${cmp.label} (a Hessian is symmetric: for xᵀAx it is A + Aᵀ, not A)`;
  }
  if (holds((c, d) => close(c.map((x, k) => (x + transposeOf(c, shape)[k]) / 2), d))) {
    return `not symmetrised: the claim is not symmetric, but its symmetric part (C + Cᵀ)/2 is ${cmp.label} (for xᵀAx, 2A holds only when A is symmetric; write A + Aᵀ)`;
  }
  return undefined;
}

/**
 * A curvature factor left out: the derived closed form is a product, and the claim times one of its scalar
 * factors (or two next to each other, σ(s) · (1 − σ(s))) is the Hessian — logistic regression's x xᵀ for
 * σ(s)(1 − σ(s)) x xᵀ, or σ(s) x xᵀ with the (1 − σ(s)) forgotten.
 */
function missingCurvature({ cmp, holds, evalAll, names }: Checks, ht: HessianTarget): string | undefined {
  if (!ht.closed) return undefined;
  const factors: Node[] = [];
  const flat = (n: Node) => { if (n.op === 'mul') { flat(n.args[0]); flat(n.args[1]); } else factors.push(n); };
  flat(ht.closed);
  const scalars = factors.filter((f) => f.isScalar && f.op !== 'const');
  const candidates: Node[] = [...scalars.map((f, i) => (i + 1 < scalars.length ? [f, B.mul(f, scalars[i + 1])] : [f])).flat()];
  if (scalars.length > 2) candidates.push(scalars.reduce((a, b) => B.mul(a, b)));
  for (const f of candidates) {
    if (holds((c, d, env) => { const s = evalAll([f], env)[0][0]; return close(c.map((x) => x * s), d); })) {
      const shown = printExpr(prettify(f), 'text', names, undefined, { matrixNotation: true });
      return `a factor ${shown} is missing: the claim times it is ${cmp.label}${f.op === 'mul' && topo([f]).some((n) => n.op === 'sigmoid') ? ' (the derivative of the sigmoid, σ′ = σ(1 − σ))' : ''}`;
    }
  }
  return undefined;
}


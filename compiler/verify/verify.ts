// `gradc verify`: is a hand-derived gradient right? Shape first; then symbolically (the simplifier reduces
// claim and derivation to the same node); otherwise numerically, as a fast-check property over seeded
// random points (params and real inputs in [−2, 2], labels uniform, away from kinks), with fast-check's
// shrunk counterexample and a diagnosis when it fails.

import fc from 'fast-check';
import type { Model } from '../frontend/model.js';
import type { Node } from '../ir/node.js';
import { opOf, sameShape, showShape, topo } from '../ir/node.js';
import { evaluate, type Env } from '../ir/interpret.js';
import { tensor, toNested, type Tensor } from '../ir/tensor.js';
import { printExpr } from '../ir/print.js';
import * as B from '../ir/build.js';
import { newSimplifier } from '../simplify/index.js';
import { canonical } from './canonical.js';
import { close, diagnose, forwardNames } from './diagnose.js';
import { targetOf, WRT_VAR, type Target } from './target.js';
import type { Gradients } from '../autodiff/gradients.js';
import { programNaming } from '../cli/naming.js';
import { accuracyOf } from '../codegen/plan.js';

export interface Verdict {
  wrt: string;
  claim: string;
  verdict: 'PASS' | 'FAIL';
  method: 'shape' | 'symbolic' | 'numeric' | 'error';
  message: string;
  /** For a claim that cannot be read: the located messages, FILE:LINE:COL with the line and a caret. */
  located?: string;
  derived: string;
  /** How the derived formula is named where it is shown, when not dL/dWRT (d2L/dw2 for a Hessian). */
  derivedName?: string;
  diagnosis?: string;
  points?: number;
  counterexample?: { point: Record<string, unknown>; forward?: Record<string, unknown>; claimed: unknown; derived: unknown; finiteDifference: unknown };
}

export interface VerifyOptions { seed: number; runs: number }

/** Shape and symbolic checks, at the model's own sizes. Returns a verdict, or undefined to go on numerically. */
export function quickVerdict(model: Model, wrt: string, claim: Node, claimText: string, written: Node = claim): Verdict | undefined {
  const t = targetOf(model, wrt);
  claim = constantOfShape(claim, t.node.shape);
  const derivedText = derivedAsWritten(t, written);
  const base = { wrt, claim: claimText, derived: derivedText };
  if (!sameShape(claim.shape, t.node.shape)) {
    return { ...base, verdict: 'FAIL', method: 'shape', message: shapeMessage(claim, t.node.shape, wrt) };
  }
  const simp = newSimplifier();
  const c = simp.simplify(claim), d = simp.simplify(t.derived);
  if (c === d || sameNormalForm(c, d, claim, t.derived)) {
    return { ...base, verdict: 'PASS', method: 'symbolic', message: `the claim is symbolically identical to ∂${model.loss.name}/∂${wrt}` };
  }
  return undefined;
}

/** A number claimed for a tensor means that number everywhere (`dL/dW = 0`, as the backward program prints it). */
export function constantOfShape(claim: Node, shape: readonly number[]): Node {
  return claim.op === 'const' && claim.isScalar && shape.length > 0 ? B.constant(claim.attr.value as number, shape) : claim;
}

/** The normal form only rearranges; if a rearrangement cannot be built, the numeric check decides. */
export function sameNormalForm(c: Node, d: Node, claim: Node, derived: Node): boolean {
  try {
    return canonical(c) === canonical(d) || B.isConst(canonical(B.sub(claim, derived)), 0);
  } catch {
    return false;
  }
}

function shapeMessage(claim: Node, want: readonly number[], wrt: string): string {
  const s = `the claim has shape ${showShape(claim.shape)}, ∂L/∂${wrt} has shape ${showShape(want)}`;
  if (claim.rank === 2 && want.length === 2 && claim.shape[0] === want[1] && claim.shape[1] === want[0]) {
    return claim.op === 'outer' ? `${s}: transpose the outer product (swap its arguments)` : `${s}: transpose it`;
  }
  if (claim.rank === 0 && want.length > 0) return `${s}: the claim is a scalar; did you take a dot product where an elementwise product or outer product was meant?`;
  return s;
}

/**
 * The numeric property check, at (small) sizes where points can be printed. `written` is the claim as
 * written, its dL/dz placeholders kept (`claim` has them resolved): the diagnosis corrects it, and when it
 * uses them the derived formula is shown in the same step-wise form.
 */
export function numericVerdict(model: Model, wrt: string, claim: Node, claimText: string, opts: VerifyOptions, written: Node = claim): Verdict {
  const t = targetOf(model, wrt);
  claim = constantOfShape(claim, t.node.shape);
  const derivedText = derivedAsWritten(t, written);
  const roots = [claim, t.derived, t.g.loss];
  const kinks = topo(roots).filter((n) => opOf(n.op).kink).map((n) => n.args[0]);
  const awayFromKinks = (vals: Map<Node, Tensor>) => kinks.every((k) => Array.from(vals.get(k)!.data).every((x) => Math.abs(x) > 1e-3));

  // Values on a grid of quarters in [−2, 2]: random enough for identities that fail almost everywhere.
  const coordinate = fc.integer({ min: -8, max: 8 }).map((k) => k / 4);
  const property = fc.property(pointArbitrary(model, coordinate), (pt) => {
    const vals = evaluate(roots, toEnv(model, pt));
    fc.pre(awayFromKinks(vals));
    const c = vals.get(claim)!.data, d = vals.get(t.derived)!.data;
    fc.pre(d.every(Number.isFinite) && c.every(Number.isFinite));
    return close(c, d);
  });
  const result = fc.check(property, { seed: opts.seed, numRuns: opts.runs });
  const base = { wrt, claim: claimText, derived: derivedText, method: 'numeric' as const };
  if (!result.failed) {
    const agreed = result.numRuns;
    return { ...base, verdict: 'PASS', points: agreed, message: `the claim agrees with ∂${model.loss.name}/∂${wrt} at ${agreed} random points (seed ${opts.seed}, relative tolerance 1e-6)` };
  }
  // A point a person can redo by hand: every coordinate a short nonzero decimal (no zero hides a term),
  // where the claim is furthest from the gradient; fast-check's own counterexample if no such point differs.
  const candidates = fc.sample(pointArbitrary(model, fc.constantFrom(-1.5, -1, -0.5, 0.5, 1, 1.5), binaryLabel(t.g)), { seed: opts.seed, numRuns: 60 })
    .map((pt) => toEnv(model, pt))
    .map((env) => ({ env, vals: evaluate(roots, env) }))
    .filter(({ vals }) => awayFromKinks(vals) && [claim, t.derived].every((r) => vals.get(r)!.data.every(Number.isFinite)))
    .map((p) => ({ ...p, gap: relativeGap(p.vals.get(claim)!.data, p.vals.get(t.derived)!.data) }))
    .filter((p) => p.gap > 1e-6);
  // The first point whose difference is plain to see (10 %), so values stay moderate; else the widest gap.
  // Preferably with no element of the gradient cancelling to zero by chance (equal weights, say).
  const generic = (p: { vals: Map<Node, Tensor> }) => { const d = p.vals.get(t.derived)!.data; const top = Math.max(...Array.from(d, Math.abs)); return Array.from(d).every((x) => Math.abs(x) > 1e-9 * top); };
  const readable = candidates.find((p) => p.gap >= 0.1 && generic(p)) ?? candidates.find((p) => p.gap >= 0.1) ?? [...candidates].sort((a, b) => b.gap - a.gap)[0];
  const shrunk = result.counterexample as [Record<string, unknown>] | null;
  if (!readable && !shrunk) {
    // fast-check gave up: nearly every point sat on a kink or gave a non-finite value.
    return { ...base, verdict: 'FAIL', points: result.numRuns, message: `the claim could not be checked: at almost every random point a value is not finite or sits on a kink (${result.numSkips} points skipped)` };
  }
  const env = readable?.env ?? toEnv(model, shrunk![0]);
  const vals = readable?.vals ?? evaluate(roots, env);
  // More points for the diagnosis, so one coincidence does not decide it.
  const more: Env[] = [env];
  fc.sample(pointArbitrary(model, coordinate), { seed: opts.seed + 1, numRuns: 40 }).map((pt) => toEnv(model, pt)).forEach((e) => {
    if (more.length < 5 && awayFromKinks(evaluate(roots, e))) more.push(e);
  });
  const diagnosis = diagnose(model, t, claim, more, written);
  return {
    ...base, verdict: 'FAIL', diagnosis, points: result.numRuns,
    message: `the claim differs from ∂${model.loss.name}/∂${wrt}`,
    counterexample: {
      point: Object.fromEntries([...model.inputs, ...model.params].map((d) => [d.name, round(toNested(env.get(d.name)!))])),
      forward: forwardValues(model, t, written, env),
      claimed: round(toNested(vals.get(claim)!)),
      derived: round(toNested(vals.get(t.derived)!)),
      finiteDifference: round(toNested(finiteDifferences(t.lossOfX, vals.get(t.node)!, env))),
    },
  };
}

/**
 * A binary classifier's scalar label (logistic regression's y), with the values it takes: −1 and +1 when the
 * loss multiplies it into a score (−log σ(y wᵀx)), 0 and 1 otherwise (y log p + (1 − y) log(1 − p)).
 */
export function binaryLabel(g: Gradients): { name: string; values: number[] } | undefined {
  const acc = accuracyOf(g);
  if (acc?.kind !== 'binary') return undefined;
  const label = acc.label;
  const intoScore = topo([g.loss]).some((n) => n.op === 'mul' && n.args.includes(label) && n.args.every((a) => a === label || (a.op !== 'log' && a.op !== 'log_sigmoid')));
  return { name: label.attr.name as string, values: intoScore ? [-1, 1] : [0, 1] };
}

/** A random point: an integer label per class input, a binary label's own values, `coordinate` for every other value. */
export function pointArbitrary(model: Model, coordinate: fc.Arbitrary<number>, label?: { name: string; values: number[] }): fc.Arbitrary<Record<string, unknown>> {
  // Object.fromEntries defines own properties, so a model name such as __proto__ is a key like any other.
  return fc.record(Object.fromEntries([
    ...model.inputs.map((i) => [i.name, i.classes !== undefined ? fc.integer({ min: 0, max: i.classes - 1 })
      : i.name === label?.name ? fc.constantFrom(...label.values)
      : i.shape.length === 0 ? coordinate
      : fc.array(coordinate, { minLength: i.node.size, maxLength: i.node.size })] as const),
    ...model.params.map((p) => [p.name, p.shape.length === 0 ? coordinate : fc.array(coordinate, { minLength: p.node.size, maxLength: p.node.size })] as const),
  ]) as Record<string, fc.Arbitrary<unknown>>);
}

export function toEnv(model: Model, pt: Record<string, unknown>): Env {
  const env = new Map<string, Tensor>();
  const value = (v: unknown) => (typeof v === 'number' ? [v] : (v as number[]));
  for (const i of model.inputs) env.set(i.name, tensor(i.shape, value(pt[i.name])));
  for (const p of model.params) env.set(p.name, tensor(p.shape, value(pt[p.name])));
  return env;
}

export function relativeGap(c: ArrayLike<number>, d: ArrayLike<number>): number {
  let diff = 0, size = 0;
  for (let i = 0; i < c.length; i++) { diff += (c[i] - d[i]) ** 2; size += Math.max(c[i] ** 2, d[i] ** 2); }
  return size > 0 ? Math.sqrt(diff / size) : 0;
}

/**
 * The values a person needs to redo the counterexample by hand: the model's named values on the loss's path
 * (z1, a1, z2, …) and the adjoints the claim refers to (dL/da1), in the order they are computed.
 */
function forwardValues(model: Model, t: Target, written: Node, env: Env): Record<string, unknown> {
  const named = model.values.filter((v) => v.role !== 'loss').map((v) => ({ name: v.name, node: t.g.forward.get(v.name)! })).filter((v) => v.node);
  const adjoints = topo([written]).filter((n) => n.op === 'var' && typeof n.attr.adjointOf === 'string')
    .map((n) => ({ name: n.attr.name as string, node: targetOf(model, n.attr.adjointOf as string).derived }));
  const all = [...named, ...adjoints, { name: model.loss.name, node: t.g.loss }];
  const vals = evaluate(all.map((v) => v.node), env);
  return Object.fromEntries(all.map((v) => [v.name, round(toNested(vals.get(v.node)!))]));
}

/**
 * ∂L/∂X printed as the claim is written: in the backward program's step-wise form (dL/dz1 = dL/da1 .* (1 -
 * a1 .^ 2)) when the claim uses dL/d… names and X has a step, otherwise as one expression.
 */
function derivedAsWritten(t: Target, written: Node): string {
  const stepwise = topo([written]).some((n) => n.op === 'var' && typeof n.attr.adjointOf === 'string');
  const step = stepwise ? t.g.steps.find((s) => s.of === t.name) : undefined;
  return step ? printExpr(step.node, 'text', programNaming(t.g, 'text').naming) : printExpr(t.derived, 'text', forwardNames(t));
}

/** Central differences of the loss in X, element by element (float64). */
function finiteDifferences(lossOfX: Node, x: Tensor, env: Env): Tensor {
  const out = tensor(x.shape);
  const e = new Map(env);
  for (let i = 0; i < x.data.length; i++) {
    const h = 1e-6 * Math.max(1, Math.abs(x.data[i]));
    const at = (delta: number) => {
      const d = Float64Array.from(x.data);
      d[i] += delta;
      e.set(WRT_VAR, { shape: x.shape, data: d });
      return evaluate([lossOfX], e).get(lossOfX)!.data[0];
    };
    out.data[i] = (at(h) - at(-h)) / (2 * h);
  }
  return out;
}

export function round(v: unknown): unknown {
  if (typeof v === 'number') return Math.abs(v) < 1e-12 ? 0 : Number(v.toPrecision(7)); // rounding noise is 0
  return Array.isArray(v) ? v.map(round) : v;
}

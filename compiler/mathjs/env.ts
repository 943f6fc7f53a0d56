// A mathjs instance with the functions of SPEC §1 defined elementwise, as SPEC §2 requires for evaluating
// `grad --format mathjs`. It is deliberately independent of gradc's own interpreter: tests use it as a
// second opinion, and users can paste the formulas into mathjs with the same definitions.

import { createRequire } from 'node:module';
import type { MathJsInstance, Matrix } from 'mathjs';
import type { FnDef } from '../ir/node.js';
import { printExpr } from '../ir/print.js';
import * as I from './images.js';

type Value = number | Matrix;

const sigmoid = (t: number) => (t >= 0 ? 1 / (1 + Math.exp(-t)) : Math.exp(t) / (1 + Math.exp(t)));
const softplus = (t: number) => Math.max(t, 0) + Math.log1p(Math.exp(-Math.abs(t)));

/** n copies of `g` stacked along a new axis `depth` levels down a nested array. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function expandAxis(g: any, depth: number, n: number): unknown {
  if (depth === 0) return Array.from({ length: n }, () => structuredClone(g));
  return (g as unknown[]).map((x) => expandAxis(x, depth - 1, n));
}

type Nested = number[] | number[][];
const columns = (a: Nested): number[][] => (Array.isArray(a[0]) ? (a as number[][]) : (a as number[]).map((v) => [v]));

/** kron(A, B) with vectors as columns: the result is a vector when both are. */
function kronOf(a: Nested, b: Nested): Matrix {
  const A = columns(a), Bm = columns(b);
  const out = A.flatMap((ra) => Bm.map((rb) => ra.flatMap((x) => rb.map((y) => x * y))));
  return math0.matrix(Array.isArray(a[0]) ? out : out.map((r) => r[0]));
}

/** G contracted with one factor F of a Kronecker product, giving the other factor (a vector when G is one). */
function kronContract(g: Nested, f: Nested, side: 'left' | 'right'): Nested {
  const G = columns(g), F = columns(f);
  const [fr, fc] = [F.length, F[0].length];
  const [or, oc] = [G.length / fr, G[0].length / fc]; // the other factor's sizes
  const [m, k, p, q] = side === 'left' ? [or, oc, fr, fc] : [fr, fc, or, oc];
  const out = Array.from({ length: or }, () => new Array<number>(oc).fill(0));
  for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) for (let r = 0; r < p; r++) for (let c = 0; c < q; c++) {
    const gv = G[i * p + r][j * q + c];
    if (side === 'left') out[i][j] += gv * F[r][c]; else out[r][c] += gv * F[i][j];
  }
  return Array.isArray(g[0]) ? out : out.map((r) => r[0]);
}

// mathjs's one-file build: the same library as its ES modules, which are a thousand files and take 1.5 s of
// CPU to load (2–3 s through a TypeScript loader) against 0.2 s for this. Its create() makes an instance with
// every function, as create(all) does.
const mathjs = createRequire(import.meta.url)('mathjs/lib/browser/math.js') as { create(): MathJsInstance };
const math0 = mathjs.create();

let shared: MathJsInstance | undefined;

/**
 * One mathjs instance with gradc's built-ins, shared: making one costs about 25 ms (mathjs builds every typed
 * function anew), which the differential tester paid twice per random model. A model's own fns go into the
 * scope of each evaluation instead (`fnScope`): mathjs looks a called name up in the scope first.
 */
export function gradcMath(): MathJsInstance {
  shared ??= createMath();
  return shared;
}

/** The model's fns, elementwise, as scope entries for `gradcMath().evaluate(formula, scope)`. */
export function fnScope(fns: readonly FnDef[]): Map<string, (...args: Value[]) => Value> {
  const math = gradcMath();
  return new Map(fns.map((fn) => {
    const body = math.compile(printExpr(fn.body, 'mathjs'));
    const f = (...xs: number[]) => body.evaluate(Object.fromEntries(fn.params.map((p, i) => [p, xs[i]]))) as number;
    return [fn.name, elementwiseIn(math, f)];
  }));
}

/** f applied elementwise, broadcasting scalars and row vectors against the largest argument as SPEC §1 does. */
function elementwiseIn(math: MathJsInstance, f: (...xs: number[]) => number) {
  return (...args: Value[]): Value => {
    const m = args.find((a) => typeof a !== 'number') as Matrix | undefined;
    if (!m) return f(...(args as number[]));
    const big = args.reduce<Matrix>((acc, a) => (typeof a !== 'number' && a.size().length > acc.size().length ? a : acc), m);
    return math.map(big, (_: number, index: number[]) =>
      f(...args.map((a) => (typeof a === 'number' ? a : a.size().length === big.size().length ? (a.get(index) as number) : (a.get([index[index.length - 1]]) as number))))) as Matrix;
  };
}

/** A fresh instance with the built-ins and the given fns imported (for pasting formulas into mathjs by hand). */
export function createMath(fns: readonly FnDef[] = []): MathJsInstance {
  const math = mathjs.create();
  const toArr = (v: Value): number[] => (typeof v === 'number' ? [v] : (v.toArray() as number[]).flat(3) as number[]);
  const elementwise = (f: (...xs: number[]) => number) => elementwiseIn(math, f);
  const lse = (z: number[]) => { const m = Math.max(...z); return m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0)); };
  const vec = (v: Value) => toArr(v);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const nested = (v: Value): any => (typeof v === 'number' ? v : v.toArray());
  const imports: Record<string, unknown> = {
    exp: elementwise(Math.exp), log: elementwise(Math.log), sqrt: elementwise(Math.sqrt),
    sin: elementwise(Math.sin), cos: elementwise(Math.cos), tanh: elementwise(Math.tanh),
    abs: elementwise(Math.abs), sign: elementwise(Math.sign),
    step: elementwise((t) => (t > 0 ? 1 : 0)), sigmoid: elementwise(sigmoid), relu: elementwise((t) => Math.max(t, 0)),
    softplus: elementwise(softplus), log_sigmoid: elementwise((t) => -softplus(-t)),
    softmax: (z: Value) => { const a = vec(z), l = lse(a); return math.matrix(a.map((v) => Math.exp(v - l))); },
    log_softmax: (z: Value) => { const a = vec(z), l = lse(a); return math.matrix(a.map((v) => v - l)); },
    logsumexp: (z: Value) => lse(vec(z)),
    onehot: (y: number, k: number) => math.matrix(Array.from({ length: k }, (_, i) => (i === y ? 1 : 0))),
    cross_entropy: (z: Value, y: number) => { const a = vec(z); return lse(a) - a[y]; },
    // One argument: over all elements; two: elementwise (mathjs's own max(a, b) would take the max of both).
    max: (a: Value, b?: Value) => (b === undefined ? Math.max(...toArr(a)) : elementwise((x, y) => Math.max(x, y))(a, b)),
    min: (a: Value, b?: Value) => (b === undefined ? Math.min(...toArr(a)) : elementwise((x, y) => Math.min(x, y))(a, b)),
    leaky_relu: elementwise((t, a) => (t > 0 ? t : a * t)),
    outer: (u: Value, v: Value) => { const a = vec(u), b = vec(v); return math.matrix(a.map((x) => b.map((w) => x * w))); },
    // diag and kron are mathjs's own; a vector in kron is a column, as in gradc (mathjs would take it as a row).
    kron: (a: Value, b: Value) => kronOf(nested(a), nested(b)),
    kron_contract_left: (g: Value, f: Value) => math.matrix(kronContract(nested(g), nested(f), 'left')),
    kron_contract_right: (g: Value, f: Value) => math.matrix(kronContract(nested(g), nested(f), 'right')),
    // Images (mathjs/images.ts): nested arrays in, matrices out.
    conv2d: (x: Value, k: Value, s: number, p: number) => math.matrix(I.conv2d(nested(x), nested(k), s, p)),
    flip: (k: Value) => math.matrix(I.flip(nested(k))),
    full_conv2d: (g: Value, kf: Value, s: number, p: number, h: number, w: number) => math.matrix(I.fullConv2d(nested(g), nested(kf), s, p, h, w)),
    correlate: (x: Value, g: Value, s: number, p: number, kh: number, kw: number) => math.matrix(I.correlate(nested(x), nested(g), s, p, kh, kw)),
    maxpool: (x: Value, s: number) => math.matrix(I.maxpool(nested(x), s)),
    avgpool: (x: Value, s: number) => math.matrix(I.avgpool(nested(x), s)),
    route_to_max: (g: Value, x: Value, s: number) => math.matrix(I.routeToMax(nested(g), nested(x), s)),
    gather_max: (h: Value, x: Value, s: number) => math.matrix(I.gatherMax(nested(h), nested(x), s)),
    upsample: (g: Value, s: number, h: number, w: number) => math.matrix(I.upsample(nested(g), s, h, w)),
    per_channel: (b: Value, h: number, w: number) => math.matrix(I.perChannel(vec(b), h, w)),
    // expand(G, k, n): n copies of G along a new axis k (one-based), the adjoint of mathjs's sum(A, k).
    expand: (g: Value, k: number, n: number) => math.matrix(expandAxis(nested(g), k - 1, n) as number[]),
  };
  math.import(imports as Record<string, never>, { override: true });
  // The model's own fns, defined from their bodies, elementwise.
  for (const fn of fns) {
    const body = math.compile(printExpr(fn.body, 'mathjs'));
    const f = (...xs: number[]) => body.evaluate(Object.fromEntries(fn.params.map((p, i) => [p, xs[i]]))) as number;
    math.import({ [fn.name]: elementwise(f) } as Record<string, never>, { override: true });
  }
  return math;
}

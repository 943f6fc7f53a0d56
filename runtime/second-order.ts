// Full-batch optimisers that use curvature, over the mean loss of the whole training set (plus the L2
// penalty λ‖W‖² on weight matrices, as the first-order optimisers have it):
//  - lbfgs: limited-memory BFGS (10 pairs) with a line search satisfying the strong Wolfe conditions
//    (Nocedal & Wright, Algorithms 7.4, 3.5 and 3.6) — the lecture's "SGD, L-BFGS";
//  - newton-cg: truncated Newton — conjugate gradients on Hessian–vector products, no Hessian ever formed;
//  - newton: the exact Newton step (IRLS for logistic regression), the Hessian assembled column by column
//    from H eⱼ and factored by Cholesky, damped (H + μI) until it is positive definite.
// One iteration is one "epoch" of the trainer's log. Everything is float64.

import type { Dataset } from './data.js';
import { gatherBatch } from './data.js';
import type { Buf } from './kernels.js';
import type { CompiledModel, Kernels } from './model.js';
import { elementsOf } from './model.js';
import { cholesky, choleskySolve } from './linalg.js';

export type SecondOrderName = 'lbfgs' | 'newton-cg' | 'newton';
export const SECOND_ORDER: readonly SecondOrderName[] = ['lbfgs', 'newton-cg', 'newton'];
export const isSecondOrder = (name: string): name is SecondOrderName => (SECOND_ORDER as readonly string[]).includes(name);
/** The largest model the exact Newton step assembles a Hessian for. */
export const NEWTON_MAX_PARAMS = 5000;

/** The objective over the full training set, on flat float64 parameter vectors. */
export interface Objective {
  readonly dim: number;
  /** Mean loss + penalty, and its gradient (written into `grad`). */
  value(x: Float64Array, grad: Float64Array): number;
  /** H v of the same objective, or undefined when the model has no Hessian–vector program. */
  readonly hvp?: (x: Float64Array, v: Float64Array, out: Float64Array) => void;
  /** Counts for the log. */
  readonly counts: { values: number; hvps: number };
}

/** The objective of a compiled model on a dataset, by batches of `batch` examples. */
export function fullBatchObjective(model: CompiledModel, hvpModel: CompiledModel | undefined, data: Dataset, batch: number, l2: number): Objective {
  const spec = model.spec;
  const sizes = spec.params.map((p) => elementsOf(p.shape));
  const dim = sizes.reduce((a, b) => a + b, 0);
  const decay = spec.params.map((p) => (p.isWeight ? l2 : 0));
  const kernels = model.create(batch, Float64Array);
  const hk: Kernels | undefined = hvpModel?.create(batch, Float64Array);
  const params = sizes.map((s) => new Float64Array(s));
  const grads = sizes.map((s) => new Float64Array(s));
  const dirs = sizes.map((s) => new Float64Array(s));
  const hvOut = [...sizes, ...sizes].map((s) => new Float64Array(s));
  const inputs = spec.inputs.map((s) => new Float64Array(batch * (s.classes !== undefined ? 1 : elementsOf(s.shape))));
  const unflatten = (x: Float64Array, into: Float64Array[]) => { let o = 0; for (const b of into) { b.set(x.subarray(o, o + b.length)); o += b.length; } };
  const counts = { values: 0, hvps: 0 };
  const overData = (step: (n: number) => void) => {
    for (let start = 0; start < data.n; start += batch) {
      const n = Math.min(batch, data.n - start);
      gatherBatch(data, n, (b) => start + b, inputs);
      step(n);
    }
  };
  const value = (x: Float64Array, grad: Float64Array): number => {
    counts.values++;
    unflatten(x, params);
    grad.fill(0);
    let loss = 0;
    overData((n) => {
      loss += kernels.lossAndGrad(params, inputs, n, grads);
      let o = 0;
      for (const g of grads) { for (let i = 0; i < g.length; i++) grad[o + i] += g[i]; o += g.length; }
    });
    let o = 0;
    for (let k = 0; k < sizes.length; k++) {
      for (let i = 0; i < sizes[k]; i++) {
        grad[o + i] /= data.n;
        if (decay[k]) { loss += decay[k] * data.n * x[o + i] * x[o + i]; grad[o + i] += 2 * decay[k] * x[o + i]; }
      }
      o += sizes[k];
    }
    return loss / data.n;
  };
  const hvp = hk && ((x: Float64Array, v: Float64Array, out: Float64Array) => {
    counts.hvps++;
    unflatten(x, params); unflatten(v, dirs);
    out.fill(0);
    overData((n) => {
      hk.lossAndGrad([...params, ...dirs], inputs, n, hvOut);
      let o = 0;
      for (let k = 0; k < sizes.length; k++) { const h = hvOut[k]; for (let i = 0; i < h.length; i++) out[o + i] += h[i]; o += h.length; }
    });
    let o = 0;
    for (let k = 0; k < sizes.length; k++) { for (let i = 0; i < sizes[k]; i++) out[o + i] = out[o + i] / data.n + 2 * decay[k] * v[o + i]; o += sizes[k]; }
  });
  return { dim, value, hvp, counts };
}

const dotv = (a: Float64Array, b: Float64Array) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };
const norm = (a: Float64Array) => Math.sqrt(dotv(a, a));

/** State after an accepted step. */
export interface IterationResult { readonly loss: number; readonly gradNorm: number; readonly step: number; readonly converged: boolean }

/**
 * A step length t along d satisfying the strong Wolfe conditions (c₁ = 1e-4, c₂ = 0.9): bracketing by
 * doubling, then zooming by bisection. Updates x, f and g in place; returns t.
 */
export function wolfeSearch(obj: Objective, x: Float64Array, f0: number, g: Float64Array, d: Float64Array, t0 = 1): { t: number; f: number } {
  const c1 = 1e-4, c2 = 0.9;
  const dg0 = dotv(g, d);
  if (!(dg0 < 0)) return { t: 0, f: f0 }; // not a descent direction: no step
  const xt = new Float64Array(x.length), gt = new Float64Array(x.length);
  const at = (t: number) => { for (let i = 0; i < x.length; i++) xt[i] = x[i] + t * d[i]; const f = obj.value(xt, gt); return { f, dg: dotv(gt, d) }; };
  const accept = (t: number, f: number) => { x.set(xt); g.set(gt); return { t, f }; };
  let lo = 0, flo = f0, hi = Infinity, t = t0;
  for (let k = 0; k < 40; k++) {
    const { f, dg } = at(t);
    if (!Number.isFinite(f) || f > f0 + c1 * t * dg0 || (k > 0 && f >= flo)) hi = t;
    else if (Math.abs(dg) <= -c2 * dg0) return accept(t, f);
    else if (dg >= 0) { hi = lo; lo = t; flo = f; }
    else { lo = t; flo = f; }
    if (hi === Infinity) { t *= 2; continue; }
    // Zoom: bisect the bracket (the curvature condition with c₂ = 0.9 is loose, so a few halvings do).
    const [a, b] = lo < hi ? [lo, hi] : [hi, lo];
    t = (a + b) / 2;
    if (b - a < 1e-16 * Math.max(1, b)) break;
  }
  // No Wolfe point found: take the best decrease seen, if any.
  if (lo > 0) { const { f } = at(lo); return accept(lo, f); }
  return { t: 0, f: f0 };
}

/** One optimiser's iterations; `iterate` runs one and reports where it got. */
export interface SecondOrderMethod { iterate(): IterationResult }

export function createMethod(name: SecondOrderName, obj: Objective, x: Float64Array): SecondOrderMethod {
  if ((name === 'newton-cg' || name === 'newton') && !obj.hvp) throw new Error(`${name} needs the model's Hessian-vector program`);
  if (name === 'newton' && obj.dim > NEWTON_MAX_PARAMS) throw new Error(`newton assembles the ${obj.dim} × ${obj.dim} Hessian; it is meant for models of at most ${NEWTON_MAX_PARAMS} parameters: use newton-cg or lbfgs`);
  const g = new Float64Array(obj.dim);
  let f = obj.value(x, g);
  const done = (f1: number, t: number): IterationResult => {
    const gn = norm(g);
    const converged = t === 0 || gn <= 1e-10 * Math.max(1, Math.abs(f1)) || Math.abs(f - f1) <= 1e-15 * Math.max(1, Math.abs(f1));
    f = f1;
    return { loss: f1, gradNorm: gn, step: t, converged };
  };
  if (name === 'lbfgs') {
    const m = 10, S: Float64Array[] = [], Y: Float64Array[] = [];
    let first = true;
    return {
      iterate() {
        const q = Float64Array.from(g), alpha: number[] = [];
        for (let k = S.length - 1; k >= 0; k--) { const a = dotv(S[k], q) / dotv(Y[k], S[k]); alpha[k] = a; for (let i = 0; i < q.length; i++) q[i] -= a * Y[k][i]; }
        const gamma = S.length ? dotv(S[S.length - 1], Y[Y.length - 1]) / dotv(Y[Y.length - 1], Y[Y.length - 1]) : 1;
        for (let i = 0; i < q.length; i++) q[i] *= gamma;
        for (let k = 0; k < S.length; k++) { const b = dotv(Y[k], q) / dotv(Y[k], S[k]); for (let i = 0; i < q.length; i++) q[i] += S[k][i] * (alpha[k] - b); }
        const d = q.map((v) => -v);
        const x0 = Float64Array.from(x), g0 = Float64Array.from(g);
        const { t, f: f1 } = wolfeSearch(obj, x, f, g, d, first ? Math.min(1, 1 / Math.max(norm(g), 1e-12)) : 1);
        first = false;
        const s = x.map((v, i) => v - x0[i]), y = g.map((v, i) => v - g0[i]);
        if (dotv(s, y) > 1e-12 * norm(s) * norm(y)) { S.push(s); Y.push(y); if (S.length > m) { S.shift(); Y.shift(); } }
        return done(f1, t);
      },
    };
  }
  if (name === 'newton-cg') {
    return {
      iterate() {
        const d = truncatedCg(obj, x, g);
        const { t, f: f1 } = wolfeSearch(obj, x, f, g, d, 1);
        return done(f1, t);
      },
    };
  }
  return {
    iterate() {
      const d = newtonStep(obj, x, g);
      const { t, f: f1 } = wolfeSearch(obj, x, f, g, d, 1);
      return done(f1, t);
    },
  };
}

/** Conjugate gradients on H p = −g, stopped at a relative residual min(0.5, √‖g‖) or at negative curvature. */
function truncatedCg(obj: Objective, x: Float64Array, g: Float64Array): Float64Array {
  const n = obj.dim, p = new Float64Array(n), r = g.map((v) => -v), dir = Float64Array.from(r), hd = new Float64Array(n);
  const gn = norm(g), tol = Math.min(0.5, Math.sqrt(gn)) * gn;
  let rr = dotv(r, r);
  for (let k = 0; k < Math.min(n, 250); k++) {
    obj.hvp!(x, dir, hd);
    const curv = dotv(dir, hd);
    if (curv <= 1e-12 * dotv(dir, dir)) return k === 0 ? r : p; // negative curvature: stop (steepest descent at first)
    const a = rr / curv;
    for (let i = 0; i < n; i++) { p[i] += a * dir[i]; r[i] -= a * hd[i]; }
    const rr1 = dotv(r, r);
    if (Math.sqrt(rr1) <= tol) break;
    for (let i = 0; i < n; i++) dir[i] = r[i] + (rr1 / rr) * dir[i];
    rr = rr1;
  }
  return p;
}

/** −(H + μI)⁻¹ g with H assembled from H eⱼ, μ = 0 when H is positive definite, else growing from 1e-8·max|Hᵢᵢ|. */
function newtonStep(obj: Objective, x: Float64Array, g: Float64Array): Float64Array {
  const n = obj.dim, H = new Float64Array(n * n), e = new Float64Array(n), col = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    e.fill(0); e[j] = 1;
    obj.hvp!(x, e, col);
    for (let i = 0; i < n; i++) H[i * n + j] = col[i];
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) { const s = (H[i * n + j] + H[j * n + i]) / 2; H[i * n + j] = H[j * n + i] = s; }
  let scale = 0;
  for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(H[i * n + i]));
  for (let mu = 0; ; mu = mu === 0 ? 1e-8 * Math.max(scale, 1e-12) : mu * 10) {
    const A = Float64Array.from(H);
    for (let i = 0; i < n; i++) A[i * n + i] += mu;
    const L = cholesky(A, n);
    if (L) return choleskySolve(L, n, g).map((v) => -v);
    if (mu > 1e12 * Math.max(scale, 1)) return g.map((v) => -v);
  }
}

/** Copies a flat vector into per-parameter buffers (float32 or float64). */
export function unflattenInto(x: Float64Array, bufs: Buf[]): void {
  let o = 0;
  for (const b of bufs) { for (let i = 0; i < b.length; i++) b[i] = x[o + i]; o += b.length; }
}

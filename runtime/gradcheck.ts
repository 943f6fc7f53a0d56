// A gradient check of generated code: ∂L/∂param from the kernels against central differences of the
// kernels' own forward pass, in float64, at seeded random points. Near a kink (relu, abs, step at 0) any
// value between the one-sided differences is accepted instead of reporting a false failure.

import type { CompiledModel } from './model.js';
import { assertFits, elementsOf } from './model.js';
import { Rng } from './rng.js';

/**
 * `maxRel`: the plain relative error |g − fd| / max(1, |g|, |fd|). `allowance`: the largest rounding
 * allowance granted (ε·|L|/h, relative like maxRel); a coordinate passes when its error minus its allowance
 * is within the tolerance.
 */
export interface ParamCheck { name: string; maxAbs: number; maxRel: number; allowance: number; ok: boolean }
export interface GradcheckResult { ok: boolean; params: ParamCheck[]; points: number }

export function gradcheck(model: CompiledModel, opts: { seed: number; points: number; batch?: number; tolerance?: number }): GradcheckResult {
  const spec = model.spec;
  const n = opts.batch ?? 2;
  assertFits(spec, n, 8);
  const k = model.create(n, Float64Array);
  const rng = new Rng(opts.seed);
  const tol = opts.tolerance ?? 1e-6;
  const results = spec.params.map((p) => ({ name: p.name, maxAbs: 0, maxRel: 0, allowance: 0, ok: true }));
  for (let point = 0; point < opts.points; point++) {
    const params = spec.params.map((p) => Float64Array.from({ length: elementsOf(p.shape) }, () => rng.normal() * 0.5));
    const inputs = spec.inputs.map((s) => Float64Array.from({ length: n * (s.classes !== undefined ? 1 : elementsOf(s.shape)) },
      () => (s.classes !== undefined ? Math.floor(rng.next() * s.classes) : rng.normal())));
    const grads = spec.params.map((p) => new Float64Array(elementsOf(p.shape)));
    k.lossAndGrad(params, inputs, n, grads);
    const lossAt = () => { const r = k.forward(params, inputs, n); let s = 0; for (let b = 0; b < n; b++) s += r.loss[b]; return s; };
    spec.params.forEach((p, pi) => {
      const size = params[pi].length;
      const coords = size <= 12 ? Array.from({ length: size }, (_, i) => i) : Array.from({ length: 12 }, () => Math.floor(rng.next() * size));
      for (const i of coords) {
        const x0 = params[pi][i];
        const h = 1e-5 * Math.max(1, Math.abs(x0));
        params[pi][i] = x0 + h; const up = lossAt();
        params[pi][i] = x0 - h; const down = lossAt();
        params[pi][i] = x0; const mid = lossAt();
        const central = (up - down) / (2 * h);
        const g = grads[pi][i];
        let err = Math.abs(g - central);
        const right = (up - mid) / h, left = (mid - down) / h;
        if (spec.kinked && Math.abs(right - left) > 1e-3 * Math.max(1, Math.abs(central))) {
          // The step crossed a kink: the one-sided differences disagree, and any value between them is right.
          const lo = Math.min(left, right), hi = Math.max(left, right);
          err = g >= lo - 1e-6 && g <= hi + 1e-6 ? 0 : Math.min(Math.abs(g - lo), Math.abs(g - hi));
        }
        // Rounding in the loss itself limits what central differences can resolve: ε·|L|/h (large sums).
        const roundoff = (64 * 2.2e-16 * Math.max(1, Math.abs(mid))) / h;
        const scale = Math.max(1, Math.abs(g), Math.abs(central));
        const r = results[pi];
        r.maxAbs = Math.max(r.maxAbs, err);
        r.maxRel = Math.max(r.maxRel, err / scale);
        r.allowance = Math.max(r.allowance, roundoff / scale);
        if (Math.max(0, err - roundoff) / scale > tol) r.ok = false;
      }
    });
  }
  return { ok: results.every((r) => r.ok), params: results, points: opts.points };
}

/**
 * The second-order check (`gradcheck --order 2`): the generated Hessian–vector product against central
 * differences of the generated gradient along the same direction, (∇L(θ + h v) − ∇L(θ − h v)) / 2h, in
 * float64 at seeded random points and directions. With kinks (relu, max, pooling) the Hessian is zero or
 * undefined where the gradient jumps; a difference that straddles one is skipped, as for first order.
 */
export function gradcheckHvp(model: CompiledModel, hvp: CompiledModel, opts: { seed: number; points: number; batch?: number; tolerance?: number }): GradcheckResult {
  const spec = model.spec;
  const n = opts.batch ?? 2;
  const k = model.create(n, Float64Array), hk = hvp.create(n, Float64Array);
  const rng = new Rng(opts.seed + 7919);
  const tol = opts.tolerance ?? 1e-6;
  const results = spec.params.map((p) => ({ name: p.name, maxAbs: 0, maxRel: 0, allowance: 0, ok: true }));
  const sizes = spec.params.map((p) => elementsOf(p.shape));
  for (let point = 0; point < opts.points; point++) {
    const params = sizes.map((s) => Float64Array.from({ length: s }, () => rng.normal() * 0.5));
    const dirs = sizes.map((s) => Float64Array.from({ length: s }, () => rng.normal()));
    const inputs = spec.inputs.map((s) => Float64Array.from({ length: n * (s.classes !== undefined ? 1 : elementsOf(s.shape)) },
      () => (s.classes !== undefined ? Math.floor(rng.next() * s.classes) : rng.normal())));
    const out = [...sizes, ...sizes].map((s) => new Float64Array(s));
    hk.lossAndGrad([...params, ...dirs], inputs, n, out);
    const gradAt = (t: number, h: number) => {
      const moved = params.map((p, pi) => p.map((x, i) => x + t * h * dirs[pi][i]));
      const grads = sizes.map((s) => new Float64Array(s));
      k.lossAndGrad(moved, inputs, n, grads);
      return grads;
    };
    const h = 1e-5;
    const up = gradAt(1, h), down = gradAt(-1, h), up2 = gradAt(1, h / 2), down2 = gradAt(-1, h / 2);
    spec.params.forEach((_, pi) => {
      for (let i = 0; i < sizes[pi]; i++) {
        const central = (up[pi][i] - down[pi][i]) / (2 * h), half = (up2[pi][i] - down2[pi][i]) / h;
        // Steps h and h/2 agree to O(h²) where the gradient is smooth; a kink between them shows as more.
        if (spec.kinked && Math.abs(central - half) > 1e-8 * Math.max(1, Math.abs(central))) continue;
        const hv = out[pi][i], estimate = (4 * half - central) / 3; // Richardson: the h² error cancelled
        const err = Math.abs(hv - estimate), scale = Math.max(1, Math.abs(hv), Math.abs(estimate));
        const r = results[pi];
        r.maxAbs = Math.max(r.maxAbs, err);
        r.maxRel = Math.max(r.maxRel, err / scale);
        if (err / scale > tol) r.ok = false;
      }
    });
  }
  return { ok: results.every((r) => r.ok), params: results, points: opts.points };
}

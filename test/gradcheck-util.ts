// Finite-difference gradient checking in float64 through the IR interpreter, in random directions
// (as JAX's check_grads does): for a scalar f and direction d, compare ∇f·d with (f(x+hd) − f(x−hd)) / 2h.

import type { Node } from '../compiler/ir/node.js';
import { evaluateOne } from '../compiler/ir/interpret.js';
import { tensor, Tensor } from '../compiler/ir/tensor.js';

export function directionalCheck(
  f: Node, grads: Map<string, Node | null>, env: Map<string, Tensor>, params: string[], rand: () => number, h = 1e-6,
): { analytic: number; numeric: number } {
  const dirs = new Map(params.map((p) => [p, Array.from(env.get(p)!.data, () => rand() * 2 - 1)]));
  let analytic = 0;
  for (const p of params) {
    const g = grads.get(p);
    if (!g) continue;
    const gv = evaluateOne(g, env).data;
    const d = dirs.get(p)!;
    for (let i = 0; i < d.length; i++) analytic += gv[i] * d[i];
  }
  const shifted = (sign: number) => {
    const e = new Map(env);
    for (const p of params) {
      const base = env.get(p)!;
      const d = dirs.get(p)!;
      e.set(p, tensor(base.shape, Array.from(base.data, (x, i) => x + sign * h * d[i])));
    }
    return evaluateOne(f, e).data[0];
  };
  const numeric = (shifted(1) - shifted(-1)) / (2 * h);
  return { analytic, numeric };
}

export function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(1, Math.abs(a), Math.abs(b));
}

/** A seeded PRNG (mulberry32) so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random values for every param and input of a model (labels in range), seeded: a point to check derivatives at. */
export function randomEnv(model: { params: readonly { name: string; shape: readonly number[] }[]; inputs: readonly { name: string; shape: readonly number[]; classes?: number }[] }, seed: number): Map<string, Tensor> {
  const r = rng(seed);
  const env = new Map<string, Tensor>();
  const fill = (shape: readonly number[]) => tensor(shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1));
  for (const p of model.params) env.set(p.name, fill(p.shape));
  for (const i of model.inputs) env.set(i.name, i.classes !== undefined ? tensor([], [Math.floor(r() * i.classes)]) : fill(i.shape));
  return env;
}

// What a claimed Hessian is compared with: ∂²L/∂x∂yᵀ as derived by compiler/autodiff/hessian.ts, evaluated
// at a point of params and inputs entry by entry from the product H eⱼ (so a Hessian with no closed form,
// an MLP's ∂²L/∂W1², is checked as surely as one with), and central differences of the derived gradient
// for the counterexample.

import { deriveHessian, type Hessian } from '../autodiff/hessian.js';
import { reverse } from '../autodiff/reverse.js';
import type { Model } from '../frontend/model.js';
import type { Node } from '../ir/node.js';
import { substitute } from '../ir/node.js';
import { evaluate, type Env } from '../ir/interpret.js';
import type { Tensor } from '../ir/tensor.js';
import { hessianProduct } from '../cli/hessian.js';
import { newSimplifier } from '../simplify/index.js';

export interface HessianTarget {
  readonly h: Hessian;
  /** The shape a claim must have: [] for a scalar, [n, m] for vectors, [rows·, cols·] flattened row by row otherwise. */
  readonly shape: readonly number[];
  /** The closed form over params and inputs (named values put back), when the derivation found one. */
  readonly closed: Node | null;
  /** ∂²L/∂x∂yᵀ at a point of params and inputs, row-major. */
  valueAt(env: Env): Float64Array;
  /** The same by central differences of the derived gradient ∂L/∂y in x. */
  finiteDifferencesAt(env: Env): Float64Array;
  /** The values the derivation reads from a point: params, inputs and the named values made leaves. */
  leafEnv(env: Env): Env;
}

const cache = new WeakMap<Node, Map<string, HessianTarget>>();

export function hessianTargetOf(model: Model, wrt: readonly string[]): HessianTarget {
  const key = wrt.join(',');
  const known = cache.get(model.loss.node)?.get(key);
  if (known) return known;
  const h = deriveHessian(model, wrt);
  const t = makeTarget(h);
  if (!cache.has(model.loss.node)) cache.set(model.loss.node, new Map());
  cache.get(model.loss.node)!.set(key, t);
  return t;
}

/** The shape of ∂²L/∂x∂yᵀ as `gradc hessian` prints it (the same rules as the closed forms it reads off). */
export function hessianShape(h: Hessian): number[] {
  if (h.matrix) return [...h.matrix.shape];
  const r = h.rows.leaf, c = h.cols.leaf;
  if (r.isScalar) return [...c.shape];
  if (c.isScalar) return [...r.shape];
  if (r.rank <= 1 && c.rank <= 1) return [...r.shape, ...c.shape];
  return [r.size, c.size];
}

function makeTarget(h: Hessian): HessianTarget {
  const leaves = [h.rows, h.cols].filter((v) => v.kind !== 'param');
  const back = (n: Node) => substitute(n, (m) => leaves.find((v) => v.leaf === m)?.forward);
  const closed = h.matrix && back(h.matrix);
  const rowsSize = h.rows.leaf.size, colsSize = h.cols.leaf.size;
  const leafEnv = (env: Env): Env => {
    const out = new Map(env);
    for (const v of leaves) if (v.kind === 'value') out.set(v.name, evaluate([v.forward], env).get(v.forward)!);
    return out;
  };
  const valueAt = (env: Env): Float64Array => hessianProduct(h, leafEnv(env)).matrix();
  const gradRaw = reverse(h.loss, [h.cols.leaf]).get(h.cols.leaf);
  const grad = gradRaw && newSimplifier().simplify(gradRaw);
  const finiteDifferencesAt = (env: Env): Float64Array => {
    const out = new Float64Array(rowsSize * colsSize);
    if (!grad) return out;
    const le = new Map(leafEnv(env));
    const x = le.get(h.rows.name)!;
    for (let i = 0; i < rowsSize; i++) {
      const step = 1e-5 * Math.max(1, Math.abs(x.data[i]));
      const at = (delta: number) => {
        const d = Float64Array.from(x.data); d[i] += delta;
        le.set(h.rows.name, { shape: x.shape, data: d } as Tensor);
        return evaluate([grad], le).get(grad)!.data;
      };
      const plus = at(step), minus = at(-step);
      for (let j = 0; j < colsSize; j++) out[i * colsSize + j] = (plus[j] - minus[j]) / (2 * step);
    }
    return out;
  };
  return { h, shape: hessianShape(h), closed, valueAt, finiteDifferencesAt, leafEnv };
}

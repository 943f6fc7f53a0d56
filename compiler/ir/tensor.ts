// Dense float64 tensors for the reference interpreter and the tests: a shape and row-major data.

import type { Shape } from './node.js';
import { sizeOf } from './node.js';

export interface Tensor { readonly shape: Shape; readonly data: Float64Array }

export function tensor(shape: Shape, data?: ArrayLike<number>): Tensor {
  const d = new Float64Array(sizeOf(shape));
  if (data) d.set(data);
  return { shape, data: d };
}
export function scalar(v: number): Tensor { return tensor([], [v]); }

/** Nested arrays (row-major) → tensor; throws a message naming the expected shape on a mismatch. */
export function fromNested(value: unknown, shape: Shape, what: string): Tensor {
  const out: number[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth === shape.length) {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${what}: expected a finite number, found ${JSON.stringify(v)}`);
      out.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) throw new Error(`${what}: expected shape [${shape.join(', ')}]`);
    for (const x of v) walk(x, depth + 1);
  };
  walk(value, 0);
  return tensor(shape, out);
}

export function toNested(t: Tensor): unknown {
  const build = (offset: number, depth: number): unknown => {
    if (depth === t.shape.length) return t.data[offset];
    const stride = sizeOf(t.shape.slice(depth + 1));
    return Array.from({ length: t.shape[depth] }, (_, i) => build(offset + i * stride, depth + 1));
  };
  return build(0, 0);
}

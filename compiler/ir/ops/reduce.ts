// Reductions and their adjoint, broadcasting: sum and mean over all elements, the column sums that undo
// the row broadcast of a vector over a matrix, and `fill`, which repeats a value to a larger shape.

import { registerOp, showShape, sizeOf } from '../node.js';
import type { OpDef } from '../op.js';
import { PREC } from '../op.js';
import * as B from '../build.js';
import { tensor } from '../tensor.js';
import { broadcastShape, callOf, elementwise, printed } from './common.js';
import { latexTranspose } from '../print.js';

const sum: OpDef = {
  name: 'sum', arity: 1,
  shape: () => [],
  eval: ([a]) => tensor([], [a.data.reduce((s, x) => s + x, 0)]),
  vjp: (g, n) => [B.fill(g, n.args[0].shape)],
  print: (p) => callOf(p, 'sum', '\\sum'),
  flops: (n) => n.args[0].size,
};

const mean: OpDef = {
  name: 'mean', arity: 1,
  shape: () => [],
  eval: ([a]) => tensor([], [a.data.reduce((s, x) => s + x, 0) / a.data.length]),
  vjp: (g, n) => [B.fill(B.div(g, B.constant(n.args[0].size)), n.args[0].shape)],
  print: (p) => callOf(p, 'mean', '\\operatorname{mean}'),
  flops: (n) => n.args[0].size,
};

/** Σ over the first axis of a matrix: [m, n] → [n]. mathjs writes it sum(A, 1) (dimensions count from 1). */
const sumRows: OpDef = {
  name: 'sum_rows', arity: 1,
  shape: ([a]) => { if (a.length !== 2) throw new Error(`sum_rows needs a matrix, got ${showShape(a)}`); return [a[1]]; },
  eval: ([a]) => {
    const [m, n] = a.shape;
    const out = tensor([n]);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out.data[j] += a.data[i * n + j];
    return out;
  },
  vjp: (g, n) => [B.fill(g, n.args[0].shape)],
  print: (p) => p.style === 'latex' ? printed(`\\sum_{i} ${p.arg(0, PREC.mul)}`, PREC.add) : p.call('sum', [p.arg(0, 0), '1']),
  flops: (n) => n.args[0].size,
};

/** [P, K, Q]: the sizes before axis k, of the axis, and after it, so that any axis of any rank is a middle axis. */
export function axisSizes(shape: readonly number[], axis: number): [number, number, number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis], sizeOf(shape.slice(axis + 1))];
}

/**
 * Σ along one axis (0-based `axis`) of a tensor of rank ≥ 2: mathjs's sum(A, axis + 1). The common cases have
 * ops of their own (sum_rows, sum_positions); this is every other axis of every rank, e.g. a matrix's row sums.
 */
const sumAxis: OpDef = {
  name: 'sum_axis', arity: 1,
  shape: ([a], attr) => {
    const k = attr.axis as number;
    if (a.length < 2 || !(k >= 0 && k < a.length)) throw new Error(`sum_axis: no axis ${k + 1} in ${showShape(a)}`);
    return a.filter((_, i) => i !== k);
  },
  eval: ([a], n) => {
    const [P, K, Q] = axisSizes(a.shape, n.attr.axis as number);
    const out = tensor(n.shape);
    for (let p = 0; p < P; p++) for (let j = 0; j < K; j++) for (let q = 0; q < Q; q++) out.data[p * Q + q] += a.data[(p * K + j) * Q + q];
    return out;
  },
  vjp: (g, n) => [B.spreadAxis(g, n.attr.axis as number, n.args[0].shape[n.attr.axis as number])],
  print: (p) => p.style === 'latex'
    ? printed(`\\sum_{i_{${(p.node.attr.axis as number) + 1}}} ${p.arg(0, PREC.mul)}`, PREC.add) // Σ reaches to the next + or −
    : p.call('sum', [p.arg(0, 0), String((p.node.attr.axis as number) + 1)]),
  flops: (n) => n.args[0].size,
  kernel: { fn: 'sumAxis', sizes: (n) => axisSizes(n.args[0].shape, n.attr.axis as number) },
};

/**
 * A new axis (0-based `axis`) of `size` inserted, the tensor repeated along it: the adjoint of sum_axis. A
 * matrix made this way prints as the outer product with ones (g 1ᵀ), which is how the lecture writes it.
 */
const spreadAxis: OpDef = {
  name: 'spread_axis', arity: 1,
  shape: ([a], attr) => {
    const k = attr.axis as number;
    if (!(k >= 0 && k <= a.length)) throw new Error(`spread_axis: cannot insert axis ${k + 1} into ${showShape(a)}`);
    return [...a.slice(0, k), attr.size as number, ...a.slice(k)];
  },
  eval: ([a], n) => {
    const [P, K, Q] = axisSizes(n.shape, n.attr.axis as number);
    const out = tensor(n.shape);
    for (let p = 0; p < P; p++) for (let j = 0; j < K; j++) for (let q = 0; q < Q; q++) out.data[(p * K + j) * Q + q] = a.data[p * Q + q];
    return out;
  },
  vjp: (g, n) => [B.sumAxis(g, n.attr.axis as number)],
  print: (p) => {
    const k = p.node.attr.axis as number, shape = p.node.shape;
    if (shape.length === 2 && k === 1) {
      return p.style === 'latex' ? printed(`${p.arg(0, PREC.mul)} \\mathbf{1}_{${p.sizes([shape[1]])}}^{\\top}`, PREC.mul) : p.call('outer', [p.arg(0, 0), `ones(${p.sizes([shape[1]])})`]);
    }
    return p.call('expand', [p.arg(0, 0), String(k + 1), p.sizes([shape[k]])], '\\operatorname{expand}');
  },
  flops: () => 0,
  kernel: { fn: 'spreadAxis', sizes: (n) => axisSizes(n.shape, n.attr.axis as number) },
};

/** A scalar (or a row vector) repeated to `shape`; the adjoint of a reduction. */
const fill: OpDef = {
  name: 'fill', arity: 1,
  shape: ([a], attr) => {
    const shape = attr.shape as number[];
    if (!broadcastShape(a, shape) || sizeOf(broadcastShape(a, shape)!) !== sizeOf(shape)) throw new Error(`cannot fill ${showShape(shape)} from ${showShape(a)}`);
    return shape;
  },
  eval: ([a], n) => elementwise([a, tensor(n.shape)], (x) => x),
  vjp: (g, n) => [n.args[0].isScalar ? B.sum(g) : n.rank === 3 ? B.sumPositions(g) : B.sumRows(g)],
  print: (p) => {
    const shape = p.node.shape, a = p.node.args[0];
    if (shape.length === 0) return p.raw(0); // a scalar filled to a scalar is itself
    // In LaTeX the ones carry their size (𝟏_{m×n}), so that the formula reads back as what it is.
    const ones = (sh: readonly number[]) => `\\mathbf{1}_{${p.sizes(sh).split(', ').join(' \\times ')}}`;
    if (p.style === 'latex') {
      if (a.isScalar) return printed(`${p.arg(0, PREC.mul)} ${ones(shape)}`, PREC.mul);
      if (shape.length === 3) return printed(`${p.arg(0, PREC.mul)} \\odot ${ones(shape)}`, PREC.mul);
      return printed(`${ones([shape[0]])} ${latexTranspose(p.arg(0, PREC.atom))}`, PREC.mul);
    }
    if (a.isScalar) return printed(`${p.arg(0, PREC.mul)} * ones(${p.sizes(shape)})`, PREC.mul);
    // One value per channel: the language broadcasts it over the positions; mathjs needs it spelled out.
    if (shape.length === 3) return p.style === 'mathjs' ? p.call('per_channel', [p.arg(0, 0), String(shape[1]), String(shape[2])]) : printed(`${p.arg(0, PREC.mul)} .* ones(${p.sizes(shape)})`, PREC.mul);
    return p.call('outer', [`ones(${p.sizes([shape[0]])})`, p.arg(0, 0)]);
  },
  flops: () => 0,
};

/** max(t), min(t) over all elements. The adjoint is shared equally by the elements that attain it (argMask). */
function extreme(which: 'max' | 'min'): OpDef {
  return {
    name: `${which}_all`, arity: 1,
    shape: () => [],
    eval: ([a]) => tensor([], [extremeOf(a.data, which)]),
    vjp: (g, n) => [B.mul(g, B.argMask(n.args[0], which))],
    print: (p) => callOf(p, which, `\\${which}`),
    flops: (n) => n.args[0].size,
    kink: true,
  };
}

export function extremeOf(data: ArrayLike<number>, which: 'max' | 'min'): number {
  let m = data[0];
  for (let i = 1; i < data.length; i++) if (which === 'max' ? data[i] > m : data[i] < m) m = data[i];
  return m;
}

/**
 * (t == max(t)) / sum(t == max(t)): 1 where t attains its max (or min), shared equally when several elements
 * tie, as PyTorch's amax does. The printed form is exactly this, so it evaluates in mathjs too.
 */
const argMask: OpDef = {
  name: 'arg_mask', arity: 1,
  shape: ([a]) => a,
  eval: ([a], n) => {
    const m = extremeOf(a.data, n.attr.which as 'max' | 'min');
    let count = 0;
    for (const x of a.data) if (x === m) count++;
    return tensor(a.shape, Array.from(a.data, (x) => (x === m ? 1 / count : 0)));
  },
  vjp: () => [null],
  print: (p) => {
    const which = p.node.attr.which as string;
    const t = p.arg(0, PREC.add + 1);
    if (p.style === 'latex') return printed(`\\frac{\\mathbb{1}\\left[${t} = \\${which} ${p.arg(0, PREC.postfix)}\\right]}{\\#\\left\\{${which}\\right\\}}`);
    const eq = `(${t} == ${which}(${p.arg(0, 0)}))`;
    return printed(`${eq} / sum${eq}`, PREC.mul);
  },
  flops: (n) => 2 * n.args[0].size,
};

for (const op of [sum, mean, sumRows, sumAxis, spreadAxis, fill, extreme('max'), extreme('min'), argMask]) registerOp(op);

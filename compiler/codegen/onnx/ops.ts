// Every op of gradc's IR as ONNX operators (opset 17), over a batch: one entry per op, a test checks that
// none is missing. An entry receives the node and its arguments' ONNX values and returns the node's.

import type { Node } from '../../ir/node.js';
import { substitute } from '../../ir/node.js';
import { fnOf } from '../../ir/ops/call.js';
import { asMatrix } from '../../ir/ops/kron.js';
import type { OnnxGraph } from './graph.js';
import { axisOf, exampleAxes, fullShape, type Val, type Values } from './values.js';

export interface LowerCx {
  readonly g: OnnxGraph;
  readonly v: Values;
  /** The ONNX value of any node (lowered on first use). */
  value(n: Node): Val;
}

type Lower = (cx: LowerCx, n: Node, args: Val[]) => string | Val;

/** An elementwise op: arguments lined up for numpy broadcasting, one ONNX op (or a few). */
function elementwise(build: (cx: LowerCx, xs: string[]) => string): Lower {
  return (cx, n, args) => build(cx, args.map((a) => cx.v.align(cx.v.float(a), n.shape).name));
}
const simple = (opType: string): Lower => elementwise((cx, xs) => cx.g.op(opType, xs));

const ELEMENTWISE: Record<string, Lower> = {
  neg: simple('Neg'), exp: simple('Exp'), log: simple('Log'), sqrt: simple('Sqrt'), abs: simple('Abs'),
  sin: simple('Sin'), cos: simple('Cos'), tanh: simple('Tanh'), sign: simple('Sign'), sigmoid: simple('Sigmoid'),
  relu: simple('Relu'), softplus: simple('Softplus'),
  step: elementwise((cx, [x]) => cx.g.op('Cast', [cx.g.op('Greater', [x, cx.g.scalar(0)])], { to: 1 })),
  log_sigmoid: elementwise((cx, [x]) => cx.g.op('Neg', [cx.g.op('Softplus', [cx.g.op('Neg', [x])])])),
  add: simple('Add'), mul: simple('Mul'), div: simple('Div'), pow: simple('Pow'), max: simple('Max'), min: simple('Min'),
  leaky_relu: elementwise((cx, [t, a]) => cx.g.op('Where', [cx.g.op('Greater', [t, cx.g.scalar(0)]), t, cx.g.op('Mul', [a, t])])),
};

/** Σ (or another reduction) over some axes of the ONNX tensor; ReduceSum takes them as an input in opset 17. */
function reduce(cx: LowerCx, opType: 'ReduceSum' | 'ReduceMean' | 'ReduceMax' | 'ReduceMin', x: string, axes: readonly number[], keepdims = 0): string {
  if (axes.length === 0) return x;
  return opType === 'ReduceSum' ? cx.g.op(opType, [x, cx.g.ints(axes)], { keepdims }) : cx.g.op(opType, [x], { axes: { ints: axes }, keepdims });
}

const unsqueeze = (cx: LowerCx, x: string, axes: readonly number[]) => cx.g.op('Unsqueeze', [x, cx.g.ints(axes)]);
/** onehot(y, k) as float32: ONNX OneHot needs indices of rank ≥ 1, so an unbatched label gets an axis, then loses it. */
function oneHot(cx: LowerCx, y: Val, k: number): string {
  const scalar = !y.batched && y.shape.length === 0;
  const indices = scalar ? unsqueeze(cx, cx.v.int64(y).name, [0]) : cx.v.int64(y).name;
  const rows = cx.g.op('OneHot', [indices, cx.g.constant([k], [], 7), cx.g.constant([0, 1], [2])], { axis: -1 });
  return scalar ? cx.g.op('Reshape', [rows, cx.g.ints([k])]) : rows;
}
const eye = (cx: LowerCx, k: number) => cx.g.constant(Array.from({ length: k * k }, (_, i) => (i % (k + 1) === 0 ? 1 : 0)), [k, k]);

/** A value of the example's shape [C, H, W] as a batch of images: unbatched ones get a batch of one. */
function asImages(cx: LowerCx, x: Val): { name: string; undo: (y: string, batched: boolean) => string } {
  if (x.batched) return { name: x.name, undo: (y) => y };
  return { name: unsqueeze(cx, x.name, [0]), undo: (y, batched) => (batched ? y : cx.g.op('Squeeze', [y, cx.g.ints([0])])) };
}

const convAttrs = (n: Node) => {
  const s = n.attr.stride as number, p = n.attr.pad as number;
  return { strides: [s, s], pads: [p, p, p, p] };
};

function matmul(cx: LowerCx, n: Node, [a, b]: Val[]): Val {
  const batched = a.batched || b.batched;
  // The common layer, W x over a batch of x: one MatMul of the batch [N, k] by Wᵀ.
  if (a.shape.length === 2 && !a.batched && b.shape.length === 1 && b.batched) {
    return { name: cx.g.op('MatMul', [b.name, cx.g.op('Transpose', [a.name], { perm: [1, 0] })]), batched, shape: n.shape };
  }
  if (a.shape.length === 1 && a.batched && b.shape.length === 2 && !b.batched) return { name: cx.g.op('MatMul', [a.name, b.name]), batched, shape: n.shape };
  // Otherwise vectors become matrices (a row on the left, a column on the right), and numpy's matmul
  // broadcasting pairs the batches.
  const left = a.shape.length === 1 ? unsqueeze(cx, a.name, [a.batched ? 1 : 0]) : a.name;
  const right = b.shape.length === 1 ? unsqueeze(cx, b.name, [-1]) : b.name;
  const product = cx.g.op('MatMul', [left, right]);
  return { name: cx.g.op('Reshape', [product, cx.g.ints(fullShape({ batched, shape: n.shape }))]), batched, shape: n.shape };
}

/** Kronecker product of two matrices (or vectors as columns): [m, 1, k, 1] ⊙ [1, p, 1, q] → [mp, kq]. */
function kron(cx: LowerCx, n: Node, [a, b]: Val[]): string {
  const [m, k] = asMatrix(a.shape), [p, q] = asMatrix(b.shape);
  const A = cx.v.reshape(a, [m, 1, k, 1]), Bv = cx.v.reshape(b, [1, p, 1, q]);
  return cx.v.reshape({ name: cx.g.op('Mul', [A.name, Bv.name]), batched: a.batched || b.batched, shape: [m, p, k, q] }, n.shape).name;
}

/** kron_contract: G as [m, p, k, q] times the known factor, summed over the factor's axes. */
function kronContract(cx: LowerCx, n: Node, [gv, f]: Val[]): string {
  const left = n.attr.side === 'left';
  const [m, k] = asMatrix(left ? n.shape : f.shape), [p, q] = asMatrix(left ? f.shape : n.shape);
  const G = cx.v.reshape(gv, [m, p, k, q]);
  const F = cx.v.reshape(f, left ? [1, p, 1, q] : [m, 1, k, 1]);
  const batched = gv.batched || f.batched;
  const prod: Val = { name: cx.g.op('Mul', [G.name, F.name]), batched, shape: [m, p, k, q] };
  const summed = reduce(cx, 'ReduceSum', prod.name, (left ? [1, 3] : [0, 2]).map((ax) => axisOf(prod, ax)));
  return cx.v.reshape({ name: summed, batched, shape: left ? [m, k] : [p, q] }, n.shape).name;
}

/**
 * MaxPool's argmax indices (flattened over the whole batch, as ONNX defines them) for routing and gathering,
 * over `x` repeated to the batch of `other` when only `other` is batched (a parameter image, a batched
 * gradient), so that indices and gradient have one batch.
 */
function poolIndices(cx: LowerCx, x: Val, other: Val, s: number): { indices: string; images: ReturnType<typeof asImages>; other: string } {
  let images = asImages(cx, x), o = asImages(cx, other).name;
  if (!x.batched && other.batched) images = { name: repeatBatch(cx, images.name, o), undo: (y) => y };
  if (x.batched && !other.batched) o = repeatBatch(cx, o, images.name);
  const [, indices] = cx.g.node('MaxPool', [images.name], { kernel_shape: [s, s], strides: [s, s] }, { outputs: 2 });
  return { indices, images, other: o };
}

/** A [1, C, H, W] tensor repeated to the batch size of `like` ([N, …]). */
function repeatBatch(cx: LowerCx, one: string, like: string): string {
  const n = cx.g.op('Slice', [cx.g.op('Shape', [like]), cx.g.ints([0]), cx.g.ints([1])]);
  return cx.g.op('Expand', [one, cx.g.op('Concat', [n, cx.g.ints([1, 1, 1])], { axis: 0 })]);
}

const flat = (cx: LowerCx, x: string) => cx.g.op('Reshape', [x, cx.g.ints([-1])]);

export const ONNX_OPS: Record<string, Lower> = {
  ...ELEMENTWISE,
  input: () => { throw new Error('inputs are graph inputs'); },
  param: () => { throw new Error('params are graph inputs or initializers'); },
  var: (_cx, n) => { throw new Error(`a free variable ${String(n.attr.name)} cannot be exported`); },
  const: (cx, n) => {
    const c = cx.g.scalar(n.attr.value as number);
    return n.shape.length === 0 ? c : cx.g.op('Expand', [c, cx.g.ints(n.shape)]);
  },
  dim: (cx, n) => cx.g.scalar(n.attr.value as number),
  // A user fn: its scalar body applied to the (broadcast) arguments, inlined.
  call: (cx, n) => {
    const fn = fnOf(n);
    const body = cx.value(substitute(fn.body, (m) => (m.op === 'var' ? n.args[fn.params.indexOf(m.attr.name as string)] : undefined)));
    // A body that ignores its tensor arguments (f(t) = 2) still has the call's shape.
    if (body.shape.length === n.shape.length) return body;
    return { ...body, name: cx.g.op('Expand', [cx.v.align(body, n.shape).name, cx.g.ints(n.shape)]), shape: n.shape };
  },
  matmul,
  transpose: (cx, _n, [a]) => cx.g.op('Transpose', [a.name], { perm: a.batched ? [0, 2, 1] : [1, 0] }),
  dot: (cx, _n, [a, b]) => reduce(cx, 'ReduceSum', cx.g.op('Mul', [a.name, b.name]), [-1]),
  outer: (cx, _n, [u, v]) => cx.g.op('Mul', [unsqueeze(cx, u.name, [-1]), unsqueeze(cx, v.name, [-2])]),
  sum: (cx, _n, [a]) => reduce(cx, 'ReduceSum', cx.v.float(a).name, exampleAxes(a)),
  mean: (cx, _n, [a]) => reduce(cx, 'ReduceMean', cx.v.float(a).name, exampleAxes(a)),
  max_all: (cx, _n, [a]) => reduce(cx, 'ReduceMax', a.name, exampleAxes(a)),
  min_all: (cx, _n, [a]) => reduce(cx, 'ReduceMin', a.name, exampleAxes(a)),
  sum_rows: (cx, _n, [a]) => reduce(cx, 'ReduceSum', a.name, [axisOf(a, 0)]),
  sum_axis: (cx, n, [a]) => reduce(cx, 'ReduceSum', a.name, [axisOf(a, n.attr.axis as number)]),
  sum_positions: (cx, _n, [a]) => reduce(cx, 'ReduceSum', a.name, [-2, -1]),
  spread_axis: (cx, n, [a]) => cx.g.op('Expand', [unsqueeze(cx, a.name, [axisOf(a, n.attr.axis as number)]), cx.g.ints(n.shape)]),
  fill: (cx, n, [a]) => cx.g.op('Expand', [cx.v.align(cx.v.float(a), n.shape).name, cx.g.ints(n.shape)]),
  arg_mask: (cx, n, [a]) => {
    const m = reduce(cx, n.attr.which === 'max' ? 'ReduceMax' : 'ReduceMin', a.name, exampleAxes(a), 1);
    const hits = cx.g.op('Cast', [cx.g.op('Equal', [a.name, m])], { to: 1 });
    return cx.g.op('Div', [hits, reduce(cx, 'ReduceSum', hits, exampleAxes(a), 1)]);
  },
  softmax: (cx, _n, [z]) => cx.g.op('Softmax', [z.name], { axis: -1 }),
  log_softmax: (cx, _n, [z]) => cx.g.op('LogSoftmax', [z.name], { axis: -1 }),
  // max + log Σ exp(z − max): stable for any logits.
  logsumexp: (cx, _n, [z]) => {
    const m = reduce(cx, 'ReduceMax', z.name, [-1], 1);
    const s = reduce(cx, 'ReduceSum', cx.g.op('Exp', [cx.g.op('Sub', [z.name, m])]), [-1], 1);
    return reduce(cx, 'ReduceSum', cx.g.op('Add', [cx.g.op('Log', [s]), m]), [-1]);
  },
  onehot: (cx, n, [y]) => oneHot(cx, y, n.attr.k as number),
  // −log softmax(z)[y], from LogSoftmax (stable), picked out by the label's one-hot row.
  cross_entropy: (cx, n, [z, y]) => cx.g.op('Neg', [reduce(cx, 'ReduceSum', cx.g.op('Mul', [cx.g.op('LogSoftmax', [z.name], { axis: -1 }), oneHot(cx, y, n.args[0].shape[0])]), [-1])]),
  index: (cx, n, [v, i]) => reduce(cx, 'ReduceSum', cx.g.op('Mul', [v.name, oneHot(cx, i, n.args[0].shape[0])]), [-1]),
  diag: (cx, n, [a]) => (a.shape.length === 1
    ? cx.g.op('Mul', [unsqueeze(cx, a.name, [-1]), eye(cx, n.shape[0])])
    : reduce(cx, 'ReduceSum', cx.g.op('Mul', [a.name, eye(cx, n.shape[0])]), [-1])),
  kron, kron_contract: kronContract,
  reshape: (cx, n, [a]) => cx.v.reshape(a, n.shape).name,
  conv2d: (cx, n, [x, k]) => {
    if (k.batched) throw new Error('a convolution kernel computed from the inputs cannot be exported (ONNX Conv needs one kernel for the batch)');
    const im = asImages(cx, x);
    return im.undo(cx.g.op('Conv', [im.name, k.name], convAttrs(n)), x.batched);
  },
  // The adjoint of a convolution in its image: a transposed convolution with the same kernel.
  conv2d_grad_input: (cx, n, [gv, k]) => {
    if (k.batched) throw new Error('a convolution kernel computed from the inputs cannot be exported');
    const [, H, W] = n.shape, [, kh, kw] = k.shape.slice(1), s = n.attr.stride as number, p = n.attr.pad as number;
    const outPad = [H - (s * (gv.shape[1] - 1) + kh - 2 * p), W - (s * (gv.shape[2] - 1) + kw - 2 * p)];
    const im = asImages(cx, gv);
    return im.undo(cx.g.op('ConvTranspose', [im.name, k.name], { ...convAttrs(n), output_padding: outPad }), gv.batched);
  },
  conv2d_grad_kernel: (cx, n, args) => convGradKernel(cx, n, args, false),
  maxpool: (cx, n, [x]) => {
    const im = asImages(cx, x), s = n.attr.size as number;
    return im.undo(cx.g.op('MaxPool', [im.name], { kernel_shape: [s, s], strides: [s, s] }), x.batched);
  },
  // The pooled gradient written back at each window's argmax: ScatterElements into zeros, by MaxPool's indices.
  maxpool_route: (cx, n, [x, gv]) => {
    const { indices, images, other: g4 } = poolIndices(cx, x, gv, n.attr.size as number);
    const fx = flat(cx, images.name);
    const zeros = cx.g.op('Mul', [fx, cx.g.scalar(0)]);
    const routed = cx.g.op('ScatterElements', [zeros, flat(cx, indices), flat(cx, g4)], { axis: 0 });
    return images.undo(cx.g.op('Reshape', [routed, cx.g.op('Shape', [images.name])]), x.batched || gv.batched);
  },
  maxpool_gather: (cx, n, [x, h]) => {
    const { indices, images, other: h4 } = poolIndices(cx, x, h, n.attr.size as number);
    const picked = cx.g.op('GatherElements', [flat(cx, h4), flat(cx, indices)], { axis: 0 });
    return images.undo(cx.g.op('Reshape', [picked, cx.g.op('Shape', [indices])]), x.batched || h.batched);
  },
  avgpool: (cx, n, [x]) => {
    const im = asImages(cx, x), s = n.attr.size as number;
    return im.undo(cx.g.op('AveragePool', [im.name], { kernel_shape: [s, s], strides: [s, s] }), x.batched);
  },
  // Each value repeated over its s×s window ([C, Ho, 1, Wo, 1] expanded), a dropped remainder padded with 0.
  upsample: (cx, n, [gv]) => {
    const s = n.attr.size as number, [C, Ho, Wo] = gv.shape, [, H, W] = n.shape;
    const six = cx.v.reshape(gv, [C, Ho, 1, Wo, 1]);
    const big = cx.g.op('Expand', [six.name, cx.g.ints([C, Ho, s, Wo, s])]);
    const img = cx.v.reshape({ name: big, batched: gv.batched, shape: [C, Ho, s, Wo, s] }, [C, Ho * s, Wo * s]).name;
    if (H === Ho * s && W === Wo * s) return img;
    const lead = gv.batched ? [0] : [];
    return cx.g.op('Pad', [img, cx.g.ints([...lead, 0, 0, 0, ...lead, 0, H - Ho * s, W - Wo * s])]);
  },
};

/**
 * ∂L/∂K of a convolution, one example's (`summed` false) or the batch's sum. Summed, it is one convolution
 * with the batch as channels (x as [C, N, H, W] by g as [F, N, Ho, Wo], dilated by the stride). Per example
 * (rare: only where a kernel's gradient is used before the batch is summed) the patches of x under each
 * output position come from a convolution with the kh·kw unit kernels, and a batched MatMul with g.
 */
export function convGradKernel(cx: LowerCx, n: Node, [x, gv]: Val[], summed: boolean): string {
  const s = n.attr.stride as number, p = n.attr.pad as number;
  const [C, H, W] = x.shape, [F, Ho, Wo] = gv.shape, [kh, kw] = n.shape.slice(2);
  let xi = asImages(cx, x).name, gi = asImages(cx, gv).name;
  if (summed && x.batched !== gv.batched) {
    // Linear in each argument: Σ_b K(x, g_b) = K(x, Σ_b g_b), and the same with x and g exchanged.
    if (gv.batched) gi = cx.g.op('ReduceSum', [gi, cx.g.ints([0])], { keepdims: 1 });
    else xi = cx.g.op('ReduceSum', [xi, cx.g.ints([0])], { keepdims: 1 });
  }
  if (summed || !(x.batched || gv.batched)) {
    const xT = cx.g.op('Transpose', [xi], { perm: [1, 0, 2, 3] }); // [C, N, H, W]
    const out = cx.g.op('Conv', [xT, cx.g.op('Transpose', [gi], { perm: [1, 0, 2, 3] })], { strides: [1, 1], pads: [p, p, p, p], dilations: [s, s] }); // [C, F, kh, kw]
    return cx.g.op('Transpose', [out], { perm: [1, 0, 2, 3] });
  }
  const units = cx.g.constant(Array.from({ length: kh * kw * kh * kw }, (_, i) => (Math.floor(i / (kh * kw)) === i % (kh * kw) ? 1 : 0)), [kh * kw, 1, kh, kw]);
  const channels = cx.g.op('Reshape', [xi, cx.g.ints([-1, 1, H, W])]); // [N·C, 1, H, W]
  const patches = cx.g.op('Conv', [channels, units], { strides: [s, s], pads: [p, p, p, p] }); // [N·C, kh·kw, Ho, Wo]
  const rows = cx.g.op('Reshape', [patches, cx.g.ints([-1, C * kh * kw, Ho * Wo])]);
  const gRows = cx.g.op('Reshape', [gi, cx.g.ints([-1, F, Ho * Wo])]);
  const k = cx.g.op('MatMul', [gRows, cx.g.op('Transpose', [rows], { perm: [0, 2, 1] })]); // [N, F, C·kh·kw]
  return cx.g.op('Reshape', [k, cx.g.ints([-1, F, C, kh, kw])]);
}

export function lowerNode(cx: LowerCx, n: Node, args: Val[], batched: boolean): Val {
  const rule = ONNX_OPS[n.op];
  if (!rule) throw new Error(`the op ${n.op} has no ONNX form`);
  const r = rule(cx, n, args);
  return typeof r === 'string' ? { name: r, batched, shape: n.shape } : r;
}

// One sample expression per op in the op table, over small random leaves. Tests iterate over allOps() and
// fail for an op with no sample, so adding an op adds its interpreter, mathjs and derivative checks.

import * as B from '../compiler/ir/build.js';
import type { FnDef, Node } from '../compiler/ir/node.js';
import { tensor, Tensor } from '../compiler/ir/tensor.js';
import fc from 'fast-check';

export const u = B.param('u', [3]);
export const v = B.param('v', [3]);
export const A = B.param('A', [2, 3]);
export const M = B.param('M', [3, 2]);
export const s = B.param('s', []);
export const pos = B.param('p', [3]);      // kept positive by the generator: log, sqrt, pow
export const y = B.input('y', [], 3, 'K');

const t = B.variable('t');
/** fn softsign(t) = t / (1 + abs(t)) — a user fn for the `call` op. */
export const softsign: FnDef = Object.freeze({ id: 9_000_001, name: 'softsign', params: ['t'], body: B.div(t, B.add(B.constant(1), B.unary('abs', t))) });

const spike = B.mul(B.constant(10), B.onehot(y, 3, 'K'));

export const SAMPLES: Record<string, () => Node> = {
  input: () => B.mul(y, u),
  param: () => u,
  var: () => B.call(softsign, [u]),
  dim: () => B.mul(B.dim('K', 3), u),
  const: () => B.add(B.constant(2.5), u),
  neg: () => B.neg(A),
  exp: () => B.exp(u), log: () => B.log(pos), sqrt: () => B.sqrt(pos), abs: () => B.unary('abs', u),
  sin: () => B.sin(u), cos: () => B.cos(u), tanh: () => B.unary('tanh', u), sign: () => B.mul(B.sign(u), v),
  step: () => B.mul(B.step(u), v), sigmoid: () => B.sigmoid(A), relu: () => B.unary('relu', u),
  softplus: () => B.unary('softplus', u), log_sigmoid: () => B.unary('log_sigmoid', u),
  add: () => B.add(A, u), mul: () => B.mul(s, A), div: () => B.div(u, pos), pow: () => B.pow(pos, v),
  matmul: () => B.matmul(A, M), transpose: () => B.transpose(A), dot: () => B.dot(u, v), outer: () => B.outer(u, v),
  // diag both ways (of u, and of the square M' * A'), kron of matrices and of vectors, and kron's adjoint both sides.
  diag: () => B.add(B.diag(u), B.diag(B.diag(B.matmul(B.transpose(A), B.transpose(M))))),
  kron: () => B.add(B.sum(B.kron(A, M)), B.sum(B.mul(B.kron(u, pos), B.kron(v, u)))),
  kron_contract: () => B.add(B.sum(B.kronContract(B.kron(A, M), B.transpose(A), 'left', [2, 3])), B.sum(B.kronContract(B.sin(B.kron(A, M)), A, 'right', [3, 2]))),
  sum: () => B.sum(A), mean: () => B.mean(u), sum_rows: () => B.sumRows(A), fill: () => B.fill(s, [2, 3]),
  softmax: () => B.softmax(u), log_softmax: () => B.logSoftmax(u), logsumexp: () => B.logsumexp(u),
  onehot: () => B.mul(B.onehot(y, 3, 'K'), u), cross_entropy: () => B.crossEntropy(u, y),
  call: () => B.call(softsign, [u]),
  max: () => B.max(u, B.constant(0)), min: () => B.min(A, B.mul(B.constant(0.5), A)), leaky_relu: () => B.leakyRelu(u, s),
  // A tie is a kink (fast-check likes equal values): element y is lifted (or lowered) by 10, so the extreme is unique.
  max_all: () => B.maxAll(B.add(u, spike)), min_all: () => B.minAll(B.sub(u, spike)), arg_mask: () => B.mul(B.argMask(B.add(u, spike), 'max'), v),
  index: () => B.mul(B.index(u, y), v),
  // Images from the leaves above: outer(u, v) as a 1×3×3 image, A as two 1×3 kernels, padded by 1.
  conv2d: () => conv(), conv2d_grad_input: () => B.conv2dGradInput(conv(), kernel(), [1, 3, 3], pad1),
  conv2d_grad_kernel: () => B.conv2dGradKernel(image(), conv(), [2, 1, 1, 3], pad1),
  // Max pooling over A as a 1×2×3 image: one window of four free values (the test keeps them apart, a tie is a kink).
  maxpool: () => B.maxpool(B.reshape(A, [1, 2, 3]), 2), avgpool: () => B.avgpool(conv(), 2),
  maxpool_route: () => B.maxpoolRoute(B.reshape(A, [1, 2, 3]), B.mul(s, B.maxpool(B.reshape(A, [1, 2, 3]), 2)), 2),
  maxpool_gather: () => B.maxpoolGather(B.reshape(A, [1, 2, 3]), B.sin(B.reshape(A, [1, 2, 3])), 2),
  upsample: () => B.upsample(B.avgpool(conv(), 2), 2, [2, 5, 3]),
  reshape: () => B.reshape(A, [3, 2]), sum_positions: () => B.sumPositions(conv()),
  // The row sums of A, and the middle axis of the [2, 5, 3] convolution; spread back along a new middle axis.
  sum_axis: () => B.add(B.sumAxis(A, 1), B.sumAxis(B.sumAxis(conv(), 1), 1)),
  spread_axis: () => B.mul(B.spreadAxis(B.sumAxis(conv(), 1), 1, 4), B.sin(B.spreadAxis(B.sumAxis(conv(), 1), 1, 4))),
};
const pad1 = { stride: 1, pad: 1 };
function image(): Node { return B.reshape(B.outer(u, v), [1, 3, 3]); }
function kernel(): Node { return B.reshape(A, [2, 1, 1, 3]); }
/** [2, 5, 3]: two filters over the padded 1×3×3 image. */
function conv(): Node { return B.conv2d(image(), kernel(), pad1); }

export const PARAMS = [u, v, A, M, s, pos];

/** Random leaf values; `pos` stays in [0.5, 2], other values in [−2, 2] and away from kinks at 0. */
export const envArb = fc.record({
  u: fc.array(awayFromZero(), { minLength: 3, maxLength: 3 }),
  v: fc.array(awayFromZero(), { minLength: 3, maxLength: 3 }),
  A: fc.array(awayFromZero(), { minLength: 6, maxLength: 6 }),
  M: fc.array(awayFromZero(), { minLength: 6, maxLength: 6 }),
  s: awayFromZero(),
  p: fc.array(fc.double({ min: 0.5, max: 2, noNaN: true }), { minLength: 3, maxLength: 3 }),
  y: fc.integer({ min: 0, max: 2 }),
});

function awayFromZero() {
  return fc.tuple(fc.double({ min: 0.1, max: 2, noNaN: true }), fc.boolean()).map(([x, neg]) => (neg ? -x : x));
}


export function toEnv(e: { u: number[]; v: number[]; A: number[]; M: number[]; s: number; p: number[]; y: number }): Map<string, Tensor> {
  return new Map<string, Tensor>([
    ['u', tensor([3], e.u)], ['v', tensor([3], e.v)], ['A', tensor([2, 3], e.A)], ['M', tensor([3, 2], e.M)],
    ['s', tensor([], [e.s])], ['p', tensor([3], e.p)], ['y', tensor([], [e.y])],
  ]);
}

/** No two values of one leaf within 0.05 of each other: keeps a max (or a pooling window) away from a tie. */
export function apart(e: { u: number[]; v: number[]; A: number[]; M: number[] }): boolean {
  return [e.u, e.v, e.A, e.M].every((xs) => xs.every((x, i) => xs.every((y, j) => i === j || Math.abs(x - y) > 0.05)));
}

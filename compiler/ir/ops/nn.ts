// Vector functions of deep learning, as primitives with fused derivative rules: their printed gradients are
// the textbook ones (∂CE/∂z = softmax(z) − onehot(y, K)) and their evaluation is stable (max subtracted).

import { registerOp, showShape } from '../node.js';
import type { OpDef } from '../op.js';
import * as B from '../build.js';
import { tensor } from '../tensor.js';
import type { Tensor } from '../tensor.js';
import { callOf, printed, requireRank } from './common.js';
import { PREC } from '../op.js';

export function logsumexpOf(z: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < z.length; i++) if (z[i] > m) m = z[i];
  if (!Number.isFinite(m)) return m;
  let s = 0;
  for (let i = 0; i < z.length; i++) s += Math.exp(z[i] - m);
  return m + Math.log(s);
}

const vectorOnly = (name: string) => ([a]: readonly (readonly number[])[]) => { requireRank(a, 1, name); return a; };
const classIndex = (y: Tensor, k: number): number => {
  const c = y.data[0];
  if (!Number.isInteger(c) || c < 0 || c >= k) throw new Error(`class label ${c} is outside 0..${k - 1}`);
  return c;
};

const softmax: OpDef = {
  name: 'softmax', arity: 1,
  shape: vectorOnly('softmax'),
  eval: ([z]) => { const l = logsumexpOf(z.data); return tensor(z.shape, z.data.map((v) => Math.exp(v - l))); },
  vjp: (g, s) => [B.mul(s, B.sub(g, B.dot(g, s)))], // s ⊙ (g − gᵀs)
  print: (p) => callOf(p, 'softmax', '\\operatorname{softmax}'),
  flops: (n) => 4 * n.size,
};

const logSoftmax: OpDef = {
  name: 'log_softmax', arity: 1,
  shape: vectorOnly('log_softmax'),
  eval: ([z]) => { const l = logsumexpOf(z.data); return tensor(z.shape, z.data.map((v) => v - l)); },
  vjp: (g, n) => [B.sub(g, B.mul(B.sum(g), B.softmax(n.args[0])))], // g − softmax(z) Σg
  print: (p) => callOf(p, 'log_softmax', '\\log\\operatorname{softmax}'),
  flops: (n) => 4 * n.size,
};

const logsumexp: OpDef = {
  name: 'logsumexp', arity: 1,
  shape: ([a]) => { requireRank(a, 1, 'logsumexp'); return []; },
  eval: ([z]) => tensor([], [logsumexpOf(z.data)]),
  vjp: (g, n) => [B.mul(g, B.softmax(n.args[0]))],
  print: (p) => callOf(p, 'logsumexp', '\\operatorname{logsumexp}'),
  flops: (n) => 3 * n.args[0].size,
};

const onehot: OpDef = {
  name: 'onehot', arity: 1,
  shape: (_, attr) => [attr.k as number],
  eval: ([y], n) => { const k = n.attr.k as number; const out = tensor([k]); out.data[classIndex(y, k)] = 1; return out; },
  vjp: () => [null],
  print: (p) => {
    const k = String(p.node.attr.kName ?? p.node.attr.k);
    // The lecture's standard basis vector: e_y, the K-vector with 1 at the label. At a fixed index the size
    // cannot come from a label, so it is written out: onehot(2, K).
    if (p.style === 'latex' && p.node.args[0].op === 'input') return printed(`\\mathbf{e}_{${p.arg(0, 0)}}`);
    return p.call('onehot', [p.arg(0, 0), k], '\\operatorname{onehot}');
  },
  flops: () => 0,
};

/** CE(z, y) = logsumexp(z) − z_y for logits z and a class label y. */
const crossEntropy: OpDef = {
  name: 'cross_entropy', arity: 2,
  shape: ([z, y]) => {
    if (z.length !== 1 || y.length !== 0) throw new Error(`cross_entropy needs a vector of logits and a class label, got ${showShape(z)} and ${showShape(y)}`);
    return [];
  },
  eval: ([z, y]) => tensor([], [logsumexpOf(z.data) - z.data[classIndex(y, z.data.length)]]),
  vjp: (g, n) => {
    const [z, y] = n.args;
    return [B.mul(g, B.sub(B.softmax(z), B.onehot(y, z.shape[0], kNameOf(y)))), null];
  },
  print: (p) => callOf(p, 'cross_entropy', '\\operatorname{CE}'),
  flops: (n) => 4 * n.args[0].size,
};

/** The dim name a class label was declared with (`class(K)`), so onehot(y, K) prints with it. */
function kNameOf(y: import('../node.js').Node): string | undefined {
  return y.op === 'input' && typeof y.attr.classDim === 'string' ? (y.attr.classDim as string) : undefined;
}

/**
 * v[y]: the element of a vector at a class label or an integer constant (0-based). The lecture's loss
 * −z_y + log Σ exp z_k is written with it. mathjs indexes from 1, so mathjs output writes dot(v, onehot(y, K)).
 */
const index: OpDef = {
  name: 'index', arity: 2,
  shape: ([v, i]) => {
    if (v.length !== 1 || i.length !== 0) throw new Error(`index needs a vector and a scalar index, got ${showShape(v)} and ${showShape(i)}`);
    return [];
  },
  eval: ([v, i]) => tensor([], [v.data[classIndex(i, v.data.length)]]),
  vjp: (g, n) => {
    const [v, i] = n.args;
    return [B.mul(g, B.onehot(i, v.shape[0], kNameOf(i))), null];
  },
  print: (p) => {
    const [v, i] = p.node.args;
    if (p.style === 'mathjs') {
      const k = String(kNameOf(i) ?? v.shape[0]);
      return p.call('dot', [p.arg(0, 0), `onehot(${p.arg(1, 0)}, ${k})`]);
    }
    if (p.style === 'latex') return printed(`{${p.arg(0, PREC.atom)}}_{${p.arg(1, 0)}}`, PREC.postfix);
    return printed(`${p.arg(0, PREC.postfix)}[${p.arg(1, 0)}]`, PREC.postfix);
  },
  flops: () => 0,
};

for (const op of [softmax, logSoftmax, logsumexp, onehot, crossEntropy, index]) registerOp(op);

// Linear algebra: the mathjs `*` product of matrices and vectors, transpose, dot and outer products.
// Their derivative rules are the lecture's: ∂(Wx)/∂W gives outer(g, x), ∂(Wx)/∂x gives Wᵀg.

import { registerOp, showShape } from '../node.js';
import type { OpDef } from '../op.js';
import { PREC } from '../op.js';
import * as B from '../build.js';
import { tensor } from '../tensor.js';
import { printed, requireRank, size } from './common.js';
import { latexTranspose } from '../print.js';

/** The mathjs product of non-scalars: matrix·vector, vector·matrix (vᵀA) or matrix·matrix. */
const matmul: OpDef = {
  name: 'matmul', arity: 2,
  shape: ([a, b]) => {
    if (a.length === 2 && b.length === 1 && a[1] === b[0]) return [a[0]];
    if (a.length === 1 && b.length === 2 && a[0] === b[0]) return [b[1]];
    if (a.length === 2 && b.length === 2 && a[1] === b[0]) return [a[0], b[1]];
    throw new Error(`cannot multiply ${showShape(a)} by ${showShape(b)}`);
  },
  eval: ([a, b]) => {
    const m = a.shape.length === 2 ? a.shape[0] : 1, k = b.shape[0], n = b.shape.length === 2 ? b.shape[1] : 1;
    const shape = a.shape.length === 1 ? [n] : b.shape.length === 1 ? [m] : [m, n];
    const out = tensor(shape);
    for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) {
      const aip = a.data[i * k + p];
      for (let j = 0; j < n; j++) out.data[i * n + j] += aip * b.data[p * n + j];
    }
    return out;
  },
  vjp: (g, node) => {
    const [a, b] = node.args;
    if (a.rank === 2 && b.rank === 1) return [B.outer(g, b), B.matmul(B.transpose(a), g)]; // W x: outer(g, x), Wᵀ g
    if (a.rank === 1) return [B.matmul(b, g), B.outer(a, g)];                                // vᵀA: A g, outer(v, g)
    return [B.matmul(g, B.transpose(b)), B.matmul(B.transpose(a), g)];                      // A B: g Bᵀ, Aᵀ g
  },
  // Matrix products associate: A' * (A * x) prints as A' * A * x (mathjs computes (A'A)x, the same value).
  // Only a chain of matrix products does: X * (P .* Q * v) keeps its parentheses.
  print: (p) => {
    const r = p.node.args[1];
    // A sum keeps its own parentheses as a factor, so (A X B + C) * B' may join the chain: A' * (A X B + C) * B'.
    const chain = (n: import('../node.js').Node): boolean => n.op !== 'mul' && n.op !== 'div' && n.op !== 'neg' && (n.op !== 'matmul' || chain(n.args[0]));
    const right = p.arg(1, r.op === 'matmul' && chain(r.args[0]) ? PREC.mul : PREC.unary);
    // A vector on the left is a row: v' * A (vectors are columns; mathjs ignores the ', so it evaluates too).
    // In LaTeX every vector is a column, as in the lecture, so vᵀM is written as the column Mᵀv it stands for.
    if (p.node.args[0].rank === 1 && p.style === 'latex') return printed(`${latexTranspose(p.arg(1, PREC.atom))} ${p.arg(0, PREC.unary)}`, PREC.mul);
    const left = p.node.args[0].rank !== 1 ? p.arg(0, PREC.mul) : `${p.arg(0, PREC.postfix)}'`;
    return printed(p.style === 'latex' ? `${left} ${right}` : `${left} * ${right}`, PREC.mul);
  },
  flops: (n) => 2 * n.args[0].size * (n.args[1].rank === 2 ? n.args[1].shape[1] : 1),
};

const transpose: OpDef = {
  name: 'transpose', arity: 1,
  shape: ([a]) => { requireRank(a, 2, 'transpose'); return [a[1], a[0]]; },
  eval: ([a]) => {
    const [m, n] = a.shape;
    const out = tensor([n, m]);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out.data[j * m + i] = a.data[i * n + j];
    return out;
  },
  vjp: (g) => [B.transpose(g)],
  print: (p) => p.style === 'latex' ? printed(latexTranspose(p.arg(0, PREC.atom)), PREC.postfix) : printed(`${p.arg(0, PREC.postfix)}'`, PREC.postfix),
  flops: () => 0,
};

const dot: OpDef = {
  name: 'dot', arity: 2,
  shape: ([a, b]) => {
    if (a.length !== 1 || b.length !== 1 || a[0] !== b[0]) throw new Error(`dot needs two vectors of one length, got ${showShape(a)} and ${showShape(b)}`);
    return [];
  },
  eval: ([a, b]) => { let s = 0; for (let i = 0; i < a.data.length; i++) s += a.data[i] * b.data[i]; return tensor([], [s]); },
  vjp: (g, node) => [B.mul(g, node.args[1]), B.mul(g, node.args[0])],
  print: (p) => p.style === 'latex' ? printed(`${latexTranspose(p.arg(0, PREC.atom))} ${p.arg(1, PREC.postfix)}`, PREC.mul)
    : p.matrixNotation ? printed(`${p.arg(0, PREC.postfix)}' * ${p.arg(1, PREC.unary)}`, PREC.mul) : p.call('dot', [p.arg(0, 0), p.arg(1, 0)]),
  flops: (n) => 2 * n.args[0].size,
};

const outer: OpDef = {
  name: 'outer', arity: 2,
  shape: ([a, b]) => {
    if (a.length !== 1 || b.length !== 1) throw new Error(`outer needs two vectors, got ${showShape(a)} and ${showShape(b)}`);
    return [a[0], b[0]];
  },
  eval: ([a, b]) => {
    const m = a.data.length, n = b.data.length;
    const out = tensor([m, n]);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out.data[i * n + j] = a.data[i] * b.data[j];
    return out;
  },
  vjp: (g, node) => [B.matmul(g, node.args[1]), B.matmul(B.transpose(g), node.args[0])], // g v, gᵀ u
  print: (p) => p.style === 'latex' ? printed(`${p.arg(0, PREC.postfix)} ${latexTranspose(p.arg(1, PREC.atom))}`, PREC.mul)
    : p.matrixNotation ? printed(`${p.arg(0, PREC.mul)} * ${p.arg(1, PREC.postfix)}'`, PREC.mul) : p.call('outer', [p.arg(0, 0), p.arg(1, 0)]),
  flops: size,
};

for (const op of [matmul, transpose, dot, outer]) registerOp(op);

// diag and kron: the forms second derivatives are written in (the Hessian of softmax regression is
// kron(diag(p) − p pᵀ, x xᵀ)), and ops a model may use like any other. kron's adjoint contracts the
// Kronecker product with one factor (kron_contract), and that op's adjoint is kron again, so every
// derivative of every order stays inside these three ops.

import type { Shape } from '../node.js';
import { registerOp, showShape } from '../node.js';
import type { OpDef } from '../op.js';
import { PREC } from '../op.js';
import * as B from '../build.js';
import { tensor } from '../tensor.js';
import { printed } from './common.js';

/** A vector as the one-column matrix it is in a Kronecker product: [m] → [m, 1]. */
export const asMatrix = (s: Shape): [number, number] => (s.length === 1 ? [s[0], 1] : [s[0], s[1]]);

/** diag(v): the square matrix with v on its diagonal; diag(M) of a square matrix: its diagonal (as mathjs). */
const diag: OpDef = {
  name: 'diag', arity: 1,
  shape: ([a]) => {
    if (a.length === 1) return [a[0], a[0]];
    if (a.length === 2 && a[0] === a[1]) return [a[0]];
    throw new Error(`diag needs a vector or a square matrix, got ${showShape(a)}`);
  },
  eval: ([a], n) => {
    const k = n.shape[0];
    const out = tensor(n.shape);
    for (let i = 0; i < k; i++) {
      if (n.rank === 2) out.data[i * (k + 1)] = a.data[i];
      else out.data[i] = a.data[i * (k + 1)];
    }
    return out;
  },
  vjp: (g) => [B.diag(g)], // the diagonal of g for diag(v), the matrix diag(g) for diag(M)
  print: (p) => p.call('diag', [p.arg(0, 0)], '\\operatorname{diag}'),
  flops: () => 0,
};

/** kron(A, B) of two matrices (or two vectors, as columns): the block matrix [A_ij B]. */
const kron: OpDef = {
  name: 'kron', arity: 2,
  shape: ([a, b]) => {
    if (a.length !== b.length || a.length < 1 || a.length > 2) throw new Error(`kron needs two matrices or two vectors, got ${showShape(a)} and ${showShape(b)}`);
    return a.length === 1 ? [a[0] * b[0]] : [a[0] * b[0], a[1] * b[1]];
  },
  eval: ([a, b], n) => {
    const [m, k] = asMatrix(a.shape), [p, q] = asMatrix(b.shape);
    const out = tensor(n.shape);
    for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) for (let r = 0; r < p; r++) for (let c = 0; c < q; c++) {
      out.data[(i * p + r) * (k * q) + j * q + c] = a.data[i * k + j] * b.data[r * q + c];
    }
    return out;
  },
  vjp: (g, n) => [B.kronContract(g, n.args[1], 'left', n.args[0].shape), B.kronContract(g, n.args[0], 'right', n.args[1].shape)],
  print: (p) => (p.style === 'latex' ? printed(`${p.arg(0, PREC.pow)} \\otimes ${p.arg(1, PREC.pow)}`, PREC.mul) : p.call('kron', [p.arg(0, 0), p.arg(1, 0)])),
  flops: (n) => n.size,
};

/**
 * kron_contract(G, F): G, the shape of a Kronecker product, contracted with one of its factors F, giving the
 * other factor's shape — `left`: Σ_kl G[(i,k),(j,l)] F_kl (the adjoint of kron(A, F) for A), `right`:
 * Σ_ij G[(i,k),(j,l)] F_ij (for B in kron(F, B)).
 */
const kronContract: OpDef = {
  name: 'kron_contract', arity: 2,
  shape: ([g, f], attr) => {
    const out = attr.shape as number[];
    const [m, k] = asMatrix(attr.side === 'left' ? out : f), [p, q] = asMatrix(attr.side === 'left' ? f : out);
    const [gr, gc] = asMatrix(g);
    if (gr !== m * p || gc !== k * q || g.length !== out.length) throw new Error(`kron_contract: ${showShape(g)} is not kron of ${showShape(out)} and ${showShape(f)}`);
    return out;
  },
  eval: ([g, f], n) => {
    const left = n.attr.side === 'left';
    const [m, k] = asMatrix(left ? n.shape : f.shape), [p, q] = asMatrix(left ? f.shape : n.shape);
    const out = tensor(n.shape);
    for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) for (let r = 0; r < p; r++) for (let c = 0; c < q; c++) {
      const gv = g.data[(i * p + r) * (k * q) + j * q + c];
      if (left) out.data[i * k + j] += gv * f.data[r * q + c];
      else out.data[r * q + c] += gv * f.data[i * k + j];
    }
    return out;
  },
  // Bilinear in G and F: ⟨H, contract(G, F)⟩ = ⟨G, kron(H, F)⟩ = ⟨F, contract'(G, H)⟩ (the other side).
  vjp: (h, n) => {
    const [g, f] = n.args;
    return n.attr.side === 'left'
      ? [B.kron(h, f), B.kronContract(g, h, 'right', f.shape)]
      : [B.kron(f, h), B.kronContract(g, h, 'left', f.shape)];
  },
  print: (p) => p.call(p.node.attr.side === 'left' ? 'kron_contract_left' : 'kron_contract_right', [p.arg(0, 0), p.arg(1, 0)], `\\operatorname{kron}^{*}_{\\mathrm{${p.node.attr.side}}}`),
  flops: (n) => 2 * n.args[0].size,
};

for (const op of [diag, kron, kronContract]) registerOp(op);

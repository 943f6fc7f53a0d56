// A parameter's gradient summed over the batch, term by term as the plan decomposed it: Σ_b u_b v_bᵀ as one
// product, a convolution kernel's gradient as one product, and the rest as loops (a bias's column sum in
// WebAssembly when the buffers live in its memory).

import type { Term } from '../plan.js';
import { convSizes } from '../../ir/ops/image.js';
import { columnSumOf } from '../wasm/loops.js';
import { within } from '../scalar.js';
import * as A from './ast.js';
import type { Expr, Stmt } from './ast.js';
import type { Emitter } from './emitter.js';
import type { Node } from '../../ir/node.js';

const id = A.ident;

export function termStmts(em: Emitter, pname: string, shape: readonly number[], t: Term, first: boolean): Stmt[] {
  const acc = id(em.gradLocal.get(pname)!);
  const signed = (e: Expr) => (t.sign === 1 ? e : A.tsScalar.neg(e));
  if (t.kind === 'kernelSum') {
    const [x, gr] = t.node.args;
    const stride = (m: Node) => A.num(em.batched(m) ? m.size : 0);
    return [A.exprStmt(A.call('conv2dGradKernelSum', [id('n'), id(em.sizesName(convSizes(t.node))), id(em.bufName.get(x)!), stride(x), id(em.bufName.get(gr)!), stride(gr),
      acc, A.num(first ? 0 : 1), em.scratchFor(t.node), A.num(em.gatheredInForward(t.node) ? 1 : 0)]))];
  }
  if (t.kind === 'outer' && t.sign === 1) {
    return [A.exprStmt(A.call('gemmTN', [id('n'), A.num(t.u.size), A.num(t.v.size), id(em.bufName.get(t.u)!), id(em.bufName.get(t.v)!), acc, A.num(first ? 0 : 1)]))];
  }
  const zero = first ? [A.exprStmt(A.call(A.prop(acc, 'fill'), [A.num(0)]))] : [];
  const loops = [...zero, ...accumulate(em, t, shape, acc, signed)];
  const m = em.opts.wasmColumnSums ? columnSumOf(em.plan, t) : undefined;
  // A bias's gradient, Σ over the batch, as a WebAssembly SIMD column sum when the buffers live in its memory.
  if (m !== undefined && t.kind === 'batched') return em.wasmOr(A.call('wasmColumnSum', [A.str(`colsum_${m}`), id('n'), id(em.bufName.get(t.node)!), acc, A.num(first ? 0 : 1), A.num(t.sign)]), loops);
  return loops;
}
/** acc += Σ_b term; a term may be broadcast (a scalar, or a row repeated over a matrix) to the gradient's shape. */
export function accumulate(em: Emitter, t: Term, shape: readonly number[], acc: Expr, signed: (e: Expr) => Expr): Stmt[] {
  const count = shape.reduce((a, c) => a * c, 1);
  if (t.kind === 'outer') {
    return em.overBatch(t.u, em.loopElems(t.u.size, 'i', (i) => em.loopElems(t.v.size, 'j', (j) => [A.assign(A.index(acc, A.bin('+', A.bin('*', i, A.num(t.v.size)), j)), signed(A.bin('*', em.at(t.u, i), em.at(t.v, j))), '+=')])));
  }
  if (t.kind === 'batched') return em.overBatch(t.node, em.loopElems(count, 'j', (j) => [A.assign(A.index(acc, j), signed(em.at(t.node, within(t.node, shape, j))), '+=')]));
  return em.loopElems(count, 'j', (j) => [A.assign(A.index(acc, j), signed(A.bin('*', id('n'), em.at(t.node, within(t.node, shape, j)))), '+=')]);
}


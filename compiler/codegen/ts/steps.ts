// One plan step as TypeScript: a fused elementwise loop (or its WebAssembly version), a product over the
// batch, a row kernel (softmax, cross-entropy), a runtime kernel over the batch, or a small loop nest per
// example — each under a comment with the formula it computes.

import type { Node } from '../../ir/node.js';
import { opOf } from '../../ir/node.js';
import type { Step } from '../plan.js';
import { within } from '../scalar.js';
import * as A from './ast.js';
import type { Expr, Stmt } from './ast.js';
import { ts } from './ast.js';
import type { Emitter } from './emitter.js';
import { kronElement } from '../kron-element.js';

const id = A.ident;
const size = (n: Node) => n.size;

export function stepStmts(em: Emitter, s: Step): Stmt[] {
  const n = s.node;
  const out = (offset: Expr) => em.at(n, offset);
  const label = em.display.has(n) ? `${em.display.get(n)} = ${em.formula(n)}` : `${em.formula(n)} → ${em.bufName.get(n)}`;
  let body: Stmt[];
  switch (s.kind) {
    case 'loop': {
      if (n.op === 'const') { body = em.loopElems(size(n), 'i', (i) => [A.assign(out(i), A.num(n.attr.value as number))]); break; }
      body = em.overBatch(n, em.loopElems(size(n), 'i', (i) => [A.assign(out(i), em.scalar(n, n.shape, i, true))]));
      const wasm = em.opts.wasmLoops?.get(n);
      // The same loop as a WebAssembly SIMD function, when the buffers live in its memory.
      if (wasm) body = em.wasmOr(A.call('wasmLoop', [A.str(wasm.name), id('n'), id(em.bufName.get(n)!), ...wasm.inputs.map((x) => id(em.bufName.get(x)!))]), body);
      break;
    }
    case 'gemm':
      body = [A.exprStmt(A.call(s.variant === 'NT' ? 'gemmNT' : 'gemmNN', [id('n'), A.num(s.m), A.num(s.k), id(em.bufName.get(s.x)!), id(em.bufName.get(s.w)!), id(em.bufName.get(n)!)]))];
      return [A.comment(body[0], `${label}   (${s.variant === 'NT' ? 'X Wᵀ' : 'G W'} over the batch)`)];
    case 'rows': {
      const z = n.args[0];
      const count = em.batched(n) ? id('n') : A.num(1);
      const args = [count, A.num(z.shape[0]), id(em.bufName.get(z)!), ...(s.fn === 'crossEntropyRows' ? [id(em.bufName.get(n.args[1])!)] : []), id(em.bufName.get(n)!)];
      body = [A.exprStmt(A.call(s.fn, args))];
      break;
    }
    case 'generic': {
      const kernel = opOf(n.op).kernel;
      if (kernel) {
        // A runtime kernel over the whole batch: per buffer, the distance from one example's values to the next.
        body = [A.exprStmt(A.call(kernel.fn, [em.exampleCount(n), id(em.sizesName(kernel.sizes(n))),
          ...n.args.flatMap((a) => [id(em.bufName.get(a)!), em.exampleStride(a)]), id(em.bufName.get(n)!), em.exampleStride(n), ...(kernel.scratch ? [em.scratchFor(n)] : [])]))];
        break;
      }
      // A block of its own when not batched, so that two reductions can both declare their accumulator.
      body = em.batched(n) ? em.overBatch(n, genericBody(em, n, out)) : [A.block(genericBody(em, n, out))];
      break;
    }
  }
  return body.length ? [A.comment(body[0], label), ...body.slice(1)] : body;
}

export function genericBody(em: Emitter, n: Node, out: (o: Expr) => Expr): Stmt[] {
  const [a, c] = n.args;
  const acc = (count: number, term: (i: Expr) => Expr, finish: (s: Expr) => Expr): Stmt[] => [
    A.letDecl('sum_', A.num(0)),
    ...em.loopElems(count, 'i', (i) => [A.assign(id('sum_'), term(i), '+=')]),
    A.assign(out(A.num(0)), finish(id('sum_'))),
  ];
  switch (n.op) {
    case 'dot': return acc(a.size, (i) => A.bin('*', em.at(a, i), em.at(c, i)), (s) => s);
    case 'sum': return acc(a.size, (i) => em.at(a, i), (s) => s);
    case 'mean': return acc(a.size, (i) => em.at(a, i), (s) => A.bin('/', s, A.num(a.size)));
    case 'outer': return em.loopElems(a.size, 'i', (i) => em.loopElems(c.size, 'j', (j) => [A.assign(out(A.bin('+', A.bin('*', i, A.num(c.size)), j)), A.bin('*', em.at(a, i), em.at(c, j)))]));
    case 'sum_rows': {
      const [m, k] = a.shape;
      return em.loopElems(k, 'j', (j) => [A.letDecl('sum_', A.num(0)), ...em.loopElems(m, 'i', (i) => [A.assign(id('sum_'), em.at(a, A.bin('+', A.bin('*', i, A.num(k)), j)), '+=')]), A.assign(out(j), id('sum_'))]);
    }
    case 'fill': return em.loopElems(n.size, 'i', (i) => [A.assign(out(i), em.at(a, within(a, n.shape, i)))]);
    case 'transpose': {
      const [m, k] = a.shape;
      return em.loopElems(m, 'i', (i) => em.loopElems(k, 'j', (j) => [A.assign(out(A.bin('+', A.bin('*', j, A.num(m)), i)), em.at(a, A.bin('+', A.bin('*', i, A.num(k)), j)))]));
    }
    case 'matmul': {
      // General product, per example: [m, k] × [k, q] with vectors as a row or a column.
      const m = a.rank === 2 ? a.shape[0] : 1, k = c.shape[0], q = c.rank === 2 ? c.shape[1] : 1;
      const aAt = (i: Expr, p: Expr) => em.at(a, a.rank === 2 ? A.bin('+', A.bin('*', i, A.num(k)), p) : p);
      const cAt = (p: Expr, j: Expr) => em.at(c, c.rank === 2 ? A.bin('+', A.bin('*', p, A.num(q)), j) : p);
      return em.loopElems(m, 'i', (i) => em.loopElems(q, 'j', (j) => [
        A.letDecl('sum_', A.num(0)),
        ...em.loopElems(k, 'kk', (p) => [A.assign(id('sum_'), A.bin('*', aAt(i, p), cAt(p, j)), '+=')]),
        A.assign(out(A.bin('+', A.bin('*', i, A.num(q)), j)), id('sum_')),
      ]));
    }
    case 'cross_entropy':
      // Logits shared by every example (they depend on no input) with a label per example.
      if (!em.batched(a)) return [A.assign(out(A.num(0)), A.bin('-', A.call('logsumexpRow', [id(em.bufName.get(a)!), A.num(0), A.num(a.shape[0])]), em.at(a, em.at(c, A.num(0)))))];
      return [A.exprStmt(A.call('crossEntropyRows', [A.num(1), A.num(a.shape[0]), id(em.bufName.get(a)!), id(em.bufName.get(c)!), id(em.bufName.get(n)!)]))];
    case 'softmax': case 'log_softmax': case 'logsumexp': {
      const fn = { softmax: 'softmaxRows', log_softmax: 'logSoftmaxRows', logsumexp: 'logsumexpRows' }[n.op]!;
      return [A.exprStmt(A.call(fn, [A.num(1), A.num(a.shape[0]), id(em.bufName.get(a)!), id(em.bufName.get(n)!)]))];
    }
    case 'max_all': case 'min_all': {
      const fn = n.op === 'max_all' ? 'Math.max' : 'Math.min';
      return [A.letDecl('m_', em.at(a, A.num(0))),
        A.forRange('i', A.num(1), A.num(a.size), [A.assign(id('m_'), A.call(fn, [id('m_'), em.at(a, id('i'))]))]),
        A.assign(out(A.num(0)), id('m_'))];
    }
    case 'arg_mask': {
      // 1 / (how many elements attain the extreme) at each of them, as the interpreter computes it.
      const fn = n.attr.which === 'max' ? 'Math.max' : 'Math.min';
      return [A.letDecl('m_', em.at(a, A.num(0))),
        A.forRange('i', A.num(1), A.num(a.size), [A.assign(id('m_'), A.call(fn, [id('m_'), em.at(a, id('i'))]))]),
        A.letDecl('count_', A.num(0)),
        A.forRange('i', A.num(0), A.num(a.size), [ts.factory.createIfStatement(A.bin('===', em.at(a, id('i')), id('m_')), A.assign(id('count_'), A.num(1), '+='))]),
        ...em.loopElems(n.size, 'i', (i) => [A.assign(out(i), A.cond(A.bin('===', em.at(a, i), id('m_')), A.bin('/', A.num(1), id('count_')), A.num(0)))])];
    }
    case 'diag': case 'kron': case 'kron_contract':
      return em.loopElems(n.size, 'i', (i) => {
        const sum = (count: number, term: (t: Expr) => Expr) => [A.letDecl('sum_', A.num(0)), ...em.loopElems(count, 't', (t) => [A.assign(id('sum_'), term(t), '+=')])];
        const e = kronElement(n, i, (k, o) => em.at(n.args[k], o), sum);
        return [...e.stmts, A.assign(out(i), e.value)];
      });
    default: throw new Error(`internal error: no code for ${n.op}`);
  }
}

/** The statements adding term t into the gradient buffer; the first term of a gradient overwrites it. */

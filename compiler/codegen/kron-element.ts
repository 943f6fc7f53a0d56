// One element of diag, kron and kron_contract as an expression of its flat index — the one description
// both the TypeScript loops and the gpu.js kernels (one thread per element) are built from.

import type { Node } from '../ir/node.js';
import { asMatrix } from '../ir/ops/kron.js';
import * as A from './ts/ast.js';
import type { Expr, Stmt } from './ts/ast.js';

const floorDiv = (a: Expr, d: number): Expr => (d === 1 ? a : A.call('Math.floor', [A.bin('/', a, A.num(d))]));
const plus = (a: Expr, b: Expr) => A.bin('+', a, b);
const times = (a: Expr, d: number): Expr => (d === 1 ? a : A.bin('*', a, A.num(d)));
const minus = (a: Expr, b: Expr) => A.bin('-', a, b);

export const KRON_OPS = new Set(['diag', 'kron', 'kron_contract']);

/**
 * Element i of n: statements to run first and the value. `at(k, offset)` reads argument k; `sum(count, term)`
 * accumulates term(t) for t < count into a fresh `sum_` and gives its statements.
 */
export function kronElement(n: Node, i: Expr, at: (k: number, offset: Expr) => Expr, sum: (count: number, term: (t: Expr) => Expr) => Stmt[]): { stmts: Stmt[]; value: Expr } {
  const v = (name: string) => A.ident(name);
  if (n.op === 'diag') {
    const K = n.shape[0];
    if (n.rank === 1) return { stmts: [], value: at(0, times(i, K + 1)) };
    const row = floorDiv(i, K + 1);
    return { stmts: [], value: A.cond(A.bin('===', minus(i, times(row, K + 1)), A.num(0)), at(0, row), A.num(0)) };
  }
  if (n.op === 'kron') {
    const [, k] = asMatrix(n.args[0].shape), [p, q] = asMatrix(n.args[1].shape);
    return {
      stmts: [
        A.constDecl('kr_row', floorDiv(i, k * q)), A.constDecl('kr_col', minus(i, times(v('kr_row'), k * q))),
        A.constDecl('kr_i', floorDiv(v('kr_row'), p)), A.constDecl('kr_j', floorDiv(v('kr_col'), q)),
      ],
      value: A.bin('*', at(0, plus(times(v('kr_i'), k), v('kr_j'))),
        at(1, plus(times(minus(v('kr_row'), times(v('kr_i'), p)), q), minus(v('kr_col'), times(v('kr_j'), q))))),
    };
  }
  // kron_contract: G [m·p, k·q] with F, the factor on `side`; the output is the other factor.
  const left = n.attr.side === 'left';
  const [m, k] = asMatrix(left ? n.shape : n.args[1].shape), [p, q] = asMatrix(left ? n.args[1].shape : n.shape);
  const gAt = (I: Expr, J: Expr, R: Expr, C: Expr) => at(0, plus(times(plus(times(I, p), R), k * q), plus(times(J, q), C)));
  const outCols = left ? k : q;
  const stmts = [A.constDecl('kc_a', floorDiv(i, outCols)), A.constDecl('kc_b', minus(i, times(v('kc_a'), outCols)))];
  const term = (t: Expr) => {
    const inner = left ? q : k;
    const tr = floorDiv(t, inner), tc = minus(t, times(floorDiv(t, inner), inner));
    const g = left ? gAt(v('kc_a'), v('kc_b'), tr, tc) : gAt(tr, tc, v('kc_a'), v('kc_b'));
    return A.bin('*', g, at(1, t));
  };
  return { stmts: [...stmts, ...sum(left ? p * q : m * k, term)], value: v('sum_') };
}

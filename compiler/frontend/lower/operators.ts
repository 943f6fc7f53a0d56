// Lowering a binary operator: elementwise operations with broadcasting, and `*`, whose meaning depends on
// the shapes and on rows and columns (vectors are columns; ' makes a row).

import type { Node, Shape } from '../../ir/node.js';
import { showShape } from '../../ir/node.js';
import * as B from '../../ir/build.js';
import type { Expr } from '../ast.js';
import { broadcastShape } from '../../ir/ops/common.js';
import type { Lowering } from './context.js';

export function binary(cx: Lowering, e: Extract<Expr, { kind: 'binary' }>, l: Node, r: Node): Node | null {
  const lr = cx.isRow(e.left), rr = cx.isRow(e.right);
  const L = `${cx.text(e.left)} is ${lr ? `a row ${showShape(l.shape)}` : showShape(l.shape)}`, R = `${cx.text(e.right)} is ${rr ? `a row ${showShape(r.shape)}` : showShape(r.shape)}`;
  if (e.op !== '*') {
    if (l.rank === 1 && r.rank === 1 && lr !== rr) {
      cx.diags.error(e.opSpan, `cannot combine a row vector with a column vector (${L} and ${R}): transpose one of them (')`);
      return null;
    }
    cx.orient(e, lr || rr);
  }
  const elementwise = (build: (a: Node, b: Node) => Node, verb: string): Node | null => {
    if (broadcastShape(l.shape, r.shape)) return build(l, r);
    let hint = '';
    if (l.rank === 2 && r.rank === 2 && l.shape[0] === r.shape[1] && l.shape[1] === r.shape[0]) hint = `: did you mean ${cx.text(e.left)} ${e.op} ${cx.text(e.right)}'?`;
    else if (l.rank === 2 && r.rank === 1 && r.shape[0] === l.shape[0]) hint = `: a vector broadcasts along the rows of a matrix of its last size; did you mean ${cx.text(e.left)}' ${e.op} ${cx.text(e.right)}?`;
    else if (r.rank === 2 && l.rank === 1 && l.shape[0] === r.shape[0]) hint = `: a vector broadcasts along the rows of a matrix of its last size; did you mean ${cx.text(e.left)} ${e.op} ${cx.text(e.right)}'?`;
    else hint = ': shapes must be equal, or one a scalar, or a matrix and a vector of its last size';
    cx.diags.error(e.opSpan, `cannot ${verb}: ${L} and ${R}${hint}`, declared(cx, e));
    return null;
  };
  switch (e.op) {
    case '+': return elementwise(B.add, 'add');
    case '-': return elementwise(B.sub, 'subtract');
    case '.*': return elementwise(B.mul, 'multiply elementwise');
    case './': return elementwise(B.div, 'divide elementwise');
    case '.^': return elementwise(B.pow, 'raise elementwise to a power');
    case '/':
      if (r.isScalar) return B.div(l, r);
      cx.diags.error(e.opSpan, `a / b divides by a scalar, but ${R}: write ${cx.text(e.left)} ./ ${cx.text(e.right)} for elementwise division`, declared(cx, e));
      return null;
    case '^':
      if (l.isScalar && r.isScalar) return B.pow(l, r);
      cx.diags.error(e.opSpan, `^ is the power of a scalar, but ${l.isScalar ? R : L}: write ${cx.text(e.left)} .^ ${cx.text(e.right)} for an elementwise power`, declared(cx, e));
      return null;
    case '*': return product(cx, e, l, r, L, R);
  }
}

/** Where a param or input of a refused operation was declared: its shape, not the operation, may be the mistake. */
export function declared(cx: Lowering, e: Extract<Expr, { kind: 'binary' }>): string[] | undefined {
  const notes = [e.left, e.right].flatMap((side) => {
    const s = side.kind === 'transpose' ? side.arg : side;
    const b = s.kind === 'name' ? cx.scope.get(s.name) : undefined;
    if (s.kind !== 'name' || !b || (b.kind !== 'param' && b.kind !== 'input')) return [];
    const ln = cx.line(b.span);
    return [`${s.name} is declared on line ${ln}: ${cx.file.lineText(ln).replace(/#.*$/, '').trim()}`];
  });
  return notes.length ? [...new Set(notes)] : undefined;
}

export function product(cx: Lowering, e: Extract<Expr, { kind: 'binary' }>, l: Node, r: Node, L: string, R: string): Node | null {
  const lr = cx.isRow(e.left), rr = cx.isRow(e.right);
  if (l.isScalar || r.isScalar) { cx.orient(e, lr || rr); return B.mul(l, r); }
  if (l.rank > 2 || r.rank > 2) {
    cx.diags.error(e.opSpan, `cannot multiply: ${L} and ${R}: * multiplies matrices and vectors; use .* for an elementwise product, conv2d for a convolution, or flatten(…) first`, declared(cx, e));
    return null;
  }
  if (l.rank === 1 && r.rank === 1) {
    if (!lr && rr) return B.outer(l, r); // u * v': the outer product u vᵀ
    if (lr && rr) {
      cx.diags.error(e.opSpan, `cannot multiply two row vectors (${L} and ${R}): a row times a column (u' * v) is the dot product, a column times a row (u * v') the outer product`, declared(cx, e));
      return null;
    }
    if (l.shape[0] === r.shape[0]) return B.dot(l, r); // u' * v, and u * v of two columns as before
    cx.diags.error(e.opSpan, `the product of two vectors is their dot product, which needs one length: ${L} and ${R}; for the outer product write ${cx.text(e.left)} * ${cx.text(e.right)}'`, declared(cx, e));
    return null;
  }
  if (r.rank === 1 && rr) {
    cx.diags.error(e.opSpan, `cannot multiply a matrix by a row vector (${L} and ${R}): did you mean ${cx.text(e.left)} * ${cx.text(e.right).replace(/'$/, '')}?`, declared(cx, e));
    return null;
  }
  if (l.rank === 1 && !lr) {
    // One rule everywhere: vectors are columns, and only a row multiplies a matrix from the left (as in MATLAB).
    const fix = l.shape[0] === r.shape[0] ? `did you mean ${cx.text(e.left)}' * ${cx.text(e.right)}? (${cx.text(e.left)}' is the row)` : r.shape[1] === l.shape[0] ? `did you mean ${cx.text(e.right)} * ${cx.text(e.left)}?` : `a row ${cx.text(e.left)}' * ${cx.text(e.right)} needs ${cx.text(e.right)} to have ${l.shape[0]} rows`;
    cx.diags.error(e.opSpan, `cannot multiply a column vector by a matrix (${L} and ${R}): vectors are columns; ${fix}`, declared(cx, e));
    return null;
  }
  const inner = (a: Shape, b: Shape) => (a.length === 2 ? a[1] : a[0]) === b[0];
  if (inner(l.shape, r.shape)) { cx.orient(e, lr); return B.matmul(l, r); } // x' * A is a row
  const lt = l.rank === 2 ? [l.shape[1], l.shape[0]] : l.shape;
  const rt = r.rank === 2 ? [r.shape[1], r.shape[0]] : r.shape;
  const [a, b] = [cx.text(e.left), cx.text(e.right)];
  let hint: string;
  if (l.rank === 2 && inner(lt, r.shape)) hint = `did you mean ${a}' * ${b}?`;
  else if (r.rank === 2 && inner(l.shape, rt)) hint = `did you mean ${a} * ${b}'?`;
  else if (inner(r.shape, l.shape)) hint = `did you mean ${b} * ${a}? (the arguments are swapped)`;
  else hint = `the inner sizes ${l.rank === 2 ? l.shape[1] : l.shape[0]} and ${r.shape[0]} must agree`;
  cx.diags.error(e.opSpan, `cannot multiply: ${L} and ${R}: ${hint}`, declared(cx, e));
  return null;
}


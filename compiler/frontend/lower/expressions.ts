// Lowering an expression: the dispatch on its kind, names (and in a claim the adjoints dL/dz), indexing.
// Calls and operators have files of their own (calls.ts, operators.ts).

import type { Node } from '../../ir/node.js';
import { showShape } from '../../ir/node.js';
import * as B from '../../ir/build.js';
import type { Expr } from '../ast.js';
import { BUILTINS, CONSTANTS } from '../builtins.js';
import { nearest, type Span } from '../../source/diagnostics.js';
import { ROLE_WORD, type ExprScope, type Lowering } from './context.js';
import { callExpr } from './calls.js';
import { binary } from './operators.js';

/** An expression's IR, or null after reporting why there is none. Records its span and orientation. */
export function lowerExpr(cx: Lowering, e: Expr, es: ExprScope): Node | null {
  const r = exprInner(cx, e, es);
  if (r && !cx.spans.has(r)) cx.spans.set(r, e.span);
  if (r && r.rank !== 1) cx.rows.delete(e);
  return r;
}

export function exprInner(cx: Lowering, e: Expr, es: ExprScope): Node | null {
  switch (e.kind) {
    case 'num': return B.constant(e.value);
    case 'name': {
      if (e.name.includes('/')) return adjointRef(cx, e);
      const b = cx.scope.get(e.name);
      cx.orient(e, !es.fnParams && b !== undefined && 'row' in b && b.row === true);
      return nameRef(cx, e.name, e.span, es);
    }
    case 'unary': {
      const a = lowerExpr(cx, e.arg, es);
      cx.orient(e, cx.isRow(e.arg));
      return a && (e.op === '-' ? B.neg(a) : a);
    }
    case 'transpose': {
      const a = lowerExpr(cx, e.arg, es);
      if (a && a.rank > 2) { cx.diags.error(e.span, `${cx.text(e.arg)} is ${showShape(a.shape)}: only vectors and matrices have a transpose`); return null; }
      cx.orient(e, a?.rank === 1 && !cx.isRow(e.arg)); // a scalar is unchanged; a vector turns
      return a && B.transpose(a);
    }
    case 'call': {
      if (e.name === 'transpose' && e.args.length === 1 && !cx.scope.has('transpose')) {
        const t: Expr = { kind: 'transpose', arg: e.args[0], span: e.span };
        const r = lowerExpr(cx, t, es);
        cx.orient(e, cx.isRow(t));
        return r;
      }
      return callExpr(cx, e, es);
    }
    case 'index': return indexExpr(cx, e, es);
    case 'list':
      cx.diags.error(e.span, 'a list [a, b, …] is only the shape argument of reshape(X, [n, …]); matrices are declared as params or inputs');
      return null;
    case 'binary': {
      const l = lowerExpr(cx, e.left, es), r = lowerExpr(cx, e.right, es);
      if (!l || !r) return null;
      return binary(cx, e, l, r);
    }
  }
}


// In a claim, `dL/dz2` names the adjoint the backward program prints: a placeholder that verify replaces
// by the derived ∂L/∂z2, so one step of backprop can be checked given the previous ones.
export function adjointRef(cx: Lowering, e: Extract<Expr, { kind: 'name' }>): Node | null {
  const [num, den] = e.name.split('/');
  const of = den.slice(1);
  if (!cx.claimMode || !cx.loss || num !== `d${cx.loss.name}`) {
    cx.diags.error(e.span, `unknown name '${e.name}'${cx.loss ? `: the adjoints of this model are written d${cx.loss.name}/dNAME` : ''}`);
    return null;
  }
  const b = cx.scope.get(of);
  if (!b || !['param', 'input', 'intermediate', 'output'].includes(b.kind) || !('node' in b)) {
    cx.diags.error(e.span, `${e.name}: '${of}' is not a parameter, input or named value of the model`);
    return null;
  }
  if (b.kind === 'input' && b.node.attr.classes !== undefined) { cx.diags.error(e.span, `${of} is a class label: the loss has no gradient with respect to it`); return null; }
  return B.variable(e.name, b.node.shape, of);
}

export function indexExpr(cx: Lowering, e: Extract<Expr, { kind: 'index' }>, es: ExprScope): Node | null {
  const v = lowerExpr(cx, e.arg, es);
  const i = lowerExpr(cx, e.index, es);
  if (!v || !i) return null;
  if (v.rank !== 1) { cx.diags.error(e.arg.span, `only a vector can be indexed (v[y]), but ${cx.text(e.arg)} is ${v.isScalar ? 'a scalar' : showShape(v.shape)}`); return null; }
  if (i.op === 'input' && i.attr.classes !== undefined) {
    const k = i.attr.classes as number;
    if (k !== v.shape[0]) { cx.diags.error(e.span, `${cx.text(e.index)} is class(${k}) but ${cx.text(e.arg)} has ${v.shape[0]} elements: they must agree`); return null; }
    return B.index(v, i);
  }
  const c = B.constValue(i);
  if (c !== undefined && i.attr.name === undefined) {
    if (!Number.isInteger(c) || c < 0 || c >= v.shape[0]) { cx.diags.error(e.index.span, `index ${c} is outside ${cx.text(e.arg)}, whose indices are 0..${v.shape[0] - 1} (0-based)`); return null; }
    return B.index(v, i);
  }
  cx.diags.error(e.index.span, `an index must be a class label (an input declared as class(K)) or an integer literal, but ${cx.text(e.index)} is ${i.isScalar ? 'a computed value' : showShape(i.shape)}`);
  return null;
}

export function nameRef(cx: Lowering, name: string, sp: Span, es: ExprScope): Node | null {
  if (es.fnParams) {
    if (es.fnParams.has(name)) return B.variable(name);
    if (name === es.fnName) { cx.diags.error(sp, `fn ${name} refers to itself: recursion is not allowed`); return null; }
  }
  if (CONSTANTS.has(name) && !cx.scope.has(name)) return B.constant(CONSTANTS.get(name)!);
  const b = cx.scope.get(name);
  if (!b) {
    if (BUILTINS.has(name)) { cx.diags.error(sp, `'${name}' is a built-in function: call it as ${BUILTINS.get(name)!.signature}`); return null; }
    const later = cx.laterDefinition(name);
    if (later && !es.fnParams) { cx.diags.error(sp, `'${name}' is used before it is defined (on line ${cx.line(later)}): statements are read in order; move its definition up`); return null; }
    const visible = [...cx.scope].filter(([, v]) => v.kind !== 'fn' && (!es.fnParams || v.kind === 'dim' || v.kind === 'const')).map(([k]) => k);
    const guess = nearest(name, [...visible, ...(es.fnParams ?? [])]);
    cx.diags.error(sp, `unknown name '${name}'${guess ? `: did you mean ${guess}?` : ': a name must be defined before it is used'}`);
    return null;
  }
  switch (b.kind) {
    case 'poison': return null;
    case 'fn': cx.diags.error(sp, `'${name}' is a function: call it as ${name}(…)`); return null;
    case 'dim': case 'const': return b.node;
    default:
      if (es.fnParams) {
        cx.diags.error(sp, `fn ${es.fnName} cannot use ${ROLE_WORD[b.kind]} '${name}': a fn sees only its arguments (${[...es.fnParams].join(', ')}), dims and consts; pass ${name} as an argument`);
        return null;
      }
      return b.node;
  }
}


// Lowering a call: a built-in or a user fn (argument counts, named arguments, rows and columns), and the
// built-ins whose arguments are not expressions like the others (axes, sizes, a class label).

import type { FnDef, Node, Shape } from '../../ir/node.js';
import { showShape } from '../../ir/node.js';
import * as B from '../../ir/build.js';
import type { Expr } from '../ast.js';
import { BUILTINS, ELEMENTWISE_BUILTINS } from '../builtins.js';
import { IMAGE_BUILTINS, lowerImageCall } from '../images.js';
import { broadcastShape } from '../../ir/ops/common.js';
import { nearest } from '../../source/diagnostics.js';
import { ROLE_WORD, type ExprScope, type Lowering } from './context.js';
import { lowerExpr } from './expressions.js';

export function callExpr(cx: Lowering, e: Extract<Expr, { kind: 'call' }>, es: ExprScope): Node | null {
  if (es.fnParams && e.name === es.fnName) { cx.diags.error(e.nameSpan, `fn ${e.name} calls itself: recursion is not allowed`); return null; }
  const user = cx.scope.get(e.name);
  const builtin = BUILTINS.get(e.name);
  if (!builtin && user?.kind !== 'fn') {
    if (user?.kind === 'poison') { e.args.forEach((a) => lowerExpr(cx, a, es)); return null; }
    if (user) { cx.diags.error(e.nameSpan, `'${e.name}' is ${ROLE_WORD[user.kind]}, not a function: write ${e.name} * (…) for a product`); return null; }
    const guess = nearest(e.name, [...BUILTINS.keys(), ...[...cx.scope].filter(([, v]) => v.kind === 'fn').map(([k]) => k)]);
    cx.diags.error(e.nameSpan, `unknown function '${e.name}'${guess ? `: did you mean ${guess}?` : ': the built-in functions are listed in docs/language.md'}`);
    e.args.forEach((a) => lowerExpr(cx, a, es));
    return null;
  }
  if (e.named.length && !(builtin && e.name in IMAGE_BUILTINS)) {
    cx.diags.error(e.named[0].nameSpan, `${e.name} takes no named arguments (${e.named[0].name}=…): ${builtin ? builtin.signature : e.name}`);
    return null;
  }
  const arity = builtin ? builtin.arity : (user as { fn: FnDef }).fn.params.length;
  const signature = builtin ? builtin.signature : `${e.name}(${(user as { fn: FnDef }).fn.params.join(', ')})`;
  const arities = typeof arity === 'number' ? [arity] : arity;
  if (!arities.includes(e.args.length)) {
    const count = arities.join(' or ');
    cx.diags.error(e.span, `${e.name} takes ${count} argument${count === '1' ? '' : 's'}, found ${e.args.length}: ${signature}`);
    e.args.forEach((a) => lowerExpr(cx, a, es));
    return null;
  }
  if (e.name === 'onehot') return onehotExpr(cx, e, es);
  if (e.name === 'sum' && e.args.length === 2 && builtin) return sumAlong(cx, e, es);
  if (e.name === 'expand' && builtin) return expandExpr(cx, e, es);
  if ((e.name === 'ones' || e.name === 'zeros') && builtin) return constantTensor(cx, e);
  if (e.name in IMAGE_BUILTINS) {
    return lowerImageCall(e, {
      expr: (a) => lowerExpr(cx, a, es),
      integer: (a) => cx.integerOf(a),
      text: (a) => cx.text(a), error: (span, message) => cx.diags.error(span, message),
    });
  }
  const args = e.args.map((a) => lowerExpr(cx, a, es));
  if (args.some((a) => !a)) return null;
  const nodes = args as Node[];
  // Elementwise functions keep a row a row (sigmoid(x') is a row); mixing a row with a column is an error.
  if (builtin ? ELEMENTWISE_BUILTINS.has(e.name) : true) {
    const vec = e.args.filter((a, k) => nodes[k].rank === 1);
    const isRow = (a: Expr) => cx.isRow(a);
    if (vec.some(isRow) && !vec.every(isRow)) { cx.diags.error(e.span, `${e.name} mixes a row vector with a column vector: transpose one of them (')`); return null; }
    cx.orient(e, vec.length > 0 && vec.every(isRow));
  }
  if (e.name === 'cross_entropy') return crossEntropyExpr(cx, e, nodes);
  if (!builtin) {
    const fn = (user as { fn: FnDef }).fn;
    let shape: Shape = [];
    for (let i = 0; i < nodes.length; i++) {
      const s = broadcastShape(shape, nodes[i].shape);
      if (!s) { cx.diags.error(e.args[i].span, `the arguments of ${e.name} must have matching shapes (or be scalars): ${cx.text(e.args[i])} is ${showShape(nodes[i].shape)}, the others give ${showShape(shape)}`); return null; }
      shape = s;
    }
    return B.call(fn, nodes);
  }
  const r = builtin.build({ nodes, texts: e.args.map((a) => cx.text(a)) });
  if ('error' in r) { cx.diags.error(r.arg === undefined ? e.span : e.args[r.arg].span, r.error); return null; }
  return r;
}

export function classLabel(cx: Lowering, node: Node, argExpr: Expr, fnName: string): number | undefined {
  if (node.op === 'input' && node.attr.classes !== undefined) return node.attr.classes as number;
  cx.diags.error(argExpr.span, `${fnName} needs a class label (an input declared as class(K)), but ${cx.text(argExpr)} is ${node.op === 'input' ? `an input of shape ${showShape(node.shape)}` : `an expression of shape ${showShape(node.shape)}`}`);
  return undefined;
}

/** ones(m, n, …), zeros(…): sizes are integers or dims. */
export function constantTensor(cx: Lowering, e: Extract<Expr, { kind: 'call' }>): Node | null {
  const sizes = e.args.map((a) => {
    const v = cx.integerOf(a);
    if (v === undefined || !Number.isInteger(v) || v < 1) { cx.diags.error(a.span, `the sizes of ${e.name}(…) are positive integers or dims, found ${cx.text(a)}`); return undefined; }
    return v;
  });
  if (sizes.some((v) => v === undefined)) return null;
  return B.constant(e.name === 'ones' ? 1 : 0, sizes as number[]);
}

/**
 * sum(A, k) and sum(A, [k1, k2, …]): mathjs's sum along one-based axes, for every axis of every rank. A
 * vector's only axis (or every axis of a tensor) gives the scalar sum; otherwise the axes are summed from
 * the last, so that the remaining ones keep their numbers.
 */
export function sumAlong(cx: Lowering, e: Extract<Expr, { kind: 'call' }>, es: ExprScope): Node | null {
  const a = lowerExpr(cx, e.args[0], es);
  if (!a) return null;
  const axesArg = e.args[1];
  const items = axesArg.kind === 'list' ? axesArg.items : [axesArg];
  if (a.isScalar) { cx.diags.error(e.args[0].span, `sum along an axis needs a tensor, but ${cx.text(e.args[0])} is a scalar: write sum(${cx.text(e.args[0])}) or the value itself`); return null; }
  const axes: number[] = [];
  for (const item of items) {
    const k = cx.integerOf(item);
    if (k === undefined || !Number.isInteger(k) || k < 1 || k > a.rank) {
      cx.diags.error(item.span, `the axes of sum(${cx.text(e.args[0])}, …) are 1 to ${a.rank} (one-based, as in mathjs): ${cx.text(e.args[0])} is ${showShape(a.shape)}, found ${cx.text(item)}`);
      return null;
    }
    if (axes.includes(k - 1)) { cx.diags.error(item.span, `axis ${k} is listed twice in sum(${cx.text(e.args[0])}, …)`); return null; }
    axes.push(k - 1);
  }
  if (axes.length === a.rank) return B.sum(a);
  if (a.rank === 3 && axes.length === 2 && axes.includes(1) && axes.includes(2)) return B.sumPositions(a);
  return [...axes].sort((x, y) => y - x).reduce((n, k) => B.sumAxis(n, k), a);
}

/** expand(G, k, n): G repeated n times along a new axis k (one-based), the adjoint of sum(A, k). */
export function expandExpr(cx: Lowering, e: Extract<Expr, { kind: 'call' }>, es: ExprScope): Node | null {
  const g = lowerExpr(cx, e.args[0], es);
  if (!g) return null;
  const k = cx.integerOf(e.args[1]), n = cx.integerOf(e.args[2]);
  if (k === undefined || !Number.isInteger(k) || k < 1 || k > g.rank + 1) { cx.diags.error(e.args[1].span, `the new axis of expand(${cx.text(e.args[0])}, k, n) is 1 to ${g.rank + 1}: ${cx.text(e.args[0])} is ${showShape(g.shape)}, found ${cx.text(e.args[1])}`); return null; }
  if (n === undefined || !Number.isInteger(n) || n < 1) { cx.diags.error(e.args[2].span, `the size of expand(…, k, n) is a positive integer or a dim, found ${cx.text(e.args[2])}`); return null; }
  if (g.rank + 1 > 4) { cx.diags.error(e.span, `expand makes a tensor of rank ${g.rank + 1}; gradc's tensors have rank 4 at most`); return null; }
  return B.spreadAxis(g, k - 1, n);
}

export function onehotExpr(cx: Lowering, e: Extract<Expr, { kind: 'call' }>, es: ExprScope): Node | null {
  const y = lowerExpr(cx, e.args[0], es);
  const kArg = e.args[1];
  let k: number | undefined, kName: string | undefined;
  if (kArg.kind === 'num') {
    if (Number.isInteger(kArg.value) && kArg.value > 0) k = kArg.value;
    else cx.diags.error(kArg.span, `the size of onehot must be a positive integer, found ${cx.file.slice(kArg.span)}`);
  } else if (kArg.kind === 'name') {
    const b = cx.scope.get(kArg.name);
    if (b?.kind === 'dim') { k = b.node.attr.value as number; kName = kArg.name; }
    else if (b?.kind !== 'poison') cx.diags.error(kArg.span, `the size of onehot must be a dim or an integer, but '${kArg.name}' is ${b ? ROLE_WORD[b.kind] : 'not defined'}`);
  } else cx.diags.error(kArg.span, 'the size of onehot must be a dim or an integer literal');
  if (!y || k === undefined) return null;
  // At a fixed index (0-based), as the gradient of v[2] prints it: onehot(2, K).
  const at = e.args[0].kind === 'num' ? e.args[0].value : undefined;
  if (at !== undefined) {
    if (!Number.isInteger(at) || at < 0 || at >= k) { cx.diags.error(e.args[0].span, `onehot(${cx.text(e.args[0])}, …): the index is 0..${k - 1} (0-based)`); return null; }
    return B.onehot(y, k, kName);
  }
  const classes = classLabel(cx, y, e.args[0], 'onehot');
  if (classes === undefined) return null;
  if (classes !== k) { cx.diags.error(kArg.span, `${cx.text(e.args[0])} is class(${classes}) but onehot has size ${k}: they must agree`); return null; }
  return B.onehot(y, k, kName ?? (y.attr.classDim as string | undefined));
}

export function crossEntropyExpr(cx: Lowering, e: Extract<Expr, { kind: 'call' }>, [z, y]: Node[]): Node | null {
  if (z.rank !== 1) { cx.diags.error(e.args[0].span, `cross_entropy needs a vector of logits, but ${cx.text(e.args[0])} is ${showShape(z.shape)}`); return null; }
  const classes = classLabel(cx, y, e.args[1], 'cross_entropy');
  if (classes === undefined) return null;
  if (classes !== z.shape[0]) {
    cx.diags.error(e.span, `${cx.text(e.args[0])} has ${z.shape[0]} logits but ${cx.text(e.args[1])} is class(${classes}): they must agree`);
    return null;
  }
  return B.crossEntropy(z, y);
}


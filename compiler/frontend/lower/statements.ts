// Lowering the statements of a file, one function per kind of statement, in source order: each defines its
// name in scope (or a poisoned name after an error, so that its later uses are not errors of their own).

import type { FnDef } from '../../ir/node.js';
import { showShape } from '../../ir/node.js';
import * as B from '../../ir/build.js';
import type { Init, Statement } from '../ast.js';
import type { ValueDecl } from '../model.js';
import type { Lowering } from './context.js';
import { lowerExpr } from './expressions.js';

let nextFnId = 1;
/** Fns are compared by identity: each gets an id of its own (the IR's hash-consing keys on it). */
export function newFnId(): number { return nextFnId++; }

/** Every statement, in order; names defined further down are noted first, for "used before it is defined". */
export function lowerStatements(cx: Lowering, statements: readonly Statement[]): void {
  for (const st of statements) {
    const names = st.kind === 'dim' ? st.entries.map((e) => e.name) : st.kind === 'broken' ? st.names : st.kind === 'model' ? [] : [st.name];
    for (const n of names) cx.noteDefinition(n.name, n.span);
  }
  statements.forEach((st, index) => {
    switch (st.kind) {
      case 'broken': return brokenStatement(cx, st);
      case 'model': return modelStatement(cx, st, index);
      case 'dim': return dimStatement(cx, st);
      case 'const': return constStatement(cx, st);
      case 'input': return inputStatement(cx, st);
      case 'param': return paramStatement(cx, st);
      case 'fn': return fnStatement(cx, st);
      case 'let': return letStatement(cx, st);
    }
  });
}

/** A statement the parser could not read: its names are poisoned, so that uses are not reported again. */
function brokenStatement(cx: Lowering, st: Extract<Statement, { kind: 'broken' }>): void {
    if (st.role === 'loss') cx.lossSeen = true;
    for (const n of st.names) if (!cx.scope.has(n.name)) cx.scope.set(n.name, { kind: 'poison', span: n.span });
}

/** `model NAME`, first. */
function modelStatement(cx: Lowering, st: Extract<Statement, { kind: 'model' }>, index: number): void {
    if (index !== 0) cx.diags.error(st.span, '`model NAME` must be the first statement');
    cx.modelName = st.name.name;
}

/** `dim A = 3, B = 4` (or the value `--dim` gives). */
function dimStatement(cx: Lowering, st: Extract<Statement, { kind: 'dim' }>): void {
    for (const d of st.entries) {
      const override = cx.opts.dimOverrides?.get(d.name.name);
      const value = override ?? d.value;
      if (override === undefined && (!Number.isInteger(d.value) || d.value <= 0)) {
        cx.diags.error(d.valueSpan, `dim ${d.name.name} must be a positive integer, found ${cx.file.slice(d.valueSpan)}`);
        cx.define(d.name.name, d.name.span, { kind: 'poison', span: d.name.span });
        continue;
      }
      cx.dims.set(d.name.name, { value, span: d.name.span });
      cx.define(d.name.name, d.name.span, { kind: 'dim', node: B.dim(d.name.name, value), span: d.name.span });
    }
}

/** `const NAME = NUMBER` (or the value `--const` gives). */
function constStatement(cx: Lowering, st: Extract<Statement, { kind: 'const' }>): void {
    const override = cx.opts.constOverrides?.get(st.name.name);
    const value = override ?? st.value;
    if (!Number.isFinite(value)) { cx.diags.error(st.valueSpan, `const ${st.name.name} must be a finite number`); cx.define(st.name.name, st.name.span, { kind: 'poison', span: st.name.span }); return; }
    cx.consts.set(st.name.name, value);
    cx.define(st.name.name, st.name.span, { kind: 'const', node: B.namedConstant(st.name.name, value), span: st.name.span });
}

/** `input NAME: SHAPE`. */
function inputStatement(cx: Lowering, st: Extract<Statement, { kind: 'input' }>): void {
    const s = cx.shapeOf(st.shape);
    if (!s) { cx.define(st.name.name, st.name.span, { kind: 'poison', span: st.name.span }); return; }
    const node = B.input(st.name.name, s.shape, s.classes, s.classDim);
    if (!cx.scope.has(st.name.name)) cx.inputs.push({ name: st.name.name, node, shape: s.shape, classes: s.classes, span: st.name.span });
    cx.define(st.name.name, st.name.span, { kind: 'input', node, span: st.name.span });
}

/** `param NAME: SHAPE INIT`; xavier by default for a matrix or larger, 0 otherwise. */
function paramStatement(cx: Lowering, st: Extract<Statement, { kind: 'param' }>): void {
    const s = cx.shapeOf(st.shape);
    if (s?.classes !== undefined) { cx.diags.error(st.shape.span, 'a parameter cannot be a class label: give it a shape like [n] or [n, d]'); }
    if (!s || s.classes !== undefined) { cx.define(st.name.name, st.name.span, { kind: 'poison', span: st.name.span }); return; }
    const node = B.param(st.name.name, s.shape);
    const init: Init = st.init ?? (s.shape.length >= 2 ? { kind: 'xavier' } : { kind: 'const', value: 0 });
    if (!cx.scope.has(st.name.name)) cx.params.push({ name: st.name.name, node, shape: s.shape, init, span: st.name.span });
    cx.define(st.name.name, st.name.span, { kind: 'param', node, span: st.name.span });
}

/** `fn NAME(a, b) = EXPR`: a scalar function of scalars, over its arguments, dims and consts only. */
function fnStatement(cx: Lowering, st: Extract<Statement, { kind: 'fn' }>): void {
    const names = new Set<string>();
    for (const p of st.params) {
      if (names.has(p.name)) cx.diags.error(p.span, `fn ${st.name.name} has two arguments named '${p.name}'`);
      names.add(p.name);
    }
    const body = lowerExpr(cx, st.body, { fnName: st.name.name, fnParams: names });
    if (body && !body.isScalar) {
      cx.diags.error(st.body.span, `the body of fn ${st.name.name} has shape ${showShape(body.shape)}; a fn is a scalar function of scalars`);
    }
    if (!body || !body.isScalar) { cx.define(st.name.name, st.name.span, { kind: 'poison', span: st.name.span }); return; }
    const fn: FnDef = Object.freeze({ id: newFnId(), name: st.name.name, params: st.params.map((p) => p.name), body });
    if (!cx.scope.has(st.name.name)) cx.fns.set(st.name.name, fn);
    cx.define(st.name.name, st.name.span, { kind: 'fn', fn, span: st.name.span });
}

/** `NAME = EXPR`, `output NAME = EXPR`, `loss NAME = EXPR` (exactly one loss, a scalar). */
function letStatement(cx: Lowering, st: Extract<Statement, { kind: 'let' }>): void {
    const node = lowerExpr(cx, st.expr, {});
    if (st.role === 'loss') {
      if (cx.lossSeen) cx.diags.error(st.name.span, `a second loss '${st.name.name}': a model has exactly one loss (use output for other values)`);
      cx.lossSeen = true;
      if (node && !node.isScalar) {
        cx.diags.error(st.expr.span, `the loss ${st.name.name} has shape ${showShape(node.shape)}, but a loss must be a scalar per example: did you mean sum(…) or mean(…)?`);
        cx.define(st.name.name, st.name.span, { kind: 'poison', span: st.name.span });
        return;
      }
    }
    if (!node) { cx.define(st.name.name, st.name.span, { kind: 'poison', span: st.name.span }); return; }
    const decl: ValueDecl = { name: st.name.name, node, role: st.role, span: st.name.span };
    if (!cx.scope.has(st.name.name)) {
      cx.values.push(decl);
      if (st.role === 'loss' && !cx.loss) cx.loss = decl;
    }
    cx.define(st.name.name, st.name.span, { kind: st.role, node, span: st.name.span, row: cx.isRow(st.expr) });
}

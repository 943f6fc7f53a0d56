// The syntax tree of a .nn file, as the parser produces it and the lowering step consumes it.

import type { Span } from '../source/diagnostics.js';

export type Expr =
  | { kind: 'num'; value: number; span: Span }
  | { kind: 'name'; name: string; span: Span }
  | { kind: 'unary'; op: '-' | '+'; arg: Expr; span: Span }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; span: Span; opSpan: Span }
  | { kind: 'transpose'; arg: Expr; span: Span }
  /** `named`: keyword arguments, as in conv2d(x, K, stride=2, pad=1). */
  | { kind: 'call'; name: string; nameSpan: Span; args: Expr[]; named: NamedArg[]; span: Span }
  /** [a, b, …]: a list of sizes, as in reshape(X, [n, 4, 4]); nowhere else. */
  | { kind: 'list'; items: Expr[]; span: Span }
  /** v[i]: an element of a vector at a class label or an integer literal (0-based). */
  | { kind: 'index'; arg: Expr; index: Expr; span: Span };

export interface NamedArg { name: string; nameSpan: Span; value: Expr }

export type BinaryOp = '+' | '-' | '*' | '/' | '^' | '.*' | './' | '.^';

/** A size in a shape: a dim's name or an integer literal. */
export interface SizeRef { text: string; span: Span; literal?: number }

export type ShapeAst =
  | { kind: 'tensor'; sizes: SizeRef[]; span: Span }
  | { kind: 'class'; k: SizeRef; span: Span };

export type Init =
  | { kind: 'const'; value: number }
  | { kind: 'xavier' } | { kind: 'he' }
  | { kind: 'normal'; mean: number; std: number }
  | { kind: 'uniform'; lo: number; hi: number };

export interface Ident { name: string; span: Span }

export type Statement =
  | { kind: 'model'; name: Ident; span: Span }
  | { kind: 'dim'; entries: { name: Ident; value: number; valueSpan: Span }[]; span: Span }
  | { kind: 'input'; name: Ident; shape: ShapeAst; span: Span }
  | { kind: 'param'; name: Ident; shape: ShapeAst; init?: Init; initSpan?: Span; span: Span }
  | { kind: 'fn'; name: Ident; params: Ident[]; body: Expr; span: Span }
  /** const lambda = 0.01: a named real constant (a hyperparameter). */
  | { kind: 'const'; name: Ident; value: number; valueSpan: Span; span: Span }
  /** A statement with a syntax error: the names it meant to define, so later uses do not cascade. */
  | { kind: 'broken'; names: Ident[]; role?: string; span: Span }
  | { kind: 'let'; role: 'intermediate' | 'output' | 'loss'; name: Ident; expr: Expr; span: Span };

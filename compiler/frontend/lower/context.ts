// The state of lowering one file: what is in scope, the dims and consts, the declarations made so far,
// which expressions are rows, and the small questions every part of lowering asks of it (a size, a shape,
// the text of an expression for a message, whether a name is defined further down).

import type { FnDef, Node, Shape } from '../../ir/node.js';
import type { DiagnosticBag, SourceFile, Span } from '../../source/diagnostics.js';
import { nearest } from '../../source/diagnostics.js';
import type { Expr, ShapeAst, SizeRef } from '../ast.js';
import { BUILTINS, CONSTANTS } from '../builtins.js';
import type { InputDecl, ParamDecl, ValueDecl } from '../model.js';

/** Names that mathjs parses as literals (NaN, Infinity, true, …) or that printed formulas call (ones, zeros). */
const MATHJS_RESERVED = new Set(['NaN', 'Infinity', 'true', 'false', 'null', 'undefined',
  'flip', 'full_conv2d', 'correlate', 'route_to_max', 'gather_max', 'upsample', 'per_channel']);

export type Binding =
  | { kind: 'dim'; node: Node; span: Span }
  | { kind: 'input' | 'param' | 'const'; node: Node; span: Span }
  /** `row`: a vector that is a row (x' or an expression of one), as the lecture's column-vector notation has it. */
  | { kind: 'intermediate' | 'output' | 'loss'; node: Node; span: Span; row?: boolean }
  | { kind: 'fn'; fn: FnDef; span: Span }
  | { kind: 'var'; node: Node; span: Span }
  | { kind: 'poison'; span: Span };

export const ROLE_WORD: Record<string, string> = {
  dim: 'a dim', const: 'a constant', input: 'an input', param: 'a parameter', intermediate: 'an intermediate', output: 'an output',
  loss: 'the loss', fn: 'a function', var: 'a function argument', poison: 'a name',
};

export interface LowerOptions {
  dimOverrides?: ReadonlyMap<string, number>;
  /** `--const NAME=VALUE`: replaces the value of `const NAME = …`. */
  constOverrides?: ReadonlyMap<string, number>;
  /** Extra expressions lowered after the model, in its full scope (the claims of `gradc verify`). */
  extraExpressions?: readonly Expr[];
  /** Receives the nodes of extraExpressions (null where one had an error). */
  onExtra?: (nodes: (Node | null)[]) => void;
}

/** Inside a `fn` body: its name (recursion is refused) and its arguments (the only names it sees besides dims and consts). */
export interface ExprScope { fnName?: string; fnParams?: ReadonlySet<string> }

export class Lowering {
  readonly scope = new Map<string, Binding>();
  readonly dims = new Map<string, { value: number; span: Span }>();
  readonly consts = new Map<string, number>();
  readonly inputs: InputDecl[] = [];
  readonly params: ParamDecl[] = [];
  readonly fns = new Map<string, FnDef>();
  readonly values: ValueDecl[] = [];
  readonly spans = new Map<Node, Span>();
  /**
   * Vectors are columns; `'` makes a row. The IR has one kind of vector, so orientation is a property of the
   * expression (and of the names bound to one), checked while lowering: u * v' is outer(u, v), u' * v is dot.
   */
  readonly rows = new Set<Expr>();
  modelName: string;
  loss: ValueDecl | undefined;
  lossSeen = false;
  /** In a claim (after the model's own statements), `dL/dz2` names an adjoint. */
  claimMode = false;
  /** Where each name of the file is defined, to tell "defined later" from "not defined". */
  private readonly definedAt = new Map<string, Span>();

  constructor(readonly file: SourceFile, readonly diags: DiagnosticBag, readonly opts: LowerOptions) {
    this.modelName = file.path.replace(/^.*[\\/]/, '').replace(/\.nn$/, '');
  }

  noteDefinition(name: string, span: Span): void { if (!this.definedAt.has(name)) this.definedAt.set(name, span); }
  laterDefinition(name: string): Span | undefined { return this.definedAt.get(name); }

  /** An expression's text for a message, short enough to read in one ("the expression" otherwise). */
  text(e: Expr): string {
    const s = e.span.file.slice(e.span).replace(/\s+/g, ' '); // a claim has a source of its own
    return s.length <= 24 ? s : 'the expression';
  }

  line(s: Span): number { return this.file.position(s.start).line; }

  isRow(e: Expr): boolean { return this.rows.has(e); }
  orient(e: Expr, row: boolean): void { if (row) this.rows.add(e); }

  define(name: string, nameSpan: Span, b: Binding): void {
    if (BUILTINS.has(name) || CONSTANTS.has(name)) {
      this.diags.error(nameSpan, `'${name}' is a built-in ${BUILTINS.has(name) ? 'function' : 'constant'}; choose another name`);
      if (!this.scope.has(name)) this.scope.set(name, { kind: 'poison', span: nameSpan }); // later uses are not errors of their own
      return;
    }
    if (MATHJS_RESERVED.has(name)) {
      // The printed formulas are mathjs expressions; there these words are literals or the functions gradc prints with.
      this.diags.error(nameSpan, `'${name}' is reserved in the mathjs syntax gradc prints gradients in; choose another name`);
      if (!this.scope.has(name)) this.scope.set(name, { kind: 'poison', span: nameSpan });
      return;
    }
    const prev = this.scope.get(name);
    if (prev) {
      this.diags.error(nameSpan, `'${name}' is already defined (as ${ROLE_WORD[prev.kind]} on line ${this.line(prev.span)}); each name is defined once`);
      return;
    }
    this.scope.set(name, b);
  }

  /** A size: a positive integer literal or a dim's value; undefined after reporting why not. */
  size(ref: SizeRef, what: string): number | undefined {
    if (ref.literal !== undefined) {
      if (!Number.isInteger(ref.literal) || ref.literal <= 0) { this.diags.error(ref.span, `${what} must be a positive integer, found ${ref.text}`); return undefined; }
      return ref.literal;
    }
    const b = this.scope.get(ref.text);
    if (b?.kind === 'dim') return b.node.attr.value as number;
    if (b?.kind === 'poison') return undefined;
    if (b) { this.diags.error(ref.span, `'${ref.text}' is ${ROLE_WORD[b.kind]}, not a dim: a size must be a dim or a positive integer`); return undefined; }
    const guess = nearest(ref.text, [...this.scope].filter(([, v]) => v.kind === 'dim').map(([k]) => k));
    this.diags.error(ref.span, `unknown dim '${ref.text}'${guess ? `: did you mean ${guess}?` : `: declare it first (dim ${ref.text} = 10)`}`);
    return undefined;
  }

  shapeOf(s: ShapeAst): { shape: Shape; classes?: number; classDim?: string } | undefined {
    if (s.kind === 'class') {
      const k = this.size(s.k, 'the number of classes');
      if (k === undefined) return undefined;
      if (k < 2) { this.diags.error(s.k.span, `class(${s.k.text}) needs at least 2 classes, found ${k}`); return undefined; }
      return { shape: [], classes: k, classDim: s.k.literal === undefined ? s.k.text : undefined };
    }
    const sizes = s.sizes.map((r) => this.size(r, 'a size'));
    if (sizes.some((x) => x === undefined)) return undefined;
    if (sizes.length > 4) { this.diags.error(s.span, `tensors of rank ${sizes.length} are not supported: use scalars, vectors [n], matrices [m, n], images [C, H, W] or kernels [F, C, kh, kw]`); return undefined; }
    return { shape: sizes as number[] };
  }

  /** A number literal or a dim's value (sizes and options such as stride=); undefined for anything else. */
  integerOf(a: Expr): number | undefined {
    if (a.kind === 'num') return a.value;
    const b = a.kind === 'name' ? this.scope.get(a.name) : undefined;
    return b?.kind === 'dim' ? (b.node.attr.value as number) : undefined;
  }
}

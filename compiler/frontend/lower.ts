// Lowering: statements → IR, in source order, with every shape checked here so that errors point at the
// user's text. A failed expression lowers to null and its name is "poisoned", so one mistake gives one
// message instead of a cascade; independent mistakes are all reported.

import type { FnDef, Node, Shape } from '../ir/node.js';
import { showShape } from '../ir/node.js';
import * as B from '../ir/build.js';
import { broadcastShape } from '../ir/ops/common.js';
import type { DiagnosticBag, SourceFile, Span } from '../source/diagnostics.js';
import { nearest } from '../source/diagnostics.js';
import type { Expr, Init, ShapeAst, SizeRef, Statement } from './ast.js';
import { BUILTINS, CONSTANTS, ELEMENTWISE_BUILTINS } from './builtins.js';
import { IMAGE_BUILTINS, lowerImageCall } from './images.js';
import type { InputDecl, Model, ParamDecl, ValueDecl } from './model.js';

/** Names that mathjs parses as literals (NaN, Infinity, true, …) or that printed formulas call (ones, zeros). */
const MATHJS_RESERVED = new Set(['NaN', 'Infinity', 'true', 'false', 'null', 'undefined',
  'flip', 'full_conv2d', 'correlate', 'route_to_max', 'gather_max', 'upsample', 'per_channel']);

type Binding =
  | { kind: 'dim'; node: Node; span: Span }
  | { kind: 'input' | 'param' | 'const'; node: Node; span: Span }
  /** `row`: a vector that is a row (x' or an expression of one), as the lecture's column-vector notation has it. */
  | { kind: 'intermediate' | 'output' | 'loss'; node: Node; span: Span; row?: boolean }
  | { kind: 'fn'; fn: FnDef; span: Span }
  | { kind: 'var'; node: Node; span: Span }
  | { kind: 'poison'; span: Span };

const ROLE_WORD: Record<string, string> = {
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

let nextFnId = 1;
export function newFnId(): number { return nextFnId++; }

export function lower(file: SourceFile, statements: Statement[], diags: DiagnosticBag, opts: LowerOptions = {}): Model | undefined {
  const scope = new Map<string, Binding>();
  const dims = new Map<string, { value: number; span: Span }>();
  const consts = new Map<string, number>();
  const inputs: InputDecl[] = [];
  const params: ParamDecl[] = [];
  const fns = new Map<string, FnDef>();
  const values: ValueDecl[] = [];
  const spans = new Map<Node, Span>();
  let modelName = file.path.replace(/^.*[\\/]/, '').replace(/\.nn$/, '');
  let loss: ValueDecl | undefined;
  let lossSeen = false;

  const text = (e: Expr): string => {
    const s = e.span.file.slice(e.span).replace(/\s+/g, ' '); // a claim has a source of its own
    return s.length <= 24 ? s : 'the expression';
  };
  const line = (s: Span) => file.position(s.start).line;

  const define = (name: string, nameSpan: Span, b: Binding): void => {
    if (BUILTINS.has(name) || CONSTANTS.has(name)) {
      diags.error(nameSpan, `'${name}' is a built-in ${BUILTINS.has(name) ? 'function' : 'constant'}; choose another name`);
      if (!scope.has(name)) scope.set(name, { kind: 'poison', span: nameSpan }); // later uses are not errors of their own
      return;
    }
    if (MATHJS_RESERVED.has(name)) {
      // The printed formulas are mathjs expressions; there these words are literals or the functions gradc prints with.
      diags.error(nameSpan, `'${name}' is reserved in the mathjs syntax gradc prints gradients in; choose another name`);
      if (!scope.has(name)) scope.set(name, { kind: 'poison', span: nameSpan });
      return;
    }
    const prev = scope.get(name);
    if (prev) {
      diags.error(nameSpan, `'${name}' is already defined (as ${ROLE_WORD[prev.kind]} on line ${line(prev.span)}); each name is defined once`);
      return;
    }
    scope.set(name, b);
  };

  const size = (ref: SizeRef, what: string): number | undefined => {
    if (ref.literal !== undefined) {
      if (!Number.isInteger(ref.literal) || ref.literal <= 0) { diags.error(ref.span, `${what} must be a positive integer, found ${ref.text}`); return undefined; }
      return ref.literal;
    }
    const b = scope.get(ref.text);
    if (b?.kind === 'dim') return b.node.attr.value as number;
    if (b?.kind === 'poison') return undefined;
    if (b) { diags.error(ref.span, `'${ref.text}' is ${ROLE_WORD[b.kind]}, not a dim: a size must be a dim or a positive integer`); return undefined; }
    const guess = nearest(ref.text, [...scope].filter(([, v]) => v.kind === 'dim').map(([k]) => k));
    diags.error(ref.span, `unknown dim '${ref.text}'${guess ? `: did you mean ${guess}?` : `: declare it first (dim ${ref.text} = 10)`}`);
    return undefined;
  };

  const shapeOf = (s: ShapeAst): { shape: Shape; classes?: number; classDim?: string } | undefined => {
    if (s.kind === 'class') {
      const k = size(s.k, 'the number of classes');
      if (k === undefined) return undefined;
      if (k < 2) { diags.error(s.k.span, `class(${s.k.text}) needs at least 2 classes, found ${k}`); return undefined; }
      return { shape: [], classes: k, classDim: s.k.literal === undefined ? s.k.text : undefined };
    }
    const sizes = s.sizes.map((r) => size(r, 'a size'));
    if (sizes.some((x) => x === undefined)) return undefined;
    if (sizes.length > 4) { diags.error(s.span, `tensors of rank ${sizes.length} are not supported: use scalars, vectors [n], matrices [m, n], images [C, H, W] or kernels [F, C, kh, kw]`); return undefined; }
    return { shape: sizes as number[] };
  };

  // ---- expressions -------------------------------------------------------------------------------
  interface ExprScope { fnName?: string; fnParams?: ReadonlySet<string> }

  const expr = (e: Expr, es: ExprScope): Node | null => {
    const r = exprInner(e, es);
    if (r && !spans.has(r)) spans.set(r, e.span);
    if (r && r.rank !== 1) rows.delete(e);
    return r;
  };
  // Vectors are columns; `'` makes a row. The IR has one kind of vector, so orientation is a property of
  // the expression (and of the names bound to one), checked here: u * v' is outer(u, v), u' * v is dot.
  const rows = new Set<Expr>();
  const isRow = (e: Expr): boolean => rows.has(e);
  const orient = (e: Expr, row: boolean): void => { if (row) rows.add(e); };

  const exprInner = (e: Expr, es: ExprScope): Node | null => {
    switch (e.kind) {
      case 'num': return B.constant(e.value);
      case 'name': {
        if (e.name.includes('/')) return adjointRef(e);
        const b = scope.get(e.name);
        orient(e, !es.fnParams && b !== undefined && 'row' in b && b.row === true);
        return nameRef(e.name, e.span, es);
      }
      case 'unary': {
        const a = expr(e.arg, es);
        orient(e, isRow(e.arg));
        return a && (e.op === '-' ? B.neg(a) : a);
      }
      case 'transpose': {
        const a = expr(e.arg, es);
        if (a && a.rank > 2) { diags.error(e.span, `${text(e.arg)} is ${showShape(a.shape)}: only vectors and matrices have a transpose`); return null; }
        orient(e, a?.rank === 1 && !isRow(e.arg)); // a scalar is unchanged; a vector turns
        return a && B.transpose(a);
      }
      case 'call': {
        if (e.name === 'transpose' && e.args.length === 1 && !scope.has('transpose')) {
          const t: Expr = { kind: 'transpose', arg: e.args[0], span: e.span };
          const r = expr(t, es);
          orient(e, isRow(t));
          return r;
        }
        return callExpr(e, es);
      }
      case 'index': return indexExpr(e, es);
      case 'list':
        diags.error(e.span, 'a list [a, b, …] is only the shape argument of reshape(X, [n, …]); matrices are declared as params or inputs');
        return null;
      case 'binary': {
        const l = expr(e.left, es), r = expr(e.right, es);
        if (!l || !r) return null;
        return binary(e, l, r);
      }
    }
  };

  // In a claim, `dL/dz2` names the adjoint the backward program prints: a placeholder that verify replaces
  // by the derived ∂L/∂z2, so one step of backprop can be checked given the previous ones.
  let claimMode = false;
  const adjointRef = (e: Extract<Expr, { kind: 'name' }>): Node | null => {
    const [num, den] = e.name.split('/');
    const of = den.slice(1);
    if (!claimMode || !loss || num !== `d${loss.name}`) {
      diags.error(e.span, `unknown name '${e.name}'${loss ? `: the adjoints of this model are written d${loss.name}/dNAME` : ''}`);
      return null;
    }
    const b = scope.get(of);
    if (!b || !['param', 'input', 'intermediate', 'output'].includes(b.kind) || !('node' in b)) {
      diags.error(e.span, `${e.name}: '${of}' is not a parameter, input or named value of the model`);
      return null;
    }
    if (b.kind === 'input' && b.node.attr.classes !== undefined) { diags.error(e.span, `${of} is a class label: the loss has no gradient with respect to it`); return null; }
    return B.variable(e.name, b.node.shape, of);
  };

  const indexExpr = (e: Extract<Expr, { kind: 'index' }>, es: ExprScope): Node | null => {
    const v = expr(e.arg, es);
    const i = expr(e.index, es);
    if (!v || !i) return null;
    if (v.rank !== 1) { diags.error(e.arg.span, `only a vector can be indexed (v[y]), but ${text(e.arg)} is ${v.isScalar ? 'a scalar' : showShape(v.shape)}`); return null; }
    if (i.op === 'input' && i.attr.classes !== undefined) {
      const k = i.attr.classes as number;
      if (k !== v.shape[0]) { diags.error(e.span, `${text(e.index)} is class(${k}) but ${text(e.arg)} has ${v.shape[0]} elements: they must agree`); return null; }
      return B.index(v, i);
    }
    const c = B.constValue(i);
    if (c !== undefined && i.attr.name === undefined) {
      if (!Number.isInteger(c) || c < 0 || c >= v.shape[0]) { diags.error(e.index.span, `index ${c} is outside ${text(e.arg)}, whose indices are 0..${v.shape[0] - 1} (0-based)`); return null; }
      return B.index(v, i);
    }
    diags.error(e.index.span, `an index must be a class label (an input declared as class(K)) or an integer literal, but ${text(e.index)} is ${i.isScalar ? 'a computed value' : showShape(i.shape)}`);
    return null;
  };

  let laterDefinition: (name: string) => Span | undefined = () => undefined;

  const nameRef = (name: string, sp: Span, es: ExprScope): Node | null => {
    if (es.fnParams) {
      if (es.fnParams.has(name)) return B.variable(name);
      if (name === es.fnName) { diags.error(sp, `fn ${name} refers to itself: recursion is not allowed`); return null; }
    }
    if (CONSTANTS.has(name) && !scope.has(name)) return B.constant(CONSTANTS.get(name)!);
    const b = scope.get(name);
    if (!b) {
      if (BUILTINS.has(name)) { diags.error(sp, `'${name}' is a built-in function: call it as ${BUILTINS.get(name)!.signature}`); return null; }
      const later = laterDefinition(name);
      if (later && !es.fnParams) { diags.error(sp, `'${name}' is used before it is defined (on line ${line(later)}): statements are read in order; move its definition up`); return null; }
      const visible = [...scope].filter(([, v]) => v.kind !== 'fn' && (!es.fnParams || v.kind === 'dim' || v.kind === 'const')).map(([k]) => k);
      const guess = nearest(name, [...visible, ...(es.fnParams ?? [])]);
      diags.error(sp, `unknown name '${name}'${guess ? `: did you mean ${guess}?` : ': a name must be defined before it is used'}`);
      return null;
    }
    switch (b.kind) {
      case 'poison': return null;
      case 'fn': diags.error(sp, `'${name}' is a function: call it as ${name}(…)`); return null;
      case 'dim': case 'const': return b.node;
      default:
        if (es.fnParams) {
          diags.error(sp, `fn ${es.fnName} cannot use ${ROLE_WORD[b.kind]} '${name}': a fn sees only its arguments (${[...es.fnParams].join(', ')}), dims and consts; pass ${name} as an argument`);
          return null;
        }
        return b.node;
    }
  };

  const callExpr = (e: Extract<Expr, { kind: 'call' }>, es: ExprScope): Node | null => {
    if (es.fnParams && e.name === es.fnName) { diags.error(e.nameSpan, `fn ${e.name} calls itself: recursion is not allowed`); return null; }
    const user = scope.get(e.name);
    const builtin = BUILTINS.get(e.name);
    if (!builtin && user?.kind !== 'fn') {
      if (user?.kind === 'poison') { e.args.forEach((a) => expr(a, es)); return null; }
      if (user) { diags.error(e.nameSpan, `'${e.name}' is ${ROLE_WORD[user.kind]}, not a function: write ${e.name} * (…) for a product`); return null; }
      const guess = nearest(e.name, [...BUILTINS.keys(), ...[...scope].filter(([, v]) => v.kind === 'fn').map(([k]) => k)]);
      diags.error(e.nameSpan, `unknown function '${e.name}'${guess ? `: did you mean ${guess}?` : ': the built-in functions are listed in docs/language.md'}`);
      e.args.forEach((a) => expr(a, es));
      return null;
    }
    if (e.named.length && !(builtin && e.name in IMAGE_BUILTINS)) {
      diags.error(e.named[0].nameSpan, `${e.name} takes no named arguments (${e.named[0].name}=…): ${builtin ? builtin.signature : e.name}`);
      return null;
    }
    const arity = builtin ? builtin.arity : (user as { fn: FnDef }).fn.params.length;
    const signature = builtin ? builtin.signature : `${e.name}(${(user as { fn: FnDef }).fn.params.join(', ')})`;
    const arities = typeof arity === 'number' ? [arity] : arity;
    if (!arities.includes(e.args.length)) {
      const count = arities.join(' or ');
      diags.error(e.span, `${e.name} takes ${count} argument${count === '1' ? '' : 's'}, found ${e.args.length}: ${signature}`);
      e.args.forEach((a) => expr(a, es));
      return null;
    }
    if (e.name === 'onehot') return onehotExpr(e, es);
    if (e.name === 'sum' && e.args.length === 2 && builtin) return sumAlong(e, es);
    if (e.name === 'expand' && builtin) return expandExpr(e, es);
    if ((e.name === 'ones' || e.name === 'zeros') && builtin) return constantTensor(e);
    if (e.name in IMAGE_BUILTINS) {
      return lowerImageCall(e, {
        expr: (a) => expr(a, es),
        integer: integerOf,
        text, error: (span, message) => diags.error(span, message),
      });
    }
    const args = e.args.map((a) => expr(a, es));
    if (args.some((a) => !a)) return null;
    const nodes = args as Node[];
    // Elementwise functions keep a row a row (sigmoid(x') is a row); mixing a row with a column is an error.
    if (builtin ? ELEMENTWISE_BUILTINS.has(e.name) : true) {
      const vec = e.args.filter((a, k) => nodes[k].rank === 1);
      if (vec.some(isRow) && !vec.every(isRow)) { diags.error(e.span, `${e.name} mixes a row vector with a column vector: transpose one of them (')`); return null; }
      orient(e, vec.length > 0 && vec.every(isRow));
    }
    if (e.name === 'cross_entropy') return crossEntropyExpr(e, nodes);
    if (!builtin) {
      const fn = (user as { fn: FnDef }).fn;
      let shape: Shape = [];
      for (let i = 0; i < nodes.length; i++) {
        const s = broadcastShape(shape, nodes[i].shape);
        if (!s) { diags.error(e.args[i].span, `the arguments of ${e.name} must have matching shapes (or be scalars): ${text(e.args[i])} is ${showShape(nodes[i].shape)}, the others give ${showShape(shape)}`); return null; }
        shape = s;
      }
      return B.call(fn, nodes);
    }
    const r = builtin.build({ nodes, texts: e.args.map(text) });
    if ('error' in r) { diags.error(r.arg === undefined ? e.span : e.args[r.arg].span, r.error); return null; }
    return r;
  };

  const classLabel = (node: Node, argExpr: Expr, fnName: string): number | undefined => {
    if (node.op === 'input' && node.attr.classes !== undefined) return node.attr.classes as number;
    diags.error(argExpr.span, `${fnName} needs a class label (an input declared as class(K)), but ${text(argExpr)} is ${node.op === 'input' ? `an input of shape ${showShape(node.shape)}` : `an expression of shape ${showShape(node.shape)}`}`);
    return undefined;
  };

  /** A number literal or a dim's value (sizes and options such as stride=); undefined for anything else. */
  const integerOf = (a: Expr): number | undefined => {
    if (a.kind === 'num') return a.value;
    const b = a.kind === 'name' ? scope.get(a.name) : undefined;
    return b?.kind === 'dim' ? (b.node.attr.value as number) : undefined;
  };

  /** ones(m, n, …), zeros(…): sizes are integers or dims. */
  const constantTensor = (e: Extract<Expr, { kind: 'call' }>): Node | null => {
    const sizes = e.args.map((a) => {
      const v = integerOf(a);
      if (v === undefined || !Number.isInteger(v) || v < 1) { diags.error(a.span, `the sizes of ${e.name}(…) are positive integers or dims, found ${text(a)}`); return undefined; }
      return v;
    });
    if (sizes.some((v) => v === undefined)) return null;
    return B.constant(e.name === 'ones' ? 1 : 0, sizes as number[]);
  };

  /**
   * sum(A, k) and sum(A, [k1, k2, …]): mathjs's sum along one-based axes, for every axis of every rank. A
   * vector's only axis (or every axis of a tensor) gives the scalar sum; otherwise the axes are summed from
   * the last, so that the remaining ones keep their numbers.
   */
  const sumAlong = (e: Extract<Expr, { kind: 'call' }>, es: ExprScope): Node | null => {
    const a = expr(e.args[0], es);
    if (!a) return null;
    const axesArg = e.args[1];
    const items = axesArg.kind === 'list' ? axesArg.items : [axesArg];
    if (a.isScalar) { diags.error(e.args[0].span, `sum along an axis needs a tensor, but ${text(e.args[0])} is a scalar: write sum(${text(e.args[0])}) or the value itself`); return null; }
    const axes: number[] = [];
    for (const item of items) {
      const k = integerOf(item);
      if (k === undefined || !Number.isInteger(k) || k < 1 || k > a.rank) {
        diags.error(item.span, `the axes of sum(${text(e.args[0])}, …) are 1 to ${a.rank} (one-based, as in mathjs): ${text(e.args[0])} is ${showShape(a.shape)}, found ${text(item)}`);
        return null;
      }
      if (axes.includes(k - 1)) { diags.error(item.span, `axis ${k} is listed twice in sum(${text(e.args[0])}, …)`); return null; }
      axes.push(k - 1);
    }
    if (axes.length === a.rank) return B.sum(a);
    if (a.rank === 3 && axes.length === 2 && axes.includes(1) && axes.includes(2)) return B.sumPositions(a);
    return [...axes].sort((x, y) => y - x).reduce((n, k) => B.sumAxis(n, k), a);
  };

  /** expand(G, k, n): G repeated n times along a new axis k (one-based), the adjoint of sum(A, k). */
  const expandExpr = (e: Extract<Expr, { kind: 'call' }>, es: ExprScope): Node | null => {
    const g = expr(e.args[0], es);
    if (!g) return null;
    const k = integerOf(e.args[1]), n = integerOf(e.args[2]);
    if (k === undefined || !Number.isInteger(k) || k < 1 || k > g.rank + 1) { diags.error(e.args[1].span, `the new axis of expand(${text(e.args[0])}, k, n) is 1 to ${g.rank + 1}: ${text(e.args[0])} is ${showShape(g.shape)}, found ${text(e.args[1])}`); return null; }
    if (n === undefined || !Number.isInteger(n) || n < 1) { diags.error(e.args[2].span, `the size of expand(…, k, n) is a positive integer or a dim, found ${text(e.args[2])}`); return null; }
    if (g.rank + 1 > 4) { diags.error(e.span, `expand makes a tensor of rank ${g.rank + 1}; gradc's tensors have rank 4 at most`); return null; }
    return B.spreadAxis(g, k - 1, n);
  };

  const onehotExpr = (e: Extract<Expr, { kind: 'call' }>, es: ExprScope): Node | null => {
    const y = expr(e.args[0], es);
    const kArg = e.args[1];
    let k: number | undefined, kName: string | undefined;
    if (kArg.kind === 'num') {
      if (Number.isInteger(kArg.value) && kArg.value > 0) k = kArg.value;
      else diags.error(kArg.span, `the size of onehot must be a positive integer, found ${file.slice(kArg.span)}`);
    } else if (kArg.kind === 'name') {
      const b = scope.get(kArg.name);
      if (b?.kind === 'dim') { k = b.node.attr.value as number; kName = kArg.name; }
      else if (b?.kind !== 'poison') diags.error(kArg.span, `the size of onehot must be a dim or an integer, but '${kArg.name}' is ${b ? ROLE_WORD[b.kind] : 'not defined'}`);
    } else diags.error(kArg.span, 'the size of onehot must be a dim or an integer literal');
    if (!y || k === undefined) return null;
    const classes = classLabel(y, e.args[0], 'onehot');
    if (classes === undefined) return null;
    if (classes !== k) { diags.error(kArg.span, `${text(e.args[0])} is class(${classes}) but onehot has size ${k}: they must agree`); return null; }
    return B.onehot(y, k, kName ?? (y.attr.classDim as string | undefined));
  };

  const crossEntropyExpr = (e: Extract<Expr, { kind: 'call' }>, [z, y]: Node[]): Node | null => {
    if (z.rank !== 1) { diags.error(e.args[0].span, `cross_entropy needs a vector of logits, but ${text(e.args[0])} is ${showShape(z.shape)}`); return null; }
    const classes = classLabel(y, e.args[1], 'cross_entropy');
    if (classes === undefined) return null;
    if (classes !== z.shape[0]) {
      diags.error(e.span, `${text(e.args[0])} has ${z.shape[0]} logits but ${text(e.args[1])} is class(${classes}): they must agree`);
      return null;
    }
    return B.crossEntropy(z, y);
  };

  const binary = (e: Extract<Expr, { kind: 'binary' }>, l: Node, r: Node): Node | null => {
    const lr = isRow(e.left), rr = isRow(e.right);
    const L = `${text(e.left)} is ${lr ? `a row ${showShape(l.shape)}` : showShape(l.shape)}`, R = `${text(e.right)} is ${rr ? `a row ${showShape(r.shape)}` : showShape(r.shape)}`;
    if (e.op !== '*') {
      if (l.rank === 1 && r.rank === 1 && lr !== rr) {
        diags.error(e.opSpan, `cannot combine a row vector with a column vector (${L} and ${R}): transpose one of them (')`);
        return null;
      }
      orient(e, lr || rr);
    }
    const elementwise = (build: (a: Node, b: Node) => Node, verb: string): Node | null => {
      if (broadcastShape(l.shape, r.shape)) return build(l, r);
      let hint = '';
      if (l.rank === 2 && r.rank === 2 && l.shape[0] === r.shape[1] && l.shape[1] === r.shape[0]) hint = `: did you mean ${text(e.left)} ${e.op} ${text(e.right)}'?`;
      else if (l.rank === 2 && r.rank === 1 && r.shape[0] === l.shape[0]) hint = `: a vector broadcasts along the rows of a matrix of its last size; did you mean ${text(e.left)}' ${e.op} ${text(e.right)}?`;
      else if (r.rank === 2 && l.rank === 1 && l.shape[0] === r.shape[0]) hint = `: a vector broadcasts along the rows of a matrix of its last size; did you mean ${text(e.left)} ${e.op} ${text(e.right)}'?`;
      else hint = ': shapes must be equal, or one a scalar, or a matrix and a vector of its last size';
      diags.error(e.opSpan, `cannot ${verb}: ${L} and ${R}${hint}`, declared(e));
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
        diags.error(e.opSpan, `a / b divides by a scalar, but ${R}: write ${text(e.left)} ./ ${text(e.right)} for elementwise division`, declared(e));
        return null;
      case '^':
        if (l.isScalar && r.isScalar) return B.pow(l, r);
        diags.error(e.opSpan, `^ is the power of a scalar, but ${l.isScalar ? R : L}: write ${text(e.left)} .^ ${text(e.right)} for an elementwise power`, declared(e));
        return null;
      case '*': return product(e, l, r, L, R);
    }
  };

  /** Where a param or input of a refused operation was declared: its shape, not the operation, may be the mistake. */
  const declared = (e: Extract<Expr, { kind: 'binary' }>): string[] | undefined => {
    const notes = [e.left, e.right].flatMap((side) => {
      const s = side.kind === 'transpose' ? side.arg : side;
      const b = s.kind === 'name' ? scope.get(s.name) : undefined;
      if (s.kind !== 'name' || !b || (b.kind !== 'param' && b.kind !== 'input')) return [];
      const ln = line(b.span);
      return [`${s.name} is declared on line ${ln}: ${file.lineText(ln).replace(/#.*$/, '').trim()}`];
    });
    return notes.length ? [...new Set(notes)] : undefined;
  };

  const product = (e: Extract<Expr, { kind: 'binary' }>, l: Node, r: Node, L: string, R: string): Node | null => {
    const lr = isRow(e.left), rr = isRow(e.right);
    if (l.isScalar || r.isScalar) { orient(e, lr || rr); return B.mul(l, r); }
    if (l.rank > 2 || r.rank > 2) {
      diags.error(e.opSpan, `cannot multiply: ${L} and ${R}: * multiplies matrices and vectors; use .* for an elementwise product, conv2d for a convolution, or flatten(…) first`, declared(e));
      return null;
    }
    if (l.rank === 1 && r.rank === 1) {
      if (!lr && rr) return B.outer(l, r); // u * v': the outer product u vᵀ
      if (lr && rr) {
        diags.error(e.opSpan, `cannot multiply two row vectors (${L} and ${R}): a row times a column (u' * v) is the dot product, a column times a row (u * v') the outer product`, declared(e));
        return null;
      }
      if (l.shape[0] === r.shape[0]) return B.dot(l, r); // u' * v, and u * v of two columns as before
      diags.error(e.opSpan, `the product of two vectors is their dot product, which needs one length: ${L} and ${R}; for the outer product write ${text(e.left)} * ${text(e.right)}'`, declared(e));
      return null;
    }
    if (r.rank === 1 && rr) {
      diags.error(e.opSpan, `cannot multiply a matrix by a row vector (${L} and ${R}): did you mean ${text(e.left)} * ${text(e.right).replace(/'$/, '')}?`, declared(e));
      return null;
    }
    if (l.rank === 1 && !lr) {
      // One rule everywhere: vectors are columns, and only a row multiplies a matrix from the left (as in MATLAB).
      const fix = l.shape[0] === r.shape[0] ? `did you mean ${text(e.left)}' * ${text(e.right)}? (${text(e.left)}' is the row)` : r.shape[1] === l.shape[0] ? `did you mean ${text(e.right)} * ${text(e.left)}?` : `a row ${text(e.left)}' * ${text(e.right)} needs ${text(e.right)} to have ${l.shape[0]} rows`;
      diags.error(e.opSpan, `cannot multiply a column vector by a matrix (${L} and ${R}): vectors are columns; ${fix}`, declared(e));
      return null;
    }
    const inner = (a: Shape, b: Shape) => (a.length === 2 ? a[1] : a[0]) === b[0];
    if (inner(l.shape, r.shape)) { orient(e, lr); return B.matmul(l, r); } // x' * A is a row
    const lt = l.rank === 2 ? [l.shape[1], l.shape[0]] : l.shape;
    const rt = r.rank === 2 ? [r.shape[1], r.shape[0]] : r.shape;
    const [a, b] = [text(e.left), text(e.right)];
    let hint: string;
    if (l.rank === 2 && inner(lt, r.shape)) hint = `did you mean ${a}' * ${b}?`;
    else if (r.rank === 2 && inner(l.shape, rt)) hint = `did you mean ${a} * ${b}'?`;
    else if (inner(r.shape, l.shape)) hint = `did you mean ${b} * ${a}? (the arguments are swapped)`;
    else hint = `the inner sizes ${l.rank === 2 ? l.shape[1] : l.shape[0]} and ${r.shape[0]} must agree`;
    diags.error(e.opSpan, `cannot multiply: ${L} and ${R}: ${hint}`, declared(e));
    return null;
  };

  // ---- statements --------------------------------------------------------------------------------
  // Every name the file defines anywhere, to tell "defined later" from "not defined".
  const definedAt = new Map<string, Span>();
  for (const st of statements) {
    const names = st.kind === 'dim' ? st.entries.map((e) => e.name) : st.kind === 'broken' ? st.names : st.kind === 'model' ? [] : [st.name];
    for (const n of names) if (!definedAt.has(n.name)) definedAt.set(n.name, n.span);
  }
  laterDefinition = (name) => definedAt.get(name);

  statements.forEach((st, index) => {
    switch (st.kind) {
      case 'broken':
        if (st.role === 'loss') lossSeen = true;
        for (const n of st.names) if (!scope.has(n.name)) scope.set(n.name, { kind: 'poison', span: n.span });
        return;
      case 'model':
        if (index !== 0) diags.error(st.span, '`model NAME` must be the first statement');
        modelName = st.name.name;
        return;
      case 'dim':
        for (const d of st.entries) {
          const override = opts.dimOverrides?.get(d.name.name);
          const value = override ?? d.value;
          if (override === undefined && (!Number.isInteger(d.value) || d.value <= 0)) {
            diags.error(d.valueSpan, `dim ${d.name.name} must be a positive integer, found ${file.slice(d.valueSpan)}`);
            define(d.name.name, d.name.span, { kind: 'poison', span: d.name.span });
            continue;
          }
          dims.set(d.name.name, { value, span: d.name.span });
          define(d.name.name, d.name.span, { kind: 'dim', node: B.dim(d.name.name, value), span: d.name.span });
        }
        return;
      case 'const': {
        const override = opts.constOverrides?.get(st.name.name);
        const value = override ?? st.value;
        if (!Number.isFinite(value)) { diags.error(st.valueSpan, `const ${st.name.name} must be a finite number`); define(st.name.name, st.name.span, { kind: 'poison', span: st.name.span }); return; }
        consts.set(st.name.name, value);
        define(st.name.name, st.name.span, { kind: 'const', node: B.namedConstant(st.name.name, value), span: st.name.span });
        return;
      }
      case 'input': {
        const s = shapeOf(st.shape);
        if (!s) { define(st.name.name, st.name.span, { kind: 'poison', span: st.name.span }); return; }
        const node = B.input(st.name.name, s.shape, s.classes, s.classDim);
        if (!scope.has(st.name.name)) inputs.push({ name: st.name.name, node, shape: s.shape, classes: s.classes, span: st.name.span });
        define(st.name.name, st.name.span, { kind: 'input', node, span: st.name.span });
        return;
      }
      case 'param': {
        const s = shapeOf(st.shape);
        if (s?.classes !== undefined) { diags.error(st.shape.span, 'a parameter cannot be a class label: give it a shape like [n] or [n, d]'); }
        if (!s || s.classes !== undefined) { define(st.name.name, st.name.span, { kind: 'poison', span: st.name.span }); return; }
        const node = B.param(st.name.name, s.shape);
        const init: Init = st.init ?? (s.shape.length >= 2 ? { kind: 'xavier' } : { kind: 'const', value: 0 });
        if (!scope.has(st.name.name)) params.push({ name: st.name.name, node, shape: s.shape, init, span: st.name.span });
        define(st.name.name, st.name.span, { kind: 'param', node, span: st.name.span });
        return;
      }
      case 'fn': {
        const names = new Set<string>();
        for (const p of st.params) {
          if (names.has(p.name)) diags.error(p.span, `fn ${st.name.name} has two arguments named '${p.name}'`);
          names.add(p.name);
        }
        const body = expr(st.body, { fnName: st.name.name, fnParams: names });
        if (body && !body.isScalar) {
          diags.error(st.body.span, `the body of fn ${st.name.name} has shape ${showShape(body.shape)}; a fn is a scalar function of scalars`);
        }
        if (!body || !body.isScalar) { define(st.name.name, st.name.span, { kind: 'poison', span: st.name.span }); return; }
        const fn: FnDef = Object.freeze({ id: newFnId(), name: st.name.name, params: st.params.map((p) => p.name), body });
        if (!scope.has(st.name.name)) fns.set(st.name.name, fn);
        define(st.name.name, st.name.span, { kind: 'fn', fn, span: st.name.span });
        return;
      }
      case 'let': {
        const node = expr(st.expr, {});
        if (st.role === 'loss') {
          if (lossSeen) diags.error(st.name.span, `a second loss '${st.name.name}': a model has exactly one loss (use output for other values)`);
          lossSeen = true;
          if (node && !node.isScalar) {
            diags.error(st.expr.span, `the loss ${st.name.name} has shape ${showShape(node.shape)}, but a loss must be a scalar per example: did you mean sum(…) or mean(…)?`);
            define(st.name.name, st.name.span, { kind: 'poison', span: st.name.span });
            return;
          }
        }
        if (!node) { define(st.name.name, st.name.span, { kind: 'poison', span: st.name.span }); return; }
        const decl: ValueDecl = { name: st.name.name, node, role: st.role, span: st.name.span };
        if (!scope.has(st.name.name)) {
          values.push(decl);
          if (st.role === 'loss' && !loss) loss = decl;
        }
        define(st.name.name, st.name.span, { kind: st.role, node, span: st.name.span, row: isRow(st.expr) });
        return;
      }
    }
  });

  claimMode = true;
  if (opts.extraExpressions) opts.onExtra?.(opts.extraExpressions.map((e) => expr(e, {})));

  if (!lossSeen) {
    const trimmed = file.text.trimEnd();
    const at = Math.max(0, trimmed.lastIndexOf('\n') + 1);
    diags.error({ file, start: at, end: trimmed.length }, 'the model has no loss: add one line `loss L = …` with a scalar loss per example');
  }
  if (diags.hasErrors || !loss) return undefined;
  return {
    name: modelName, file, dims, consts, inputs, params, fns, values, spans,
    outputs: values.filter((v) => v.role === 'output'), loss,
  };
}

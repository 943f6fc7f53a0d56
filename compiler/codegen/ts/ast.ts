// A small vocabulary over ts.factory for the emitter: identifiers are validated before they become AST
// nodes, strings only ever become string-literal nodes, and comments are single-line and sanitized, so no
// text from a model file or a file name can change the meaning of the emitted program.

import { ts } from 'ts-morph';
import type { ScalarEmitter } from '../../ir/op.js';

const f = ts.factory;
export type Expr = ts.Expression;
export type Stmt = ts.Statement;

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
export function ident(name: string): ts.Identifier {
  if (!IDENT.test(name)) throw new Error(`internal error: '${name}' is not a valid identifier`);
  return f.createIdentifier(name);
}
export const str = (s: string): ts.StringLiteral => f.createStringLiteral(s);
export function num(v: number): Expr {
  if (Number.isNaN(v)) return ident('NaN');
  if (!Number.isFinite(v)) return v > 0 ? ident('Infinity') : f.createPrefixUnaryExpression(ts.SyntaxKind.MinusToken, ident('Infinity'));
  const lit = f.createNumericLiteral(Math.abs(v));
  return v < 0 || Object.is(v, -0) ? f.createParenthesizedExpression(f.createPrefixUnaryExpression(ts.SyntaxKind.MinusToken, lit)) : lit;
}
export const paren = (e: Expr): Expr => f.createParenthesizedExpression(e);
const BIN: Record<string, ts.BinaryOperator> = {
  '+': ts.SyntaxKind.PlusToken, '-': ts.SyntaxKind.MinusToken, '*': ts.SyntaxKind.AsteriskToken, '/': ts.SyntaxKind.SlashToken,
  '%': ts.SyntaxKind.PercentToken, '<': ts.SyntaxKind.LessThanToken, '>': ts.SyntaxKind.GreaterThanToken, '===': ts.SyntaxKind.EqualsEqualsEqualsToken,
  '**': ts.SyntaxKind.AsteriskAsteriskToken, '+=': ts.SyntaxKind.PlusEqualsToken, '=': ts.SyntaxKind.EqualsToken,
  '>=': ts.SyntaxKind.GreaterThanEqualsToken, '&&': ts.SyntaxKind.AmpersandAmpersandToken,
};
export const bin = (op: keyof typeof BIN, a: Expr, b: Expr): Expr => f.createBinaryExpression(a, BIN[op], b);
export const call = (fn: Expr | string, args: Expr[]): Expr => f.createCallExpression(typeof fn === 'string' ? dotted(fn) : fn, undefined, args);
export const prop = (obj: Expr, name: string): Expr => f.createPropertyAccessExpression(obj, ident(name));
export const index = (arr: Expr, i: Expr): Expr => f.createElementAccessExpression(arr, i);
export const cond = (c: Expr, a: Expr, b: Expr): Expr => paren(f.createConditionalExpression(c, f.createToken(ts.SyntaxKind.QuestionToken), a, f.createToken(ts.SyntaxKind.ColonToken), b));
export const arr = (items: Expr[]): Expr => f.createArrayLiteralExpression(items, false);
export const obj = (entries: [string, Expr][], multiLine = false): Expr =>
  f.createObjectLiteralExpression(entries.map(([k, v]) => f.createPropertyAssignment(IDENT.test(k) ? ident(k) : str(k), v)), multiLine);
/** A JSON-like value as an AST literal: strings only ever become string-literal nodes. */
export function literal(v: unknown, multiLine = false): Expr {
  if (v === null || v === undefined) return f.createNull();
  if (typeof v === 'number') return num(v);
  if (typeof v === 'boolean') return v ? f.createTrue() : f.createFalse();
  if (typeof v === 'string') return str(v);
  if (Array.isArray(v)) {
    const items = v.map((x) => literal(x));
    // A list of records reads better one per line; a shape stays on one line.
    return f.createArrayLiteralExpression(items, multiLine && v.some((x) => typeof x === 'object' && x !== null));
  }
  return obj(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, literal(x, multiLine && typeof x === 'object' && x !== null && Array.isArray(x))]), multiLine);
}

function dotted(path: string): Expr {
  const [first, ...rest] = path.split('.');
  return rest.reduce<Expr>((e, p) => prop(e, p), ident(first));
}

export const exprStmt = (e: Expr): Stmt => f.createExpressionStatement(e);
export const assign = (target: Expr, value: Expr, op: '=' | '+=' = '='): Stmt => exprStmt(bin(op, target, value));
export function constDecl(name: string, init: Expr, type?: ts.TypeNode): Stmt {
  return f.createVariableStatement(undefined, f.createVariableDeclarationList([f.createVariableDeclaration(ident(name), undefined, type, init)], ts.NodeFlags.Const));
}
export function letDecl(name: string, init: Expr): Stmt {
  return f.createVariableStatement(undefined, f.createVariableDeclarationList([f.createVariableDeclaration(ident(name), undefined, undefined, init)], ts.NodeFlags.Let));
}
export const block = (stmts: Stmt[]): ts.Block => f.createBlock(stmts, true);
export const ifThen = (c: Expr, then: Stmt[], otherwise?: Stmt[]): Stmt => f.createIfStatement(c, block(then), otherwise && block(otherwise));
export const ret = (e?: Expr): Stmt => f.createReturnStatement(e);
/** for (let v = from; v < to; v++) { body } */
export function forRange(v: string, from: Expr, to: Expr, body: Stmt[]): Stmt {
  return f.createForStatement(
    f.createVariableDeclarationList([f.createVariableDeclaration(ident(v), undefined, undefined, from)], ts.NodeFlags.Let),
    bin('<', ident(v), to),
    f.createPostfixUnaryExpression(ident(v), ts.SyntaxKind.PlusPlusToken),
    block(body));
}
export const typeRef = (name: string, args?: ts.TypeNode[]): ts.TypeNode => f.createTypeReferenceNode(ident(name), args);

/** Attach `// text` above a statement; newlines and control characters are removed first. */
export function comment<T extends ts.Node>(node: T, text: string): T {
  for (const line of text.split('\n')) {
    ts.addSyntheticLeadingComment(node, ts.SyntaxKind.SingleLineCommentTrivia, ` ${line.replace(/[\u0000-\u001f\u2028\u2029]/g, ' ')}`, true);
  }
  return node;
}

/** Scalar expressions as TypeScript AST, for the op table's `emit` rules. */
export const tsScalar: ScalarEmitter<Expr> = {
  num,
  // ts.factory parenthesizes operands by precedence itself, so the output has only the parentheses it needs.
  neg: (x) => f.createPrefixUnaryExpression(ts.SyntaxKind.MinusToken, x),
  bin: (op, a, b) => {
    // a + (−c) is written a − c.
    if (op === '+' && ts.isPrefixUnaryExpression(b) && b.operator === ts.SyntaxKind.MinusToken) return bin('-', a, b.operand);
    return bin(op, a, b);
  },
  pow: (a, b) => call('Math.pow', [a, b]),
  math: (fn, args) => call(`Math.${fn}`, args),
  helper: (fn, args) => call(fn, args),
  ifPositive: (x, a, b) => cond(bin('>', x, num(0)), a, b),
};

/**
 * The statements as source text: TypeScript, or with `types: false` the same program as JavaScript (the
 * annotations the emitter writes — parameters, return types, declarations, `as const` — left out), for
 * running in this process without a transpiler.
 */
export function printStatements(stmts: Stmt[], opts: { types?: boolean } = {}): string {
  const sf = ts.createSourceFile('out.ts', '', ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const printer = ts.createPrinter({ newLine: ts.NewLineKind.LineFeed });
  const nodes = opts.types === false ? ts.transform(stmts, [withoutTypes]).transformed : stmts;
  return nodes.map((s) => printer.printNode(ts.EmitHint.Unspecified, s, sf)).join('\n');
}

/** Every type annotation the emitter can write, removed; anything else TypeScript-only is an emitter bug. */
const withoutTypes: ts.TransformerFactory<ts.Node> = (context) => {
  const visit = (node: ts.Node): ts.Node => {
    if (ts.isParameter(node)) return f.updateParameterDeclaration(node, node.modifiers, node.dotDotDotToken, node.name, undefined, undefined, ts.visitNode(node.initializer, visit) as Expr | undefined);
    if (ts.isVariableDeclaration(node)) return f.updateVariableDeclaration(node, node.name, undefined, undefined, ts.visitNode(node.initializer, visit) as Expr | undefined);
    if (ts.isMethodDeclaration(node)) return f.updateMethodDeclaration(node, node.modifiers, node.asteriskToken, node.name, undefined, undefined, ts.visitNodes(node.parameters, visit) as ts.NodeArray<ts.ParameterDeclaration>, undefined, ts.visitNode(node.body, visit) as ts.Block | undefined);
    if (ts.isAsExpression(node)) return ts.visitNode(node.expression, visit)!;
    if (ts.isTypeNode(node) || ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node) || ts.isNonNullExpression(node) || ts.isFunctionLike(node) && !ts.isMethodDeclaration(node) && node.type) {
      throw new Error(`internal error: the emitter wrote TypeScript that printStatements cannot strip (${ts.SyntaxKind[node.kind]})`);
    }
    return ts.visitEachChild(node, visit, context);
  };
  return (node) => ts.visitNode(node, visit)!;
};

export { f as factory, ts };

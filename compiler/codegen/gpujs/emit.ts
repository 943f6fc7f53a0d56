// The gpu.js emitter: follows the same plan as the TypeScript emitter, but each step becomes a gpu.js kernel
// — a function of the buffers it reads, computing one output element per thread (this.thread.x). Kernel
// sources are built as ASTs and printed; the runtime's gpu host (runtime/gpu.ts) runs them in order.

import type { Node } from '../../ir/node.js';
import { opOf } from '../../ir/node.js';
import { imageElement } from './image.js';
import type { GpuProgram, GpuStep } from '../../../runtime/gpu.js';
import type { Plan, Step, Term } from '../plan.js';
import { NameTable } from '../names.js';
import { scalarExpr, within } from '../scalar.js';
import * as A from '../ts/ast.js';
import type { Expr, Stmt } from '../ts/ast.js';
import { ts } from '../ts/ast.js';
import { stepNames, valueNames } from '../../autodiff/names.js';
import { specObject } from '../spec.js';
import { printExpr } from '../../ir/print.js';

const f = ts.factory;

/**
 * Stable sigmoid and softplus, and a power that GLSL can compute: its pow(x, y) is undefined for x < 0
 * (SwiftShader returns |x|^y, so w .^ 3 lost its sign in WebGL), and squares and cubes are exact products.
 */
export const GPU_HELPERS = [
  'function sigmoid(t) { if (t >= 0) { return 1 / (1 + Math.exp(-t)); } const e = Math.exp(t); return e / (1 + e); }',
  'function softplus(t) { if (t > 0) { return t + Math.log(1 + Math.exp(-t)); } return Math.log(1 + Math.exp(t)); }',
  'function powf(x, y) { if (y == 2) { return x * x; } if (y == 3) { return x * x * x; } if (x >= 0) { return Math.pow(x, y); } const r = Math.pow(-x, y); if (Math.floor(y) == y) { if (Math.floor(y / 2) * 2 == y) { return r; } return -r; } return Math.pow(x, y); }',
];

/**
 * `c ? 1 : 0` written `(c ? 1 : 0) + 0`. gpu.js types a conditional of two integer literals as an Integer,
 * and it has no rule for an Integer times an integer literal in the argument of a function: `softplus(2 *
 * onehot(y, K))` and `softplus(2 * step(t))` stopped the gpu target (random model 90231). Adding 0 makes it a Number.
 */
function floatConditionals(stmt: Stmt): Stmt {
  const visit = (node: ts.Node, ctx: ts.TransformationContext): ts.Node => {
    const inner = ts.visitEachChild(node, (c) => visit(c, ctx), ctx);
    // Likewise `3 * 2` (a const times a dim, random model 110482): folded to 6.
    const folded = foldLiterals(inner);
    if (folded !== undefined) return A.num(folded);
    if (ts.isConditionalExpression(inner) && ts.isNumericLiteral(inner.whenTrue) && ts.isNumericLiteral(inner.whenFalse)) {
      return f.createParenthesizedExpression(f.createBinaryExpression(f.createParenthesizedExpression(inner), ts.SyntaxKind.PlusToken, A.num(0)));
    }
    return inner;
  };
  return ts.transform(stmt, [(ctx) => (root) => visit(root, ctx) as Stmt]).transformed[0];
}

/** The value of `a op b` for two numeric literals (a negative one included), if finite. */
function foldLiterals(node: ts.Node): number | undefined {
  const value = (e: ts.Expression): number | undefined => {
    while (ts.isParenthesizedExpression(e)) e = e.expression;
    if (ts.isNumericLiteral(e)) return Number(e.text);
    if (ts.isPrefixUnaryExpression(e) && e.operator === ts.SyntaxKind.MinusToken) { const v = value(e.operand); return v === undefined ? undefined : -v; }
    return undefined;
  };
  if (!ts.isBinaryExpression(node)) return undefined;
  const a = value(node.left), b = value(node.right);
  if (a === undefined || b === undefined) return undefined;
  const ops: Partial<Record<ts.SyntaxKind, (x: number, y: number) => number>> = {
    [ts.SyntaxKind.PlusToken]: (x, y) => x + y, [ts.SyntaxKind.MinusToken]: (x, y) => x - y,
    [ts.SyntaxKind.AsteriskToken]: (x, y) => x * y, [ts.SyntaxKind.SlashToken]: (x, y) => x / y,
  };
  const r = ops[node.operatorToken.kind]?.(a, b);
  return r !== undefined && Number.isFinite(r) ? r : undefined;
}

/** Kernel source with Math.pow replaced by the helper above. */
const glslSafe = (source: string): string => source.replace(/\bMath\.pow\(/g, 'powf(');

export function emitGpuProgram(plan: Plan): GpuProgram {
  const { g } = plan;
  const model = g.model;
  const names = new NameTable({ glsl: true });
  const bufName = new Map<Node, string>();
  for (const p of model.params) bufName.set(p.node, names.fresh(p.name));
  for (const i of model.inputs) bufName.set(i.node, names.fresh(i.name));
  const display = new Map<Node, string>();
  for (const [n, v] of [...valueNames(g), ...stepNames(g, 'text')]) if (!display.has(n)) display.set(n, v);
  const name = (n: Node): string => {
    let b = bufName.get(n);
    if (!b) { b = names.fresh((display.get(n) ?? `t_${n.op}`).replace('/', '_')); bufName.set(n, b); }
    return b;
  };
  const batched = (n: Node) => plan.batched.has(n);
  const id = A.ident;

  /** A kernel: reads `reads`, computes `body` (statements ending in a return) per output element. */
  const kernel = (out: Node | string, size: number, isBatched: boolean, reads: Node[], usesN: boolean, body: (reads: Set<Node>) => Stmt[]): GpuStep => {
    const used = new Set<Node>(reads.filter((r) => r.op !== 'const' && r.op !== 'dim'));
    const stmts = body(used).map(floatConditionals);
    const args = [...new Set([...used].map(name))];
    if (usesN) args.push('n');
    const fn = f.createFunctionExpression(undefined, undefined, undefined, undefined,
      args.map((a) => f.createParameterDeclaration(undefined, undefined, id(a))), undefined, A.block(stmts));
    // The formula the kernel computes, in the model's names, for people reading a check (gpucheck).
    const formula = typeof out === 'string' ? out : display.has(out) ? `${display.get(out)} = ${printExpr(out, 'text', (m) => (m === out ? undefined : display.get(m)))}` : printExpr(out, 'text', (m) => display.get(m));
    return { source: glslSafe(A.printStatements([A.exprStmt(fn)]).replace(/;\s*$/, '').replace(/^\(([\s\S]*)\)$/, '$1')), args, out: typeof out === 'string' ? out : name(out), size, batched: isBatched, formula };
  };
  const thread = () => A.prop(A.prop(f.createThis(), 'thread'), 'x');
  const floorDiv = (a: Expr, d: number) => A.call('Math.floor', [A.bin('/', a, A.num(d))]);
  /** const b = ⌊t / size⌋, i = t − b·size for a batched output; b = 0, i = t otherwise. */
  const split = (size: number, isBatched: boolean, iName = 'i'): Stmt[] => [
    A.constDecl('t', thread()),
    A.constDecl('b', isBatched ? floorDiv(id('t'), size) : A.num(0)),
    A.constDecl(iName, isBatched ? A.bin('-', id('t'), A.bin('*', id('b'), A.num(size))) : id('t')),
  ];

  const at = (n: Node, offset: Expr, used: Set<Node>, bVar = 'b'): Expr => {
    if (n.op === 'const' || n.op === 'dim') return A.num(n.attr.value as number);
    used.add(n);
    const base = batched(n) ? A.bin('*', id(bVar), A.num(n.size)) : undefined;
    return A.index(id(name(n)), base ? A.bin('+', base, offset) : offset);
  };
  const scalar = (n: Node, outShape: readonly number[], i: Expr, used: Set<Node>, isRoot = false): Expr =>
    scalarExpr({ materialized: plan.materialized, load: (m, offset) => at(m, offset, used) }, n, outShape, i, isRoot);
  /** let s = 0; for (q < count) s += term(q); */
  const sumLoop = (count: Expr, term: (q: Expr) => Expr, v = 'q'): Stmt[] => [
    A.letDecl('sum_', A.num(0)),
    A.forRange(v, A.num(0), count, [A.assign(id('sum_'), term(id(v)), '+=')]),
  ];

  const stepKernel = (s: Step): GpuStep => {
    const n = s.node, B = batched(n);
    switch (s.kind) {
      case 'loop':
        if (n.op === 'const') return kernel(n, n.size, B, [], false, () => [A.ret(A.num(n.attr.value as number))]);
        return kernel(n, n.size, B, [], false, (used) => [...split(n.size, B), A.ret(scalar(n, n.shape, id('i'), used, true))]);
      case 'gemm': {
        const { x, w, m, k } = s;
        if (s.variant === 'NT') return kernel(n, m, B, [], false, (used) => [...split(m, B), ...sumLoop(A.num(k), (p) => A.bin('*', at(x, p, used), at(w, A.bin('+', A.bin('*', id('i'), A.num(k)), p), used))), A.ret(id('sum_'))]);
        return kernel(n, k, B, [], false, (used) => [...split(k, B), ...sumLoop(A.num(m), (p) => A.bin('*', at(x, p, used), at(w, A.bin('+', A.bin('*', p, A.num(k)), id('i')), used))), A.ret(id('sum_'))]);
      }
      case 'rows': case 'generic': return genericKernel(n);
    }
  };

  const genericKernel = (n: Node): GpuStep => {
    const B = batched(n);
    const [a, c] = n.args;
    const rowStats = (used: Set<Node>): Stmt[] => {
      const K = a.shape[0];
      return [
        A.letDecl('mx', A.num(-1e30)),
        A.forRange('q', A.num(0), A.num(K), [A.assign(id('mx'), A.call('Math.max', [id('mx'), at(a, id('q'), used)]))]),
        ...sumLoop(A.num(K), (q) => A.call('Math.exp', [A.bin('-', at(a, q, used), id('mx'))]), 'r'),
        A.constDecl('lse', A.bin('+', id('mx'), A.call('Math.log', [id('sum_')]))),
      ];
    };
    switch (n.op) {
      case 'softmax': return kernel(n, n.size, B, [], false, (used) => [...split(n.size, B), ...rowStats(used), A.ret(A.call('Math.exp', [A.bin('-', at(a, id('i'), used), id('lse'))]))]);
      case 'log_softmax': return kernel(n, n.size, B, [], false, (used) => [...split(n.size, B), ...rowStats(used), A.ret(A.bin('-', at(a, id('i'), used), id('lse')))]);
      case 'logsumexp': return kernel(n, 1, B, [], false, (used) => [...split(1, B), ...rowStats(used), A.ret(id('lse'))]);
      case 'cross_entropy': return kernel(n, 1, B, [], false, (used) => [...split(1, B), ...rowStats(used), A.ret(A.bin('-', id('lse'), at(a, at(c, A.num(0), used), used)))]);
      case 'dot': return kernel(n, 1, B, [], false, (used) => [...split(1, B), ...sumLoop(A.num(a.size), (q) => A.bin('*', at(a, q, used), at(c, q, used))), A.ret(id('sum_'))]);
      case 'sum': return kernel(n, 1, B, [], false, (used) => [...split(1, B), ...sumLoop(A.num(a.size), (q) => at(a, q, used)), A.ret(id('sum_'))]);
      case 'mean': return kernel(n, 1, B, [], false, (used) => [...split(1, B), ...sumLoop(A.num(a.size), (q) => at(a, q, used)), A.ret(A.bin('/', id('sum_'), A.num(a.size)))]);
      case 'outer': return kernel(n, n.size, B, [], false, (used) => [...split(n.size, B, 'r'), A.constDecl('i', floorDiv(id('r'), c.size)),
        A.ret(A.bin('*', at(a, id('i'), used), at(c, A.bin('-', id('r'), A.bin('*', id('i'), A.num(c.size))), used)))]);
      case 'sum_rows': return kernel(n, n.size, B, [], false, (used) => [...split(n.size, B), ...sumLoop(A.num(a.shape[0]), (q) => at(a, A.bin('+', A.bin('*', q, A.num(a.shape[1])), id('i')), used)), A.ret(id('sum_'))]);
      case 'fill': return kernel(n, n.size, B, [], false, (used) => [...split(n.size, B), A.ret(at(a, within(a, n.shape, id('i')), used))]);
      case 'transpose': {
        const [m, k] = a.shape;
        return kernel(n, n.size, B, [], false, (used) => [...split(n.size, B, 'r'), A.constDecl('i', floorDiv(id('r'), m)),
          A.ret(at(a, A.bin('+', A.bin('*', A.bin('-', id('r'), A.bin('*', id('i'), A.num(m))), A.num(k)), id('i')), used))]);
      }
      case 'matmul': {
        const k = c.shape[0], q = c.rank === 2 ? c.shape[1] : 1;
        return kernel(n, n.size, B, [], false, (used) => [...split(n.size, B, 'r'), A.constDecl('i', floorDiv(id('r'), q)), A.constDecl('j', A.bin('-', id('r'), A.bin('*', id('i'), A.num(q)))),
          ...sumLoop(A.num(k), (p) => A.bin('*', at(a, a.rank === 2 ? A.bin('+', A.bin('*', id('i'), A.num(k)), p) : p, used), at(c, c.rank === 2 ? A.bin('+', A.bin('*', p, A.num(q)), id('j')) : p, used))),
          A.ret(id('sum_'))]);
      }
      case 'max_all': case 'min_all': {
        const fn = n.op === 'max_all' ? 'Math.max' : 'Math.min';
        return kernel(n, 1, B, [], false, (used) => [...split(1, B), A.letDecl('m', at(a, A.num(0), used)),
          A.forRange('q', A.num(1), A.num(a.size), [A.assign(id('m'), A.call(fn, [id('m'), at(a, id('q'), used)]))]), A.ret(id('m'))]);
      }
      case 'arg_mask': {
        // Each thread scans the whole tensor (the extreme and how many attain it) and compares its own element.
        const fn = n.attr.which === 'max' ? 'Math.max' : 'Math.min';
        return kernel(n, n.size, B, [], false, (used) => [...split(n.size, B), A.letDecl('m', at(a, A.num(0), used)),
          A.forRange('q', A.num(1), A.num(a.size), [A.assign(id('m'), A.call(fn, [id('m'), at(a, id('q'), used)]))]),
          A.letDecl('count', A.num(0)),
          A.forRange('q', A.num(0), A.num(a.size), [f.createIfStatement(A.bin('===', at(a, id('q'), used), id('m')), A.assign(id('count'), A.num(1), '+='))]),
          f.createIfStatement(A.bin('===', at(a, id('i'), used), id('m')), A.ret(A.bin('/', A.num(1), id('count')))), A.ret(A.num(0))]);
      }
      default:
        if (!opOf(n.op).kernel) throw new Error(`internal error: no gpu.js kernel for ${n.op}`);
        return kernel(n, n.size, B, [], false, (used) => [...split(n.size, B), ...imageElement(n, (k, offset) => at(n.args[k], offset, used))!]);
    }
  };

  // A term may be broadcast (a scalar, or a row repeated over a matrix) to the parameter's shape.
  const termKernel = (pname: string, t: Term, k: number): GpuStep => ({ ...termKernelOf(pname, t, k), formula: `d${model.loss.name}/d${pname}, summed over the batch (term ${k + 1})` });
  const termKernelOf = (pname: string, t: Term, k: number): GpuStep => {
    const param = model.params.find((p) => p.name === pname)!.node;
    const out = names.fresh(`${name(param)}_grad${k}`);
    const elem = (n: Node) => within(n, param.shape, id('t'));
    const sign = (e: Expr) => (t.sign === 1 ? e : A.tsScalar.neg(e));
    if (t.kind === 'kernelSum') throw new Error('internal error: the gpu.js plan computes kernel gradients per example');
    if (t.kind === 'outer') {
      const m = t.u.size, kk = t.v.size;
      return kernel(out, m * kk, false, [], true, (used) => [A.constDecl('t', thread()), A.constDecl('i', floorDiv(id('t'), kk)), A.constDecl('j', A.bin('-', id('t'), A.bin('*', id('i'), A.num(kk)))),
        ...sumLoop(id('n'), () => A.bin('*', at(t.u, id('i'), used, 'q'), at(t.v, id('j'), used, 'q'))), A.ret(sign(id('sum_')))]);
    }
    if (t.kind === 'batched') {
      return kernel(out, param.size, false, [], true, (used) => [A.constDecl('t', thread()), ...sumLoop(id('n'), () => at(t.node, elem(t.node), used, 'q')), A.ret(sign(id('sum_')))]);
    }
    return kernel(out, param.size, false, [], true, (used) => [A.constDecl('t', thread()), A.ret(sign(A.bin('*', id('n'), at(t.node, elem(t.node), used))))]);
  };

  return {
    spec: specObject(plan),
    helpers: GPU_HELPERS,
    params: model.params.map((p) => name(p.node)),
    inputs: model.inputs.map((i) => name(i.node)),
    train: plan.train.steps.map(stepKernel),
    forward: plan.forward.steps.map(stepKernel),
    grads: model.params.map((p) => (plan.terms.get(p.name) ?? []).map((t, k) => termKernel(p.name, t, k))),
    loss: name(plan.loss),
    outputs: plan.outputs.map(name),
    logits: plan.logits ? name(plan.logits) : null,
  };
}

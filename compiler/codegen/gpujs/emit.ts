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
import { kronElement } from '../kron-element.js';
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

/** The state of emitting one model's gpu.js kernels: the plan, the buffers' names, and the pieces every kernel is built from. */
class GpuEmitter {
  readonly g: Plan['g'];
  readonly model: Plan['g']['model'];
  readonly names = new NameTable({ glsl: true });
  readonly bufName = new Map<Node, string>();
  readonly display = new Map<Node, string>();

  constructor(readonly plan: Plan) {
    this.g = plan.g;
    this.model = plan.g.model;
    for (const p of this.model.params) this.bufName.set(p.node, this.names.fresh(p.name));
    for (const i of this.model.inputs) this.bufName.set(i.node, this.names.fresh(i.name));
    for (const [n, v] of [...valueNames(this.g), ...stepNames(this.g, 'text')]) if (!this.display.has(n)) this.display.set(n, v);
  }

  name(n: Node): string {
    let b = this.bufName.get(n);
    if (!b) { b = this.names.fresh((this.display.get(n) ?? `t_${n.op}`).replace('/', '_')); this.bufName.set(n, b); }
    return b;
  }
  batched(n: Node): boolean { return this.plan.batched.has(n); }

  /** A kernel: reads `reads`, computes `body` (statements ending in a return) per output element. */
  kernel(out: Node | string, size: number, isBatched: boolean, reads: Node[], usesN: boolean, body: (reads: Set<Node>) => Stmt[]): GpuStep {
    const used = new Set<Node>(reads.filter((r) => r.op !== 'const' && r.op !== 'dim'));
    const stmts = body(used).map(floatConditionals);
    const args = [...new Set([...used].map((u) => this.name(u)))];
    if (usesN) args.push('n');
    const fn = f.createFunctionExpression(undefined, undefined, undefined, undefined,
      args.map((a) => f.createParameterDeclaration(undefined, undefined, id(a))), undefined, A.block(stmts));
    // The formula the kernel computes, in the model's names, for people reading a check (gpucheck).
    const display = this.display;
    const formula = typeof out === 'string' ? out : display.has(out) ? `${display.get(out)} = ${printExpr(out, 'text', (m) => (m === out ? undefined : display.get(m)))}` : printExpr(out, 'text', (m) => display.get(m));
    return { source: glslSafe(A.printStatements([A.exprStmt(fn)]).replace(/;\s*$/, '').replace(/^\(([\s\S]*)\)$/, '$1')), args, out: typeof out === 'string' ? out : this.name(out), size, batched: isBatched, formula };
  }
  thread(): Expr { return A.prop(A.prop(f.createThis(), 'thread'), 'x'); }
  /** const b = ⌊t / size⌋, i = t − b·size for a batched output; b = 0, i = t otherwise. */
  split(size: number, isBatched: boolean, iName = 'i'): Stmt[] {
    return [
      A.constDecl('t', this.thread()),
      A.constDecl('b', isBatched ? floorDiv(id('t'), size) : A.num(0)),
      A.constDecl(iName, isBatched ? A.bin('-', id('t'), A.bin('*', id('b'), A.num(size))) : id('t')),
    ];
  }
  at(n: Node, offset: Expr, used: Set<Node>, bVar = 'b'): Expr {
    if (n.op === 'const' || n.op === 'dim') return A.num(n.attr.value as number);
    used.add(n);
    const base = this.batched(n) ? A.bin('*', id(bVar), A.num(n.size)) : undefined;
    return A.index(id(this.name(n)), base ? A.bin('+', base, offset) : offset);
  }
  scalar(n: Node, outShape: readonly number[], i: Expr, used: Set<Node>, isRoot = false): Expr {
    return scalarExpr({ materialized: this.plan.materialized, load: (m, offset) => this.at(m, offset, used) }, n, outShape, i, isRoot);
  }
  /** let s = 0; for (q < count) s += term(q); */
  sumLoop(count: Expr, term: (q: Expr) => Expr, v = 'q'): Stmt[] {
    return [A.letDecl('sum_', A.num(0)), A.forRange(v, A.num(0), count, [A.assign(id('sum_'), term(id(v)), '+=')])];
  }
}

const id = A.ident;
const floorDiv = (a: Expr, d: number) => A.call('Math.floor', [A.bin('/', a, A.num(d))]);

/** The model's gpu.js program: a kernel per plan step, and per gradient term, with the buffers' names. */
export function emitGpuProgram(plan: Plan): GpuProgram {
  const ge = new GpuEmitter(plan);
  return {
    spec: specObject(ge.plan),
    helpers: GPU_HELPERS,
    params: ge.model.params.map((p) => ge.name(p.node)),
    inputs: ge.model.inputs.map((i) => ge.name(i.node)),
    train: ge.plan.train.steps.map((s) => stepKernel(ge, s)),
    forward: ge.plan.forward.steps.map((s) => stepKernel(ge, s)),
    grads: ge.model.params.map((p) => (ge.plan.terms.get(p.name) ?? []).map((t, k) => termKernel(ge, p.name, t, k))),
    loss: ge.name(ge.plan.loss),
    outputs: ge.plan.outputs.map((o) => ge.name(o)),
    logits: ge.plan.logits ? ge.name(ge.plan.logits) : null,
  };
}


/** One plan step as a kernel. */
function stepKernel(ge: GpuEmitter, s: Step): GpuStep {
  const n = s.node, B = ge.batched(n);
  switch (s.kind) {
    case 'loop':
      if (n.op === 'const') return ge.kernel(n, n.size, B, [], false, () => [A.ret(A.num(n.attr.value as number))]);
      return ge.kernel(n, n.size, B, [], false, (used) => [...ge.split(n.size, B), A.ret(ge.scalar(n, n.shape, id('i'), used, true))]);
    case 'gemm': {
      const { x, w, m, k } = s;
      if (s.variant === 'NT') return ge.kernel(n, m, B, [], false, (used) => [...ge.split(m, B), ...ge.sumLoop(A.num(k), (p) => A.bin('*', ge.at(x, p, used), ge.at(w, A.bin('+', A.bin('*', id('i'), A.num(k)), p), used))), A.ret(id('sum_'))]);
      return ge.kernel(n, k, B, [], false, (used) => [...ge.split(k, B), ...ge.sumLoop(A.num(m), (p) => A.bin('*', ge.at(x, p, used), ge.at(w, A.bin('+', A.bin('*', p, A.num(k)), id('i')), used))), A.ret(id('sum_'))]);
    }
    case 'rows': case 'generic': return genericKernel(ge, n);
  }
}

function genericKernel(ge: GpuEmitter, n: Node): GpuStep {
  const B = ge.batched(n);
  const [a, c] = n.args;
  const rowStats = (used: Set<Node>): Stmt[] => {
    const K = a.shape[0];
    return [
      A.letDecl('mx', A.num(-1e30)),
      A.forRange('q', A.num(0), A.num(K), [A.assign(id('mx'), A.call('Math.max', [id('mx'), ge.at(a, id('q'), used)]))]),
      ...ge.sumLoop(A.num(K), (q) => A.call('Math.exp', [A.bin('-', ge.at(a, q, used), id('mx'))]), 'r'),
      A.constDecl('lse', A.bin('+', id('mx'), A.call('Math.log', [id('sum_')]))),
    ];
  };
  switch (n.op) {
    case 'softmax': return ge.kernel(n, n.size, B, [], false, (used) => [...ge.split(n.size, B), ...rowStats(used), A.ret(A.call('Math.exp', [A.bin('-', ge.at(a, id('i'), used), id('lse'))]))]);
    case 'log_softmax': return ge.kernel(n, n.size, B, [], false, (used) => [...ge.split(n.size, B), ...rowStats(used), A.ret(A.bin('-', ge.at(a, id('i'), used), id('lse')))]);
    case 'logsumexp': return ge.kernel(n, 1, B, [], false, (used) => [...ge.split(1, B), ...rowStats(used), A.ret(id('lse'))]);
    case 'cross_entropy': return ge.kernel(n, 1, B, [], false, (used) => [...ge.split(1, B), ...rowStats(used), A.ret(A.bin('-', id('lse'), ge.at(a, ge.at(c, A.num(0), used), used)))]);
    case 'dot': return ge.kernel(n, 1, B, [], false, (used) => [...ge.split(1, B), ...ge.sumLoop(A.num(a.size), (q) => A.bin('*', ge.at(a, q, used), ge.at(c, q, used))), A.ret(id('sum_'))]);
    case 'sum': return ge.kernel(n, 1, B, [], false, (used) => [...ge.split(1, B), ...ge.sumLoop(A.num(a.size), (q) => ge.at(a, q, used)), A.ret(id('sum_'))]);
    case 'mean': return ge.kernel(n, 1, B, [], false, (used) => [...ge.split(1, B), ...ge.sumLoop(A.num(a.size), (q) => ge.at(a, q, used)), A.ret(A.bin('/', id('sum_'), A.num(a.size)))]);
    case 'outer': return ge.kernel(n, n.size, B, [], false, (used) => [...ge.split(n.size, B, 'r'), A.constDecl('i', floorDiv(id('r'), c.size)),
      A.ret(A.bin('*', ge.at(a, id('i'), used), ge.at(c, A.bin('-', id('r'), A.bin('*', id('i'), A.num(c.size))), used)))]);
    case 'sum_rows': return ge.kernel(n, n.size, B, [], false, (used) => [...ge.split(n.size, B), ...ge.sumLoop(A.num(a.shape[0]), (q) => ge.at(a, A.bin('+', A.bin('*', q, A.num(a.shape[1])), id('i')), used)), A.ret(id('sum_'))]);
    case 'fill': return ge.kernel(n, n.size, B, [], false, (used) => [...ge.split(n.size, B), A.ret(ge.at(a, within(a, n.shape, id('i')), used))]);
    case 'transpose': {
      const [m, k] = a.shape;
      return ge.kernel(n, n.size, B, [], false, (used) => [...ge.split(n.size, B, 'r'), A.constDecl('i', floorDiv(id('r'), m)),
        A.ret(ge.at(a, A.bin('+', A.bin('*', A.bin('-', id('r'), A.bin('*', id('i'), A.num(m))), A.num(k)), id('i')), used))]);
    }
    case 'matmul': {
      const k = c.shape[0], q = c.rank === 2 ? c.shape[1] : 1;
      return ge.kernel(n, n.size, B, [], false, (used) => [...ge.split(n.size, B, 'r'), A.constDecl('i', floorDiv(id('r'), q)), A.constDecl('j', A.bin('-', id('r'), A.bin('*', id('i'), A.num(q)))),
        ...ge.sumLoop(A.num(k), (p) => A.bin('*', ge.at(a, a.rank === 2 ? A.bin('+', A.bin('*', id('i'), A.num(k)), p) : p, used), ge.at(c, c.rank === 2 ? A.bin('+', A.bin('*', p, A.num(q)), id('j')) : p, used))),
        A.ret(id('sum_'))]);
    }
    case 'max_all': case 'min_all': {
      const fn = n.op === 'max_all' ? 'Math.max' : 'Math.min';
      return ge.kernel(n, 1, B, [], false, (used) => [...ge.split(1, B), A.letDecl('m', ge.at(a, A.num(0), used)),
        A.forRange('q', A.num(1), A.num(a.size), [A.assign(id('m'), A.call(fn, [id('m'), ge.at(a, id('q'), used)]))]), A.ret(id('m'))]);
    }
    case 'arg_mask': {
      // Each thread scans the whole tensor (the extreme and how many attain it) and compares its own element.
      const fn = n.attr.which === 'max' ? 'Math.max' : 'Math.min';
      return ge.kernel(n, n.size, B, [], false, (used) => [...ge.split(n.size, B), A.letDecl('m', ge.at(a, A.num(0), used)),
        A.forRange('q', A.num(1), A.num(a.size), [A.assign(id('m'), A.call(fn, [id('m'), ge.at(a, id('q'), used)]))]),
        A.letDecl('count', A.num(0)),
        A.forRange('q', A.num(0), A.num(a.size), [f.createIfStatement(A.bin('===', ge.at(a, id('q'), used), id('m')), A.assign(id('count'), A.num(1), '+='))]),
        f.createIfStatement(A.bin('===', ge.at(a, id('i'), used), id('m')), A.ret(A.bin('/', A.num(1), id('count')))), A.ret(A.num(0))]);
    }
    case 'diag': case 'kron': case 'kron_contract':
      return ge.kernel(n, n.size, B, [], false, (used) => {
        const e = kronElement(n, id('i'), (k, o) => ge.at(n.args[k], o, used), (count, term) => ge.sumLoop(A.num(count), term));
        return [...ge.split(n.size, B), ...e.stmts, A.ret(e.value)];
      });
    default:
      if (!opOf(n.op).kernel) throw new Error(`internal error: no gpu.js kernel for ${n.op}`);
      return ge.kernel(n, n.size, B, [], false, (used) => [...ge.split(n.size, B), ...imageElement(n, (k, offset) => ge.at(n.args[k], offset, used))!]);
  }
}

/** A parameter's gradient term, summed over the batch; it may be broadcast (a scalar, or a row repeated over a matrix). */
function termKernel(ge: GpuEmitter, pname: string, t: Term, k: number): GpuStep {
  return { ...termKernelOf(ge, pname, t, k), formula: `d${ge.model.loss.name}/d${pname}, summed over the batch (term ${k + 1})` };
}

function termKernelOf(ge: GpuEmitter, pname: string, t: Term, k: number): GpuStep {
  const param = ge.model.params.find((p) => p.name === pname)!.node;
  const out = ge.names.fresh(`${ge.name(param)}_grad${k}`);
  const elem = (n: Node) => within(n, param.shape, id('t'));
  const sign = (e: Expr) => (t.sign === 1 ? e : A.tsScalar.neg(e));
  if (t.kind === 'kernelSum') throw new Error('internal error: the gpu.js plan computes kernel gradients per example');
  if (t.kind === 'outer') {
    const m = t.u.size, kk = t.v.size;
    return ge.kernel(out, m * kk, false, [], true, (used) => [A.constDecl('t', ge.thread()), A.constDecl('i', floorDiv(id('t'), kk)), A.constDecl('j', A.bin('-', id('t'), A.bin('*', id('i'), A.num(kk)))),
      ...ge.sumLoop(id('n'), () => A.bin('*', ge.at(t.u, id('i'), used, 'q'), ge.at(t.v, id('j'), used, 'q'))), A.ret(sign(id('sum_')))]);
  }
  if (t.kind === 'batched') {
    return ge.kernel(out, param.size, false, [], true, (used) => [A.constDecl('t', ge.thread()), ...ge.sumLoop(id('n'), () => ge.at(t.node, elem(t.node), used, 'q')), A.ret(sign(id('sum_')))]);
  }
  return ge.kernel(out, param.size, false, [], true, (used) => [A.constDecl('t', ge.thread()), A.ret(sign(A.bin('*', id('n'), ge.at(t.node, elem(t.node), used))))]);
}


// Element i of a fused elementwise expression, as TypeScript AST: nodes the plan keeps in buffers are loaded
// (the caller says how, per target), the rest are inlined through each op's `emit` rule, fn bodies included.
// Shared by the TypeScript and gpu.js emitters.

import type { FnDef, Node } from '../ir/node.js';
import { opOf } from '../ir/node.js';
import type { ElementwiseOp } from '../ir/ops/elementwise.js';
import { fnOf } from '../ir/ops/call.js';
import * as A from './ts/ast.js';
import { vectorRepeat } from '../ir/ops/common.js';
import type { Expr } from './ts/ast.js';

export interface ScalarContext {
  readonly materialized: ReadonlySet<Node>;
  /** Element `offset` of a node that lives in a buffer (or a constant). */
  load(n: Node, offset: Expr): Expr;
}

/** The index within `n` of element i of a broadcast result of shape `out`. */
export function within(n: Node, out: readonly number[], i: Expr): Expr {
  if (n.rank === 0) return A.num(0);
  if (n.shape.length === out.length) return i;
  if (out.length === 3) return A.call('Math.floor', [A.bin('/', i, A.num(vectorRepeat(out)))]); // one value per channel
  return A.bin('%', i, A.num(n.shape[0])); // a row vector repeated over the rows of a matrix
}

export function scalarExpr(ctx: ScalarContext, n: Node, out: readonly number[], i: Expr, isRoot = false): Expr {
  const leaf = n.args.length === 0 && n.op !== 'call'; // a fn of no arguments is computed, not loaded
  if (!isRoot && (ctx.materialized.has(n) || leaf)) return ctx.load(n, within(n, out, i));
  const idx = within(n, out, i);
  // v[y]: element y of v (v is in a buffer: its consumer has another shape, so the plan never inlines it).
  if (n.op === 'index') return scalarExpr(ctx, n.args[0], n.args[0].shape, scalarExpr(ctx, n.args[1], [], A.num(0)));
  if (n.op === 'onehot') return A.cond(A.bin('===', idx, scalarExpr(ctx, n.args[0], [], A.num(0))), A.num(1), A.num(0));
  const args = n.args.map((a) => scalarExpr(ctx, a, n.shape, idx));
  if (n.op === 'call') return inlineFn(fnOf(n), args);
  return (opOf(n.op) as ElementwiseOp).emit(A.tsScalar, ...args);
}

/** A fn applied to argument expressions: its body, written out. */
export function inlineFn(fn: FnDef, args: Expr[]): Expr {
  const vars = new Map(fn.params.map((p, k) => [p, args[k]]));
  const walk = (b: Node): Expr => {
    if (b.op === 'var') return vars.get(b.attr.name as string)!;
    if (b.op === 'const' || b.op === 'dim') return A.num(b.attr.value as number);
    const xs = b.args.map(walk);
    if (b.op === 'call') return inlineFn(fnOf(b), xs);
    const op = opOf(b.op) as ElementwiseOp;
    if (!op.emit) throw new Error(`${b.op} cannot appear in a fn body`);
    return op.emit(A.tsScalar, ...xs);
  };
  return walk(fn.body);
}

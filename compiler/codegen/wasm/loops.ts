// The fused elementwise loops of the plan as WebAssembly SIMD epilogues (the bias after a product, the
// activation, the backward masks such as dL/da .* step(z)): each loop whose scalar expression uses only
// what f32x4 has — + − × ÷, negation, abs, sqrt, max, min, squares, a branch on t > 0 — becomes a function
// of the wasm module, written out from the op table's own `emit` rules through a ScalarEmitter that builds a
// small expression tree for gemm-builder.mjs. Loops with exp, log, tanh, a fn call or a label stay TypeScript.

import type { Node } from '../../ir/node.js';
import { opOf, sameShape } from '../../ir/node.js';
import type { ScalarEmitter } from '../../ir/op.js';
import type { ElementwiseOp } from '../../ir/ops/elementwise.js';
import type { Plan } from '../plan.js';

/**
 * Where a loop reads one of its inputs, per example b and element i of an output of m elements per example:
 * the same shape ([b·m + i], or [i] when every example shares it), a scalar ([b] or [0]), a vector along the
 * rows of a matrix ([i mod cols], + b·cols per example) or one value per channel of an image ([⌊i / hw⌋],
 * + b·C per example).
 */
export type LoadKind = 'row' | 'shared' | 'bscalar' | 'scalar' | 'column' | 'bcolumn' | 'channel' | 'bchannel';

export type WExpr =
  | { op: 'num'; v: number }
  | { op: 'load'; arg: number; kind: LoadKind; per?: number } // per: cols, or hw
  | { op: 'neg' | 'abs' | 'sqrt'; a: WExpr }
  | { op: 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min'; a: WExpr; b: WExpr }
  | { op: 'ifpos'; x: WExpr; a: WExpr; b: WExpr }; // x > 0 ? a : b

/**
 * One loop: out[b·m + i] = expr for b < n, i < m; the function takes n, out and the inputs (byte addresses).
 * `lanes`: four elements at a time is right (a broadcast row or channel never splits a group of four).
 */
export interface WasmLoop { readonly name: string; readonly m: number; readonly inputs: number; readonly expr: WExpr; readonly lanes: boolean }

class NotInWasm extends Error {}

/**
 * The column sums acc[j] = β·acc[j] ± Σ_b G[b·m + j] of the parameter gradients that are a per-example
 * vector summed over the batch (a bias's dL/db = Σ_b dL/dz), one function per length m: `colsum_m`.
 */
export function wasmColumnSums(plan: Plan): number[] {
  const sizes = new Set<number>();
  for (const terms of plan.terms.values()) for (const t of terms) if (columnSumOf(plan, t) !== undefined) sizes.add(columnSumOf(plan, t)!);
  return [...sizes].sort((a, b) => a - b);
}
/** The length m of a term that is a column sum over the batch, if it is one. */
export function columnSumOf(plan: Plan, t: import('../plan.js').Term): number | undefined {
  return t.kind === 'batched' && plan.batched.has(t.node) && plan.materialized.has(t.node) && t.node.rank === 1 ? t.node.size : undefined;
}

const emitter: ScalarEmitter<WExpr> = {
  num: (v) => ({ op: 'num', v }),
  neg: (a) => ({ op: 'neg', a }),
  bin: (op, a, b) => ({ op: ({ '+': 'add', '-': 'sub', '*': 'mul', '/': 'div' } as const)[op], a, b }),
  // Only a square is a product; other powers stay TypeScript (Math.pow).
  pow: (a, b) => { if (b.op === 'num' && b.v === 2) return { op: 'mul', a, b: a }; throw new NotInWasm(); },
  math: (fn, args) => {
    if (fn === 'sqrt' || fn === 'abs') return { op: fn, a: args[0] };
    if (fn === 'max' || fn === 'min') return { op: fn, a: args[0], b: args[1] };
    throw new NotInWasm();
  },
  helper: () => { throw new NotInWasm(); },
  ifPositive: (x, a, b) => ({ op: 'ifpos', x, a, b }),
};

/**
 * The plan's loops that can run in WebAssembly, each with its name and its inputs in argument order. Only
 * per-example outputs of at most one axis: a vector per example, or a scalar.
 */
export function wasmLoops(plan: Plan): { node: Node; loop: WasmLoop; inputs: Node[] }[] {
  const out: { node: Node; loop: WasmLoop; inputs: Node[] }[] = [];
  const seen = new Set<Node>();
  for (const s of [...plan.train.steps, ...plan.forward.steps]) {
    const n = s.node;
    if (s.kind !== 'loop' || seen.has(n) || n.op === 'const' || !plan.batched.has(n)) continue;
    seen.add(n);
    const inputs: Node[] = [];
    const m = n.size;
    let lanes = true;
    const load = (x: Node): WExpr => {
      if ((x.op === 'const' && !plan.materialized.has(x)) || x.op === 'dim') return { op: 'num', v: x.attr.value as number };
      const batched = plan.batched.has(x);
      let kind: LoadKind, per: number | undefined;
      if (x.isScalar) kind = batched ? 'bscalar' : 'scalar';
      else if (sameShape(x.shape, n.shape)) kind = batched ? 'row' : 'shared';
      else if (x.rank === 1 && n.rank === 2 && x.size === n.shape[1]) { kind = batched ? 'bcolumn' : 'column'; per = n.shape[1]; }
      else if (x.rank === 1 && n.rank === 3 && x.size === n.shape[0]) { kind = batched ? 'bchannel' : 'channel'; per = n.shape[1] * n.shape[2]; }
      else throw new NotInWasm();
      if (per !== undefined && per % 4 !== 0) lanes = false;
      let arg = inputs.indexOf(x);
      if (arg < 0) { arg = inputs.length; inputs.push(x); }
      return per === undefined ? { op: 'load', arg, kind } : { op: 'load', arg, kind, per };
    };
    const walk = (x: Node, isRoot: boolean): WExpr => {
      const leaf = x.args.length === 0 && x.op !== 'call';
      if (!isRoot && (plan.materialized.has(x) || leaf)) return load(x);
      const op = opOf(x.op);
      if (!('emit' in op)) throw new NotInWasm(); // index, onehot, fn calls
      return (op as ElementwiseOp).emit(emitter, ...x.args.map((a) => walk(a, false)));
    };
    try {
      const expr = walk(n, true);
      out.push({ node: n, inputs, loop: { name: `ew${out.length}`, m, inputs: inputs.length, expr, lanes } });
    } catch (e) {
      if (!(e instanceof NotInWasm)) throw e;
    }
  }
  return out;
}

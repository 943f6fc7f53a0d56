// `gradc check`: a summary a person reads at a glance — inputs, parameters and their counts, graph sizes
// forward and backward, FLOPs per example, and the numerically stable rewrites applied to the model.

import { deriveGradients, flopsOf } from '../autodiff/gradients.js';
import { aliasSteps, drawnNodes } from './graph.js';
import type { Model } from '../frontend/model.js';
import type { Node } from '../ir/node.js';
import { showShape, topo } from '../ir/node.js';
import { evaluateOne } from '../ir/interpret.js';
import { printExpr } from '../ir/print.js';
import { tensor } from '../ir/tensor.js';
import type { Firing } from '../simplify/engine.js';
import * as B from '../ir/build.js';
import { substitute } from '../ir/node.js';
import type { Init } from '../frontend/ast.js';
import { reuseSection } from './reuse.js';

const fmt = (n: number) => n.toLocaleString('en-US');

export function initText(i: Init): string {
  switch (i.kind) {
    case 'const': return `= ${i.value}`;
    case 'xavier': case 'he': return `~ ${i.kind}`;
    case 'normal': return `~ normal(${i.mean}, ${i.std})`;
    case 'uniform': return `~ uniform(${i.lo}, ${i.hi})`;
  }
}

function table(rows: string[][]): string[] {
  if (rows.length === 0) return ['  (none)'];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => '  ' + r.map((cell, c) => (c === 2 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('   ').trimEnd());
}

export interface CheckReport { text: string; forwardNodes: number; backwardNodes: number; forwardFlops: number; backwardFlops: number }

export function checkReport(model: Model): CheckReport {
  const g = deriveGradients(model);
  const lines: string[] = [`model ${model.name} (${model.file.path}): OK`, ''];
  const dims = [...model.dims].map(([k, v]) => `${k} = ${fmt(v.value)}`);
  if (dims.length) lines.push(`dims: ${dims.join(', ')}`, '');
  lines.push('inputs');
  lines.push(...table(model.inputs.map((i) => [i.name, i.classes !== undefined ? `class(${i.classes})` : i.shape.length ? showShape(i.shape) : 'scalar', i.classes !== undefined ? 'label' : fmt(i.node.size)])));
  lines.push('', 'parameters');
  const total = model.params.reduce((s, p) => s + p.node.size, 0);
  lines.push(...table(model.params.map((p) => [p.name, p.shape.length ? showShape(p.shape) : 'scalar', fmt(p.node.size), initText(p.init)])));
  lines.push(`total parameters: ${fmt(total)}`, '');

  const fwdRoots = [g.loss, ...g.outputs.values()];
  const fwdNodes = new Set(topo(fwdRoots));
  const lossFwd = flopsOf([g.loss]);
  // The nodes the backward pass adds, as the graph draws them (graph.ts: backwardOnly).
  const gradRoots = [...g.steps.map((s) => s.node), ...[...g.grads.values()].filter((x): x is Node => x !== null)];
  const bwd = flopsOf(gradRoots, fwdNodes);
  const ratio = lossFwd.flops > 0 ? bwd.flops / lossFwd.flops : 0;
  // Counted as `gradc graph` draws them (a − b is one node there, as it is written).
  const drawnForward = drawnNodes(g, false).length, drawnBackward = drawnNodes(g, true).length - drawnForward + aliasSteps(g).length;
  lines.push(`graph: ${fmt(drawnForward)} forward nodes, ${fmt(drawnBackward)} backward nodes`);
  lines.push(`flops per example: forward ${fmt(lossFwd.flops)}, backward ${fmt(bwd.flops)} (backward/forward ${ratio.toFixed(2)})`);
  const unused = [...g.grads].filter(([, v]) => v === null).map(([k]) => k);
  if (unused.length) lines.push(`warning: the loss does not depend on ${unused.join(', ')}: its gradient is 0`);

  lines.push(...reuseSection(model, fwdRoots, total));

  const stable = describeStableRewrites(g.stableRewrites);
  if (stable.length) lines.push('', 'numerically stable rewrites', ...stable);
  return { text: lines.join('\n'), forwardNodes: drawnForward, backwardNodes: drawnBackward, forwardFlops: lossFwd.flops, backwardFlops: bwd.flops };
}

/** Each stable rewrite with a concrete input where the naive form is inf or NaN and the stable one is not. */
export function describeStableRewrites(firings: readonly Firing[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  // A rewrite whose result a later one rewrote again (log σ(t) → log_sigmoid(t), then −log_sigmoid(t) →
  // softplus(−t)) is reported once, as the whole chain from the form the user wrote.
  const undo = new Map(firings.map((f) => [f.after, f.before]));
  const consumed = new Set(firings.flatMap((f) => f.before.args.filter((a) => undo.has(a))));
  for (const f0 of firings) {
    if (consumed.has(f0.after)) continue;
    const before = substitute(f0.before, (m) => (m !== f0.before && undo.has(m) ? undo.get(m) : undefined));
    const f = { ...f0, before };
    const naive = printExpr(f.before, 'text'), stable = printExpr(f.after, 'text');
    if (seen.has(naive)) continue;
    seen.add(naive);
    const [kind, values] = f.rule.stable!.witness.split(':');
    const nums = values.split(',').map(Number);
    // Replace the inner argument (t or z) by a variable holding the witness value.
    const inner = innermostArg(f.before);
    const t = B.variable('__t', inner.shape);
    const witness = kind === 'scalar' ? tensor(inner.shape, new Array(inner.size).fill(nums[0])) : tensor(inner.shape, Array.from({ length: inner.size }, (_, i) => nums[Math.min(i, nums.length - 1)]));
    const env = new Map([['__t', witness]]);
    const swap = (n: Node) => substitute(n, (m) => (m === inner ? t : undefined));
    let naiveV: string, stableV: string;
    try {
      naiveV = show(evaluateOne(swap(f.before), env).data);
      stableV = show(evaluateOne(swap(f.after), env).data);
    } catch { continue; }
    const at = kind === 'scalar' ? `${printExpr(inner, 'text')} = ${nums[0]}` : `${printExpr(inner, 'text')} = [${nums.join(', ')}${inner.size > nums.length ? ', …' : ''}]`;
    out.push(`  ${naive}  →  ${stable}`, `      at ${at} the naive form gives ${naiveV}, the stable form ${stableV}`);
  }
  return out;
}

function innermostArg(n: Node): Node {
  // The argument the rewrite is about: the deepest node along the first-argument chain that is not itself
  // part of the pattern (sigmoid's t, softmax's z, …).
  let cur = n;
  while (cur.args.length > 0 && ['log', 'neg', 'sigmoid', 'softmax', 'sum', 'exp', 'add', 'div'].includes(cur.op)) {
    cur = cur.op === 'add' ? cur.args.find((a) => a.op !== 'const') ?? cur.args[0] : cur.args[0];
  }
  return cur;
}

function show(d: Float64Array): string {
  const v = Array.from(d, (x) => (Number.isNaN(x) ? 'NaN' : x === Infinity ? 'Infinity' : x === -Infinity ? '-Infinity' : String(Number(x.toPrecision(6)))));
  return v.length === 1 ? v[0] : `[${v.join(', ')}]`;
}

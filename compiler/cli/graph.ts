// `gradc graph`: the computational graph as DOT, or as SVG rendered by Graphviz compiled to WebAssembly
// (no system binaries). Drawn the way the lecture draws backpropagation: the forward pass left to right on
// top, the backward pass under it, mirrored (each adjoint under its value, flowing right to left). Colours:
// inputs green, parameters violet, values blue, outputs teal, the loss orange; gradient nodes grey with
// dashed edges; a legend says so.

import type { Gradients } from '../autodiff/gradients.js';
import type { Node } from '../ir/node.js';
import { topo } from '../ir/node.js';
import { printExpr } from '../ir/print.js';
import { stepNames, valueNames } from '../autodiff/names.js';
import { fnDisplayName, fnOf } from '../ir/ops/call.js';
import { gradName } from '../autodiff/names.js';

const COLOURS = { input: '#b7e4a7', param: '#d7b8f3', value: '#a9cdf5', output: '#8fd6cf', loss: '#ffb86b', grad: '#e3e3e3', const: '#ffffff' } as const;
type Kind = keyof typeof COLOURS;
const LEGEND: [Kind, string][] = [['input', 'input'], ['param', 'parameter'], ['value', 'value'], ['output', 'output'], ['loss', 'loss'], ['grad', 'gradient (∂L/∂·)']];

const quote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

/** The nodes the backward pass adds to the forward graph: what `check` counts as backward nodes, too. */
export function backwardOnly(g: Gradients): Node[] {
  const fwd = new Set(topo([g.loss, ...g.outputs.values()]));
  const roots = [...g.steps.map((s) => s.node), ...[...g.grads.values()].filter((x): x is Node => x !== null)];
  return topo(roots).filter((n) => !fwd.has(n));
}

/** The nodes the picture draws: every node, except a negation drawn inside its subtraction (a − b). */
export function drawnNodes(g: Gradients, backward: boolean): Node[] {
  const all = [...topo([g.loss, ...g.outputs.values()]), ...(backward ? backwardOnly(g) : [])];
  const named = new Set([...valueNames(g).keys(), ...(backward ? g.steps.map((s) => s.node) : [])]);
  const isSub = (n: Node) => n.op === 'add' && n.args[1].op === 'neg';
  return all.filter((n) => !(n.op === 'neg' && !named.has(n) && all.some((m) => m.args.includes(n)) && all.filter((m) => m.args.includes(n)).every((m) => isSub(m) && m.args[1] === n)));
}

/** Parameter gradients that equal an earlier step's node (dL/db2 = dL/dz2): drawn as nodes of their own. */
export function aliasSteps(g: Gradients): { of: string; node: Node }[] {
  const first = new Map<Node, string>();
  const out: { of: string; node: Node }[] = [];
  for (const s of g.steps) {
    if (!first.has(s.node)) first.set(s.node, s.of);
    else if (s.kind === 'param') out.push({ of: s.of, node: s.node });
  }
  return out;
}

export function toDot(g: Gradients, backward: boolean): string {
  const fwdRoots = [g.loss, ...g.outputs.values()];
  const fwd = new Set(topo(fwdRoots));
  const names = valueNames(g);
  const outputs = new Set(g.outputs.values());
  const loss = g.model.loss.name;
  // Every step that a node computes, so dL/db2 shows on the node of dL/dz2 it equals.
  const stepsOf = new Map<Node, string[]>();
  const aliases = backward ? aliasSteps(g) : [];
  if (backward) for (const s of g.steps) if (!aliases.some((a) => a.of === s.of)) stepsOf.set(s.node, [...(stepsOf.get(s.node) ?? []), gradName(loss, s.of, 'text')]);
  const gradLabel = stepNames(g, 'text');
  const stable = new Map(g.stableRewrites.map((f) => [f.after, f.before]));
  const all = drawnNodes(g, backward);
  const drawn = new Set(all);
  // a + (−b) is drawn as one subtraction, as it is written.
  const isSub = (n: Node) => n.op === 'add' && n.args[1].op === 'neg' && !drawn.has(n.args[1]);

  const lines = [`digraph ${quote(g.model.name)} {`, '  rankdir=LR; newrank=true; nodesep=0.25; ranksep=0.35;',
    '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];', '  edge [color="#555555"];'];
  const kindOf = (n: Node): Kind => n === g.loss ? 'loss' : n.op === 'input' ? 'input' : n.op === 'param' ? 'param'
    : n.op === 'const' || n.op === 'dim' ? 'const' : outputs.has(n) ? 'output' : fwd.has(n) ? 'value' : 'grad';
  const shapeText = (n: Node) => (n.attr.classes !== undefined ? `class(${n.attr.classes as number})` : `[${n.shape.join(', ')}]`);
  for (const n of all) {
    const kind = kindOf(n);
    const steps = stepsOf.get(n);
    const name = names.get(n) ?? (steps ? steps.join(' = ') : gradLabel.get(n)) ?? (n.op === 'input' || n.op === 'param' ? (n.attr.name as string) : undefined);
    const op = isSub(n) ? 'subtract' : n.op === 'call' ? fnDisplayName(fnOf(n)) : n.op === 'const' || n.op === 'dim' ? printExpr(n, 'text') : n.op;
    const before = stable.get(n);
    const note = before ? `\n(stable form of ${clip(printExpr(before, 'text', (m) => names.get(m)))})` : '';
    const label = name ? `${name}\n${n.args.length ? `${op} ` : ''}${shapeText(n)}${note}` : `${op}\n${shapeText(n)}${note}`;
    lines.push(`  n${n.id} [label=${quote(label)}, fillcolor=${quote(COLOURS[kind])}${kind === 'grad' ? ', style="rounded,filled,dashed"' : ''}];`);
  }
  for (const n of all) {
    const args = isSub(n) ? [n.args[0], n.args[1].args[0]] : n.args;
    for (const a of args) {
      if (fwd.has(n)) { lines.push(`  n${a.id} -> n${n.id};`); continue; }
      // The backward pass runs right to left: a gradient edge is laid out reversed (dir=back), and a forward
      // value read by a gradient does not pull it to the right.
      lines.push(fwd.has(a) ? `  n${a.id} -> n${n.id} [style=dashed, constraint=false];` : `  n${n.id} -> n${a.id} [style=dashed, dir=back];`);
    }
  }
  // Every parameter has its gradient node: dL/db2 next to the dL/dz2 it equals.
  for (const a of aliases) {
    const param = g.model.params.find((p) => p.name === a.of)!.node;
    lines.push(`  alias_${a.node.id}_${param.id} [label=${quote(`${gradName(loss, a.of, 'text')}\n= ${stepsOf.get(a.node)?.[0] ?? gradLabel.get(a.node) ?? ''} ${shapeText(a.node)}`)}, fillcolor=${quote(COLOURS.grad)}, style="rounded,filled,dashed"];`,
      `  alias_${a.node.id}_${param.id} -> n${a.node.id} [style=dashed, dir=back];`, `  { rank=same; n${param.id}; alias_${a.node.id}_${param.id}; }`);
  }
  if (backward) {
    // Each adjoint in the column of its value: dL/dz1 under z1, dL/dW1 under W1.
    for (const s of g.steps) {
      const of = s.kind === 'param' ? g.model.params.find((p) => p.name === s.of)!.node : g.forward.get(s.of)!;
      if (!fwd.has(s.node) && drawn.has(s.node)) lines.push(`  { rank=same; n${of.id}; n${s.node.id}; }`);
    }
  }
  // The legend: one row (a chain of invisible edges runs left to right), in a box of its own.
  const legend = LEGEND.filter(([k]) => backward || k !== 'grad');
  lines.push('  subgraph cluster_legend { label="legend"; fontname="Helvetica"; fontsize=10; color="#cccccc";',
    ...legend.map(([k, text]) => `    legend_${k} [label=${quote(text)}, fillcolor=${quote(COLOURS[k])}${k === 'grad' ? ', style="rounded,filled,dashed"' : ''}, fontsize=9, height=0.3];`),
    `    ${legend.map(([k]) => `legend_${k}`).join(' -> ')} [style=invis];`,
    '  }', '}');
  return lines.join('\n');
}

const clip = (s: string) => (s.length <= 32 ? s : `${s.slice(0, 30)}…`);

export async function toSvg(dot: string): Promise<string> {
  const { Graphviz } = await import('@hpcc-js/wasm-graphviz');
  const graphviz = await Graphviz.load();
  return graphviz.dot(dot, 'svg');
}

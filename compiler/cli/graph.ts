// `gradc graph`: the computational graph as DOT, or as SVG rendered by Graphviz compiled to WebAssembly
// (no system binaries). The lecture's colours: inputs green, the loss orange, intermediate values blue;
// parameters violet; with --backward, gradient nodes grey with dashed edges.

import type { Gradients } from '../autodiff/gradients.js';
import { showShape, topo } from '../ir/node.js';
import { printExpr } from '../ir/print.js';
import { stepNames, valueNames } from '../autodiff/names.js';
import { fnDisplayName, fnOf } from '../ir/ops/call.js';

const COLOURS = { input: '#b7e4a7', loss: '#ffb86b', value: '#a9cdf5', param: '#d7b8f3', grad: '#e3e3e3', const: '#ffffff' } as const;

const quote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

export function toDot(g: Gradients, backward: boolean): string {
  const fwdRoots = [g.loss, ...g.outputs.values()];
  const fwd = new Set(topo(fwdRoots));
  const names = valueNames(g);
  const gradRoots = backward ? g.steps.map((s) => s.node) : [];
  const gradName = stepNames(g, 'text');
  const all = topo([...fwdRoots, ...gradRoots]);

  const lines = [`digraph ${quote(g.model.name)} {`, '  rankdir=LR;', '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];', '  edge [color="#555555"];'];
  for (const n of all) {
    const kind = n === g.loss ? 'loss' : n.op === 'input' ? 'input' : n.op === 'param' ? 'param'
      : n.op === 'const' || n.op === 'dim' ? 'const' : fwd.has(n) ? 'value' : 'grad';
    const name = names.get(n) ?? gradName.get(n) ?? (n.op === 'input' || n.op === 'param' ? (n.attr.name as string) : undefined);
    const op = n.op === 'call' ? fnDisplayName(fnOf(n)) : n.op === 'const' || n.op === 'dim' ? printExpr(n, 'text') : n.op;
    const shape = n.attr.classes !== undefined ? `class(${n.attr.classes as number})` : n.shape.length ? showShape(n.shape) : 'scalar';
    const label = name ? `${name}\n${n.args.length ? `${op} ` : ''}${shape}` : `${op}\n${shape}`;
    lines.push(`  n${n.id} [label=${quote(label)}, fillcolor=${quote(COLOURS[kind])}${kind === 'grad' ? ', style="rounded,filled,dashed"' : ''}];`);
  }
  for (const n of all) {
    for (const a of n.args) lines.push(`  n${a.id} -> n${n.id}${fwd.has(n) ? '' : ' [style=dashed]'};`);
  }
  lines.push('}');
  return lines.join('\n');
}

export async function toSvg(dot: string): Promise<string> {
  const { Graphviz } = await import('@hpcc-js/wasm-graphviz');
  const graphviz = await Graphviz.load();
  return graphviz.dot(dot, 'svg');
}

// Names of the values around a derivation: the model's own names for forward values (z1, a1) and dL/dz2
// for the steps of the backward program. Printing, code generation, graphs and verify all name nodes
// through here, so they agree.

import type { Node } from '../ir/node.js';
import { topo } from '../ir/node.js';
import type { Style } from '../ir/op.js';
import { latexName } from '../ir/ops/leaves.js';
import type { Gradients } from './gradients.js';

/** dL/dz2, or ∂L/∂z^{(2)} in LaTeX. */
export function gradName(loss: string, of: string, style: Style): string {
  return style === 'latex' ? `\\frac{\\partial ${latexName(loss)}}{\\partial ${latexName(of)}}` : `d${loss}/d${of}`;
}

/**
 * The model's names for its computed values (the first name wins where two name one node). With
 * `lossPathOnly`, only values the loss depends on, and not the loss itself.
 */
export function valueNames(g: Gradients, opts: { lossPathOnly?: boolean } = {}): Map<Node, string> {
  const onPath = opts.lossPathOnly ? new Set(topo([g.loss])) : undefined;
  const names = new Map<Node, string>();
  for (const v of g.model.values) {
    const n = g.forward.get(v.name)!;
    if (names.has(n) || n.args.length === 0) continue;
    if (onPath && (v.role === 'loss' || !onPath.has(n))) continue;
    names.set(n, v.name);
  }
  return names;
}

/** dL/dz2 for the node of each step of the backward program (the first step wins). */
export function stepNames(g: Gradients, style: Style): Map<Node, string> {
  const names = new Map<Node, string>();
  for (const s of g.steps) if (!names.has(s.node)) names.set(s.node, gradName(g.model.loss.name, s.of, style));
  return names;
}

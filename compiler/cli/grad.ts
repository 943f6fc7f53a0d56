// `gradc grad`: the derived gradients as a backward program (text, latex) or as closed expressions
// (--inline, mathjs, json). SPEC §2 fixes the mathjs and json forms.

import type { Gradients } from '../autodiff/gradients.js';
import type { Node } from '../ir/node.js';
import type { Style } from '../ir/op.js';
import { printExpr } from '../ir/print.js';
import { expandDerivedFns, gradName, programNaming } from './naming.js';

export type GradFormat = 'text' | 'latex' | 'mathjs' | 'json';

const zero = (shape: readonly number[]) => (shape.length ? `zeros(${shape.join(', ')})` : '0');

/** One closed expression per gradient over inputs, params, dims and user fns. */
export function closedForm(n: Node | null, shape: readonly number[], style: Style): string {
  if (!n) return style === 'latex' ? '0' : zero(shape);
  return printExpr(style === 'mathjs' ? expandDerivedFns(n) : n, style);
}

/** The backward program, one step per line: `dL/dz2 = softmax(z2) - onehot(y, K)`. */
export function programLines(g: Gradients, style: 'text' | 'latex', wrt: readonly string[]): string[] {
  const { naming, stepName } = programNaming(g, style);
  const lossName = g.model.loss.name;
  const lines: string[] = [];
  const printed = new Map<Node, string>();
  for (const s of g.steps) {
    if (s.kind === 'param' && !wrt.includes(s.of)) continue;
    const name = gradName(lossName, s.of, style);
    const earlier = printed.get(s.node);
    const rhs = earlier ?? printExpr(s.node, style, naming);
    if (!earlier) printed.set(s.node, stepName.get(s.node) === name ? name : stepName.get(s.node) ?? name);
    lines.push(style === 'latex' ? `${name} &= ${rhs}` : `${name} = ${rhs}`);
  }
  for (const w of wrt) if (g.grads.get(w) === null) lines.push(`${gradName(lossName, w, style)} = 0`);
  return lines;
}

export function formatGradients(g: Gradients, format: GradFormat, inline: boolean, wrt: readonly string[]): string {
  const shapeOf = (name: string) => g.model.params.find((p) => p.name === name)!.shape;
  const loss = g.model.loss.name;
  switch (format) {
    case 'text':
      if (!inline) return programLines(g, 'text', wrt).join('\n');
      return wrt.map((w) => `${gradName(loss, w, 'text')} = ${closedForm(g.grads.get(w) ?? null, shapeOf(w), 'text')}`).join('\n');
    case 'latex': {
      const lines = inline
        ? wrt.map((w) => `${gradName(loss, w, 'latex')} &= ${closedForm(g.grads.get(w) ?? null, shapeOf(w), 'latex')}`)
        : programLines(g, 'latex', wrt);
      return ['\\begin{aligned}', lines.join(' \\\\\n'), '\\end{aligned}'].join('\n');
    }
    case 'mathjs':
      return wrt.map((w) => `${gradName(loss, w, 'text')} = ${closedForm(g.grads.get(w) ?? null, shapeOf(w), 'mathjs')}`).join('\n');
    case 'json': {
      // Object.fromEntries defines own properties: a param named __proto__ stays a key, not a prototype.
      const wrtObj = Object.fromEntries(wrt.map((w) => [w, {
        shape: [...shapeOf(w)],
        formula: closedForm(g.grads.get(w) ?? null, shapeOf(w), 'mathjs'),
        text: closedForm(g.grads.get(w) ?? null, shapeOf(w), 'text'),
      }]));
      const program = programLines(g, 'text', wrt).map((line) => {
        const eq = line.indexOf(' = ');
        return { name: line.slice(0, eq), text: line.slice(eq + 3) };
      });
      return JSON.stringify({ wrt: wrtObj, program }, null, 2);
    }
  }
}


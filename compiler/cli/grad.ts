// `gradc grad`: the derived gradients as a backward program (text, latex) or as closed expressions
// (--inline, mathjs, json). SPEC §2 fixes the mathjs and json forms.

import type { Gradients } from '../autodiff/gradients.js';
import type { Node } from '../ir/node.js';
import { substitute } from '../ir/node.js';
import type { Style } from '../ir/op.js';
import { printExpr } from '../ir/print.js';
import { expandDerivedFns, gradName, programNaming } from './naming.js';
import { targetOf } from '../verify/target.js';
import { prettify } from '../simplify/pretty.js';
import { simplify } from '../simplify/index.js';
import * as B from '../ir/build.js';

export type GradFormat = 'text' | 'latex' | 'mathjs' | 'json';

const zero = (shape: readonly number[]) => (shape.length ? `zeros(${shape.join(', ')})` : '0');

/** One closed expression per gradient over inputs, params, dims and user fns. */
export function closedForm(n: Node | null, shape: readonly number[], style: Style, dimNames: ReadonlyMap<number, string> = new Map()): string {
  if (!n) return style === 'latex' ? '0' : zero(shape);
  // mathjs has no names for a model's consts: their values go in first, so that 2 * lambda folds to 0.02.
  const valued = style === 'mathjs' ? simplify(substitute(n, (m) => (m.op === 'const' && typeof m.attr.name === 'string' ? B.constant(m.attr.value as number, m.shape) : undefined))) : n;
  const readable = prettify(valued); // the Cookbook's form; code generation keeps the cheaper one
  return printExpr(style === 'mathjs' ? expandDerivedFns(readable) : readable, style, undefined, dimNames);
}

/** Sizes that exactly one dim of the model has, by that dim's name (ones(n, n), not ones(3, 3)). */
export function uniqueDimNames(g: Gradients): Map<number, string> {
  const byValue = new Map<number, string[]>();
  for (const [name, d] of g.model.dims) byValue.set(d.value, [...(byValue.get(d.value) ?? []), name]);
  return new Map([...byValue].filter(([, names]) => names.length === 1).map(([v, [name]]) => [v, name]));
}

/** What `--wrt` names: a parameter, or (to check backprop step by step) an input or a named value. */
export interface WrtGrad { readonly name: string; readonly shape: readonly number[]; readonly node: Node | null; readonly kind: 'param' | 'value' | 'input' }

/**
 * The backward program, one step per line: `dL/dz2 = softmax(z2) - onehot(y, K)`. Steps of named values
 * are printed up to the last one asked for (all of them for a param or an input: they lead there);
 * inputs come last, written over the program's names (dL/dx = W1' * dL/dz1).
 */
export function programLines(g: Gradients, style: 'text' | 'latex', wrt: readonly WrtGrad[]): string[] {
  const { naming, stepName } = programNaming(g, style);
  const lossName = g.model.loss.name;
  const wanted = new Set(wrt.map((w) => w.name));
  const anyParam = wrt.some((w) => w.kind !== 'value');
  let last = g.steps.length - 1;
  if (!anyParam) last = Math.max(-1, ...g.steps.map((s, i) => (wanted.has(s.of) ? i : -1)));
  const lines: string[] = [];
  const printed = new Map<Node, string>();
  const line = (name: string, rhs: string) => lines.push(style === 'latex' ? `${name} &= ${rhs}` : `${name} = ${rhs}`);
  g.steps.forEach((s, i) => {
    if (i > last || (s.kind === 'param' && !wanted.has(s.of))) return;
    const name = gradName(lossName, s.of, style);
    const earlier = printed.get(s.node);
    const rhs = earlier ?? printExpr(s.node, style, naming);
    if (!earlier) printed.set(s.node, stepName.get(s.node) === name ? name : stepName.get(s.node) ?? name);
    line(name, rhs);
  });
  for (const w of wrt) {
    if (w.node === null) { line(gradName(lossName, w.name, style), '0'); continue; }
    if (w.kind === 'input' || (w.kind === 'value' && !g.steps.some((s) => s.of === w.name))) line(gradName(lossName, w.name, style), printExpr(w.node, style, naming));
  }
  return lines;
}

/** Resolve names: a parameter's gradient comes with the model's; any other name's is derived on its own. */
export function wrtGrads(g: Gradients, names: readonly string[]): WrtGrad[] {
  return names.map((name) => {
    const p = g.model.params.find((q) => q.name === name);
    if (p) return { name, shape: p.shape, node: g.grads.get(name) ?? null, kind: 'param' };
    const t = targetOf(g.model, name);
    return { name, shape: t.node.shape, node: B.isConst(t.derived, 0) ? null : t.derived, kind: t.kind };
  });
}

export function formatGradients(g: Gradients, format: GradFormat, inline: boolean, names: readonly (string | WrtGrad)[]): string {
  const loss = g.model.loss.name;
  const wrt = names.map((w) => (typeof w === 'string' ? wrtGrads(g, [w])[0] : w));
  const dims = uniqueDimNames(g);
  const closed = (w: WrtGrad, style: Style) => closedForm(w.node, w.shape, style, dims);
  switch (format) {
    case 'text':
      if (!inline) return programLines(g, 'text', wrt).join('\n');
      return wrt.map((w) => `${gradName(loss, w.name, 'text')} = ${closed(w, 'text')}`).join('\n');
    case 'latex': {
      const lines = inline
        ? wrt.map((w) => `${gradName(loss, w.name, 'latex')} &= ${closed(w, 'latex')}`)
        : programLines(g, 'latex', wrt);
      // An aligned block (KaTeX and amsmath), rows spaced so fractions do not touch; `--standalone` wraps
      // it in \[ … \] to paste into a document.
      return ['\\begin{aligned}', lines.join(' \\\\[0.4em]\n'), '\\end{aligned}'].join('\n');
    }
    case 'mathjs':
      return wrt.map((w) => `${gradName(loss, w.name, 'text')} = ${closed(w, 'mathjs')}`).join('\n');
    case 'json': {
      // Object.fromEntries defines own properties: a param named __proto__ stays a key, not a prototype.
      const wrtObj = Object.fromEntries(wrt.map((w) => [w.name, { shape: [...w.shape], formula: closed(w, 'mathjs'), text: closed(w, 'text') }]));
      const program = programLines(g, 'text', wrt).map((l) => {
        const eq = l.indexOf(' = ');
        return { name: l.slice(0, eq), text: l.slice(eq + 3) };
      });
      return JSON.stringify({ wrt: wrtObj, program }, null, 2);
    }
  }
}

// Printing IR as text (the language's own syntax), mathjs syntax, or LaTeX. Each op prints itself
// (op.ts: print); this module supplies the context: precedence, parentheses, and names for nodes that
// should appear by name (the model's intermediates, `dL/dz2`) instead of being written out.

import type { Node } from './node.js';
import { opOf } from './node.js';
import type { PrintCtx, Printed, Style } from './op.js';
import { PREC } from './op.js';
import { paren, printed } from './ops/common.js';

/** Names to print instead of expressions; the root itself is always written out. */
export type Naming = (n: Node) => string | undefined;

/** `dimNames`: sizes to print by name (n rather than 3 in ones(n, n)), for sizes only one dim has. */
export function printExpr(root: Node, style: Style, naming: Naming = () => undefined, dimNames: ReadonlyMap<number, string> = new Map(), opts: { matrixNotation?: boolean } = {}): string {
  const memo = new Map<Node, Printed>();
  const show = (n: Node, isRoot: boolean): Printed => {
    if (!isRoot) {
      const name = naming(n);
      if (name !== undefined) return printed(name);
    }
    const cached = isRoot ? undefined : memo.get(n);
    if (cached) return cached;
    // A per-channel vector in an elementwise op over an image: mathjs would align it with the last axis.
    const perChannel = style === 'mathjs' && n.rank === 3 && (n.op === 'call' || 'emit' in opOf(n.op));
    const argOf = (i: number): Printed => {
      const a = show(n.args[i], false);
      return perChannel && n.args[i].rank === 1 ? printed(`per_channel(${a.s}, ${n.shape[1]}, ${n.shape[2]})`) : a;
    };
    const ctx: PrintCtx = {
      style, node: n, matrixNotation: style === 'text' && opts.matrixNotation === true,
      arg: (i, min = 0) => paren(argOf(i), min, style),
      raw: (i) => argOf(i),
      print: (m, min) => paren(show(m, false), min, style),
      sizes: (shape) => shape.map((k) => dimNames.get(k) ?? String(k)).join(', '),
      call: (name, args, latexName) => style === 'latex'
        ? printed(`${latexName ?? `\\operatorname{${name}}`}${latexParens(args.join(', '))}`)
        : printed(`${name}(${args.join(', ')})`),
    };
    const out = opOf(n.op).print(ctx);
    if (!isRoot) memo.set(n, out);
    return out;
  };
  return show(root, true).s;
}

/**
 * A function's argument list in LaTeX: plain parentheses around flat arguments (f(z), with no space after
 * the name), growing ones only around a fraction or another tall argument, with \\mathopen{} so that TeX
 * does not put a space between the name and \\left(.
 */
export function latexParens(inner: string): string {
  return /\\frac|\\sum/.test(inner) ? `\\mathopen{}\\left(${inner}\\right)\\mathclose{}` : `(${inner})`;
}

/** x^{\\top} for a leaf, a^{(1)\\top} for a^{(1)} (one superscript, not a second one floating above the first). */
export function latexTranspose(base: string): string {
  const m = /^([A-Za-z]|\\[A-Za-z]+|\\mathrm\{[^{}]*\})\^\{([^{}]*(?:\{[^{}]*\})?[^{}]*)\}$/.exec(base);
  if (m) return `${m[1]}^{${m[2]}\\top}`;
  return /^[A-Za-z]$|^\\[A-Za-z]+$/.test(base) ? `${base}^{\\top}` : `{${base}}^{\\top}`;
}

export { PREC };

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
  return new ExprPrinter(style, naming, dimNames, style === 'text' && opts.matrixNotation === true).show(root, true).s;
}

/**
 * One printing of an expression: the nodes printed so far, and what every node's context shares. Classes
 * rather than closures made per node: printing is hot (the differential tester prints every gradient in three
 * styles), and under the tests' loader each closure made cost a call that named it (6 % of a random-model run).
 */
class ExprPrinter {
  private readonly memo = new Map<Node, Printed>();
  constructor(readonly style: Style, private readonly naming: Naming, private readonly dimNames: ReadonlyMap<number, string>, readonly matrixNotation: boolean) {}

  show(n: Node, isRoot: boolean): Printed {
    if (!isRoot) {
      const name = this.naming(n);
      if (name !== undefined) return printed(name);
      const cached = this.memo.get(n);
      if (cached) return cached;
    }
    const out = opOf(n.op).print(new NodeContext(this, n));
    if (!isRoot) this.memo.set(n, out);
    return out;
  }

  sizes(shape: readonly number[]): string {
    let out = '';
    for (const k of shape) out += `${out ? ', ' : ''}${this.dimNames.get(k) ?? String(k)}`;
    return out;
  }
}

/** The context a node's op prints itself in (op.ts PrintCtx). */
class NodeContext implements PrintCtx {
  readonly style: Style;
  readonly matrixNotation: boolean;
  /** A per-channel vector in an elementwise op over an image: mathjs would align it with the last axis. */
  private readonly perChannel: boolean;
  constructor(private readonly printer: ExprPrinter, readonly node: Node) {
    this.style = printer.style;
    this.matrixNotation = printer.matrixNotation;
    this.perChannel = printer.style === 'mathjs' && node.rank === 3 && (node.op === 'call' || 'emit' in opOf(node.op));
  }

  raw(i: number): Printed {
    const a = this.printer.show(this.node.args[i], false);
    return this.perChannel && this.node.args[i].rank === 1 ? printed(`per_channel(${a.s}, ${this.node.shape[1]}, ${this.node.shape[2]})`) : a;
  }

  arg(i: number, min = 0): string { return paren(this.raw(i), min, this.style); }

  print(m: Node, min: number): string { return paren(this.printer.show(m, false), min, this.style); }

  sizes(shape: readonly number[]): string { return this.printer.sizes(shape); }

  call(name: string, args: string[], latexName?: string): Printed {
    return this.style === 'latex'
      ? printed(`${latexName ?? `\\operatorname{${name}}`}${latexParens(args.join(', '))}`)
      : printed(`${name}(${args.join(', ')})`);
  }
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

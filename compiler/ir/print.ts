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

export function printExpr(root: Node, style: Style, naming: Naming = () => undefined): string {
  const memo = new Map<Node, Printed>();
  const show = (n: Node, isRoot: boolean): Printed => {
    if (!isRoot) {
      const name = naming(n);
      if (name !== undefined) return printed(name);
    }
    const cached = isRoot ? undefined : memo.get(n);
    if (cached) return cached;
    const ctx: PrintCtx = {
      style, node: n,
      arg: (i, min = 0) => paren(show(n.args[i], false), min, style),
      raw: (i) => show(n.args[i], false),
      print: (m, min) => paren(show(m, false), min, style),
      call: (name, args, latexName) => style === 'latex'
        ? printed(`${latexName ?? `\\operatorname{${name}}`}\\left(${args.join(', ')}\\right)`)
        : printed(`${name}(${args.join(', ')})`),
    };
    const out = opOf(n.op).print(ctx);
    if (!isRoot) memo.set(n, out);
    return out;
  };
  return show(root, true).s;
}

export { PREC };

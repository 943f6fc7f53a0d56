// A normal form for deciding "symbolically identical": sums and elementwise products are flattened, their
// operands sorted by structure, and negations and constant factors collected in front. It is used only to
// compare, so the order in which gradc prints formulas is left as the derivation produced it.

import type { Node } from '../ir/node.js';
import { make, topo } from '../ir/node.js';
import * as B from '../ir/build.js';
import { printExpr } from '../ir/print.js';
import { simplify } from '../simplify/index.js';

export function canonical(root: Node): Node {
  const memo = new Map<Node, Node>();
  for (const n of topo([simplify(root)])) {
    const args = n.args.map((a) => memo.get(a)!);
    let out = args.every((a, i) => a === n.args[i]) ? n : make(n.op, args, n.attr);
    // x / c is (1/c)·x, so that 2r/3 and (2/3)·r meet.
    if (out.op === 'div' && out.args[1].op === 'const' && out.args[1].isScalar) out = B.mul(B.constant(1 / (out.args[1].attr.value as number)), out.args[0]);
    if (out.op === 'mul' || out.op === 'add') out = regroup(out);
    memo.set(n, out);
  }
  return simplify(memo.get(simplify(root))!);
}

function regroup(n: Node): Node {
  const op = n.op;
  const items: Node[] = [];
  let sign = 1, coef = op === 'mul' ? 1 : 0;
  const walk = (m: Node, s: number) => {
    if (m.op === op) { walk(m.args[0], s); walk(m.args[1], op === 'mul' ? 1 : s); if (op === 'mul') return; return; }
    if (m.op === 'neg') {
      if (op === 'mul') { sign = -sign; walk(m.args[0], 1); return; }
      walk(m.args[0], -s); return;
    }
    if (m.op === 'const' && m.isScalar) { if (op === 'mul') coef *= m.attr.value as number; else coef += s * (m.attr.value as number); return; }
    items.push(s < 0 ? B.neg(m) : m);
  };
  walk(n, 1);
  items.sort((a, b) => key(a).localeCompare(key(b)));
  if (op === 'mul') {
    const factor = sign * coef;
    let acc: Node | undefined;
    for (const it of items) acc = acc ? B.mul(acc, it) : it;
    if (!acc) return B.constant(factor, n.shape);
    if (factor !== 1) acc = B.mul(B.constant(factor), acc);
    return acc.shape.length === n.shape.length ? acc : n;
  }
  // A sum whose first term is negated is written −(…) with that term positive, so 1 − σ and σ − 1 differ
  // only by a sign, which the enclosing product collects.
  const flip = items.length > 0 && items[0].op === 'neg';
  const terms = flip ? items.map((it) => (it.op === 'neg' ? it.args[0] : B.neg(it))) : items;
  const c = flip ? -coef : coef;
  let acc: Node | undefined = c !== 0 ? B.constant(c) : undefined;
  for (const it of terms) acc = acc ? B.add(acc, it) : it;
  if (!acc) return B.constant(0, n.shape);
  if (acc.shape.length !== n.shape.length) return n;
  return flip ? B.neg(acc) : acc;
}

const keys = new Map<Node, string>();
function key(n: Node): string {
  let k = keys.get(n);
  if (!k) { k = printExpr(n.op === 'neg' ? n.args[0] : n, 'text'); keys.set(n, k); }
  return k;
}

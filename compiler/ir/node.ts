// The IR: an immutable, hash-consed tensor expression DAG. `make(op, args, attr)` returns the existing node
// for an identical (op, args, attr), so `===` is structural equality and common subexpressions are shared
// by construction. Every node carries its shape; source spans live in a side table (spans.ts) so that two
// identical expressions written in different places still merge.

import type { OpDef } from './op.js';

export type Shape = readonly number[];

/** A user `fn`: a scalar body over `var` leaves, applied elementwise. Compared by identity. */
export interface FnDef {
  readonly id: number;
  readonly name: string;
  readonly params: readonly string[];
  readonly body: Node;          // over `var` leaves named by params
  readonly derivedFrom?: { fn: FnDef; arg: number }; // set on ∂fn/∂arg, which mathjs output writes out
}

export type AttrValue = number | string | boolean | FnDef | readonly number[];
export type Attr = Readonly<Record<string, AttrValue>>;

export class Node {
  private static nextId = 0;
  readonly id = Node.nextId++;
  constructor(
    readonly op: string,
    readonly args: readonly Node[],
    readonly attr: Attr,
    readonly shape: Shape,
    readonly key: string,
  ) { Object.freeze(this); }
  get size(): number { return sizeOf(this.shape); }
  get rank(): number { return this.shape.length; }
  get isScalar(): boolean { return this.shape.length === 0; }
}

export function sizeOf(shape: Shape): number { return shape.reduce((a, b) => a * b, 1); }
export function sameShape(a: Shape, b: Shape): boolean { return a.length === b.length && a.every((d, i) => d === b[i]); }
export function showShape(s: Shape): string { return `[${s.join(', ')}]`; }

const table = new Map<string, Node>();
const ops = new Map<string, OpDef>();

export function registerOp(def: OpDef): void {
  if (ops.has(def.name)) throw new Error(`op ${def.name} registered twice`);
  ops.set(def.name, def);
}
export function opOf(name: string): OpDef {
  const def = ops.get(name);
  if (!def) throw new Error(`unknown op ${name}`);
  return def;
}
export function allOps(): OpDef[] { return [...ops.values()]; }

function attrKey(attr: Attr): string {
  const keys = Object.keys(attr).sort();
  return keys.map((k) => {
    const v = attr[k];
    return `${k}=${typeof v === 'object' && !Array.isArray(v) ? `fn#${(v as FnDef).id}` : JSON.stringify(v)}`;
  }).join(',');
}

/** The one way to build a node. Its shape comes from the op's shape rule, which throws on a mismatch. */
export function make(op: string, args: readonly Node[], attr: Attr = {}): Node {
  const key = `${op}(${args.map((a) => a.id).join(',')}){${attrKey(attr)}}`;
  const found = table.get(key);
  if (found) return found;
  const def = opOf(op);
  if (def.arity !== 'any' && def.arity !== args.length) throw new Error(`${op} takes ${def.arity} arguments, got ${args.length}`);
  const shape = Object.freeze([...def.shape(args.map((a) => a.shape), attr)]);
  const node = new Node(op, Object.freeze([...args]), Object.freeze({ ...attr }), shape, key);
  table.set(key, node);
  return node;
}

/** Nodes reachable from the roots, each after its arguments (post-order). */
export function topo(roots: readonly Node[]): Node[] {
  const seen = new Set<Node>();
  const order: Node[] = [];
  const stack: [Node, number][] = roots.map((r) => [r, 0]);
  stack.reverse();
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [n, i] = top;
    if (i === 0 && seen.has(n)) { stack.pop(); continue; }
    if (i === 0) seen.add(n);
    if (i < n.args.length) {
      top[1]++;
      const a = n.args[i];
      if (!seen.has(a)) stack.push([a, 0]);
    } else {
      stack.pop();
      order.push(n);
    }
  }
  return order;
}

/** Rebuild `root` with some nodes replaced; unchanged parts stay the same objects. */
export function substitute(root: Node, replace: (n: Node) => Node | undefined): Node {
  const memo = new Map<Node, Node>();
  for (const n of topo([root])) {
    const r = replace(n);
    if (r) { memo.set(n, r); continue; }
    const args = n.args.map((a) => memo.get(a)!);
    memo.set(n, args.every((a, i) => a === n.args[i]) ? n : make(n.op, args, n.attr));
  }
  return memo.get(root)!;
}

// The rewrite engine: rules indexed by op, applied bottom-up to a fixpoint and memoised on node identity.
// Because the IR is hash-consed, "nothing changed" is `result === node`, and simplify(simplify(e)) is
// simplify(e) by construction: every result is recorded as its own simplified form.

import type { Node } from '../ir/node.js';
import { make, sameShape, topo } from '../ir/node.js';

export interface Rule {
  readonly name: string;
  readonly op: string;
  /** The rewritten node, or undefined when the rule does not apply. */
  readonly apply: (n: Node) => Node | undefined;
  /** Set on rules that replace a numerically unsafe form by a stable one; `gradc check` reports them. */
  readonly stable?: StableInfo;
}

export interface StableInfo {
  /** Values for the rewritten node's leaves where the naive form overflows: built per firing. */
  readonly witness: string;
}

export interface Firing { readonly rule: Rule; readonly before: Node; readonly after: Node }

const MAX_STEPS = 10_000;

export class Simplifier {
  private readonly byOp = new Map<string, Rule[]>();
  private readonly memo = new Map<Node, Node>();
  readonly firings: Firing[] = [];

  constructor(rules: readonly Rule[]) {
    for (const r of rules) {
      const list = this.byOp.get(r.op) ?? [];
      list.push(r);
      this.byOp.set(r.op, list);
    }
  }

  simplify(root: Node): Node {
    const done = this.memo.get(root);
    if (done) return done;
    for (const n of topo([root])) {
      if (this.memo.has(n)) continue;
      const args = n.args.map((a) => this.memo.get(a)!);
      const rebuilt = args.every((a, i) => a === n.args[i]) ? n : make(n.op, args, n.attr);
      const out = this.rewrite(rebuilt);
      this.memo.set(n, out);
      this.memo.set(out, out);
    }
    return this.memo.get(root)!;
  }

  /** Apply rules at the root of a node whose arguments are already simplified, until none applies. */
  private rewrite(n: Node): Node {
    let cur = n;
    for (let steps = 0; steps < MAX_STEPS; steps++) {
      const known = this.memo.get(cur);
      if (known && known !== cur) return known;
      const next = this.applyOnce(cur);
      if (next === undefined) return cur;
      // The rule built new nodes whose arguments may not be simplified yet: simplify them, then go on at the root.
      const args = next.args.map((a) => this.simplify(a));
      cur = args.every((a, i) => a === next.args[i]) ? next : make(next.op, args, next.attr);
    }
    throw new Error(`simplifier did not reach a fixpoint on ${n.op}`);
  }

  private applyOnce(n: Node): Node | undefined {
    for (const rule of this.byOp.get(n.op) ?? []) {
      const r = rule.apply(n);
      if (r !== undefined && r !== n) {
        // A rewrite is an equality: it may never change a shape (that would break the node's consumers).
        if (!sameShape(r.shape, n.shape)) throw new Error(`rule ${rule.name} changed the shape [${n.shape.join(', ')}] to [${r.shape.join(', ')}]`);
        this.firings.push({ rule, before: n, after: r });
        return r;
      }
    }
    return undefined;
  }
}

// Reverse mode (backpropagation) over the IR — the chain rule, once, for every op. Walk the graph from the
// loss back to the parameters; ask each op for its vector–Jacobian product; add up the contributions of a
// value used in several places; reduce broadcast contributions back to the argument's shape. No per-op code
// lives here, and symbolic zeros (null) never enter the graph.

import type { Node } from '../ir/node.js';
import { opOf, topo } from '../ir/node.js';
import * as B from '../ir/build.js';
import { unbroadcast } from './unbroadcast.js';

/** ∂root/∂n for every node n on a path from `wrt` to `root`; absent means a symbolic zero. */
export function reverse(root: Node, wrt: readonly Node[], seed: Node = B.constant(1, root.shape)): Map<Node, Node> {
  const order = topo([root]);
  const targets = new Set(wrt);
  // Only nodes that depend on some wrt node carry a gradient worth building.
  const depends = new Set<Node>();
  for (const n of order) if (targets.has(n) || n.args.some((a) => depends.has(a))) depends.add(n);

  const adjoint = new Map<Node, Node>();
  if (depends.has(root)) adjoint.set(root, seed);
  for (let k = order.length - 1; k >= 0; k--) {
    const n = order[k];
    const g = adjoint.get(n);
    if (!g || n.args.length === 0) continue;
    const contributions = opOf(n.op).vjp(g, n);
    n.args.forEach((arg, i) => {
      const c = contributions[i];
      if (!c || !depends.has(arg)) return;
      const reduced = unbroadcast(c, arg.shape);
      const prev = adjoint.get(arg);
      adjoint.set(arg, prev ? B.add(prev, reduced) : reduced); // a value used twice gets both contributions
    });
  }
  return adjoint;
}

// Directional derivatives (Jacobian–vector products) with nothing but the reverse rules: for y = f(x),
// J v = ∂/∂u ⟨Jᵀu, v⟩ — differentiate the backward pass of ⟨y, u⟩ once more, in u. The result is linear in
// u's absence (u drops out), so it is an expression over x and v alone. `explain --hvp` uses it to write
// the R-operator R{y} = d/dt y(x + t v) of each step, the second-order chain rule for one direction.

import type { Node } from '../ir/node.js';
import * as B from '../ir/build.js';
import { simplify } from '../simplify/index.js';
import { reverse } from './reverse.js';

/** ⟨a, v⟩ for tensors of one shape. */
export function inner(a: Node, v: Node): Node {
  if (a.isScalar) return B.mul(a, v);
  if (a.rank === 1) return B.dot(a, v);
  return B.sum(B.mul(a, v));
}

/** Σₖ (∂y/∂xₖ) dₖ for the leaves xₖ of `directions` (each with a direction dₖ of its shape), simplified. */
export function jvp(y: Node, directions: ReadonlyMap<Node, Node>): Node {
  const u = B.variable('__jvp_u', y.shape);
  const adjoints = reverse(inner(y, u), [...directions.keys()]);
  let pairing: Node | undefined;
  for (const [x, d] of directions) {
    const a = adjoints.get(x);
    if (a) pairing = pairing ? B.add(pairing, inner(a, d)) : inner(a, d);
  }
  const r = pairing && reverse(pairing, [u]).get(u);
  return r ? simplify(r) : B.constant(0, y.shape);
}

// Names for printing gradients: forward values by the model's own names, gradient steps as dL/dz2
// (∂L/∂z^{(2)} in LaTeX), and derived fns written out where a format needs closed expressions.

import type { Gradients } from '../autodiff/gradients.js';
import type { Node } from '../ir/node.js';
import { sameShape, substitute } from '../ir/node.js';
import * as B from '../ir/build.js';
import type { Style } from '../ir/op.js';
import { fnOf } from '../ir/ops/call.js';
import { latexName } from '../ir/ops/leaves.js';
import type { Naming } from '../ir/print.js';
import { stepNames, valueNames } from '../autodiff/names.js';
export { gradName } from '../autodiff/names.js';

/** Names for the backward program: forward values on the loss's path, and earlier steps. */
export function programNaming(g: Gradients, style: Style): { naming: Naming; stepName: Map<Node, string> } {
  const names = valueNames(g, { lossPathOnly: true });
  if (style === 'latex') for (const [n, v] of names) names.set(n, latexName(v));
  const stepName = stepNames(g, style);
  const naming: Naming = (n) => stepName.get(n) ?? names.get(n);
  return { naming, stepName };
}

/** Replace each call of a derived fn (f′) by its body, so the expression names only the user's own fns. */
export function expandDerivedFns(root: Node): Node {
  return substitute(root, (n) => {
    if (n.op !== 'call' || !fnOf(n).derivedFrom) return undefined;
    const fn = fnOf(n);
    const args = n.args.map(expandDerivedFns);
    const body = expandDerivedFns(substitute(fn.body, (m) => (m.op === 'var' ? args[fn.params.indexOf(m.attr.name as string)] : undefined)));
    // A body that ignores its tensor arguments (f(t, u) = -u has ∂f/∂u = -1) still has the call's shape.
    return sameShape(body.shape, n.shape) ? body : B.fill(body, n.shape);
  });
}

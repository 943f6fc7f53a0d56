// What a claim is compared with: ∂L/∂X for a parameter X, or for a named intermediate value (dL/dz2), as
// an IR expression over the model's inputs and params, plus the loss as a function of X for finite
// differences.

import { deriveGradients, type Gradients } from '../autodiff/gradients.js';
import { reverse } from '../autodiff/reverse.js';
import type { Model } from '../frontend/model.js';
import type { Node } from '../ir/node.js';
import { substitute } from '../ir/node.js';
import * as B from '../ir/build.js';
import { PlainError } from '../source/diagnostics.js';
import { simplify } from '../simplify/index.js';

export interface Target {
  readonly name: string;
  readonly kind: 'param' | 'value';
  /** The forward node X (a param leaf, or the simplified intermediate). */
  readonly node: Node;
  /** ∂L/∂X, simplified, over inputs and params; a zero constant when L does not depend on X. */
  readonly derived: Node;
  /** L with X replaced by the leaf `__wrt` (for finite differences in X). */
  readonly lossOfX: Node;
  readonly g: Gradients;
}

export const WRT_VAR = '__wrt';

export function targetOf(model: Model, name: string): Target {
  const g = deriveGradients(model);
  const param = model.params.find((p) => p.name === name);
  const value = model.values.find((v) => v.name === name && v.role !== 'loss');
  if (!param && !value) {
    const names = [...model.params.map((p) => p.name), ...model.values.filter((v) => v.role !== 'loss').map((v) => v.name)];
    throw new PlainError(`--wrt ${name}: '${name}' is not a parameter or a named value of ${model.name} (choose one of ${names.join(', ')})`);
  }
  const node = param ? param.node : g.forward.get(name)!;
  const v = B.variable(WRT_VAR, node.shape);
  const lossOfX = substitute(g.loss, (n) => (n === node ? v : undefined));
  let derived: Node;
  if (param) derived = g.grads.get(name) ?? B.constant(0, node.shape);
  else {
    const adj = reverse(lossOfX, [v]).get(v);
    derived = adj ? simplify(substitute(adj, (n) => (n === v ? node : undefined))) : B.constant(0, node.shape);
  }
  return { name, kind: param ? 'param' : 'value', node, derived, lossOfX, g };
}

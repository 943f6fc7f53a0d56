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
  readonly kind: 'param' | 'value' | 'input';
  /** The forward node X (a param leaf, or the simplified intermediate). */
  readonly node: Node;
  /** ∂L/∂X, simplified, over inputs and params; a zero constant when L does not depend on X. */
  readonly derived: Node;
  /** L with X replaced by the leaf `__wrt` (for finite differences in X). */
  readonly lossOfX: Node;
  readonly g: Gradients;
}

export const WRT_VAR = '__wrt';

/** The names a gradient can be taken with respect to: params, inputs other than class labels, named values. */
export function differentiableNames(model: Model): string[] {
  return [...model.params.map((p) => p.name), ...model.inputs.filter((i) => i.classes === undefined).map((i) => i.name),
    ...model.values.filter((v) => v.role !== 'loss').map((v) => v.name)];
}

/**
 * By the loss node, not the Model object: the IR is hash-consed, so every parse of one model (each claim of a
 * class's answers is read with the model) has the same loss node, and derives its gradients once.
 */
const cache = new WeakMap<Node, Map<string, Target>>();

export function targetOf(model: Model, name: string): Target {
  const known = cache.get(model.loss.node)?.get(name);
  if (known) return known;
  const g = deriveGradients(model);
  const param = model.params.find((p) => p.name === name);
  const input = model.inputs.find((i) => i.name === name);
  const value = model.values.find((v) => v.name === name && v.role !== 'loss');
  if (input?.classes !== undefined) throw new PlainError(`--wrt ${name}: '${name}' is a class label, an integer: the loss has no gradient with respect to it`);
  if (!param && !value && !input) {
    throw new PlainError(`--wrt ${name}: '${name}' is not a parameter, input or named value of ${model.name} (choose one of ${differentiableNames(model).join(', ')})`);
  }
  const node = param ? param.node : input ? input.node : g.forward.get(name)!;
  const v = B.variable(WRT_VAR, node.shape);
  const lossOfX = substitute(g.loss, (n) => (n === node ? v : undefined));
  let derived: Node;
  if (param) derived = g.grads.get(name) ?? B.constant(0, node.shape);
  else {
    const adj = reverse(lossOfX, [v]).get(v);
    derived = adj ? simplify(substitute(adj, (n) => (n === v ? node : undefined))) : B.constant(0, node.shape);
  }
  const t: Target = { name, kind: param ? 'param' : input ? 'input' : 'value', node, derived, lossOfX, g };
  if (!cache.has(model.loss.node)) cache.set(model.loss.node, new Map());
  cache.get(model.loss.node)!.set(name, t);
  return t;
}

/** A claim with its `dL/dz2` placeholders replaced by the derived adjoints they name. */
export function resolveAdjoints(model: Model, claim: Node): Node {
  return substitute(claim, (n) => (n.op === 'var' && typeof n.attr.adjointOf === 'string' ? targetOf(model, n.attr.adjointOf).derived : undefined));
}

// The Hessian–vector product of a whole model as a second program for the code generator: forward over
// reverse, written as one more reverse pass over the backward program. H v = ∂/∂θ ⟨∇L(θ), v⟩ for a
// direction v with one tensor per parameter. The program looks to the code generator like any model's
// gradient: its "parameters" are the model's followed by the directions (shared by every example, as
// parameters are), and its "gradient" of each parameter is that parameter's block of H v — so the
// batched kernels, the wasm products and the fused loops all serve second order unchanged.

import type { Node } from '../ir/node.js';
import * as B from '../ir/build.js';
import { newSimplifier } from '../simplify/index.js';
import type { Gradients } from './gradients.js';
import { reverse } from './reverse.js';
import type { ParamDecl } from '../frontend/model.js';

/** The direction's name for a parameter: v_W1, unless the model uses it. */
export function directionNames(g: Gradients): string[] {
  const taken = new Set([...g.model.params.map((p) => p.name), ...g.model.inputs.map((i) => i.name), ...g.model.values.map((v) => v.name)]);
  return g.model.params.map((p) => {
    let name = `v_${p.name}`;
    while (taken.has(name)) name += '_';
    taken.add(name);
    return name;
  });
}

/** Σ over the model's parameters of ⟨∂L/∂θ, v_θ⟩, and ∂/∂θ of it: the blocks of H v. */
export function hvpGradients(g: Gradients): Gradients {
  const m = g.model;
  const names = directionNames(g);
  const dirs: ParamDecl[] = m.params.map((p, k) => ({ name: names[k], node: B.param(names[k], p.shape), shape: p.shape, init: { kind: 'const', value: 0 } as ParamDecl['init'], span: p.span }));
  let s: Node | undefined;
  m.params.forEach((p, k) => {
    const gp = g.grads.get(p.name);
    if (!gp) return;
    const d = dirs[k].node;
    const term = p.shape.length === 0 ? B.mul(gp, d) : p.shape.length === 1 ? B.dot(gp, d) : B.sum(B.mul(gp, d));
    s = s ? B.add(s, term) : term;
  });
  const simp = newSimplifier();
  const adj = s ? reverse(s, m.params.map((p) => p.node)) : new Map<Node, Node>();
  const grads = new Map<string, Node | null>();
  for (const p of m.params) { const a = adj.get(p.node); grads.set(p.name, a ? simp.simplify(a) : null); }
  for (const d of dirs) grads.set(d.name, null);
  return { ...g, model: { ...m, params: [...m.params, ...dirs] }, grads, steps: [] };
}

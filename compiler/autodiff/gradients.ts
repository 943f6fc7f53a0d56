// Gradients of a model: the forward graph in stable form, ∂L/∂param for every parameter, and the
// backward program — one named step per named forward value, the way the lecture writes backprop.

import type { Model } from '../frontend/model.js';
import type { Node } from '../ir/node.js';
import { opOf, topo } from '../ir/node.js';
import { newSimplifier } from '../simplify/index.js';
import type { Firing } from '../simplify/engine.js';
import './fn-derivative.js';
import { reverse } from './reverse.js';

export interface Step {
  /** `z2`, `W1`: the forward value whose gradient this step computes. */
  readonly of: string;
  readonly kind: 'value' | 'param';
  readonly node: Node; // the gradient expression
}

export interface Gradients {
  readonly model: Model;
  readonly loss: Node;                       // the simplified (stable) forward loss
  readonly outputs: ReadonlyMap<string, Node>;
  /** Simplified forward value for each named value, input and param. */
  readonly forward: ReadonlyMap<string, Node>;
  /** ∂L/∂param, or null where the loss does not depend on it. */
  readonly grads: ReadonlyMap<string, Node | null>;
  /** The backward program in order: named intermediate values, each followed by the params it feeds. */
  readonly steps: readonly Step[];
  readonly stableRewrites: readonly Firing[];
}

export function deriveGradients(model: Model, wrt: readonly string[] = model.params.map((p) => p.name)): Gradients {
  const simp = newSimplifier();
  const forward = new Map<string, Node>();
  for (const i of model.inputs) forward.set(i.name, i.node);
  for (const p of model.params) forward.set(p.name, p.node);
  for (const v of model.values) forward.set(v.name, simp.simplify(v.node));
  const loss = forward.get(model.loss.name)!;
  const stableRewrites = simp.firings.filter((f) => f.rule.stable);

  const params = model.params.filter((p) => wrt.includes(p.name));
  const adjoint = reverse(loss, params.map((p) => p.node));
  const simplified = (n: Node | undefined) => (n ? simp.simplify(n) : null);

  const grads = new Map<string, Node | null>();
  for (const p of params) grads.set(p.name, simplified(adjoint.get(p.node)));

  // Steps: named intermediates in reverse topological order; after each, the params whose gradient is
  // built directly from it (dL/dW2 = outer(dL/dz2, a1), dL/db2 = dL/dz2).
  const order = topo([loss]).reverse();
  const namedValues = model.values.filter((v) => v.role !== 'loss' && forward.get(v.name) !== loss);
  const valueSteps: Step[] = [];
  const seenNodes = new Set<Node>();
  for (const n of order) {
    for (const v of namedValues) {
      if (forward.get(v.name) !== n || seenNodes.has(n)) continue;
      const g = simplified(adjoint.get(n));
      if (!g) continue;
      seenNodes.add(n);
      valueSteps.push({ of: v.name, kind: 'value', node: g });
    }
  }
  // Each param goes after the last value step its gradient is built directly from.
  const after = new Map<number, Step[]>();
  for (const p of params) {
    const pg = grads.get(p.name);
    if (!pg) continue;
    let at = -1;
    // The terms of a sum count too: dL/dW2 = outer(dL/dz2, a1) + 2 * lambda * W2 goes after dL/dz2.
    const terms = sumTerms(pg);
    valueSteps.forEach((s, i) => { if (pg === s.node || pg.args.includes(s.node) || terms.some((t) => t === s.node || t.args.includes(s.node))) at = i; });
    after.set(at, [...(after.get(at) ?? []), { of: p.name, kind: 'param', node: pg }]);
  }
  const ordered: Step[] = [];
  valueSteps.forEach((s, i) => ordered.push(s, ...(after.get(i) ?? [])));
  ordered.push(...(after.get(-1) ?? []));
  const steps = definedBeforeUse(ordered);
  const outputs = new Map(model.outputs.map((o) => [o.name, forward.get(o.name)!]));
  return { model, loss, outputs, forward, grads, steps, stableRewrites };
}

/**
 * The steps reordered, as little as possible, so that a step whose expression contains another step's node
 * (printed by that step's name) comes after it: softmax regression's dL/dW = outer(dL/db, x) after dL/db.
 */
function definedBeforeUse(steps: readonly Step[]): Step[] {
  const out: Step[] = [];
  const placed = new Set<Step>();
  // A node is printed by the name of the first step that computes it; later ones are aliases (dL/db2 = dL/dz2).
  const named = new Map<Node, Step>();
  for (const s of steps) if (!named.has(s.node)) named.set(s.node, s);
  const place = (s: Step, visiting: Set<Step>): void => {
    if (placed.has(s) || visiting.has(s)) return;
    visiting.add(s);
    const inside = new Set(topo([s.node]));
    for (const t of named.values()) if (t.node !== s.node && inside.has(t.node)) place(t, visiting);
    placed.add(s);
    out.push(s);
  };
  for (const s of steps) place(s, new Set());
  return out;
}

/** The terms of a sum (a − b counts b as a term): what a gradient like outer(dL/dz2, a1) + 2λW2 is built from. */
export function sumTerms(n: Node): Node[] {
  if (n.op === 'add') return n.args.flatMap(sumTerms);
  if (n.op === 'neg') return sumTerms(n.args[0]);
  return [n];
}

/** Floating-point operations of everything reachable from `roots`, minus nodes in `exclude`. */
export function flopsOf(roots: readonly Node[], exclude: ReadonlySet<Node> = new Set()): { nodes: number; flops: number } {
  let nodes = 0, flops = 0;
  for (const n of topo(roots)) {
    if (exclude.has(n)) continue;
    nodes++;
    flops += opOf(n.op).flops(n);
  }
  return { nodes, flops };
}

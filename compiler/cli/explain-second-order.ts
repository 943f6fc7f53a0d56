// `gradc explain --hvp V.json`: the second-order chain rule for one direction, worked with numbers.
// Pearlmutter's R-operator R{X} = d/dt X(θ + t v) at t = 0 is applied to every line of the forward pass
// and then of the backward program, each written over the R{·} of the names it reads (R{z1} = R{W1} * x +
// R{b1}, R{dL/da1} = W2' * R{dL/dz2} + R{W2}' * dL/dz2); the parameters' lines end in H v, checked against
// central differences of the gradient along v.

import type { Gradients } from '../autodiff/gradients.js';
import { jvp } from '../autodiff/jvp.js';
import { gradName, valueNames } from '../autodiff/names.js';
import { evaluate, type Env } from '../ir/interpret.js';
import type { Node } from '../ir/node.js';
import { substitute, topo } from '../ir/node.js';
import * as B from '../ir/build.js';
import { printExpr } from '../ir/print.js';
import { prettify } from '../simplify/pretty.js';
import { toNested, type Tensor } from '../ir/tensor.js';
import { programNaming } from './naming.js';
import { showTensor, type ExplainedValue } from './explain.js';

export interface ExplainedSecondOrder {
  direction: Record<string, unknown>;
  forward: ExplainedValue[];
  backward: ExplainedValue[];
  check: { param: string; maxAbs: number; ok: boolean }[];
  ok: boolean;
}

const R = (name: string) => `R{${name}}`;

/** One line: X = f(names…) made over leaf variables named as printed, then its R{X} over R{names…}. */
function rLine(expr: Node, self: Node, naming: (n: Node) => string | undefined, params: readonly Node[]): { formula: Node; leaves: Map<string, Node>; over: Node } {
  const leaves = new Map<string, Node>();
  const over = substitute(expr, (m) => {
    const name = m === self ? undefined : naming(m);
    if (name === undefined || m.op === 'param' || m.op === 'input') return undefined;
    const leaf = B.variable(name, m.shape);
    leaves.set(name, leaf);
    return leaf;
  });
  const dirs = new Map<Node, Node>();
  for (const [name, leaf] of leaves) dirs.set(leaf, B.variable(R(name), leaf.shape));
  for (const p of params) if (topo([over]).includes(p)) dirs.set(p, B.variable(R(p.attr.name as string), p.shape));
  return { formula: jvp(over, dirs), leaves, over };
}

export function explainSecondOrder(g: Gradients, env: Env, directions: readonly Float64Array[]): ExplainedSecondOrder {
  const model = g.model, loss = model.loss.name;
  const params = model.params.map((p) => p.node);
  const forwardNames = valueNames(g);
  const forwardNamesOf = (m: Node) => forwardNames.get(m);
  const { naming } = programNaming(g, 'text');
  // Values by printed name (a1, dL/dz2) and their R{·}, filled line by line: the chain rule, in order.
  const values = new Map<string, Tensor>();
  const all = evaluate([...g.forward.values()], env);
  for (const [name, node] of g.forward) values.set(name, all.get(node)!);
  const rEnv = new Map(env);
  model.params.forEach((p, i) => rEnv.set(R(p.name), { shape: p.shape, data: directions[i] }));
  const entry = (name: string, formula: Node, t: Tensor, extra: Partial<ExplainedValue> = {}): ExplainedValue =>
    ({ name: R(name), formula: printExpr(prettify(formula), 'text'), shape: [...t.shape], value: toNested(t), ...extra, _t: t } as ExplainedValue);
  // Each named value as it reads over the leaves (a1 = sigmoid(z1)): the R formulas call it by its name again.
  const named = new Map<Node, Node>();
  for (const v of model.values) {
    const node = g.forward.get(v.name)!;
    named.set(rLine(node, node, (m) => forwardNames.get(m), []).over, B.variable(v.name, node.shape));
  }
  const byName = (n: Node) => substitute(n, (m) => named.get(m));
  const stepOf = new Map<Node, string>();
  const run = (name: string, node: Node, names: (n: Node) => string | undefined): { formula: Node; value: Tensor } => {
    const earlier = stepOf.get(node);
    const line = earlier === undefined ? rLine(node, node, names, params) : undefined;
    const formula = line ? byName(line.formula) : B.variable(R(earlier!), node.shape);
    const leaves = line?.leaves ?? new Map<string, Node>();
    if (earlier === undefined && names !== forwardNamesOf) stepOf.set(node, name);
    const e = new Map(rEnv);
    for (const l of leaves.keys()) e.set(l, values.get(l)!);
    for (const [k, v] of values) if (!e.has(k)) e.set(k, v);
    const value = evaluate([formula], e).get(formula)!;
    // The line's own value, for the lines after it (the forward values are known already; an adjoint is not).
    if (!values.has(name)) values.set(name, evaluate([node], env).get(node)!);
    rEnv.set(R(name), value);
    return { formula, value };
  };

  const forward: ExplainedValue[] = [];
  for (const v of model.values) {
    const node = g.forward.get(v.name)!;
    if (!topo([g.loss]).includes(node)) continue; // an output the loss does not read has no part in H v
    const r = run(v.name, node, forwardNamesOf);
    forward.push(entry(v.name, r.formula, r.value));
  }
  const backward: ExplainedValue[] = [];
  for (const s of g.steps) {
    const name = gradName(loss, s.of, 'text');
    const r = run(name, s.node, naming);
    backward.push(entry(name, r.formula, r.value, s.kind === 'param' ? { role: `(H v) for ${s.of}` } : {}));
  }
  const check = model.params.map((p, i) => {
    const hv = rEnv.get(R(gradName(loss, p.name, 'text')));
    const fd = gradientAlong(g, env, directions, i);
    let maxAbs = 0, scale = 0;
    const got = hv?.data ?? new Float64Array(fd.length);
    fd.forEach((x, k) => { maxAbs = Math.max(maxAbs, Math.abs(x - got[k])); scale = Math.max(scale, Math.abs(x)); });
    return { param: p.name, maxAbs, ok: maxAbs <= 1e-5 * Math.max(1, scale) };
  });
  const direction = Object.fromEntries(model.params.map((p, i) => [p.name, toNested({ shape: p.shape, data: directions[i] })]));
  return { direction, forward, backward, check, ok: check.every((c) => c.ok) };
}

/** (∇_p L(θ + h v) − ∇_p L(θ − h v)) / 2h: the p-block of H v by central differences of the derived gradient. */
function gradientAlong(g: Gradients, env: Env, directions: readonly Float64Array[], index: number): Float64Array {
  const p = g.model.params[index];
  const grad = g.grads.get(p.name);
  if (!grad) return new Float64Array(p.node.size);
  const at = (h: number) => {
    const e = new Map(env);
    g.model.params.forEach((q, i) => { const x = env.get(q.name)!; e.set(q.name, { shape: x.shape, data: x.data.map((xi, k) => xi + h * directions[i][k]) }); });
    return evaluate([grad], e).get(grad)!.data;
  };
  const h = 1e-5, plus = at(h), minus = at(-h);
  return Float64Array.from(plus, (x, k) => (x - minus[k]) / (2 * h));
}

export function secondOrderText(e: ExplainedSecondOrder, loss: string): string {
  const t = (v: ExplainedValue) => (v as unknown as { _t: Tensor })._t;
  const lines = ['', '', `second order along the direction v (the R-operator: R{X} = d/dt X(θ + t v) at t = 0; R{param} = v)`];
  const show = (v: ExplainedValue) => lines.push(`  ${v.name}: [${t(v).shape.join(', ')}] = ${v.formula}`, `     = ${showTensor(t(v))}${v.role ? `   ${v.role}` : ''}`);
  lines.push(' forward:');
  e.forward.forEach(show);
  lines.push(` backward (R{${gradName(loss, loss, 'text')}} = 0):`);
  e.backward.forEach(show);
  lines.push('', 'each H v against central differences of the gradient along v (float64)');
  for (const c of e.check) lines.push(`  (H v) for ${c.param}   max difference ${c.maxAbs.toExponential(1)}  ${c.ok ? 'ok' : 'MISMATCH'}`);
  lines.push(e.ok ? 'every H v agrees with central differences' : 'an H v disagrees with central differences: please report this as a gradc bug');
  return lines.join('\n');
}

// `gradc explain M.nn --point P.json`: backpropagation with numbers, the way a lecture works an example by
// hand. The forward pass value by value; then the backward pass step by step — each adjoint, the chain-rule
// step that made it (through which later value it flows back), and its value; then every parameter's
// gradient checked against central differences of the loss. All in float64, by the interpreter.

import { sumTerms, type Gradients } from '../autodiff/gradients.js';
import { gradName, stepNames, valueNames } from '../autodiff/names.js';
import type { Model } from '../frontend/model.js';
import { evaluate, type Env } from '../ir/interpret.js';
import type { Node } from '../ir/node.js';
import { topo } from '../ir/node.js';
import { printExpr } from '../ir/print.js';
import { toNested, type Tensor } from '../ir/tensor.js';
import { programNaming } from './naming.js';

/** A tensor as a person reads it: all of a small one, the first and last values and a summary of a big one. */
export function showTensor(t: Tensor): string {
  const num = (x: number) => (Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(5))));
  const d = Array.from(t.data);
  if (t.shape.length === 0) return num(d[0]);
  const summary = () => {
    let lo = Infinity, hi = -Infinity, sq = 0;
    for (const x of d) { lo = Math.min(lo, x); hi = Math.max(hi, x); sq += x * x; }
    return `(${t.shape.join('×')}: min ${num(lo)}, max ${num(hi)}, norm ${num(Math.sqrt(sq))})`;
  };
  if (t.shape.length === 1) {
    if (d.length <= 8) return `[${d.map(num).join(', ')}]`;
    return `[${d.slice(0, 4).map(num).join(', ')}, …, ${d.slice(-2).map(num).join(', ')}] ${summary()}`;
  }
  const [m, n] = t.shape;
  if (m <= 4 && n <= 4) return `[${Array.from({ length: m }, (_, i) => `[${d.slice(i * n, i * n + n).map(num).join(', ')}]`).join(', ')}]`;
  return summary();
}

/** One line of the worked example: a value or an adjoint, its formula, shape and value (nested arrays). */
export interface ExplainedValue { name: string; formula?: string; shape: number[]; value: unknown; role?: string; why?: string }
export interface Explained {
  model: string; point: string;
  forward: ExplainedValue[];
  backward: ExplainedValue[];
  check: { param: string; maxAbs: number; checked: number; size: number; ok: boolean }[];
  ok: boolean;
}

const shapeText = (t: Tensor) => `[${t.shape.join(', ')}]`;

export function explainData(g: Gradients, env: Env, source: string): Explained {
  const model: Model = g.model;
  const loss = model.loss.name;
  const names = valueNames(g);
  const { naming } = programNaming(g, 'text');
  const steps = stepNames(g, 'text');
  const stepNodes = g.steps.map((s) => s.node);
  const gradNodes = [...g.grads.values()].filter((x): x is Node => !!x);
  const vals = evaluate([g.loss, ...g.forward.values(), ...stepNodes, ...gradNodes], env);
  const entry = (name: string, t: Tensor, extra: Partial<ExplainedValue> = {}): ExplainedValue => ({ name, shape: [...t.shape], value: toNested(t), ...extra, _t: t } as ExplainedValue);

  const forward: ExplainedValue[] = [];
  for (const i of model.inputs) forward.push(entry(i.name, env.get(i.name)!, { role: i.classes !== undefined ? `input, a class label 0..${i.classes - 1}` : 'input' }));
  for (const p of model.params) forward.push(entry(p.name, env.get(p.name)!, { role: 'parameter' }));
  for (const v of model.values) {
    const node = g.forward.get(v.name)!;
    forward.push(entry(v.name, vals.get(node)!, { formula: printExpr(node, 'text', (m) => (m === node ? undefined : names.get(m))), ...(v.role === 'output' ? { role: 'output' } : v.role === 'loss' ? { role: 'the loss' } : {}) }));
  }

  const backward: ExplainedValue[] = [];
  const onPath = new Set(topo([g.loss]));
  const users = usersOf(g, names, (v) => onPath.has(g.forward.get(v)!));
  const printed = new Map<Node, string>();
  for (const s of g.steps) {
    const name = gradName(loss, s.of, 'text');
    const earlier = printed.get(s.node);
    const rhs = earlier ?? printExpr(s.node, 'text', naming);
    if (!earlier) printed.set(s.node, steps.get(s.node) ?? name);
    let why: string;
    if (s.kind === 'value') {
      const through = users.get(s.of) ?? [];
      why = through.length
        ? `${s.of} is used by ${through.join(' and ')}: ${through.map((u) => `${gradName(loss, u, 'text')} · ∂${u}/∂${s.of}`).join(' + ')}`
        : `${s.of} is used by the loss directly: ∂${loss}/∂${s.of}`;
    } else {
      // The adjoints the gradient is built from directly (dL/dW1 = outer(dL/dz1, x): through z1).
      const terms = sumTerms(s.node);
      const direct = g.steps.filter((o) => o.kind === 'value' && terms.some((t) => t === o.node || t.args.includes(o.node)));
      const via = (direct.length ? direct : g.steps.filter((o) => o.kind === 'value' && topo([s.node]).includes(o.node))).map((o) => o.of);
      why = via.length ? `parameter ${s.of}, through ${via.join(' and ')}` : `parameter ${s.of}, through the loss directly`;
    }
    backward.push(entry(name, vals.get(s.node)!, { formula: rhs, why }));
  }

  const check = model.params.map((p) => {
    const gnode = g.grads.get(p.name) ?? null;
    const derived = gnode ? vals.get(gnode)!.data : new Float64Array(p.node.size);
    const r = centralCheck(g.loss, env, p.name, derived);
    return { param: p.name, maxAbs: r.maxAbs, checked: r.checked, size: p.node.size, ok: r.ok };
  });
  return { model: model.name, point: source, forward, backward, check, ok: check.every((c) => c.ok) };
}

export function explain(g: Gradients, env: Env, source: string): string {
  return explainText(explainData(g, env, source), g.model.loss.name);
}

/** The worked example as text: every value with its shape; big tensors abbreviated. */
export function explainText(e: Explained, loss: string): string {
  const t = (v: ExplainedValue) => (v as unknown as { _t: Tensor })._t;
  const lines: string[] = [`forward pass of ${e.model} at ${e.point} (float64)`];
  const leaves = e.forward.filter((v) => v.formula === undefined);
  const lw = Math.max(0, ...leaves.map((l) => `${l.name}: ${shapeText(t(l))}`.length));
  for (const v of leaves) lines.push(`  ${`${v.name}: ${shapeText(t(v))}`.padEnd(lw)} = ${showTensor(t(v))}   (${v.role})`);
  for (const v of e.forward.filter((x) => x.formula !== undefined)) lines.push(`  ${v.name}: ${shapeText(t(v))} = ${v.formula}`, `     = ${showTensor(t(v))}${v.role ? `   (${v.role})` : ''}`);
  lines.push('', `backward pass: each adjoint ${gradName(loss, 'X', 'text')} = ∂${loss}/∂X, from the loss down (the chain rule)`);
  lines.push(`  ${gradName(loss, loss, 'text')} = 1`);
  for (const v of e.backward) lines.push(`  ${v.name}: ${shapeText(t(v))} = ${v.formula}`, `     = ${showTensor(t(v))}`, `     (${v.why})`);
  lines.push('', 'each gradient against central differences of the loss (float64)');
  const pw = Math.max(0, ...e.check.map((c) => c.param.length));
  for (const c of e.check) lines.push(`  ${gradName(loss, c.param, 'text').padEnd(pw + 4)} max difference ${c.maxAbs.toExponential(1)} over ${c.checked === c.size ? `all ${c.checked}` : `${c.checked} of ${c.size}`} elements  ${c.ok ? 'ok' : 'MISMATCH'}`);
  lines.push(e.ok ? 'every gradient agrees with central differences' : 'a gradient disagrees with central differences: please report this as a gradc bug');
  return lines.join('\n');
}

/** The worked example as JSON: full values (nested arrays), shapes, formulas, the chain-rule steps, the check. */
export function explainJson(e: Explained, second?: { forward: ExplainedValue[]; backward: ExplainedValue[] }): string {
  const strip = (v: ExplainedValue) => Object.fromEntries(Object.entries(v).filter(([k]) => k !== '_t'));
  const secondOrder = second && { ...second, forward: second.forward.map(strip), backward: second.backward.map(strip) };
  return JSON.stringify({ ...e, forward: e.forward.map(strip), backward: e.backward.map(strip), ...(secondOrder ? { secondOrder } : {}) }, null, 2);
}

/** For each named value, the later named values computed from it directly (not through another name). */
function usersOf(g: Gradients, names: ReadonlyMap<Node, string>, onLossPath: (value: string) => boolean): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const v of g.model.values) {
    if (!onLossPath(v.name)) continue; // an output the loss does not read sends nothing back
    const node = g.forward.get(v.name)!;
    const seen = new Set<Node>();
    const walk = (n: Node): void => {
      for (const a of n.args) {
        if (seen.has(a)) continue;
        seen.add(a);
        const nm = names.get(a) ?? (a.op === 'input' || a.op === 'param' ? (a.attr.name as string) : undefined);
        if (nm !== undefined && nm !== v.name) { out.set(nm, [...(out.get(nm) ?? []), v.name]); continue; }
        walk(a);
      }
    };
    walk(node);
  }
  for (const [k, us] of out) out.set(k, [...new Set(us)]);
  return out;
}

/** Central differences of the loss in a parameter: every element of a small one, 24 spread over a big one. */
function centralCheck(lossNode: Node, env: Env, param: string, derived: ArrayLike<number>): { maxAbs: number; checked: number; ok: boolean } {
  const x = env.get(param)!;
  const size = x.data.length;
  const idx = size <= 64 ? Array.from({ length: size }, (_, i) => i) : Array.from({ length: 24 }, (_, k) => Math.floor((k * size) / 24 + (k * 7919) % Math.max(1, Math.floor(size / 24))));
  let maxAbs = 0, ok = true;
  for (const i of idx) {
    const h = 1e-6 * Math.max(1, Math.abs(x.data[i]));
    const at = (delta: number) => {
      const d = Float64Array.from(x.data);
      d[i] += delta;
      const e = new Map(env);
      e.set(param, { shape: x.shape, data: d });
      return evaluate([lossNode], e).get(lossNode)!.data[0];
    };
    const fd = (at(h) - at(-h)) / (2 * h);
    const diff = Math.abs(fd - derived[i]);
    maxAbs = Math.max(maxAbs, diff);
    if (diff > 1e-5 * Math.max(1, Math.abs(fd))) ok = false;
  }
  return { maxAbs, checked: idx.length, ok };
}

// The second-order oracle for one model and one point: the symbolic Hessian–vector product (evaluated by the
// interpreter) against central differences of the interpreter's gradient along the direction; the Hessian
// read off as a matrix (or Kronecker form) times the direction against the product; and the printed mathjs
// formulas, evaluated by mathjs, against both. float64, tight tolerances.

import { reverse } from '../../compiler/autodiff/reverse.js';
import type { Gradients } from '../../compiler/autodiff/gradients.js';
import { deriveHessian } from '../../compiler/autodiff/hessian.js';
import { hvpGradients } from '../../compiler/autodiff/hvp.js';
import { loadModelKernels } from '../../compiler/codegen/index.js';
import type { Model } from '../../compiler/frontend/model.js';
import type { Node } from '../../compiler/ir/node.js';
import { opOf, topo } from '../../compiler/ir/node.js';
import type { Hessian } from '../../compiler/autodiff/hessian.js';
import { hessianJson } from '../../compiler/cli/hessian.js';
import { evaluate, type Env } from '../../compiler/ir/interpret.js';
import { tensor, type Tensor } from '../../compiler/ir/tensor.js';
import { fnScope, gradcMath } from '../../compiler/mathjs/env.js';

const FD_TOL = 1e-6, EXACT_TOL = 1e-9;
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1, Math.abs(a), Math.abs(b));

/** The leaves with the value variables at their forward values, and the direction. */
export function hessianEnv(h: Hessian, env: Env, direction: Tensor): Map<string, Tensor> {
  const out = new Map(env);
  for (const v of [h.rows, h.cols]) if (v.kind !== 'param') out.set(v.name, evaluate([v.forward], env).get(v.forward)!);
  out.set(h.direction.attr.name as string, direction);
  return out;
}

/** Problems found (empty when every check agrees). `direction` is shaped like the cols variable. */
export function checkSecondOrder(h: Hessian, env: Env, direction: Tensor, opts: { mathjs?: boolean; kinked?: boolean } = {}): string[] {
  const problems: string[] = [];
  const full = hessianEnv(h, env, direction);
  const hv = evaluate([h.hvp], full).get(h.hvp)!.data;
  // 1. Central differences of the gradient in the rows variable, moving the cols variable along v.
  const gradRows = reverse(h.loss, [h.rows.leaf]).get(h.rows.leaf);
  const colsName = h.cols.name;
  const x0 = full.get(colsName)!;
  const gradAt = (t: number): Float64Array => {
    if (!gradRows) return new Float64Array(h.rows.leaf.size);
    const moved = tensor(x0.shape, x0.data.map((x, i) => x + t * direction.data[i]));
    return evaluate([gradRows], new Map([...full, [colsName, moved]])).get(gradRows)!.data;
  };
  const step = 1e-5;
  const central = (s: number) => { const up = gradAt(s), down = gradAt(-s); return up.map((u, i) => (u - down[i]) / (2 * s)); };
  const c1 = central(step);
  let c2: Float64Array | undefined, c4: Float64Array | undefined;
  for (let i = 0; i < hv.length; i++) {
    if (rel(hv[i], c1[i]) <= FD_TOL) continue;
    // Near a pole the h² error is large: extrapolate to h → 0 (Romberg) before calling the product wrong.
    c2 ??= central(step / 2); c4 ??= central(step / 4);
    // In a model with kinks, differences that disagree with themselves at h/2 and h/4 crossed a kink (a ReLU
    // or a max changed its branch between the two points): not a derivative, so not a verdict.
    if (opts.kinked && Math.abs(c2[i] - c4[i]) > 1e-4 * Math.max(1, Math.abs(c4[i]))) continue;
    const r1 = (4 * c2[i] - c1[i]) / 3, r2 = (4 * c4[i] - c2[i]) / 3, romberg = (16 * r2 - r1) / 15;
    if (!(rel(hv[i], romberg) <= FD_TOL)) { problems.push(`H v [${i}] of d2L/d${h.rows.name} d${colsName}: symbolic ${hv[i]} vs central differences of the gradient ${c1[i]} (extrapolated ${romberg})`); break; }
  }
  // 2. The matrix read off the product, times the direction.
  if (h.matrix) {
    const m = evaluate([h.matrix], full).get(h.matrix)!.data;
    const mv = times(m, h, direction.data);
    for (let i = 0; i < hv.length; i++) if (!(rel(mv[i], hv[i]) <= EXACT_TOL)) { problems.push(`the ${h.form} Hessian of ${h.rows.name} times v [${i}]: ${mv[i]} vs H v ${hv[i]}`); break; }
  }
  // 3. The printed mathjs formulas.
  if (opts.mathjs !== false) problems.push(...checkMathjs(h, full, hv));
  return problems;
}

/** M v for the Hessian M as read off (a scalar, a matrix rows × cols, or a vector for a scalar variable). */
function times(m: Float64Array, h: Hessian, v: Float64Array): Float64Array {
  const rows = h.rows.leaf.size, cols = h.cols.leaf.size;
  const out = new Float64Array(rows);
  if (m.length === rows && cols === 1) { for (let i = 0; i < rows; i++) out[i] = m[i] * v[0]; return out; }
  if (m.length === cols && rows === 1) { let s = 0; for (let j = 0; j < cols; j++) s += m[j] * v[j]; out[0] = s; return out; }
  for (let i = 0; i < rows; i++) { let s = 0; for (let j = 0; j < cols; j++) s += m[i * cols + j] * v[j]; out[i] = s; }
  return out;
}

function checkMathjs(h: Hessian, env: Map<string, Tensor>, hv: Float64Array): string[] {
  const json = JSON.parse(hessianJson(h)) as { formula: string | null; hvp: { formula: string } };
  const math = gradcMath();
  const scope = new Map<string, unknown>([...fnScope([...h.g.model.fns.values()]), ...[...h.g.model.dims].map(([k, v]) => [k, v.value] as const)]);
  for (const [k, t] of env) scope.set(k, t.shape.length === 0 ? t.data[0] : math.reshape(math.matrix(Array.from(t.data)), [...t.shape]));
  const flat = (r: unknown): number[] => (typeof r === 'number' ? [r] : ((r as { toArray(): unknown }).toArray() as unknown[]).flat(3) as number[]);
  const problems: string[] = [];
  try {
    const got = flat(math.evaluate(json.hvp.formula, scope));
    const want = hv.length === 1 || got.length === hv.length ? hv : undefined;
    if (!want) problems.push(`mathjs H v formula has ${got.length} elements, H v ${hv.length}: ${json.hvp.formula}`);
    else for (let i = 0; i < hv.length; i++) if (!(rel(got[got.length === 1 ? 0 : i], hv[i]) <= EXACT_TOL)) { problems.push(`mathjs H v formula [${i}] = ${got[i]} vs ${hv[i]}: ${json.hvp.formula}`); break; }
  } catch (e) { problems.push(`mathjs cannot evaluate the H v formula ${json.hvp.formula} (${(e as Error).message})`); }
  if (json.formula && h.matrix) {
    try {
      const got = flat(math.evaluate(json.formula, scope));
      const want = evaluate([h.matrix], env).get(h.matrix)!.data;
      const n = want.length;
      if (got.length !== n && !(got.length === 1)) problems.push(`mathjs Hessian formula has ${got.length} elements, the Hessian ${n}: ${json.formula}`);
      else for (let i = 0; i < n; i++) if (!(rel(got[got.length === 1 ? 0 : i], want[i]) <= EXACT_TOL)) { problems.push(`mathjs Hessian formula [${i}] = ${got[i]} vs ${want[i]}: ${json.formula}`); break; }
    } catch (e) { problems.push(`mathjs cannot evaluate the Hessian formula ${json.formula} (${(e as Error).message})`); }
  }
  return problems;
}

/**
 * The second-order checks of the differential tester on one random model: the generated Hessian–vector
 * product (ts, float64, a minibatch) against the interpreter's, and each parameter's symbolic Hessian
 * (and one cross block) against central differences and its mathjs formulas. In a model with kinks (relu,
 * abs, max, pooling) the second derivative is defined away from them (often zero through a ReLU, not through
 * the softmax after it): the products are compared as everywhere, and a central difference that crossed a
 * kink is recognised by disagreeing with itself at smaller steps and skipped.
 */
/** Whether the second-order checks apply to a model: every model the front end accepts. */
export const secondOrderApplies = (_g: Gradients): boolean => true;
const kinkedModel = (g: Gradients): boolean => topo([g.loss]).some((n) => opOf(n.op).kink);

export function checkModelSecondOrder(model: Model, g: Gradients, envs: readonly Map<string, Tensor>[], params: readonly Float64Array[], inputs: readonly Float64Array[], batch: number): string[] {
  const problems: string[] = [];
  const h = hvpGradients(g);
  const dirs = model.params.map((p) => Float64Array.from({ length: p.node.size }, (_, i) => Math.sin(1.7 * i + p.node.size)));
  const dirNames = h.model.params.slice(model.params.length).map((p) => p.name);
  // The interpreter's H v, summed over the examples.
  const want = model.params.map((p) => new Float64Array(p.node.size));
  const roots = model.params.map((p) => h.grads.get(p.name)).filter((x): x is Node => !!x);
  for (const env of envs) {
    const full = new Map(env);
    dirNames.forEach((n, k) => full.set(n, tensor(model.params[k].shape, dirs[k])));
    const vals = evaluate(roots, full);
    model.params.forEach((p, k) => { const node = h.grads.get(p.name); if (node) vals.get(node)!.data.forEach((x, i) => { want[k][i] += x; }); });
  }
  try {
    const k = loadModelKernels(h).create(batch, Float64Array);
    const out = h.model.params.map((p) => new Float64Array(p.node.size));
    k.lossAndGrad([...params, ...dirs], [...inputs], envs.length, out);
    model.params.forEach((p, pi) => {
      for (let i = 0; i < p.node.size; i++) if (!(rel(out[pi][i], want[pi][i]) <= 1e-10)) { problems.push(`generated H v, ${p.name}[${i}]: ${out[pi][i]} vs interpreter ${want[pi][i]}`); break; }
    });
  } catch (e) { problems.push(`the H v program crashed: ${(e as Error).message}`); }
  // Symbolic Hessians of the first two parameters, and their cross block.
  const names = model.params.filter((p) => g.grads.get(p.name)).slice(0, 2).map((p) => p.name);
  const blocks = names.length === 2 ? [[names[0]], [names[1]], names] : names.map((n) => [n]);
  for (const wrt of blocks) {
    try {
      const hs = deriveHessian(model, wrt);
      const dir = tensor(hs.cols.leaf.shape, Array.from({ length: hs.cols.leaf.size }, (_, i) => Math.cos(0.9 * i + 0.3)));
      problems.push(...checkSecondOrder(hs, envs[0], dir, { kinked: kinkedModel(g) }).map((p) => `${wrt.join(', ')}: ${p}`));
    } catch (e) { problems.push(`hessian ${wrt.join(', ')} crashed: ${(e as Error).message}`); }
  }
  return problems;
}

// The differential oracle for one model: every artefact gradc produces from it is compared with the float64
// interpreter (the ground truth), and the interpreter with central differences.
//  - generated TypeScript, float64, on one example alone and on a minibatch of three different examples in a batch
//    of four (per-example values must not leak between rows, padding must not leak into sums): loss, outputs, gradients;
//  - the same kernels against central differences of their own forward pass;
//  - every printed mathjs formula, evaluated by mathjs with the contract's built-ins defined elementwise;
//  - optionally the float32 targets, gpu.js and wasm (float32 tolerance).
// A case whose values overflow is skipped (reported as such), not passed.

import { parseModel } from '../../compiler/frontend/index.js';
import type { Model } from '../../compiler/frontend/model.js';
import { deriveGradients, type Gradients } from '../../compiler/autodiff/gradients.js';
import { loadGpuModel, loadModelKernels, loadWasmModel } from '../../compiler/codegen/index.js';
import type { CompiledModel } from '../../runtime/model.js';
import { evaluate } from '../../compiler/ir/interpret.js';
import type { Node } from '../../compiler/ir/node.js';
import { topo, opOf } from '../../compiler/ir/node.js';
import { tensor, type Tensor } from '../../compiler/ir/tensor.js';
import { formatGradients } from '../../compiler/cli/grad.js';
import { fnScope, gradcMath } from '../../compiler/mathjs/env.js';
import { CaseRng } from './generate.js';
import { checkModelSecondOrder, secondOrderApplies } from './second-order.js';

export interface CaseResult { readonly status: 'pass' | 'fail' | 'skip'; readonly problems: readonly string[]; readonly stage?: string; readonly secondOrder?: boolean }
export interface CheckOptions { readonly gpu?: boolean; readonly wasm?: boolean; readonly mathjs?: boolean; readonly secondOrder?: boolean; readonly seed?: number }

const EXAMPLES = 3, BATCH = 4;
/** Generated float64 code against the interpreter: the same sums in another order. */
const CODE_TOL = 1e-12;
const FD_TOL = 1e-6;
const MATHJS_TOL = 1e-9;
/** float32 targets against the float64 interpreter. */
const F32_TOL = 2e-3;

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1, Math.abs(a), Math.abs(b));

interface Reference {
  readonly params: Float64Array[];
  readonly inputs: Float64Array[]; // BATCH rows each; rows ≥ EXAMPLES are padding
  readonly envs: Map<string, Tensor>[];
  readonly loss: number[];
  readonly outputs: Float64Array[][]; // [output][example] values
  readonly grads: Float64Array[][];   // [param][example] values (zeros where the gradient is null)
}

function reference(model: Model, g: Gradients, r: CaseRng): Reference | string {
  const params = model.params.map((p) => Float64Array.from({ length: p.node.size }, () => (r.next() * 2 - 1) * 0.9));
  const inputs = model.inputs.map((i) => {
    const w = i.classes !== undefined ? 1 : i.node.size;
    // Every row different, so a value that should be per-example but is computed once shows up.
    return Float64Array.from({ length: BATCH * w }, () => (i.classes !== undefined ? Math.floor(r.next() * i.classes) : r.next() * 2 - 1));
  });
  const outs = [...g.outputs.values()];
  const gradNodes = model.params.map((p) => g.grads.get(p.name) ?? null);
  const roots: Node[] = [g.loss, ...outs, ...gradNodes.filter((x): x is Node => !!x)];
  const envs: Map<string, Tensor>[] = [];
  const loss: number[] = [];
  const outputs = outs.map(() => [] as Float64Array[]);
  const grads = model.params.map(() => [] as Float64Array[]);
  for (let b = 0; b < EXAMPLES; b++) {
    const env = new Map<string, Tensor>();
    model.params.forEach((p, k) => env.set(p.name, tensor(p.shape, params[k])));
    model.inputs.forEach((inp, k) => { const w = inp.classes !== undefined ? 1 : inp.node.size; env.set(inp.name, tensor(inp.shape, inputs[k].subarray(b * w, b * w + w))); });
    const vals = evaluate(roots, env);
    envs.push(env);
    loss.push(vals.get(g.loss)!.data[0]);
    outs.forEach((o, k) => outputs[k].push(vals.get(o)!.data));
    gradNodes.forEach((gn, k) => grads[k].push(gn ? vals.get(gn)!.data : new Float64Array(model.params[k].node.size)));
  }
  const all = [...loss, ...outputs.flat().flatMap((a) => [...a]), ...grads.flat().flatMap((a) => [...a])];
  if (all.some((v) => !Number.isFinite(v) || Math.abs(v) > 1e7)) return 'values overflow at the random point';
  return { params, inputs, envs, loss, outputs, grads };
}

/** Runs every comparison on one model source. */
export function checkModel(source: string, opts: CheckOptions = {}): CaseResult {
  let model: Model, g: Gradients;
  try {
    model = parseModel('case.nn', source);
    g = deriveGradients(model);
  } catch (e) {
    return { status: 'fail', stage: 'front end', problems: [`the model is type-correct but gradc refused it: ${(e as Error).message}`] };
  }
  const ref = reference(model, g, new CaseRng(opts.seed ?? 17));
  if (typeof ref === 'string') return { status: 'skip', problems: [ref] };
  const problems: string[] = [];
  const kinked = topo([g.loss, ...[...g.grads.values()].filter((x): x is Node => !!x)]).some((n) => opOf(n.op).kink);

  // 1. Generated TypeScript, float64.
  try {
    // One compiled model for both batch sizes: generating and transpiling it is most of a model's check.
    const compiled = loadModelKernels(g);
    const k = compiled.create(BATCH, Float64Array);
    const grads = model.params.map((p) => new Float64Array(p.node.size).fill(NaN));
    const lossSum = k.lossAndGrad(ref.params, ref.inputs, EXAMPLES, grads);
    const expected = ref.loss.reduce((a, b) => a + b, 0);
    if (!(rel(lossSum, expected) <= CODE_TOL)) problems.push(`ts lossAndGrad: loss ${lossSum} vs interpreter ${expected}`);
    model.params.forEach((p, pi) => {
      for (let i = 0; i < p.node.size; i++) {
        const want = ref.grads[pi].reduce((s, e) => s + e[i], 0);
        if (!(rel(grads[pi][i], want) <= CODE_TOL)) { problems.push(`ts gradient ${p.name}[${i}]: ${grads[pi][i]} vs interpreter ${want}`); break; }
      }
    });
    const fwd = k.forward(ref.params, ref.inputs, EXAMPLES);
    for (let b = 0; b < EXAMPLES; b++) if (!(rel(fwd.loss[b], ref.loss[b]) <= CODE_TOL)) { problems.push(`ts forward: loss of example ${b} ${fwd.loss[b]} vs ${ref.loss[b]}`); break; }
    ref.outputs.forEach((per, oi) => {
      const size = per[0].length;
      for (let b = 0; b < EXAMPLES; b++) for (let i = 0; i < size; i++) {
        if (!(rel(fwd.outputs[oi][b * size + i], per[b][i]) <= CODE_TOL)) { problems.push(`ts forward: output ${model.outputs[oi].name} of example ${b}, element ${i}: ${fwd.outputs[oi][b * size + i]} vs ${per[b][i]}`); return; }
      }
    });
    // One example alone (a batch of one has no row to index, which is where per-example bugs hide too).
    const k1 = compiled.create(1, Float64Array);
    const grads1 = model.params.map((p) => new Float64Array(p.node.size));
    const inputs1 = model.inputs.map((inp, ii) => ref.inputs[ii].slice(0, inp.classes !== undefined ? 1 : inp.node.size));
    const loss1 = k1.lossAndGrad(ref.params, inputs1, 1, grads1);
    if (!(rel(loss1, ref.loss[0]) <= CODE_TOL)) problems.push(`ts, one example: loss ${loss1} vs interpreter ${ref.loss[0]}`);
    model.params.forEach((p, pi) => {
      for (let i = 0; i < p.node.size; i++) if (!(rel(grads1[pi][i], ref.grads[pi][0][i]) <= CODE_TOL)) { problems.push(`ts, one example: gradient ${p.name}[${i}]: ${grads1[pi][i]} vs interpreter ${ref.grads[pi][0][i]}`); break; }
    });
    // 2. Central differences of the generated forward pass.
    const lossAt = () => { const r = k.forward(ref.params, ref.inputs, EXAMPLES); let s = 0; for (let b = 0; b < EXAMPLES; b++) s += r.loss[b]; return s; };
    model.params.forEach((p, pi) => {
      const coords = Math.min(p.node.size, 6);
      for (let i = 0; i < coords; i++) {
        const x0 = ref.params[pi][i], h = 1e-5 * Math.max(1, Math.abs(x0));
        ref.params[pi][i] = x0 + h; const up = lossAt();
        ref.params[pi][i] = x0 - h; const down = lossAt();
        ref.params[pi][i] = x0; const mid = lossAt();
        const central = (up - down) / (2 * h), left = (mid - down) / h, right = (up - mid) / h;
        const gv = grads[pi][i];
        // Where the step crosses a kink the one-sided differences disagree; any value between them is right.
        if (kinked && Math.abs(left - right) > 1e-3 * Math.max(1, Math.abs(central))) continue;
        const tol = FD_TOL * 10 * Math.max(1, Math.abs(x0));
        if (rel(gv, central) <= tol) continue;
        // Near a pole (a fn like 1 / (1 + t − t²)) the h² error of central differences is large: extrapolate
        // to h → 0 (Romberg, from steps h/2 and h/4) before calling the gradient wrong (random model 259).
        const at = (step: number) => { ref.params[pi][i] = x0 + step; const u = lossAt(); ref.params[pi][i] = x0 - step; const d = lossAt(); ref.params[pi][i] = x0; return (u - d) / (2 * step); };
        const c2 = at(h / 2), c4 = at(h / 4);
        const r1 = (4 * c2 - central) / 3, r2 = (4 * c4 - c2) / 3, romberg = (16 * r2 - r1) / 15;
        if (!(rel(gv, romberg) <= tol)) { problems.push(`central differences ${p.name}[${i}]: generated ${gv} vs ${central} (extrapolated ${romberg})`); break; }
      }
    });
  } catch (e) {
    problems.push(`ts target crashed: ${(e as Error).message}`);
  }

  // 3. The printed mathjs formulas.
  if (opts.mathjs !== false) {
    try {
      const json = JSON.parse(formatGradients(g, 'json', false, model.params.map((p) => p.name))) as { wrt: Record<string, { formula: string }> };
      const math = gradcMath();
      const scope: Map<string, unknown> = new Map<string, unknown>([...fnScope([...model.fns.values()]), ...[...model.dims].map(([k, v]) => [k, v.value] as const)]);
      for (const [k, t] of ref.envs[0]) scope.set(k, t.shape.length === 0 ? t.data[0] : math.reshape(math.matrix(Array.from(t.data)), [...t.shape]));
      model.params.forEach((p, pi) => {
        const formula = json.wrt[p.name].formula;
        let got: number[];
        try {
          const res = math.evaluate(formula, scope) as number | { toArray(): unknown };
          got = typeof res === 'number' ? Array.from({ length: p.node.size }, () => res) : ((res.toArray() as unknown[]).flat(3) as number[]);
        } catch (e) { problems.push(`mathjs cannot evaluate the formula for ${p.name}: ${formula} (${(e as Error).message})`); return; }
        const want = ref.grads[pi][0];
        if (got.length !== want.length) { problems.push(`mathjs formula for ${p.name} has ${got.length} elements, the gradient ${want.length}: ${formula}`); return; }
        for (let i = 0; i < want.length; i++) if (!(rel(got[i], want[i]) <= MATHJS_TOL)) { problems.push(`mathjs formula for ${p.name}[${i}] = ${got[i]} vs interpreter ${want[i]}: ${formula}`); return; }
      });
    } catch (e) {
      problems.push(`printing formulas crashed: ${(e as Error).message}`);
    }
  }

  // 4. The float32 targets: gpu.js (WebAssembly or JavaScript without a GPU) and the wasm SIMD products, on
  // the minibatch and then on one example alone.
  // An image model in the wasm target also runs on two threads, which must give the same bits as one.
  const float32Target = (what: string, load: () => CompiledModel, threads = false): void => {
    try {
      const compiled = load();
      const F32 = compiled.float32Array ?? Float32Array;
      const copy = (a: Float64Array) => { const b = new F32(a.length); b.set(a); return b; };
      // One set of kernels for both calls, as a trainer runs them: a full batch first, then a partial one
      // on the same buffers (gpu.js builds each kernel once per set; a second set cost 0.2 s per model).
      const k = compiled.create(BATCH, F32);
      for (const n of [EXAMPLES, 1]) {
        const grads = model.params.map((p) => new F32(p.node.size));
        const lossSum = k.lossAndGrad(ref.params.map(copy), ref.inputs.map(copy), n, grads);
        if (threads && compiled.setThreads && n > 1) {
          compiled.setThreads(2);
          const grads2 = model.params.map((p) => new F32(p.node.size));
          const lossSum2 = compiled.create(BATCH, F32).lossAndGrad(ref.params.map(copy), ref.inputs.map(copy), n, grads2);
          compiled.setThreads(1);
          const differs = model.params.findIndex((p, pi) => grads[pi].some((v, i) => !Object.is(v, grads2[pi][i])));
          if (!Object.is(lossSum, lossSum2) || differs >= 0) { problems.push(`${what}, ${n} examples: two threads do not give the same bits as one (${differs >= 0 ? `gradient ${model.params[differs].name}` : 'loss'})`); return; }
        }
        const expected = ref.loss.slice(0, n).reduce((a, b) => a + b, 0);
        if (!(rel(lossSum, expected) <= F32_TOL)) { problems.push(`${what}, ${n} example(s): loss ${lossSum} vs interpreter ${expected}`); return; }
        model.params.forEach((p, pi) => {
          for (let i = 0; i < p.node.size; i++) {
            const want = ref.grads[pi].slice(0, n).reduce((s, e) => s + e[i], 0);
            if (!(rel(grads[pi][i], want) <= F32_TOL)) { problems.push(`${what}, ${n} example(s): gradient ${p.name}[${i}]: ${grads[pi][i]} vs interpreter ${want}`); break; }
          }
        });
      }
    } catch (e) {
      problems.push(`${what} target crashed: ${(e as Error).message}`);
    }
  };
  // 5. Second order: the generated Hessian–vector product and the symbolic Hessians (second-order.ts).
  if (opts.secondOrder !== false) problems.push(...checkModelSecondOrder(model, g, ref.envs, ref.params, ref.inputs, BATCH));
  if (opts.gpu) float32Target('gpu', () => loadGpuModel(g));
  if (opts.wasm) float32Target('wasm', () => loadWasmModel(g), /conv2d\(/.test(source));
  const secondOrder = opts.secondOrder !== false && secondOrderApplies(g);
  return problems.length ? { status: 'fail', problems, secondOrder } : { status: 'pass', problems: [], secondOrder };
}

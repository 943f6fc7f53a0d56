// The run-time safety net: before the first step, the generated gradient is checked on a few examples of the
// first minibatch against an independent evaluation, and training stops with a message naming the parameter
// if they differ. A bug in generated code must never train silently.
//  - `gradc train` passes a reference: the compiler's float64 interpreter evaluating the symbolic gradient.
//  - A standalone trainer has no interpreter: it compares with central differences of the loss (float64),
//    then the float32 kernels that will train with the float64 ones.

import type { Dataset } from './data.js';
import { DataError, gatherBatch } from './data.js';
import type { Buf } from './kernels.js';
import type { ArrayCtor, CompiledModel } from './model.js';
import { elementsOf } from './model.js';
import { Rng } from './rng.js';

/** Σ over n examples of the loss and of ∂L/∂param, evaluated independently of the generated code. */
export type GradientReference = (params: readonly Float64Array[], inputs: readonly Float64Array[], n: number) => { loss: number; grads: Float64Array[] };

export interface SafetyReport { readonly examples: number; readonly against: 'interpreter' | 'central differences'; readonly worst: number; readonly ms: number }

export class GeneratedCodeMismatch extends DataError {}

/** Four examples: a full row tile of the products, and enough to see rows mixed up. */
const EXAMPLES = 4;

export function checkGeneratedGradients(model: CompiledModel, data: Dataset, rows: (b: number) => number, params: readonly Buf[], reference?: GradientReference, precision: 'f32' | 'f64' = 'f64'): SafetyReport {
  const t0 = performance.now();
  const spec = model.spec;
  const n = Math.min(EXAMPLES, data.n);
  const inputs = spec.inputs.map((s) => new Float64Array(n * (s.classes !== undefined ? 1 : elementsOf(s.shape))));
  gatherBatch(data, n, rows, inputs);
  const p64 = params.map((p) => Float64Array.from(p));
  let worst = 0;
  const fail = (what: string, detail: string): never => {
    throw new GeneratedCodeMismatch(`stopped before training: the generated ${what} ${detail}. This is a bug in gradc's code generator, not in your model; please report it with the model file (nothing was trained).`);
  };
  /** The generated loss and gradient in the given precision and memory. */
  const run = (Arr: ArrayCtor): { loss: number; grads: Buf[] } => {
    const copy = (a: Float64Array) => { const b = new Arr(a.length); b.set(a); return b; };
    const grads = spec.params.map((p) => new Arr(elementsOf(p.shape)));
    const loss = model.create(n, Arr).lossAndGrad(p64.map(copy), inputs.map(copy), n, grads);
    return { loss, grads };
  };
  // The kernels that will train: float32 in the wasm target's memory, or the float64 loops.
  const Train: ArrayCtor = precision === 'f64' ? Float64Array : model.float32Array ?? Float32Array;
  const float32 = Train !== Float64Array;

  if (reference) {
    // Against the interpreter, exactly the code that trains (float32 within float32 rounding).
    const got = run(Train), want = reference(p64, inputs, n);
    const tol = float32 ? 1e-3 : 1e-6;
    if (!close(got.loss, want.loss, tol)) fail('loss', `is ${got.loss} on the first ${n} examples, the interpreter says ${want.loss}`);
    spec.params.forEach((p, pi) => {
      for (let i = 0; i < got.grads[pi].length; i++) {
        const e = relErr(got.grads[pi][i], want.grads[pi][i]);
        worst = Math.max(worst, e);
        if (!(e <= tol)) fail(`gradient of ${p.name}`, `differs from the interpreter's at element ${i}: ${got.grads[pi][i]} vs ${want.grads[pi][i]}`);
      }
    });
    return { examples: n, against: 'interpreter', worst, ms: performance.now() - t0 };
  }

  // Without an interpreter: the float64 kernels against central differences, and the float32 kernels that
  // will train against the float64 ones. The parameters are moved a little off the initial point first: a
  // zero bias puts every ReLU of an image's blank background exactly at its kink, where no difference
  // quotient agrees with any subgradient (LeNet-5's c1 on MNIST). The check is of the code, at any point.
  const jitter = new Rng(54321);
  for (const x of p64) for (let i = 0; i < x.length; i++) x[i] += 0.01 * (2 * jitter.next() - 1);
  const { loss, grads } = run(Float64Array);
  const k = model.create(n, Float64Array); // for the forward passes of the differences
  if (Train !== Float64Array) {
    const g32 = run(Train).grads;
    spec.params.forEach((p, pi) => {
      for (let i = 0; i < g32[pi].length; i++) {
        if (!(relErr(g32[pi][i], grads[pi][i]) <= 1e-3)) fail(`float32 gradient of ${p.name}`, `differs from the float64 one at element ${i}: ${g32[pi][i]} vs ${grads[pi][i]}`);
      }
    });
  }
  // Central differences of the loss along one random direction d per parameter (as JAX's check_grads does):
  // ⟨∂L/∂θ, d⟩ against (L(θ + h d) − L(θ − h d)) / 2h. Two forward passes per parameter see every element.
  // (Float64 buffers get float64 arithmetic from every target: gpu.js kernels then run as JavaScript.)
  const [step, tol] = [1e-5, 1e-4];
  const rng = new Rng(12345);
  const lossAt = () => { const r = k.forward(p64, inputs, n); let s = 0; for (let b = 0; b < n; b++) s += r.loss[b]; return s; };
  spec.params.forEach((p, pi) => {
    const x = p64[pi], base = Float64Array.from(x);
    const d = Float64Array.from(x, () => (rng.next() < 0.5 ? -1 : 1));
    const h = step * Math.max(1, ...Array.from(base, Math.abs).slice(0, 64));
    let analytic = 0;
    for (let i = 0; i < x.length; i++) analytic += grads[pi][i] * d[i];
    for (let i = 0; i < x.length; i++) x[i] = base[i] + h * d[i];
    const up = lossAt();
    for (let i = 0; i < x.length; i++) x[i] = base[i] - h * d[i];
    const down = lossAt();
    x.set(base);
    const central = (up - down) / (2 * h), left = (loss - down) / h, right = (up - loss) / h;
    // Across a kink (relu, abs at 0) any value between the one-sided differences is right.
    const atKink = relErr(left, right) > 1e-3 && analytic >= Math.min(left, right) && analytic <= Math.max(left, right);
    const e = atKink ? 0 : relErr(analytic, central);
    worst = Math.max(worst, e);
    if (!(e <= tol)) fail(`gradient of ${p.name}`, `differs from central differences along a random direction: ${analytic} vs ${central}`);
  });
  return { examples: n, against: 'central differences', worst, ms: performance.now() - t0 };
}

const relErr = (a: number, b: number) => Math.abs(a - b) / Math.max(1, Math.abs(a), Math.abs(b));
const close = (a: number, b: number, tol: number) => relErr(a, b) <= tol;

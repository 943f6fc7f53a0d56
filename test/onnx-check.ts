// ONNX Runtime against gradc, for one model at one seeded minibatch: model.onnx's outputs and loss against
// the float64 interpreter, and one train_step.onnx step against one step of gradc's trainer (its generated
// gradient kernels and its momentum optimizer). Values are float32-representable on both sides.

import ort from 'onnxruntime-node';
import type { Gradients } from '../compiler/autodiff/gradients.js';
import { evaluate } from '../compiler/ir/interpret.js';
import { tensor, type Tensor } from '../compiler/ir/tensor.js';
import { loadModelKernels } from '../compiler/codegen/index.js';
import { onnxFiles } from '../compiler/cli/compile-onnx.js';
import { trainStepNames } from '../compiler/codegen/onnx/export.js';
import { Optimizer } from '../runtime/optim.js';
import { Rng } from '../runtime/rng.js';

export const ONNX_TOL = 2e-3;
/** Errors only: ONNX Runtime's warnings (an unused parameter's input, say) are not the test's business. */
const QUIET = { logSeverityLevel: 3 } as const;

const maxAbs = (a: ArrayLike<number>) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i])); return m; };

const close = (got: number, want: number, scale: number) => (Number.isNaN(got) && Number.isNaN(want)) || Math.abs(got - want) <= ONNX_TOL * Math.max(1, Math.abs(want), scale);

export interface OnnxPoint { params: Float64Array[]; inputs: Float64Array[]; velocities: Float64Array[]; n: number }

/** An output by name, read as an own property (ONNX Runtime assigns results by name: __proto__ lands on the prototype). */
function pick(results: Record<string, ort.Tensor>, name: string): ort.Tensor {
  const own = Object.getOwnPropertyDescriptor(results, name)?.value as ort.Tensor | undefined;
  const t = own ?? (name === '__proto__' ? (Object.getPrototypeOf(results) as ort.Tensor) : undefined);
  if (!t) throw new Error(`ONNX Runtime returned no ${name}`);
  return t;
}

/** A seeded minibatch: params, inputs (labels in range), momenta, all float32 values. */
export function onnxPoint(g: Gradients, seed: number, n = 3): OnnxPoint {
  const r = new Rng(seed);
  const f = (size: number, scale: number) => Float64Array.from({ length: size }, () => Math.fround((r.next() * 2 - 1) * scale));
  const m = g.model;
  return {
    n,
    params: m.params.map((p) => f(p.node.size, 0.5)),
    inputs: m.inputs.map((i) => (i.classes !== undefined ? Float64Array.from({ length: n }, () => Math.floor(r.next() * i.classes!)) : f(i.node.size * n, 1))),
    velocities: m.params.map((p) => f(p.node.size, 0.1)),
  };
}

/** The inputs ONNX Runtime is fed, as [name, tensor] pairs (made an object with Object.fromEntries, so a model name such as __proto__ is a key like any other). */
function feedInputs(g: Gradients, pt: OnnxPoint, names: readonly string[]): [string, ort.Tensor][] {
  return g.model.inputs.flatMap((i, k): [string, ort.Tensor][] => (!names.includes(i.name) ? [] : [[i.name, i.classes !== undefined
    ? new ort.Tensor('int64', BigInt64Array.from(pt.inputs[k], (x) => BigInt(x)), [pt.n])
    : new ort.Tensor('float32', Float32Array.from(pt.inputs[k]), [pt.n, ...i.shape])]]));
}

/** The problems found (empty when ONNX Runtime agrees with gradc). */
export async function checkOnnx(g: Gradients, pt: OnnxPoint, opts: { lr?: number; l2?: number } = {}): Promise<string[]> {
  const m = g.model, problems: string[] = [];
  const lr = opts.lr ?? 0.1, l2 = opts.l2 ?? 1e-4;
  const files = onnxFiles(g, { weights: new Map(m.params.map((p, k) => [p.name, pt.params[k]])), withLoss: true, l2, momentum: 0.9 });

  // model.onnx against the interpreter, example by example.
  // onnxruntime-node cannot return results from a graph with an output named __proto__ (it gathers them in a
  // plain object): such a model.onnx is loaded, but its values cannot be read back here.
  const all = [...m.values.filter((v) => v.role === 'output'), m.loss];
  const wanted = all.some((v) => v.name === '__proto__') ? [] : all;
  const inference = await ort.InferenceSession.create(files.model, QUIET);
  const out = wanted.length ? await inference.run(Object.fromEntries(feedInputs(g, pt, inference.inputNames)), wanted.map((v) => v.name)) : {};
  for (let b = 0; b < pt.n; b++) {
    const env = new Map<string, Tensor>();
    m.params.forEach((p, k) => env.set(p.name, tensor(p.shape, pt.params[k])));
    m.inputs.forEach((i, k) => env.set(i.name, tensor(i.shape, i.classes !== undefined ? [pt.inputs[k][b]] : pt.inputs[k].subarray(b * i.node.size, (b + 1) * i.node.size))));
    const nodes = wanted.map((v) => g.forward.get(v.name)!);
    const vals = evaluate(nodes, env);
    wanted.forEach((v, k) => {
      const want = vals.get(nodes[k])!.data, got = pick(out, v.name).data as Float32Array;
      const batched = pick(out, v.name).dims.length > nodes[k].shape.length;
      const offset = batched ? b * want.length : 0;
      const scale = maxAbs(want);
      for (let i = 0; i < want.length; i++) {
        if (!close(got[offset + i], want[i], scale)) { problems.push(`model.onnx ${v.name} of example ${b}[${i}]: ${got[offset + i]} vs gradc ${want[i]}`); return; }
      }
    });
  }

  // train_step.onnx against gradc's trainer: generated gradients, then the momentum optimizer's update.
  const step = await ort.InferenceSession.create(files.trainStep, QUIET);
  const feeds = feedInputs(g, pt, step.inputNames);
  m.params.forEach((p, k) => {
    feeds.push([p.name, new ort.Tensor('float32', Float32Array.from(pt.params[k]), [...p.shape])]);
    feeds.push([trainStepNames(p.name).velocity, new ort.Tensor('float32', Float32Array.from(pt.velocities[k]), [...p.shape])]);
  });
  feeds.push(['lr', new ort.Tensor('float32', Float32Array.from([lr]), [])]);
  const r = await step.run(Object.fromEntries(feeds));
  const kernels = loadModelKernels(g).create(pt.n, Float64Array);
  const params = pt.params.map((a) => Float64Array.from(a)), grads = m.params.map((p) => new Float64Array(p.node.size));
  const lossSum = kernels.lossAndGrad(params, pt.inputs, pt.n, grads);
  const opt = new Optimizer('momentum', lr, params, m.params.map((p) => (p.shape.length >= 2 ? l2 : 0)));
  opt.load({ name: 'momentum', step: 0, slots: [pt.velocities.map((v) => Array.from(v)), []] });
  opt.update(grads, 1 / pt.n);
  const velocity = opt.save().slots[0];
  if (!close((pick(r, 'loss').data as Float32Array)[0], lossSum / pt.n, 0)) problems.push(`train_step.onnx loss ${(pick(r, 'loss').data as Float32Array)[0]} vs gradc ${lossSum / pt.n}`);
  m.params.forEach((p, k) => {
    const names = trainStepNames(p.name);
    for (const [what, got, want] of [['param', pick(r, names.next).data as Float32Array, params[k]], ['velocity', pick(r, names.nextVelocity).data as Float32Array, Float64Array.from(velocity[k])]] as const) {
      const scale = maxAbs(want);
      for (let i = 0; i < want.length; i++) {
        if (!close(got[i], want[i], scale)) { problems.push(`train_step.onnx ${what} ${p.name}[${i}]: ${got[i]} vs gradc ${want[i]}`); break; }
      }
    }
  });
  return problems;
}

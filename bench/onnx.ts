// npm run bench (ONNX part): gradc's own wasm trainer against ONNX Runtime running gradc's exported
// train_step.onnx — the same derived backward program, executed by a mature engine — on LeNet-300-100 and
// LeNet-5, batch 64, SGD with momentum 0.9, the same MNIST batches, one and two threads, in alternating
// rounds (medians). A fair external check of gradc's kernels: the graph is the same, only the engine differs.

import ort from 'onnxruntime-node';
import { loadModel } from '../compiler/frontend/index.js';
import { deriveGradients } from '../compiler/autodiff/gradients.js';
import { loadWasmModel } from '../compiler/codegen/index.js';
import { exportWeights, onnxFiles } from '../compiler/cli/compile-onnx.js';
import { trainStepNames } from '../compiler/codegen/onnx/export.js';
import { loadMnist } from '../runtime/data.js';
import { gradcStepper, timedRound } from './gradc-step.js';
import type { CompiledModel } from '../runtime/model.js';

const BATCH = 64, ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5), BATCHES = Number(process.env.BENCH_ONNX_BATCHES ?? 30);

const mnistSpec = loadWasmModel(deriveGradients(loadModel(new URL('../examples/mnist-mlp.nn', import.meta.url).pathname))).spec;
const data = loadMnist(mnistSpec.inputs, 'train');
const X = Float32Array.from(data.inputs[0]), Y = data.inputs[1];
const rows = Math.floor(X.length / 784 / BATCH) * BATCH;
const start = (i: number) => (i * BATCH) % (rows - BATCH);

function gradcRound(model: CompiledModel): () => Promise<number> {
  const round = timedRound(gradcStepper(model, BATCH, (i) => [X.subarray(start(i) * 784, (start(i) + BATCH) * 784), Y.subarray(start(i), start(i) + BATCH)], 'momentum'), BATCHES, BATCH);
  return async () => round();
}

/** train_step.onnx in a loop, its outputs fed back as the next step's parameters and momenta. */
async function onnxRound(file: string, trainStep: Uint8Array, threads: number): Promise<() => Promise<number>> {
  const g = deriveGradients(loadModel(new URL(`../examples/${file}.nn`, import.meta.url).pathname));
  // Its thread pool's spinning off: spinning threads would go on taking a core from the next contender's round.
  const session = await ort.InferenceSession.create(trainStep, { intraOpNumThreads: threads, interOpNumThreads: 1, logSeverityLevel: 3, extra: { session: { intra_op: { allow_spinning: '0' } } } });
  const xShape = g.model.inputs.find((i) => i.name === 'x')!.shape;
  const weights = exportWeights(g.model, undefined);
  const state = new Map<string, ort.Tensor>();
  for (const p of g.model.params) {
    state.set(p.name, new ort.Tensor('float32', Float32Array.from(weights.get(p.name)!), [...p.shape]));
    state.set(trainStepNames(p.name).velocity, new ort.Tensor('float32', new Float32Array(p.node.size), [...p.shape]));
  }
  const lr = new ort.Tensor('float32', Float32Array.from([0.05]), []);
  const step = async (i: number) => {
    const feeds: Record<string, ort.Tensor> = {
      x: new ort.Tensor('float32', X.slice(start(i) * 784, (start(i) + BATCH) * 784), [BATCH, ...xShape]),
      y: new ort.Tensor('int64', BigInt64Array.from(Y.subarray(start(i), start(i) + BATCH), (v) => BigInt(v)), [BATCH]),
      lr, ...Object.fromEntries(state),
    };
    const out = await session.run(feeds);
    for (const p of g.model.params) {
      const n = trainStepNames(p.name);
      state.set(p.name, out[n.next]);
      state.set(n.velocity, out[n.nextVelocity]);
    }
  };
  for (let i = 0; i < 10; i++) await step(i);
  return async () => { const t = performance.now(); for (let i = 0; i < BATCHES; i++) await step(i); return (BATCHES * BATCH) / ((performance.now() - t) / 1000); };
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
for (const [label, file] of [['LeNet-300-100', 'mnist-mlp'], ['LeNet-5', 'lenet5']] as const) {
  const g = deriveGradients(loadModel(new URL(`../examples/${file}.nn`, import.meta.url).pathname));
  const { trainStep } = onnxFiles(g, { weights: exportWeights(g.model, undefined), l2: 0, momentum: 0.9 });
  const one = loadWasmModel(g), two = loadWasmModel(g);
  const t2 = two.setThreads?.(2) ?? 1;
  const contenders: [string, () => Promise<number>][] = [
    ['gradc wasm, 1 thread', gradcRound(one)], [`gradc wasm, ${t2} threads`, gradcRound(two)],
    ['ONNX Runtime, 1 thread', await onnxRound(file, trainStep, 1)], ['ONNX Runtime, 2 threads', await onnxRound(file, trainStep, 2)],
  ];
  const results = contenders.map(() => [] as number[]);
  for (let r = 0; r < ROUNDS; r++) for (const [k, [, round]] of contenders.entries()) results[k].push(await round());
  const med = results.map(median);
  console.log(`${label}, batch ${BATCH}, SGD with momentum: gradc's train_step.onnx in ONNX Runtime ${ort.env.versions.node} (CPU) vs gradc's wasm trainer, ${ROUNDS} alternating rounds × ${BATCHES} batches (medians)`);
  contenders.forEach(([name], k) => console.log(`  ${name.padEnd(26)} ${med[k].toFixed(0).padStart(8)} examples/s`));
  console.log(`  gradc / ONNX Runtime: ${(med[0] / med[2]).toFixed(2)}× at 1 thread, ${(med[1] / med[3]).toFixed(2)}× at 2 threads`);
}

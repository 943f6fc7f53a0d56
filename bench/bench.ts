// npm run bench: training throughput for LeNet-300-100 (784-300-100-10, relu, softmax cross-entropy) at
// batch 64 with plain SGD, every contender measured in the same run on the same MNIST batches, in
// alternating rounds so that machine noise hits all alike; medians, examples/s, GFLOP/s and ratios:
//  - gradc, wasm target (the default): the generated kernels with the products as WebAssembly SIMD;
//  - gradc, ts target: the same generated kernels, all TypeScript;
//  - a hand-written plain-TypeScript trainer of the same network (bench/handwritten.ts);
//  - TensorFlow.js with its WebAssembly backend (XNNPACK, SIMD), with the backward pass written out and
//    as TF.js users write it (optimizer.minimize).
// Then one kernel: the 64×784 · 784×300 product, gradc's wasm kernel next to TF.js's matMul.

import { loadModel } from '../compiler/frontend/index.js';
import { deriveGradients } from '../compiler/autodiff/gradients.js';
import { loadModelKernels, loadWasmModel } from '../compiler/codegen/index.js';
import { loadMnist } from '../runtime/data.js';
import { gradcStepper } from './gradc-step.js';
import { gemmNT } from '../runtime/kernels.js';
import type { CompiledModel } from '../runtime/model.js';
import { HandwrittenLeNet } from './handwritten.js';
import { tfjsReady, TfLeNet, tfMatmulGflops } from './tfjs.js';

const BATCH = 64, ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5), BATCHES = Number(process.env.BENCH_BATCHES ?? 40);
/** FLOPs of the products of one training step per example: W x and outer(g, x) per layer, Wᵀ g for layers 2 and 3. */
const FLOPS_PER_EXAMPLE = 2 * 2 * 784 * 300 + 3 * 2 * (300 * 100 + 100 * 10);

const g = deriveGradients(loadModel(new URL('../examples/mnist-mlp.nn', import.meta.url).pathname));
const data = loadMnist(loadModelKernels(g).spec.inputs, 'train');
const X = Float32Array.from(data.inputs[0]), Y = Float32Array.from(data.inputs[1]);
const rows = Math.floor(X.length / 784 / BATCH) * BATCH;
const start = (i: number) => (i * BATCH) % (rows - BATCH);
const batchX = (i: number) => X.subarray(start(i) * 784, (start(i) + BATCH) * 784);
const batchY = (i: number) => Y.subarray(start(i), start(i) + BATCH);

/** A gradc step as `gradc train` runs it, with plain SGD (as the other contenders here). */
const gradcStep = (model: CompiledModel) => gradcStepper(model, BATCH, (i) => [batchX(i), batchY(i)], 'sgd');

const wasmModel = loadWasmModel(g, (l) => console.log(l));
const wasm2 = loadWasmModel(g);
const threads = wasm2.setThreads?.(2) ?? 1;
const contenders: { name: string; step: (i: number) => void; sync?: () => void }[] = [
  { name: 'gradc, wasm target (SIMD)', step: gradcStep(wasmModel) },
  { name: `gradc, wasm target, ${threads} threads`, step: gradcStep(wasm2) },
  { name: 'gradc, ts target', step: gradcStep(loadModelKernels(g)) },
];
const hand = new HandwrittenLeNet(BATCH);
contenders.push({ name: 'hand-written TypeScript', step: (i) => hand.step(batchX(i), batchY(i), BATCH, 0.05) });
const backend = await tfjsReady(1);
const tfManual = new TfLeNet(0.05), tfAuto = new TfLeNet(0.05);
const labels = (i: number) => Int32Array.from(batchY(i));
contenders.push({ name: 'TF.js wasm, backward written out', step: (i) => tfManual.stepManual(batchX(i), labels(i), BATCH), sync: () => { tfManual.W[0].dataSync(); } });
contenders.push({ name: 'TF.js wasm, optimizer.minimize', step: (i) => tfAuto.stepAutodiff(batchX(i), labels(i), BATCH), sync: () => { tfAuto.W[0].dataSync(); } });

function measure(c: (typeof contenders)[number]): number {
  const t = performance.now();
  for (let i = 0; i < BATCHES; i++) c.step(i);
  c.sync?.();
  return (BATCHES * BATCH) / ((performance.now() - t) / 1000);
}

for (const c of contenders) for (let i = 0; i < 10; i++) c.step(i); // warm up every JIT and allocator
const results = contenders.map(() => [] as number[]);
for (let r = 0; r < ROUNDS; r++) contenders.forEach((c, k) => results[k].push(measure(c)));
if (process.env.BENCH_VERBOSE) contenders.forEach((c, k) => console.log(c.name, results[k].map((x) => x.toFixed(0)).join(" ")));
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const med = results.map(median);
const ref = med[4]; // TF.js with the backward pass written out: the peer a user would pick
console.log(`LeNet-300-100, batch ${BATCH}, SGD, one thread unless stated, ${ROUNDS} alternating rounds × ${BATCHES} batches (medians); TF.js backend: ${backend}`);
console.log(`  ${'trainer'.padEnd(36)} ${'examples/s'.padStart(10)} ${'GFLOP/s'.padStart(8)} ${'vs TF.js'.padStart(9)}`);
contenders.forEach((c, k) => console.log(`  ${c.name.padEnd(36)} ${med[k].toFixed(0).padStart(10)} ${((med[k] * FLOPS_PER_EXAMPLE) / 1e9).toFixed(2).padStart(8)} ${(med[k] / ref).toFixed(2).padStart(8)}×`));

// One kernel: out = X Wᵀ for X: 64×784 (an MNIST batch), W: 300×784.
const F32 = wasmModel.float32Array ?? Float32Array;
const KX = new F32(64 * 784), KW = new F32(300 * 784), KO = new F32(64 * 300);
KX.set(X.subarray(0, 64 * 784));
for (let i = 0; i < KW.length; i++) KW[i] = Math.sin(i);
const reps = 200;
for (let i = 0; i < 10; i++) gemmNT(64, 300, 784, KX, KW, KO);
let t = performance.now();
for (let i = 0; i < reps; i++) gemmNT(64, 300, 784, KX, KW, KO);
const gradcGflops = (2 * 64 * 784 * 300 * reps) / ((performance.now() - t) / 1000) / 1e9;
const tfGflops = tfMatmulGflops(reps);
console.log(`kernel 64×784 · 784×300: gradc wasm ${gradcGflops.toFixed(2)} GFLOP/s, TF.js wasm matMul ${tfGflops.toFixed(2)} GFLOP/s (${(gradcGflops / tfGflops).toFixed(2)}×)`);
console.log(`  heap used: ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);

// npm run bench: training throughput of gradc's emitted trainer for LeNet-300-100 at batch 64, plain SGD,
// next to a hand-written plain-TypeScript trainer of the same network with the same optimizer, measured in
// the same run, alternating rounds so that machine noise hits both alike. Prints examples/s and the ratio.

import { loadModel } from '../compiler/frontend/index.js';
import { deriveGradients } from '../compiler/autodiff/gradients.js';
import { loadModelKernels } from '../compiler/codegen/index.js';
import { loadMnist } from '../runtime/data.js';
import { createParams } from '../runtime/train.js';
import { Optimizer } from '../runtime/optim.js';
import { HandwrittenLeNet } from './handwritten.js';

const BATCH = 64, ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5), BATCHES = Number(process.env.BENCH_BATCHES ?? 40);

const model = loadModelKernels(deriveGradients(loadModel(new URL('../examples/mnist-mlp.nn', import.meta.url).pathname)));
const data = loadMnist(model.spec.inputs, 'train');
const X = Float32Array.from(data.inputs[0]), Y = Float32Array.from(data.inputs[1]);
const batchX = (i: number) => X.subarray((i * BATCH * 784) % (X.length - BATCH * 784), ((i * BATCH * 784) % (X.length - BATCH * 784)) + BATCH * 784);
const batchY = (i: number) => Y.subarray((i * BATCH) % (Y.length - BATCH), ((i * BATCH) % (Y.length - BATCH)) + BATCH);

// gradc: the generated kernels and the runtime's optimizer, exactly what `gradc train` runs.
const kernels = model.create(BATCH, Float32Array);
const params = createParams(model, 1);
const grads = params.map((p) => new Float32Array(p.length));
const opt = new Optimizer('sgd', 0.05, params, model.spec.params.map(() => 0));
const gradcStep = (i: number) => {
  kernels.lossAndGrad(params, [batchX(i), batchY(i)], BATCH, grads);
  opt.update(grads, 1 / BATCH);
};
const hand = new HandwrittenLeNet(BATCH);
const handStep = (i: number) => { hand.step(batchX(i), batchY(i), BATCH, 0.05); };

function measure(step: (i: number) => void): number {
  const t = performance.now();
  for (let i = 0; i < BATCHES; i++) step(i);
  return (BATCHES * BATCH) / ((performance.now() - t) / 1000);
}

for (let i = 0; i < 10; i++) { gradcStep(i); handStep(i); } // warm up both JITs
const g: number[] = [], h: number[] = [];
for (let r = 0; r < ROUNDS; r++) { g.push(measure(gradcStep)); h.push(measure(handStep)); }
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const mg = median(g), mh = median(h);
console.log(`LeNet-300-100, batch ${BATCH}, ${ROUNDS} rounds × ${BATCHES} batches, median examples/s`);
console.log(`  trainer                          examples/s`);
console.log(`  gradc (emitted, SGD)             ${mg.toFixed(0).padStart(10)}`);
console.log(`  hand-written TypeScript (SGD)    ${mh.toFixed(0).padStart(10)}`);
console.log(`  ratio gradc / hand-written       ${(mg / mh).toFixed(2).padStart(10)}×`);
console.log(`  heap used: ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);

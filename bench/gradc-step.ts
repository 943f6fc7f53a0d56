// One gradc training step exactly as `gradc train` runs it — the batch copied into the model's buffers,
// lossAndGrad, the optimizer's update — shared by the benchmarks so that every contender is timed alike.

import type { CompiledModel } from '../runtime/model.js';
import { createParams } from '../runtime/train.js';
import { Optimizer, type OptimizerName } from '../runtime/optim.js';

/** `batch(i)`: the i-th minibatch's pixels (batch × 784) and labels. */
export function gradcStepper(model: CompiledModel, batchSize: number, batch: (i: number) => [ArrayLike<number>, ArrayLike<number>], optimizer: OptimizerName): (i: number) => void {
  const F32 = model.float32Array ?? Float32Array;
  const kernels = model.create(batchSize, F32);
  const params = createParams(model, 1, F32);
  const grads = params.map((p) => new F32(p.length));
  const inputs = [new F32(batchSize * 784), new F32(batchSize)];
  // Its state in the same memory as the params (as train.ts makes it), so the step runs in WebAssembly too.
  const opt = new Optimizer(optimizer, 0.05, params, model.spec.params.map(() => 0), undefined, F32);
  return (i) => {
    const [x, y] = batch(i);
    inputs[0].set(x);
    inputs[1].set(y);
    kernels.lossAndGrad(params, inputs, batchSize, grads);
    opt.update(grads, 1 / batchSize);
  };
}

/** A contender's timed round: `batches` steps (after ten of warm-up, once), in examples/s. */
export function timedRound(step: (i: number) => void, batches: number, batchSize: number): () => number {
  for (let i = 0; i < 10; i++) step(i);
  return () => { const t = performance.now(); for (let i = 0; i < batches; i++) step(i); return (batches * batchSize) / ((performance.now() - t) / 1000); };
}

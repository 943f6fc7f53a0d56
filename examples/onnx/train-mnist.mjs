// Training a gradc model on MNIST with ONNX Runtime alone: train_step.onnx (gradc's derived backward pass as
// plain ONNX operators) in a loop, then the trained weights written into model.onnx and the test digits
// classified by it. The same digits, initialisation, shuffling and learning-rate schedule as `gradc train`.
//
//   npx gradc compile examples/mnist-mlp.nn --target onnx -o out/onnx
//   node examples/onnx/train-mnist.mjs out/onnx [--epochs 1] [--lr 0.05] [--batch 64]
//
// It prints the loss per epoch, the test accuracy, and writes out/onnx/model-trained.onnx.

import ort from 'onnxruntime-node';
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadMnist } from '../../dist/runtime/data.js';
import { Rng } from '../../dist/runtime/rng.js';
import { learningRate } from '../../dist/runtime/train.js';

const { onnx } = createRequire(import.meta.url)('onnx-proto');
const [dir = 'out/onnx', ...rest] = process.argv.slice(2);
const flag = (name, fallback) => { const i = rest.indexOf(name); return i >= 0 ? Number(rest[i + 1]) : fallback; };
const epochs = flag('--epochs', 1), lr = flag('--lr', 0.05), batch = flag('--batch', 64), seed = 1;

// The initial weights are model.onnx's initializers named like train_step.onnx's parameter inputs (gradc
// writes the initialisation of seed 1 there); the image shape is model.onnx's input x, [N, …].
const session = await ort.InferenceSession.create(join(dir, 'train_step.onnx'));
const model = onnx.ModelProto.decode(readFileSync(join(dir, 'model.onnx')));
const inits = model.graph.initializer.filter((t) => session.inputNames.includes(t.name));
const floats = (raw) => new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
const params = new Map(inits.map((t) => [t.name, floats(t.rawData)]));
const dims = new Map(inits.map((t) => [t.name, t.dims.map(Number)]));
const paramNames = [...params.keys()];
const velocity = new Map(paramNames.map((n) => [n, new Float32Array(params.get(n).length)]));
const xShape = model.graph.input.find((i) => i.name === 'x').type.tensorType.shape.dim.slice(1).map((d) => Number(d.dimValue));

const specs = [{ name: 'x', shape: xShape }, { name: 'y', shape: [], classes: 10 }];
const train = loadMnist(specs, 'train'), test = loadMnist(specs, 'test');
const order = Int32Array.from({ length: train.n }, (_, i) => i);
const steps = Math.ceil(train.n / batch);
for (let epoch = 1; epoch <= epochs; epoch++) {
  new Rng(seed * 1_000_003 + epoch).shuffle(order);
  let lossSum = 0;
  for (let b = 0; b < steps; b++) {
    const rows = order.subarray(b * batch, Math.min(train.n, (b + 1) * batch)), n = rows.length;
    const x = new Float32Array(n * 784), y = new BigInt64Array(n);
    rows.forEach((r, k) => { x.set(train.inputs[0].subarray(r * 784, r * 784 + 784), k * 784); y[k] = BigInt(train.inputs[1][r]); });
    const feeds = { x: new ort.Tensor('float32', x, [n, ...xShape]), y: new ort.Tensor('int64', y, [n]) };
    for (const p of paramNames) {
      feeds[p] = new ort.Tensor('float32', params.get(p), dims.get(p));
      feeds[`velocity_${p}`] = new ort.Tensor('float32', velocity.get(p), dims.get(p));
    }
    feeds.lr = new ort.Tensor('float32', Float32Array.from([learningRate(lr, 'cosine', (epoch - 1) * steps + b, epochs * steps)]), []);
    const out = await session.run(feeds);
    for (const p of paramNames) { params.set(p, out[`${p}_next`].data); velocity.set(p, out[`velocity_${p}_next`].data); }
    lossSum += out.loss.data[0] * n;
  }
  console.log(`epoch ${epoch}/${epochs}  loss ${(lossSum / train.n).toFixed(4)}`);
}

// The trained weights into model.onnx, which then classifies the test digits.
for (const t of model.graph.initializer) if (params.has(t.name)) t.rawData = new Uint8Array(params.get(t.name).buffer.slice(0));
const trained = join(dir, 'model-trained.onnx');
writeFileSync(trained, onnx.ModelProto.encode(model).finish());
const infer = await ort.InferenceSession.create(trained);
const probs = (await infer.run({ x: new ort.Tensor('float32', Float32Array.from(test.inputs[0]), [test.n, ...xShape]) }))[infer.outputNames[0]].data;
let correct = 0;
for (let i = 0; i < test.n; i++) {
  const row = probs.subarray(i * 10, i * 10 + 10);
  if (row.indexOf(Math.max(...row)) === test.inputs[1][i]) correct++;
}
console.log(`test accuracy ${(100 * correct / test.n).toFixed(2)}% (${test.n} digits), wrote ${trained}`);

// Training end to end with the runtime: logistic regression separates a separable set, softmax regression
// learns iris, one epoch of LeNet-300-100 on 1,000 MNIST digits, and the universal-approximation network
// fits sin on [0, 2π]. Accuracy and error are asserted, not time.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../compiler/frontend/index.js';
import { deriveGradients } from '../compiler/autodiff/gradients.js';
import { loadModelKernels } from '../compiler/codegen/index.js';
import { train, evaluate, TRAIN_DEFAULTS } from '../runtime/train.js';
import { loadIris, loadMnist, loadCsv, subset, type Dataset } from '../runtime/data.js';
import { Rng } from '../runtime/rng.js';
import { examplePath, ROOT } from './helpers.js';
import { join } from 'node:path';

const compile = (name: string, dims: Record<string, number> = {}) => loadModelKernels(deriveGradients(loadModel(examplePath(name), { dimOverrides: new Map(Object.entries(dims)) })));
const quiet = () => undefined;

test('logistic regression on a separable set reaches 100 % accuracy', () => {
  const model = compile('logreg', { d: 2 });
  const rng = new Rng(5);
  const n = 200, x = new Float64Array(n * 2), y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const label = i % 2 === 0 ? 1 : -1;
    x[2 * i] = label * (0.5 + rng.next()) + 0.3 * rng.normal(); x[2 * i + 1] = rng.normal(); // separable along the first axis
    if (Math.sign(x[2 * i]) !== label) x[2 * i] = -x[2 * i];
    y[i] = label;
  }
  const data: Dataset = { n, inputs: [x, y], source: 'separable' };
  const r = train(model, { ...TRAIN_DEFAULTS, optimizer: 'sgd', lr: 0.5, epochs: 30, l2: 0, train: data, log: quiet });
  const k = model.create(n, Float32Array);
  const out = k.forward(r.params, [Float32Array.from(x), Float32Array.from(y)], n).outputs[0];
  let correct = 0;
  for (let i = 0; i < n; i++) if ((out[i] > 0.5 ? 1 : -1) === y[i]) correct++;
  assert.equal(correct, n);
});

test('softmax regression on iris reaches ≥ 95 %', () => {
  const model = compile('softmax-regression');
  const iris = loadIris(model.spec.inputs);
  const r = train(model, { ...TRAIN_DEFAULTS, optimizer: 'adam', lr: 0.05, epochs: 150, batch: 16, l2: 0, train: iris, log: quiet });
  const acc = evaluate(model, model.create(16, Float32Array), r.params, iris, 16, model.spec.inputs.map((s) => new Float32Array(16 * (s.classes !== undefined ? 1 : 4)))).accuracy!;
  assert.ok(acc >= 0.95, `iris accuracy ${acc}`);
});

test('one epoch of LeNet-300-100 on 1,000 MNIST digits reaches ≥ 80 % on the test digits', () => {
  const model = compile('mnist-mlp');
  const all = loadMnist(model.spec.inputs, 'train');
  const small = subset(all, Int32Array.from({ length: 1000 }, (_, i) => i), 'mnist (1,000)');
  const testSet = loadMnist(model.spec.inputs, 'test');
  const r = train(model, { ...TRAIN_DEFAULTS, epochs: 1, batch: 16, train: small, test: testSet, log: quiet });
  const acc = r.history[0].testAccuracy!;
  assert.ok(acc >= 0.8, `test accuracy ${acc}`);
});

test('the universal-approximation network fits sin on [0, 2π] within 0.05 everywhere', () => {
  const model = compile('universal-approximation');
  const data = loadCsv(join(ROOT, 'examples', 'data', 'sin.csv'), model.spec.inputs);
  const r = train(model, { ...TRAIN_DEFAULTS, optimizer: 'adam', lr: 0.01, epochs: 400, batch: 32, l2: 0, train: data, log: quiet });
  const grid = 2001;
  const xs = Float32Array.from({ length: grid }, (_, i) => (2 * Math.PI * i) / (grid - 1));
  const k = model.create(grid, Float32Array);
  const ys = k.forward(r.params, [xs, new Float32Array(grid)], grid).outputs[0];
  let worst = 0;
  for (let i = 0; i < grid; i++) worst = Math.max(worst, Math.abs(ys[i] - Math.sin(xs[i])));
  assert.ok(worst < 0.05, `max |y − sin x| = ${worst}`);
});

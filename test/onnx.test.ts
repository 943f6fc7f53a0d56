// Export to ONNX, validated by ONNX Runtime itself: on every example and on the differential tester's random
// models, model.onnx's outputs and loss equal gradc's interpreter and one train_step.onnx step equals one
// step of gradc's trainer (float32 tolerance); every op of the IR has an ONNX form; the command writes both
// files and refuses what it cannot express with a message, never a broken file.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { loadModel, parseModel } from '../compiler/frontend/index.js';
import { deriveGradients } from '../compiler/autodiff/gradients.js';
import { allOps } from '../compiler/ir/node.js';
import '../compiler/ir/ops/index.js';
import { ONNX_OPS } from '../compiler/codegen/onnx/ops.js';
import { generateModel } from './difftest/generate.js';
import { checkOnnx, onnxPoint } from './onnx-check.js';
import { examplePath, ROOT, runCli, tempDir } from './helpers.js';

const RANDOM_MODELS = Number(process.env.GRADC_ONNX_CASES ?? 150);

test('every op of the IR has an ONNX form', () => {
  const missing = allOps().map((op) => op.name).filter((name) => !Object.hasOwn(ONNX_OPS, name));
  assert.deepEqual(missing, []);
});

const EXAMPLES: [string, Record<string, number>][] = [
  ['logreg', {}], ['softmax-regression', {}], ['mlp', { d: 6, n: 5, K: 3 }], ['tanh-mlp', {}], ['l2-mlp', { d: 6, n: 5, K: 3 }],
  ['param-growth', {}], ['universal-approximation', {}], ['mnist-mlp', {}], ['lenet5', {}],
];

test('every example: model.onnx = gradc eval and train_step.onnx = one step of gradc\'s trainer, in ONNX Runtime', async () => {
  for (const [name, dims] of EXAMPLES) {
    const g = deriveGradients(loadModel(examplePath(name), { dimOverrides: new Map(Object.entries(dims)) }));
    for (const seed of [1, 2]) assert.deepEqual(await checkOnnx(g, onnxPoint(g, seed, 4)), [], `${name}, seed ${seed}`);
  }
});

test(`${RANDOM_MODELS} random models of the differential tester in ONNX Runtime`, async () => {
  const failures: string[] = [];
  for (let seed = 1; seed <= RANDOM_MODELS; seed++) {
    const g = deriveGradients(parseModel('case.nn', generateModel(seed).source));
    try {
      const problems = await checkOnnx(g, onnxPoint(g, seed));
      if (problems.length) failures.push(`seed ${seed}: ${problems.slice(0, 2).join('; ')}`);
    } catch (e) {
      failures.push(`seed ${seed}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  assert.deepEqual(failures, []);
});

test('gradc compile --target onnx: both files, loadable, with the model\'s names; --weights exports trained values', async () => {
  const dir = tempDir();
  const r = runCli(['compile', examplePath('mlp'), '--dim', 'd=6,n=5,K=3', '--target', 'onnx', '-o', dir]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /model\.onnx .*train_step\.onnx .*ONNX opset 17/);
  const model = await ort.InferenceSession.create(join(dir, 'model.onnx'));
  assert.deepEqual(model.inputNames, ['x']); // inference: no label needed
  assert.deepEqual(model.outputNames, ['p']);
  const step = await ort.InferenceSession.create(join(dir, 'train_step.onnx'));
  assert.deepEqual(step.inputNames, ['x', 'y', 'W1', 'b1', 'W2', 'b2', 'velocity_W1', 'velocity_b1', 'velocity_W2', 'velocity_b2', 'lr']);
  assert.deepEqual(step.outputNames.slice(0, 3), ['loss', 'velocity_W1_next', 'W1_next']);
  // Each node's formula travels in its doc_string (Netron shows it).
  assert.ok(readFileSync(join(dir, 'model.onnx')).includes('sigmoid(z1)'));
  const withLoss = tempDir();
  assert.equal(runCli(['compile', examplePath('mlp'), '--dim', 'd=6,n=5,K=3', '--target', 'onnx', '-o', withLoss, '--with-loss']).status, 0);
  assert.deepEqual((await ort.InferenceSession.create(join(withLoss, 'model.onnx'))).outputNames, ['p', 'L']);
  // Trained weights: model.onnx's p = σ(wᵀx) with the saved w.
  const trained = tempDir(), weights = join(trained, 'w.json');
  assert.equal(runCli(['train', examplePath('logreg'), '--data', join(ROOT, 'examples', 'data', 'logreg.csv'), '--epochs', '2', '--save', weights]).status, 0);
  assert.equal(runCli(['compile', examplePath('logreg'), '--target', 'onnx', '-o', trained, '--weights', weights]).status, 0);
  const w = (JSON.parse(readFileSync(weights, 'utf8')) as { params: { values: number[] }[] }).params[0].values;
  const x = [0.5, -1, 2, 0.25];
  const p = (await (await ort.InferenceSession.create(join(trained, 'model.onnx'))).run({ x: new ort.Tensor('float32', Float32Array.from(x), [1, 4]) })).p.data as Float32Array;
  const want = 1 / (1 + Math.exp(-w.reduce((s, wi, i) => s + wi * x[i], 0)));
  assert.ok(Math.abs(p[0] - want) < 1e-6, `${p[0]} vs σ(wᵀx) = ${want}`);
});

test('an unreadable weights file is a clear error, and nothing is written', () => {
  const dir = join(tempDir(), 'out');
  const r = runCli(['compile', examplePath('logreg'), '--target', 'onnx', '-o', dir, '--weights', join(dir, 'missing.json')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /missing\.json/);
  assert.ok(!existsSync(join(dir, 'model.onnx')));
});

test('MNIST trained by ONNX Runtime alone (examples/onnx/train-mnist.mjs) reaches gradc train\'s accuracy on the same digits and seed', () => {
  const dir = tempDir();
  assert.equal(runCli(['compile', examplePath('mnist-mlp'), '--target', 'onnx', '-o', dir]).status, 0);
  const ortRun = spawnSync(process.execPath, [join(ROOT, 'examples', 'onnx', 'train-mnist.mjs'), dir, '--epochs', '1'], { encoding: 'utf8' });
  assert.equal(ortRun.status, 0, ortRun.stderr);
  const gradcRun = runCli(['train', examplePath('mnist-mlp'), '--data', 'mnist', '--epochs', '1']);
  assert.equal(gradcRun.status, 0, gradcRun.stderr);
  const ortAcc = Number(/test accuracy ([\d.]+)%/.exec(ortRun.stdout)![1]), gradcAcc = Number(/test accuracy ([\d.]+)%/.exec(gradcRun.stdout)![1]);
  const ortLoss = Number(/loss ([\d.]+)/.exec(ortRun.stdout)![1]), gradcLoss = Number(/final loss ([\d.]+)/.exec(gradcRun.stdout)![1]);
  assert.ok(gradcAcc > 85, `gradc train reached ${gradcAcc}%`);
  assert.ok(Math.abs(ortAcc - gradcAcc) <= 0.5, `ONNX Runtime ${ortAcc}% vs gradc ${gradcAcc}%`);
  assert.ok(Math.abs(ortLoss - gradcLoss) <= 2e-3, `ONNX Runtime loss ${ortLoss} vs gradc ${gradcLoss}`);
  assert.ok(existsSync(join(dir, 'model-trained.onnx')));
});

test('a model ONNX cannot express (a convolution kernel that is an input) gets a located error and no file', () => {
  const dir = tempDir();
  const model = join(dir, 'conv-input.nn');
  writeFileSync(model, 'model conv_input\ninput x: [1, 6, 6]\ninput K: [2, 1, 3, 3]\nparam W: [3, 32] ~ xavier\ninput y: class(3)\nz = flatten(conv2d(x, K))\nloss L = cross_entropy(W * z, y)\n');
  const r = runCli(['compile', model, '--target', 'onnx', '-o', join(dir, 'out')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /conv-input\.nn:6:13: error: this cannot be exported to ONNX: a convolution kernel computed from the inputs/);
  assert.ok(!existsSync(join(dir, 'out')));
  const check = runCli(['check', model]);
  assert.equal(check.status, 0);
  assert.match(check.stdout, /onnx: not supported:\n {4}.*conv-input\.nn:6:13/);
});

test('a kernel gradient reshaped before the batch sum exports through the per-example path (patches and a batched MatMul)', async () => {
  // The kernel is a reshaped matrix, so dL/dW = reshape(correlate(x, g)) per example: the sum over the batch
  // is not one convolution, and each example's kernel gradient is computed (unit-kernel patches, a batched
  // MatMul), reshaped, then summed.
  const g = deriveGradients(parseModel('reshaped.nn', [
    'model reshaped_kernel', 'input x: [2, 7, 6]', 'param W: [3, 12] ~ normal(0, 0.5)',
    'z = conv2d(x, reshape(W, [3, 2, 3, 2]), stride=2, pad=1)', 'loss L = sum(tanh(z))', ''].join('\n')));
  for (const seed of [1, 2]) assert.deepEqual(await checkOnnx(g, onnxPoint(g, seed, 3)), [], `seed ${seed}`);
});

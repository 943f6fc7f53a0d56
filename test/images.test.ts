// Images from a user's side: the printed backward program of LeNet-5 reads back in and every line of it
// passes verify; a student's typical mistakes with convolutions fail with a counterexample; the check's
// parameter-reuse table has the lecture's numbers; the language's ones/zeros and sums along axes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runCli, tempDir } from './helpers.js';
import { parseModel } from '../compiler/frontend/index.js';
import { deriveGradients } from '../compiler/autodiff/gradients.js';
import { evaluateOne } from '../compiler/ir/interpret.js';
import { tensor } from '../compiler/ir/tensor.js';
import { convLayers } from '../compiler/cli/reuse.js';

test('LeNet-5: gradc grad\'s own backward program passes verify --claims line by line', () => {
  const dir = tempDir('gradc-images-');
  const grad = runCli(['grad', 'examples/lenet5.nn']);
  assert.equal(grad.status, 0, grad.stderr);
  for (const rule of ['dL/dK2 = correlate(p1, dL/dz2)', 'dL/dp1 = full_conv2d(dL/dz2, flip(K2))', 'dL/da2 = route_to_max(dL/dp2, a2, 2)', 'dL/dc1 = sum(dL/dz1, [2, 3])', 'dL/dp2 = reshape(dL/dh2, [16, 4, 4])']) {
    assert.ok(grad.stdout.includes(rule), `${rule} in\n${grad.stdout}`);
  }
  const file = join(dir, 'claims.txt');
  writeFileSync(file, grad.stdout);
  const r = runCli(['verify', 'examples/lenet5.nn', '--claims', file]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.pop(), '22 of 22 claims pass');
  assert.equal(lines.length, 22);
  for (const l of lines) assert.match(l, /^PASS /);
});

test('a student\'s convolution claims: the textbook forms pass, the usual mistakes fail with a counterexample', () => {
  const verify = (wrt: string, claim: string) => runCli(['verify', 'test/fixtures/images.nn', '--wrt', wrt, '--claim', claim]);
  // With stride and padding, and through the step before (dL/dz1 is the true adjoint).
  assert.equal(verify('K1', 'correlate(x, dL/dz1, stride=2, pad=1)').status, 0);
  assert.equal(verify('c1', 'sum(dL/dz1, [2, 3])').status, 0);
  assert.equal(verify('a1', 'upsample(dL/dp1, 2) / 4 + full_conv2d(dL/dz2, flip(K2), pad=1)').status, 0);
  const mistakes = [
    ['K1', 'correlate(x, dL/dz1, stride=2)'],                              // the padding forgotten: another kernel size
    ['a1', 'upsample(dL/dp1, 2) + full_conv2d(dL/dz2, flip(K2), pad=1)'],  // the 1/s² of average pooling forgotten
    ['c1', 'sum(dL/dz1)'],                                                 // a scalar for a per-channel bias
  ] as const;
  for (const [wrt, claim] of mistakes) {
    const r = verify(wrt, claim);
    assert.equal(r.status, 1, `${claim} should fail:\n${r.stdout}${r.stderr}`);
  }
  const avg = verify('a1', 'upsample(dL/dp1, 2) + full_conv2d(dL/dz2, flip(K2), pad=1)');
  assert.match(avg.stdout, /^FAIL/);
  assert.match(avg.stdout, /counterexample|at the point/i);
  const flipLess = verify('a1', 'upsample(dL/dp1, 2) / 4 + full_conv2d(dL/dz2, K2, pad=1)');
  assert.equal(flipLess.status, 1);
  assert.match(flipLess.stderr, /full_conv2d takes the flipped kernel: full_conv2d\(dL\/dz2, flip\(K\)\)/);
});

test('gradc check counts the lecture\'s argument: LeNet-5\'s convolutions against dense layers', () => {
  const r = runCli(['check', 'examples/lenet5.nn']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /conv2d\(x, K1\) +\[1, 28, 28\] +\[6, 24, 24\] +150 +2,709,504 +18,063×/);
  assert.match(r.stdout, /conv2d\(p1, K2\) +\[6, 12, 12\] +\[16, 8, 8\] +2,400 +884,736 +369×/);
  assert.match(r.stdout, /total: 44,426 parameters; with dense layers in their place \(biases per output\): 3,640,574 \(82×\)/);
  // The table's arithmetic, independently: 784 inputs × 3,456 outputs; the totals swap kernel and bias for dense weights and biases.
  const g = deriveGradients(parseModel('lenet5.nn', readFileSync(join(ROOT, 'examples', 'lenet5.nn'), 'utf8')));
  const layers = convLayers(g.model, [g.loss]);
  assert.deepEqual(layers.map((l) => [l.weights, l.bias, l.denseWeights, l.denseBias]), [[150, 6, 784 * 3456, 3456], [2400, 16, 864 * 1024, 1024]]);
  assert.equal(44426 - 150 - 6 - 2400 - 16 + 784 * 3456 + 3456 + 864 * 1024 + 1024, 3640574);
  // No table for a model without convolutions.
  assert.doesNotMatch(runCli(['check', 'examples/mlp.nn']).stdout, /parameter reuse/);
});

test('ones(…), zeros(…) and sums along axes are in the language, with mathjs\'s meanings', () => {
  const m = parseModel('axes.nn', [
    'input A: [2, 3]', 'input G: [2, 3, 4]', 'param w: [3] = 1',
    'loss L = sum(sum(A, 1) .* w) + sum(sum(G, [2, 3])) + sum(ones(2, 3) .* A) + sum(zeros(3) .* w)',
  ].join('\n'));
  const g = deriveGradients(m);
  const A = tensor([2, 3], [1, 2, 3, 4, 5, 6]), G = tensor([2, 3, 4], Array.from({ length: 24 }, (_, i) => i));
  const env = new Map([['A', A], ['G', G], ['w', tensor([3], [1, 1, 1])]]);
  // Σ column sums (21) + Σ over G (276) + Σ A (21) + 0.
  assert.equal(evaluateOne(g.loss, env).data[0], 21 + 276 + 21);
  const file = join(tempDir('gradc-images-'), 'axes.nn');
  writeFileSync(file, 'input A: [2, 3]\nloss L = sum(sum(A, 3))\n');
  const bad = runCli(['check', file]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /the axes of sum\(A, …\) are 1 to 2/);
});

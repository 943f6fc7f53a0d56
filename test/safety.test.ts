// The run-time safety net and the checks that come before a long run: a generated-code bug is caught before
// the first step (against the interpreter in `gradc train`, against central differences in a standalone
// trainer) and named; unwritable output paths and sizes that cannot fit are refused before any work.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../compiler/frontend/index.js';
import { deriveGradients } from '../compiler/autodiff/gradients.js';
import { loadModelKernels } from '../compiler/codegen/index.js';
import { interpreterReference } from '../compiler/codegen/reference.js';
import type { CompiledModel } from '../runtime/model.js';
import { parseTrainerFlags, runTrainer } from '../runtime/cli.js';
import { ROOT, runCli, tempDir } from './helpers.js';

const MODEL = join(ROOT, 'test', 'fixtures', 'regress', 'param-reused-in-loss.nn');

/** Kernels with a planted code-generation bug: element 0 of the second parameter's gradient is off by `by`. */
function withBug(model: CompiledModel, by: number): CompiledModel {
  return {
    spec: model.spec,
    create(batch, Arr) {
      const k = model.create(batch, Arr);
      return {
        get logits() { return k.logits; },
        forward: (p, i, n) => k.forward(p, i, n),
        lossAndGrad: (p, i, n, g) => { const l = k.lossAndGrad(p, i, n, g); g[1][0] += by * n; return l; },
      };
    },
  };
}

function csv(dir: string): string {
  const file = join(dir, 'd.csv');
  const rows = ['a,b,c,d,y'];
  for (let r = 0; r < 40; r++) rows.push([Math.sin(r), Math.cos(r), Math.sin(2 * r), Math.cos(3 * r)].map((v) => v.toFixed(3)).join(',') + `,${r % 3}`);
  writeFileSync(file, rows.join('\n') + '\n');
  return file;
}

for (const against of ['the interpreter', 'central differences'] as const) {
  test(`a generated-gradient bug stops training before the first step, naming the parameter (against ${against})`, () => {
    const g = deriveGradients(loadModel(MODEL));
    const out: string[] = [], err: string[] = [];
    const flags = parseTrainerFlags(['--data', csv(tempDir()), '--epochs', '3']);
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    const status = runTrainer(withBug(loadModelKernels(g), 0.5), flags, io, against === 'the interpreter' ? interpreterReference(g) : undefined);
    assert.equal(status, 1);
    assert.match(err.join('\n'), /stopped before training: the generated gradient of W2 differs from/);
    assert.ok(!out.some((l) => /^epoch /.test(l)), 'no epoch may run');
    // Without the bug the same run trains, and says what it checked.
    const ok: string[] = [];
    assert.equal(runTrainer(loadModelKernels(g), flags, { out: (l) => ok.push(l), err: (l) => ok.push(l) }, against === 'the interpreter' ? interpreterReference(g) : undefined), 0);
    assert.match(ok.join('\n'), new RegExp(`gradients checked against ${against} on 4 examples: ok`));
  });
}

test('--save, --predict and compile -o that cannot be written are refused before training, in one line', () => {
  const dir = tempDir();
  const data = csv(dir);
  for (const [flag, path, why] of [
    ['--save', join(dir, 'missing', 'w.json'), /--save .*: the folder .*missing does not exist/],
    ['--predict', dir, /--predict .*: that is a folder; give a file name/],
  ] as const) {
    const r = runCli(['train', MODEL, '--data', data, '--epochs', '2', flag, path]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, why);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.doesNotMatch(r.stdout, /epoch 1/);
  }
  const blocker = join(dir, 'file');
  writeFileSync(blocker, 'x');
  const c = runCli(['compile', MODEL, '-o', join(blocker, 'out')]);
  assert.equal(c.status, 1);
  assert.match(c.stderr, /cannot write the trainer/);
  assert.doesNotMatch(c.stderr, /at .*\.ts:\d+/);
});

test('sizes that cannot fit are refused up front with the bytes needed', () => {
  const dir = tempDir();
  const file = join(dir, 'huge.nn');
  writeFileSync(file, 'dim d = 100000\ninput x: [d]\ninput y: class(3)\nparam W: [d, d]\nloss L = sum(W * x)\n');
  for (const args of [['gradcheck', file], ['train', file, '--data', 'iris'], ['gradcheck', join(ROOT, 'examples', 'mlp.nn'), '--dim', 'd=10000000', '--dim', 'n=1000']]) {
    const t0 = Date.now();
    const r = runCli(args);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /needs (one buffer of )?[\d,]+ bytes \([\d.]+ GiB\)/);
    assert.ok(Date.now() - t0 < 30_000, 'refused before any work');
  }
});

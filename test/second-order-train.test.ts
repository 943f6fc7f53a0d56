// Optimisers that use curvature reach the optimum of the same loss as the first-order trainer: Newton
// (IRLS) on logistic regression in a handful of iterations, L-BFGS and Newton-CG on softmax regression;
// the standalone trainer runs L-BFGS; the Newton methods say what they need where it is missing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { loadModel } from '../compiler/frontend/index.js';
import { deriveGradients } from '../compiler/autodiff/gradients.js';
import { hvpGradients } from '../compiler/autodiff/hvp.js';
import { loadModelKernels } from '../compiler/codegen/index.js';
import { inputSpecs } from '../compiler/codegen/spec.js';
import { loadSource } from '../runtime/data.js';
import { train, type TrainOptions } from '../runtime/train.js';
import { fullBatchObjective } from '../runtime/second-order.js';
import { examplePath, ROOT, runCli, tempDir } from './helpers.js';

/** Trains full batch and returns the objective (mean loss + L2 penalty) at the end, in float64, and the iterations run. */
function optimum(file: string, data: string, opts: Partial<TrainOptions>): { f: number; iterations: number } {
  const m = loadModel(file);
  const g = deriveGradients(m);
  const model = loadModelKernels(g);
  const ds = loadSource(data, inputSpecs(m), 'train');
  const l2 = opts.l2 ?? 0;
  const r = train(model, { train: ds, epochs: 20, batch: ds.n, lr: 0.1, optimizer: 'newton', schedule: 'constant', seed: 1, l2, precision: 'f64', log: () => {}, hvp: loadModelKernels(hvpGradients(g)), ...opts });
  const obj = fullBatchObjective(model, undefined, ds, ds.n, l2);
  const x = new Float64Array(obj.dim);
  let o = 0;
  for (const p of r.params) { x.set(p, o); o += p.length; }
  return { f: obj.value(x, new Float64Array(obj.dim)), iterations: r.history.length };
}

const LOGREG_DATA = join(ROOT, 'examples', 'data', 'logreg.csv');

test('Newton (IRLS) on logistic regression: the optimum of gradient descent in a handful of steps', () => {
  const newton = optimum(examplePath('logreg'), LOGREG_DATA, { optimizer: 'newton', epochs: 30 });
  const gd = optimum(examplePath('logreg'), LOGREG_DATA, { optimizer: 'momentum', epochs: 3000, lr: 2 });
  assert.ok(newton.iterations <= 10, `Newton took ${newton.iterations} iterations`);
  assert.ok(Math.abs(newton.f - gd.f) <= 1e-6, `Newton ${newton.f} vs gradient descent ${gd.f}`);
  const cg = optimum(examplePath('logreg'), LOGREG_DATA, { optimizer: 'newton-cg', epochs: 30 });
  assert.ok(Math.abs(cg.f - gd.f) <= 1e-6, `Newton-CG ${cg.f} vs gradient descent ${gd.f}`);
});

test('L-BFGS on softmax regression (iris, L2 0.01): the optimum of gradient descent', () => {
  const lbfgs = optimum(examplePath('softmax-regression'), 'iris', { optimizer: 'lbfgs', epochs: 400, l2: 0.01 });
  const gd = optimum(examplePath('softmax-regression'), 'iris', { optimizer: 'momentum', epochs: 20000, lr: 0.05, l2: 0.01 });
  assert.ok(lbfgs.iterations < 400, `L-BFGS did not converge in ${lbfgs.iterations} iterations`);
  assert.ok(Math.abs(lbfgs.f - gd.f) <= 1e-6, `L-BFGS ${lbfgs.f} vs gradient descent ${gd.f}`);
});

test('gradc train --optimizer newton-cg on an MLP; the standalone trainer, copied alone, runs lbfgs, newton-cg and newton to the same optimum', () => {
  const r = runCli(['train', examplePath('mlp'), '--dim', 'd=4,n=8,K=3', '--data', 'iris', '--optimizer', 'newton-cg', '--epochs', '15', '--l2', '0.001']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /newton-cg \(full batch, float64, line search\)/);
  assert.match(r.stdout, /iteration 15\/15 .* H v\)/);
  const dir = tempDir();
  assert.equal(runCli(['compile', examplePath('logreg'), '-o', dir]).status, 0);
  const alone = tempDir();
  copyFileSync(join(dir, 'trainer.mjs'), join(alone, 'trainer.mjs'));
  copyFileSync(LOGREG_DATA, join(alone, 'data.csv'));
  const run = (args: string[]) => spawnSync(process.execPath, ['trainer.mjs', '--data', 'data.csv', ...args], { cwd: alone, encoding: 'utf8' });
  const l = run(['--optimizer', 'lbfgs', '--epochs', '50']);
  assert.equal(l.status, 0, l.stderr);
  assert.match(l.stdout, /converged after \d+ iterations/);
  const finalLoss = (out: string) => Number(/iteration \d+\/\d+ {2}loss (\S+)/.exec(out.trim().split('\n').filter((x) => x.startsWith('iteration')).at(-1)!)![1]);
  for (const optimizer of ['newton', 'newton-cg']) {
    const n = run(['--optimizer', optimizer, '--epochs', '20']);
    assert.equal(n.status, 0, n.stderr);
    assert.match(n.stdout, /converged after \d+ iterations/);
    assert.ok(Math.abs(finalLoss(n.stdout) - finalLoss(l.stdout)) <= 1e-8, `${optimizer}: ${finalLoss(n.stdout)} vs lbfgs ${finalLoss(l.stdout)}`);
    assert.match(n.stdout, /\d+ H v\)/);
  }
});

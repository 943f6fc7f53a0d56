// The differential tester (test/difftest): seeded random models over the whole language, each compared
// artefact by artefact with the interpreter, central differences and mathjs (in test/difftest-{1,2,3}.test.ts,
// a third of the seeds each, so that they run side by side); here, that those models cover the language, the
// regression fixtures it and issue 8 found, and a sample of generated models compiled to standalone trainers
// that must type-check and pass their own --selftest. GRADC_FUZZ_CASES=N runs N random models instead of 300.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateModel } from './difftest/generate.js';
import { checkModel } from './difftest/check.js';
import { CASES } from './difftest/slice.js';
import { ROOT, runCli, tempDir } from './helpers.js';
import { TYPECHECK_FLAGS } from '../compiler/cli/run.js';

test(`the ${CASES} random models draw on every part of the language (checked in test/difftest-{1,2,3}.test.ts)`, () => {
  const features = new Set(Array.from({ length: CASES }, (_, i) => generateModel(i + 1).features).flat());
  for (const f of ['conv-direct', 'conv-bias-relu', 'maxpool-after-relu', 'matrix-input', 'no-input', 'class-label', 'fn', 'penalty', 'special-name', 'quadratic-form', 'outer', 'transpose', 'row-broadcast', 'softmax', 'cross_entropy', 'kink', 'sum-axis-1', 'sum-axis-2', 'expand', 'diag', 'kron']) {
    assert.ok(CASES < 100 || features.has(f), `no model used ${f}`);
  }
});

const REGRESS = join(ROOT, 'test', 'fixtures', 'regress');
for (const file of readdirSync(REGRESS).filter((f) => f.endsWith('.nn')).sort()) {
  test(`regression fixture ${file}: every target agrees with the interpreter`, () => {
    const r = checkModel(readFileSync(join(REGRESS, file), 'utf8'), { gpu: true, wasm: true });
    assert.equal(r.status, 'pass', r.problems.join('\n'));
  });
}

for (const file of ['l2-penalty-mlp.nn', 'param-reused-in-loss.nn', 'quadratic-forms.nn', 'rosenbrock.nn']) {
  test(`gradc gradcheck passes and gradc check runs: ${file}`, () => {
    const r = runCli(['gradcheck', join(REGRESS, file)]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /PASS/);
    const c = runCli(['check', join(REGRESS, file)]);
    assert.equal(c.status, 0, c.stderr);
  });
}

test('compiled random models: trainer.ts type-checks with the documented command, trainer.mjs alone passes --selftest', () => {
  const dir = tempDir('gradc-difftest-');
  const seeds = [3, 7, 12, 25, 31];
  const dirs = seeds.map((seed) => {
    const src = join(dir, `m${seed}.nn`);
    writeFileSync(src, generateModel(seed).source);
    const out = join(dir, `out${seed}`);
    const r = runCli(['compile', src, '-o', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /run: {8}node .*trainer\.mjs/);
    return out;
  });
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), ...TYPECHECK_FLAGS.split(' '), ...dirs.map((d) => join(d, 'trainer.ts'))], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
  for (const out of dirs) {
    const alone = tempDir('gradc-alone-');
    copyFileSync(join(out, 'trainer.mjs'), join(alone, 'trainer.mjs'));
    const self = spawnSync(process.execPath, ['trainer.mjs', '--selftest'], { cwd: alone, encoding: 'utf8' });
    assert.equal(self.status, 0, `${out}: ${self.stdout}${self.stderr}`);
    assert.match(self.stdout, /selftest passed/);
  }
});

// The differential tester (test/difftest): seeded random models over the whole language, each compared
// artefact by artefact with the interpreter, central differences and mathjs; the regression fixtures it and
// issue 8 found; and a sample of generated models compiled to standalone trainers that must type-check
// and pass their own --selftest. GRADC_FUZZ_CASES=N runs N random models instead of the default.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateModel } from './difftest/generate.js';
import { parseModel } from '../compiler/frontend/index.js';
import { deriveGradients } from '../compiler/autodiff/gradients.js';
import { prebuildWasmModules } from '../compiler/codegen/index.js';
import { checkModel } from './difftest/check.js';
import { ROOT, runCli, tempDir } from './helpers.js';
import { TYPECHECK_FLAGS } from '../compiler/cli/run.js';

const CASES = Number(process.env.GRADC_FUZZ_CASES ?? 300);
const GPU_EVERY = 10; // gpu.js without a GPU is slow: every tenth model also runs on the gpu target
const WASM_EVERY = 5; // building a WebAssembly module takes a child process: every fifth model

test(`differential: ${CASES} random models (seeds 1…${CASES}), generated code (ts, wasm, gpu) = interpreter = central differences = mathjs, to second order`, () => {
  const failures: string[] = [];
  let skipped = 0, secondOrder = 0;
  const features = new Set<string>();
  // The wasm modules of the models that run the wasm target, built in one process (binaryen loads once).
  // Every fifth model, and every model whose convolution the wasm target runs as direct kernels.
  const models = Array.from({ length: CASES }, (_, i) => generateModel(i + 1));
  const runsWasm = (seed: number) => seed % WASM_EVERY === 0 || models[seed - 1].features.includes('conv-direct');
  const wasmModels = [];
  for (let seed = 1; seed <= CASES; seed++) {
    if (!runsWasm(seed)) continue;
    try { wasmModels.push(deriveGradients(parseModel('case.nn', models[seed - 1].source))); } catch { /* checkModel reports it */ }
  }
  prebuildWasmModules(wasmModels);
  for (let seed = 1; seed <= CASES; seed++) {
    const m = models[seed - 1];
    m.features.forEach((f) => features.add(f));
    const r = checkModel(m.source, { gpu: seed % GPU_EVERY === 0, wasm: runsWasm(seed) });
    if (r.status === 'skip') skipped++;
    else if (r.secondOrder) secondOrder++;
    if (r.status === 'fail') failures.push(`seed ${seed} (reproduce: npx tsx scripts/difftest.ts 1 ${seed}):\n  ${r.problems.join('\n  ')}\n${m.source}`);
  }
  assert.deepEqual(failures, []);
  // Not a vacuous pass: the models drew on every part of the language, and almost none overflowed.
  for (const f of ['conv-direct', 'matrix-input', 'no-input', 'class-label', 'fn', 'penalty', 'special-name', 'quadratic-form', 'outer', 'transpose', 'row-broadcast', 'softmax', 'cross_entropy', 'kink', 'sum-axis-1', 'sum-axis-2', 'expand', 'diag', 'kron']) {
    assert.ok(CASES < 100 || features.has(f), `no model used ${f}`);
  }
  assert.ok(skipped <= CASES / 20, `${skipped} of ${CASES} cases overflowed`);
  // Second order: the generated H v and the symbolic Hessians were checked on every model that did not overflow.
  assert.ok(CASES < 100 || secondOrder >= CASES * 0.9, `second order checked on only ${secondOrder} of ${CASES} models`);
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

// The differential tester's random models, a slice of seeds at a time: test/difftest-{1,2,3}.test.ts each
// check a third of them, so that the test runner spreads the 300 models over the cores (one file of 300
// was the suite's longest path). GRADC_FUZZ_CASES=N checks N models in all, split the same way.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateModel } from './generate.js';
import { parseModel } from '../../compiler/frontend/index.js';
import { deriveGradients } from '../../compiler/autodiff/gradients.js';
import { prebuildWasmModules } from '../../compiler/codegen/index.js';
import { checkModel } from './check.js';

export const CASES = Number(process.env.GRADC_FUZZ_CASES ?? 300);
export const SLICES = 3;
const GPU_EVERY = 10; // gpu.js without a GPU is slow: every tenth model also runs on the gpu target
const WASM_EVERY = 5; // building a WebAssembly module takes a child process: every fifth model

/** Seeds first…last of slice k (1-based) of SLICES. */
export function sliceSeeds(k: number): [number, number] {
  const size = Math.ceil(CASES / SLICES);
  return [(k - 1) * size + 1, Math.min(CASES, k * size)];
}

/** Registers the test of slice k: every model of its seeds compared artefact by artefact (test/difftest/check.ts). */
export function differentialSlice(k: number): void {
  const [first, last] = sliceSeeds(k);
  const n = Math.max(0, last - first + 1);
  test(`differential, seeds ${first}…${last} of ${CASES}: generated code (ts, wasm, gpu) = interpreter = central differences = mathjs, to second order`, { skip: n === 0 ? 'no seeds in this slice' : false }, () => {
    const failures: string[] = [];
    let skipped = 0, secondOrder = 0;
    const models = new Map(Array.from({ length: n }, (_, i) => [first + i, generateModel(first + i)]));
    // Every fifth model runs the wasm target, and every model whose convolution it runs as direct kernels;
    // their modules are built in one process first (binaryen loads once).
    const runsWasm = (seed: number) => seed % WASM_EVERY === 0 || models.get(seed)!.features.includes('conv-direct');
    const wasmModels = [];
    for (const [seed, m] of models) {
      if (!runsWasm(seed)) continue;
      try { wasmModels.push(deriveGradients(parseModel('case.nn', m.source))); } catch { /* checkModel reports it */ }
    }
    prebuildWasmModules(wasmModels);
    for (const [seed, m] of models) {
      const r = checkModel(m.source, { gpu: seed % GPU_EVERY === 0, wasm: runsWasm(seed) });
      if (r.status === 'skip') skipped++;
      else if (r.secondOrder) secondOrder++;
      if (r.status === 'fail') failures.push(`seed ${seed} (reproduce: npx tsx scripts/difftest.ts 1 ${seed}):\n  ${r.problems.join('\n  ')}\n${m.source}`);
    }
    assert.deepEqual(failures, []);
    // Not a vacuous pass: almost none overflowed, and the second order was checked on almost every model.
    assert.ok(skipped <= n / 20 + 1, `${skipped} of ${n} cases overflowed`);
    assert.ok(n < 30 || secondOrder >= n * 0.9, `second order checked on only ${secondOrder} of ${n} models`);
  });
}

#!/usr/bin/env node
// npm test: every test file under Node's own runner, as many at a time as there are cores (at least two),
// the slowest started first so that the others fill the time beside them instead of leaving a core idle at
// the end. GRADC_TEST_CONCURRENCY=N overrides; arguments (file names) run just those files.
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Measured (docs/testing.md; longest first, each file alone beside one other): the WebGL pages under
// SwiftShader, the random models in three slices, ONNX Runtime, the reports and the playground in Chromium.
const SLOWEST = ['web.test.ts', 'web-regress.test.ts', 'difftest-3.test.ts', 'onnx.test.ts', 'difftest-1.test.ts', 'difftest-2.test.ts', 'report.test.ts',
  'playground.test.ts', 'trainer.test.ts', 'difftest.test.ts', 'second-order-train.test.ts', 'onnx-web.test.ts', 'latex.test.ts', 'hessian.test.ts', 'wasm.test.ts'];
const all = readdirSync(join(root, 'test')).filter((f) => f.endsWith('.test.ts')).sort();
const chosen = process.argv.slice(2).length ? process.argv.slice(2).map((f) => f.replace(/^test\//, '')) : [...SLOWEST.filter((f) => all.includes(f)), ...all.filter((f) => !SLOWEST.includes(f))];
const concurrency = Number(process.env.GRADC_TEST_CONCURRENCY ?? Math.max(2, availableParallelism()));
// tsx/esm: TypeScript for the ES modules only; CommonJS packages (ts-morph's 9 MB TypeScript) load through
// Node's own require, not tsx's hook, which read them again: 0.2 s less per file.
const r = spawnSync(process.execPath, ['--import', 'tsx/esm', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...chosen.map((f) => join('test', f))], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);

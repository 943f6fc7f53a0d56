// Every named regression fixture's kernels in WebGL2 (one of them was found here: a negative base's power in
// GLSL), in a file of its own so that it runs beside test/web.test.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers.js';
import { checkKernels } from './web-helpers.js';
import { skipBrowser as skip } from './browser.js';
import { sameKernelKey } from '../runtime/web-selftest.js';
import type { GpuProgram } from '../runtime/gpu.js';

test('every kernel of every regression fixture in WebGL2 agrees with float64 JavaScript', { skip }, async (t) => {
  const dir = join(ROOT, 'test', 'fixtures', 'regress');
  // All through the shared self-test page: the trainer page's own ?selftest is test/web.test.ts's.
  await checkKernels(t, readdirSync(dir).filter((f) => f.endsWith('.nn')).map((f) => ({ name: `regress ${f}`, src: readFileSync(join(dir, f), 'utf8') })), { trainerPage: false });
});

test('a kernel is the same GPU program as another when only names differ: not when a size, the code or a helper does', () => {
  const step = (source: string, args: string[], size = 3) => ({ source, args, out: 'o', size, batched: true });
  const program = { helpers: ['function sq_(t) { return t * t; }'] } as unknown as GpuProgram;
  const key = (s: ReturnType<typeof step>, sizes: Record<string, number> = {}, out = 12) => sameKernelKey(program, s, out, (a) => sizes[a] ?? 12);
  const a = step('function (W, x, n) { return W[this.thread.x] * x[this.thread.x]; }', ['W', 'x', 'n']);
  const renamed = step('function (K, y, n) { return K[this.thread.x] * y[this.thread.x]; }', ['K', 'y', 'n']);
  assert.equal(key(a), key(renamed));
  assert.notEqual(key(a), key(renamed, { K: 24 }), 'another argument size');
  assert.notEqual(key(a), key(a, {}, 24), 'another output size');
  assert.notEqual(key(a), key(step('function (W, x, n) { return W[this.thread.x] + x[this.thread.x]; }', ['W', 'x', 'n'])), 'other code');
  assert.notEqual(key(a), key(step('function (x, W, n) { return W[this.thread.x] * x[this.thread.x]; }', ['x', 'W', 'n'])), 'the arguments in another order');
  // A helper the kernel calls is part of it: the same call with another helper of that name is another program.
  const calls = step('function (W, n) { return sq_(W[this.thread.x]); }', ['W', 'n']);
  const other = { helpers: ['function sq_(t) { return t * t * t; }'] } as unknown as GpuProgram;
  assert.notEqual(key(calls), sameKernelKey(other, calls, 12, () => 12));
  // And a helper that helper calls.
  const outer = (inner: string) => ({ helpers: ['function sq_(t) { return cube_(t) / t; }', inner] } as unknown as GpuProgram);
  assert.notEqual(sameKernelKey(outer('function cube_(t) { return t * t * t; }'), calls, 12, () => 12), sameKernelKey(outer('function cube_(t) { return t * t; }'), calls, 12, () => 12));
});

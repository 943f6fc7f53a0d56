// Bundled for the browser by test/web-helpers.ts: the trainer page's self-test (runtime/web-selftest.ts) as a
// function the test calls once per model, so that every model's kernels are checked in one page, one gpu.js
// and one WebGL2 context (a fresh page per model spent 2 s before its first kernel).

import type { GpuCtor, GpuProgram } from '../runtime/gpu.js';
import { gpuMode, selftest, type KernelCheck } from '../runtime/web-selftest.js';

const g = globalThis as unknown as { GPU: { GPU: GpuCtor }; gradcSelftest: (program: GpuProgram) => { mode: string; checks: KernelCheck[]; repeated: number } };
// A kernel that is the same GPU program as one an earlier model had (names aside, the same sizes) is not
// compiled again: SwiftShader spends 20–40 ms on every program, and 124 of the 517 kernels the two WebGL test
// files check in this page are such repeats. `repeated` counts them.
const checked = new Set<string>();
g.gradcSelftest = (program) => {
  let repeated = 0;
  const counting = { has: (key: string) => { const seen = checked.has(key); if (seen) repeated++; return seen; }, add: (key: string) => checked.add(key) };
  return { mode: gpuMode(g.GPU.GPU), checks: selftest(program, g.GPU.GPU, undefined, undefined, counting), repeated };
};

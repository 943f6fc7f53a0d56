// Bundled for the browser by test/web-helpers.ts: the trainer page's self-test (runtime/web-selftest.ts) as a
// function the test calls once per model, so that every model's kernels are checked in one page, one gpu.js
// and one WebGL2 context (a fresh page per model spent 2 s before its first kernel).

import type { GpuCtor, GpuProgram } from '../runtime/gpu.js';
import { gpuMode, selftest, type KernelCheck } from '../runtime/web-selftest.js';

const g = globalThis as unknown as { GPU: { GPU: GpuCtor }; gradcSelftest: (program: GpuProgram) => { mode: string; checks: KernelCheck[] } };
g.gradcSelftest = (program) => ({ mode: gpuMode(g.GPU.GPU), checks: selftest(program, g.GPU.GPU) });

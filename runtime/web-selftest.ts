// The page's self-test (`?selftest`): each kernel of a gpu.js program run by gpu.js (WebGL2 in a browser)
// against the same kernel run in float64 JavaScript. In a module of its own so that a test can run it on many
// programs in one page: the first `new GPU()` of a page costs over a second (gpu.js probes the WebGL
// features by compiling test shaders), every later one nothing.

import { emulated, type GpuCtor, type GpuProgram, type GpuStep } from './gpu.js';
import { elementsOf } from './model.js';
import { Rng } from './rng.js';

/** Which mode gpu.js runs in here: webgl2, webgl, headlessgl or cpu. */
export function gpuMode(GPU: GpuCtor): string {
  // The kernel class gpu.js picked is the mode it really runs in ('gpu' only means "the best available").
  const kind = (new GPU() as unknown as { Kernel?: { name?: string } }).Kernel?.name ?? '';
  return ({ WebGL2Kernel: 'webgl2', WebGLKernel: 'webgl', CPUKernel: 'cpu', HeadlessGLKernel: 'headlessgl' } as Record<string, string>)[kind] ?? (kind || 'unknown');
}

/** What float32 shaders may lose against float64, relative to the largest value of the result. */
export const GPU_TOLERANCE = 2e-3;

export interface KernelCheck { readonly out: string; readonly formula: string; readonly maxAbs: number; readonly maxRel: number; readonly ok: boolean }

/**
 * Every kernel of the plan in WebGL against the same kernel in float64 JavaScript. The operands are what the
 * program itself computes from random parameters and inputs (run first in float64), so each kernel sees
 * realistic values (exp(·) positive, labels valid) and any disagreement is that kernel's own. `checked`:
 * the keys (sameKernelKey) of kernels this page has checked already, for other models; such a kernel is not
 * compiled again and is left out of the result.
 */
export function selftest(program: GpuProgram, Gpu: GpuCtor, batch = 4, seed = 1, checked?: { has(key: string): boolean; add(key: string): unknown }): KernelCheck[] {
  const rng = new Rng(seed);
  const values = new Map<string, Float64Array>();
  program.spec.params.forEach((p, k) => values.set(program.params[k], Float64Array.from({ length: elementsOf(p.shape) }, () => rng.normal() * 0.5)));
  program.spec.inputs.forEach((s, k) => values.set(program.inputs[k], Float64Array.from({ length: batch * (s.classes !== undefined ? 1 : elementsOf(s.shape)) },
    () => (s.classes !== undefined ? Math.floor(rng.next() * s.classes) : rng.normal()))));
  const steps: GpuStep[] = [...program.train, ...program.forward, ...program.grads.flat()];
  // The reference: the same kernel function called once per output element, in float64, with the same helpers.
  const reference = (s: GpuStep): Float64Array =>
    emulated(program.helpers, s.source, s.batched ? batch * s.size : s.size)(...s.args.map((a) => (a === 'n' ? batch : values.get(a)!)));
  const refs = new Map<GpuStep, Float64Array>();
  for (const s of steps) { const r = reference(s); refs.set(s, r); values.set(s.out, r); }
  const gpu = new Gpu();
  for (const h of program.helpers) (gpu as unknown as { addFunction(s: string): void }).addFunction(h);
  const seen = new Set<string>();
  const out: KernelCheck[] = [];
  for (const s of steps) {
    if (seen.has(s.source + s.out)) continue;
    seen.add(s.source + s.out);
    const ref = refs.get(s)!;
    if (checked) {
      const key = sameKernelKey(program, s, ref.length, (a) => values.get(a)!.length);
      if (checked.has(key)) continue;
      checked.add(key);
    }
    const kernel = gpu.createKernel(s.source, { output: [ref.length], loopMaxIterations: Math.max(batch, 1), precision: 'single', tactic: 'precision' });
    const got = kernel(...s.args.map((a) => (a === 'n' ? batch : Float32Array.from(values.get(a)!)))) as ArrayLike<number>;
    let scale = 1, maxAbs = 0, ok = true;
    for (let i = 0; i < ref.length; i++) if (Number.isFinite(ref[i])) scale = Math.max(scale, Math.abs(ref[i]));
    for (let i = 0; i < ref.length; i++) {
      if (!Number.isFinite(ref[i])) continue;
      const d = Math.abs(got[i] - ref[i]);
      if (!(d <= GPU_TOLERANCE * scale)) ok = false;
      if (Number.isFinite(d)) maxAbs = Math.max(maxAbs, d); else maxAbs = Infinity;
    }
    out.push({ out: s.out, formula: s.formula ?? s.out, maxAbs, maxRel: maxAbs / scale, ok });
  }
  return out;
}

/**
 * What makes two kernels the same program for the GPU: the source with its arguments renamed by position,
 * every argument's and the output's size, and the helpers it calls. Two models' kernels with the same key
 * compile to the same shader but for names, so a page checking many models (the tests) checks one of them.
 */
export function sameKernelKey(program: GpuProgram, s: GpuStep, outSize: number, sizeOf: (arg: string) => number): string {
  // A mark no source contains, so that renaming cannot make two different kernels look the same.
  const position = new Map(s.args.map((a, i) => [a, `\u0001${i}`]));
  // Names only, not properties (this.thread.x stays as it is when an argument is called x).
  const body = s.source.replace(/(?<![\w$.])[A-Za-z_$][\w$]*/g, (w) => position.get(w) ?? w);
  // The helpers it calls, and the ones they call.
  const used: string[] = [];
  for (let text = body, grew = true; grew;) {
    grew = false;
    for (const h of program.helpers) {
      const name = /function\s+([\w$]+)/.exec(h)?.[1];
      if (name === undefined || used.includes(h) || !text.includes(`${name}(`)) continue;
      used.push(h);
      text += h;
      grew = true;
    }
  }
  return [body, s.args.map((a) => (a === 'n' ? 'n' : sizeOf(a))).join(','), outSize, ...used.sort()].join('\u0000');
}

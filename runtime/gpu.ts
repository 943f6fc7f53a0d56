// The gpu.js host: runs a GPU program — a list of kernels, each one step of the plan, as gpu.js kernel
// source built by the compiler — as a CompiledModel. On a machine with no GPU, gpu.js runs the same kernels
// as WebAssembly (or plain JavaScript). gpu.js itself is passed in, so the runtime needs no install.

import type { Buf } from './kernels.js';
import type { ArrayCtor, CompiledModel, ForwardResult, Kernels, ModelSpec } from './model.js';
import { DataError, requireOptional } from './data.js';

/** One kernel: its source, the buffers it reads (or 'n', the examples in the batch), what it writes. */
export interface GpuStep {
  readonly source: string;
  readonly args: readonly string[];
  readonly out: string;
  /** Elements per example (batched) or in all (not batched). */
  readonly size: number;
  readonly batched: boolean;
  /** What it computes, in the model's names (`z1 = W1 * x + b1`), for messages. */
  readonly formula?: string;
}

export interface GpuProgram {
  readonly spec: ModelSpec;
  readonly helpers: readonly string[];
  readonly params: readonly string[];
  readonly inputs: readonly string[];
  readonly train: readonly GpuStep[];
  readonly forward: readonly GpuStep[];
  /** Per parameter, the kernels whose results add up to Σ over the batch of ∂L/∂param. */
  readonly grads: readonly (readonly GpuStep[])[];
  readonly loss: string;
  readonly outputs: readonly string[];
  readonly logits: string | null;
}

/** The part of gpu.js's API the host uses. */
export interface GpuLike {
  addFunction(source: string): unknown;
  createKernel(source: string, settings: { output: number[]; loopMaxIterations?: number; precision?: string; tactic?: string }): (...args: unknown[]) => unknown;
}
export type GpuCtor = new (settings?: { mode?: string }) => GpuLike;

export function createGpuModel(program: GpuProgram, GPU: GpuCtor, mode?: string): CompiledModel {
  return {
    spec: program.spec,
    create(batch: number, Arr: ArrayCtor): Kernels {
      // Float64 buffers ask for float64 arithmetic, which shaders do not have: the same kernels then run as
      // plain JavaScript, one call per thread. The checks before training compare the two.
      const emulate = Arr === Float64Array;
      const gpu = emulate ? undefined : new GPU(mode ? { mode } : undefined);
      if (gpu) for (const h of program.helpers) gpu.addFunction(h);
      const compiled = new Map<GpuStep, (...args: unknown[]) => unknown>();
      const kernelOf = (s: GpuStep) => {
        let k = compiled.get(s);
        if (!k) {
          const size = s.batched ? batch * s.size : s.size;
          k = gpu ? gpu.createKernel(s.source, { output: [size], loopMaxIterations: Math.max(batch, 1), precision: 'single', tactic: 'precision' }) : emulated(program.helpers, s.source, size);
          compiled.set(s, k);
        }
        return k;
      };
      const env = new Map<string, Buf>();
      const bind = (params: readonly Buf[], inputs: readonly Buf[], n: number) => {
        program.params.forEach((name, k) => env.set(name, params[k]));
        program.inputs.forEach((name, k) => {
          // Rows past n are padding: zero them so every kernel sees defined values.
          const src = inputs[k], w = src.length / batch;
          const padded = new Arr(batch * w);
          padded.set(src.subarray(0, n * w));
          env.set(name, padded);
        });
      };
      const run = (steps: readonly GpuStep[], n: number) => {
        for (const s of steps) env.set(s.out, toArray(kernelOf(s)(...s.args.map((a) => (a === 'n' ? n : env.get(a)!)))));
      };
      let logits: Buf | null = null;
      const kernels: Kernels = {
        get logits() { return logits; },
        lossAndGrad(params, inputs, n, grads) {
          bind(params, inputs, n);
          run(program.train, n);
          program.grads.forEach((terms, k) => {
            const g = grads[k];
            g.fill(0);
            for (const s of terms) {
              const part = toArray(kernelOf(s)(...s.args.map((a) => (a === 'n' ? n : env.get(a)!))));
              for (let j = 0; j < g.length; j++) g[j] += part[j];
            }
          });
          logits = program.logits ? env.get(program.logits)! : null;
          const L = env.get(program.loss)!;
          let loss = 0;
          for (let b = 0; b < n; b++) loss += L[b];
          return loss;
        },
        forward(params, inputs, n): ForwardResult {
          bind(params, inputs, n);
          run(program.forward, n);
          const result = { loss: env.get(program.loss)!, outputs: program.outputs.map((o) => env.get(o)!), logits: program.logits ? env.get(program.logits)! : null };
          return Arr === Float64Array ? { loss: Float64Array.from(result.loss), outputs: result.outputs.map((o) => Float64Array.from(o)), logits: result.logits && Float64Array.from(result.logits) } : result;
        },
      };
      return kernels;
    },
  };
}

/** A gpu.js kernel run as JavaScript in float64: the function called once per output element (this.thread.x). */
export function emulated(helpers: readonly string[], source: string, size: number): (...args: unknown[]) => Float64Array {
  const fn = new Function(`${helpers.join('\n')}\nreturn ${source};`)() as (this: { thread: { x: number } }, ...a: unknown[]) => number;
  return (...args: unknown[]) => {
    const out = new Float64Array(size);
    const self = { thread: { x: 0 } };
    for (let t = 0; t < size; t++) { self.thread.x = t; out[t] = fn.apply(self, args); }
    return out;
  };
}

function toArray(v: unknown): Buf {
  if (v instanceof Float32Array || v instanceof Float64Array) return v;
  if (Array.isArray(v)) return Float32Array.from(v as number[]);
  throw new Error('a gpu.js kernel returned something that is not an array');
}

/** gpu.js from beside the trainer (or the working directory), with a clear message when it is missing. */
export function loadGpuJs(): GpuCtor {
  try {
    return (requireOptional('gpu.js') as { GPU: GpuCtor }).GPU;
  } catch {
    throw new DataError('this trainer was compiled with --target gpu and needs the gpu.js npm package: run `npm install gpu.js` beside it, or compile with --target ts');
  }
}

/** The gpu trainer's entry point: a missing gpu.js is an error message, not a stack trace. */
export function gpuModelOrExit(program: GpuProgram): CompiledModel {
  try {
    return createGpuModel(program, loadGpuJs());
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
}

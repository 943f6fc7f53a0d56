// The contract between generated code and the runtime: what a compiled model describes and provides.

import type { InputSpec } from './data.js';
import type { InitSpec } from './init.js';
import type { Buf } from './kernels.js';
import { DataError } from './data.js';
import { totalmem } from 'node:os';

export type ArrayCtor = Float32ArrayConstructor | Float64ArrayConstructor;

export interface ParamSpec { readonly name: string; readonly shape: readonly number[]; readonly init: InitSpec; readonly isWeight: boolean }

export interface ModelSpec {
  readonly name: string;
  readonly source: string;
  readonly inputs: readonly InputSpec[];
  readonly params: readonly ParamSpec[];
  readonly outputs: readonly { readonly name: string; readonly shape: readonly number[] }[];
  readonly loss: string;
  /** The class-label input whose argmax-of-logits accuracy is reported, when the loss is cross_entropy of a label. */
  readonly accuracyLabel: number | null;
  /**
   * A binary classifier: the logits are one scalar output per example, predicting the positive label where
   * it exceeds `threshold` (0.5 for a probability, 0 for a score). The labels are 0/1 or −1/+1 (see the data).
   */
  readonly binary?: { readonly output: string; readonly threshold: number };
  /** Params and inputs whose derivative jumps at 0 (relu, abs, step): gradient checks keep away or accept one-sided values. */
  readonly kinked: boolean;
  /** Elements of the kernels' own buffers: `fixed` once, `perExample` per example of the batch, `largest` in one buffer per example. */
  readonly buffers: { readonly fixed: number; readonly perExample: number; readonly largest: number };
}

export interface ForwardResult { readonly loss: Buf; readonly outputs: readonly Buf[]; readonly logits: Buf | null }

export interface Kernels {
  /** The logits of the last batch lossAndGrad saw (for running accuracy), or null when accuracy does not apply. */
  readonly logits: Buf | null;
  /** The loss summed over the first n examples of the batch; overwrites grads with Σ over those examples of ∂L/∂param. */
  lossAndGrad(params: readonly Buf[], inputs: readonly Buf[], n: number, grads: readonly Buf[]): number;
  /** The forward pass only: per-example losses, the outputs, and the logits when accuracy applies. */
  forward(params: readonly Buf[], inputs: readonly Buf[], n: number): ForwardResult;
}

export interface CompiledModel {
  readonly spec: ModelSpec;
  /** Float32 buffers made by this constructor live where the kernels run fastest (the wasm target's memory). */
  readonly float32Array?: Float32ArrayConstructor;
  /** Spreads the products over this many threads (the wasm target); returns the number it uses. */
  readonly setThreads?: (threads: number) => number;
  /**
   * The Hessian–vector program (what newton-cg and newton step with): a compiled model whose params are this
   * model's followed by a direction per param, and whose gradient of each param is its block of H v.
   */
  readonly hvp?: CompiledModel;
  /** Allocates every buffer for batches of up to `batch` examples, once. */
  create(batch: number, Arr: ArrayCtor): Kernels;
}

export const elementsOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Bytes a run needs: the kernels' buffers for `batch` examples, params, gradients and optimizer state, a batch of inputs. */
export function bytesNeeded(spec: ModelSpec, batch: number, bytesPerElement: number): number {
  const params = spec.params.reduce((s, p) => s + elementsOf(p.shape), 0);
  const inputs = spec.inputs.reduce((s, i) => s + (i.classes !== undefined ? 1 : elementsOf(i.shape)), 0);
  return bytesPerElement * (spec.buffers.fixed + batch * (spec.buffers.perExample + inputs) + 4 * params);
}

/**
 * Refuses, before anything is allocated, a model whose sizes cannot fit: more than 80 % of this machine's
 * memory, or one buffer longer than a typed array may be. Otherwise the run would crawl in swap for
 * minutes or die with "Invalid typed array length".
 */
export function assertFits(spec: ModelSpec, batch: number, bytesPerElement: number): void {
  const need = bytesNeeded(spec, batch, bytesPerElement);
  const have = totalmem();
  const gb = (b: number) => `${(b / 2 ** 30).toFixed(b < 2 ** 30 ? 3 : 1)} GiB`;
  const largestParam = Math.max(0, ...spec.params.map((p) => elementsOf(p.shape)));
  const largest = Math.max(largestParam, spec.buffers.largest * batch) * bytesPerElement;
  if (largest > MAX_TYPED_ARRAY_BYTES) {
    throw new SizeError(`the model ${spec.name} needs one buffer of ${largest.toLocaleString('en-US')} bytes (${gb(largest)}), more than one array can hold (${gb(MAX_TYPED_ARRAY_BYTES)}): reduce its dims (--dim NAME=VALUE) or the batch size`);
  }
  if (need > 0.8 * have) {
    throw new SizeError(`the model ${spec.name} needs ${need.toLocaleString('en-US')} bytes (${gb(need)}) for batches of ${batch}, and this machine has ${gb(have)} of memory: reduce its dims (--dim NAME=VALUE) or the batch size`);
  }
}

/** What V8 allows one ArrayBuffer to hold on a 64-bit machine (2³² bytes in Node 20). */
const MAX_TYPED_ARRAY_BYTES = 2 ** 32;

export class SizeError extends DataError {}

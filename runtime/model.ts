// The contract between generated code and the runtime: what a compiled model describes and provides.

import type { InputSpec } from './data.js';
import type { InitSpec } from './init.js';
import type { Buf } from './kernels.js';

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
  /** Params and inputs whose derivative jumps at 0 (relu, abs, step): gradient checks keep away or accept one-sided values. */
  readonly kinked: boolean;
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
  /** Allocates every buffer for batches of up to `batch` examples, once. */
  create(batch: number, Arr: ArrayCtor): Kernels;
}

export const elementsOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

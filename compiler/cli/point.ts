// `eval --point FILE.json` (SPEC §3): reading a point, computing loss, outputs and gradients with the
// generated code in float64, and printing them as JSON.

import { readFileSync } from 'node:fs';
import type { Model } from '../frontend/model.js';
import { PlainError } from '../source/diagnostics.js';
import type { ArrayCtor, CompiledModel } from '../../runtime/model.js';
import { assertFits, elementsOf, type ModelSpec } from '../../runtime/model.js';
import type { Buf } from '../../runtime/kernels.js';
import { loadCheckpoint } from '../../runtime/checkpoint.js';
import { initialize } from '../../runtime/init.js';
import { Rng } from '../../runtime/rng.js';
import { TRAIN_DEFAULTS } from '../../runtime/train.js';
import { fromNested, toNested, type Tensor } from '../ir/tensor.js';

export interface Point {
  dims?: Record<string, number>; params?: Record<string, unknown>; inputs?: Record<string, unknown>; examples?: Record<string, unknown>[];
  /** A direction for Hessian–vector products (`hessian --point`), shaped like the variable. */
  direction?: unknown;
}

export function readPoint(file: string): Point {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) {
    throw new PlainError(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`}`);
  }
  return readPointText(file, text);
}

/** A point from its JSON text (`file` names it in messages). */
export function readPointText(file: string, text: string): Point {
  let raw: unknown;
  try { raw = JSON.parse(text); } catch (e) {
    throw new PlainError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  const p = raw as Point;
  if (typeof p !== 'object' || p === null || Array.isArray(p) || (p.params !== undefined && (typeof p.params !== 'object' || p.params === null))) {
    throw new PlainError(`${file}: expected { "params": {…}, "inputs": {…} } (the point format: docs/cli.md)`);
  }
  if (!p.inputs === !p.examples) throw new PlainError(`${file}: give either "inputs" (one example) or "examples" (a minibatch)`);
  if (p.dims !== undefined) {
    for (const [k, v] of Object.entries(p.dims)) if (!Number.isInteger(v) || v <= 0) throw new PlainError(`${file}: dims.${k} must be a positive integer`);
  }
  return p;
}

const own = (o: Record<string, unknown>, k: string): unknown => (Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined);

/** Evaluates a point with compiled kernels (float64): the mean loss, outputs and mean gradients. */
export function evalPoint(file: string, model: Model, compiled: CompiledModel, p: Point, Arr: ArrayCtor = Float64Array): unknown {
  const examples = p.examples ?? [p.inputs!];
  if (examples.length === 0) throw new PlainError(`${file}: "examples" is empty`);
  const n = examples.length;
  if (Arr === Float32Array && compiled.float32Array) Arr = compiled.float32Array; // buffers where the kernels run
  assertFits(compiled.spec, n, Arr.BYTES_PER_ELEMENT);
  const { params, inputs } = packPoint(file, model, p, Arr);
  const k = compiled.create(n, Arr);
  const grads = model.params.map((q) => new Arr(elementsOf(q.shape)));
  const lossSum = k.lossAndGrad(params, inputs, n, grads);
  const fwd = k.forward(params, inputs, n);
  // Keyed by the model's names through Object.fromEntries (own properties): `__proto__` is a name like any other.
  const outputs = Object.fromEntries(model.outputs.map((o, oi) => {
    const size = o.node.size;
    const per = Array.from({ length: n }, (_, b) => toNested({ shape: o.node.shape, data: Float64Array.from(fwd.outputs[oi].subarray(b * size, b * size + size)) }));
    return [o.name, p.examples ? per : per[0]];
  }));
  const grad = Object.fromEntries(model.params.map((q, i) => [q.name, toNested({ shape: q.shape, data: Float64Array.from(grads[i], (x) => x / n) })]));
  return { loss: lossSum / n, outputs, grad };
}

/** Every example read and checked as the interpreter's environments are (pointEnv), then packed in rows. */
function packPoint(file: string, model: Model, p: Point, Arr: ArrayCtor): { n: number; params: Buf[]; inputs: Buf[] } {
  const examples = p.examples ?? [p.inputs!];
  const n = examples.length;
  const envs = examples.map((_, b) => pointEnv(file, model, p, b));
  const params = model.params.map((q) => Arr.from(envs[0].get(q.name)!.data));
  const inputs = model.inputs.map((inp) => {
    const size = inp.classes !== undefined ? 1 : elementsOf(inp.shape);
    const buf = new Arr(n * size);
    envs.forEach((env, b) => buf.set(env.get(inp.name)!.data, b * size));
    return buf;
  });
  return { n, params, inputs };
}

/**
 * H v by the generated Hessian–vector program (float64): `vFile` gives the direction as { "W1": …, … } (a
 * param left out is a zero direction); the mean over the point's examples, like the gradient.
 */
export function evalHvp(file: string, vFile: string, model: Model, hvp: CompiledModel, p: Point): Record<string, unknown> {
  const dirs = readDirections(vFile, model);
  const { n, params, inputs } = packPoint(file, model, p, Float64Array);
  const out = [...model.params, ...model.params].map((q) => new Float64Array(elementsOf(q.shape)));
  hvp.create(n, Float64Array).lossAndGrad([...params, ...dirs], inputs, n, out);
  return Object.fromEntries(model.params.map((q, i) => [q.name, toNested({ shape: q.shape, data: out[i].map((x) => x / n) })]));
}

/** V.json: a direction per parameter ({ "W1": [[…]], … }), a parameter left out is 0; in the params' order. */
export function readDirections(vFile: string, model: Model): Float64Array[] {
  let raw: unknown;
  try { raw = JSON.parse(readFileSync(vFile, 'utf8')); } catch (e) { throw new PlainError(`${vFile}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not a JSON object of directions (${(e as Error).message})`}`); }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new PlainError(`${vFile}: expected { "PARAM": [...], ... }, a direction for each parameter`);
  const v = raw as Record<string, unknown>;
  for (const k of Object.keys(v)) if (!model.params.some((q) => q.name === k)) throw new PlainError(`${vFile}: ${k} is not a parameter of ${model.name} (its parameters: ${model.params.map((q) => q.name).join(', ')})`);
  return model.params.map((q) => {
    const d = own(v, q.name);
    if (d === undefined) return new Float64Array(elementsOf(q.shape));
    try { return Float64Array.from(fromNested(d, q.shape, `${vFile}: ${q.name}`).data); } catch (e) { throw new PlainError((e as Error).message); }
  });
}

/**
 * The leaf values of one example of a point, for the float64 interpreter: the params and the inputs of
 * `inputs` (or of examples[index]). Class labels are checked like `eval` checks them.
 */
export function pointEnv(file: string, model: Model, p: Point, index = 0): Map<string, Tensor> {
  const env = new Map<string, Tensor>();
  for (const q of model.params) {
    const v = p.params ? own(p.params, q.name) : undefined;
    if (v === undefined) throw new PlainError(`${file}: params.${q.name} is missing (shape [${q.shape.join(', ')}]); leave "params" out for the model's initial values, or give --weights W.json`);
    try { env.set(q.name, fromNested(v, q.shape, `params.${q.name}`)); } catch (e) { throw new PlainError(`${file}: ${(e as Error).message}`); }
  }
  const ex = p.examples ? p.examples[index] : p.inputs!;
  if (ex === undefined) throw new PlainError(`${file}: "examples" is empty`);
  for (const inp of model.inputs) {
    const where = p.examples ? `examples[${index}].${inp.name}` : `inputs.${inp.name}`;
    const v = typeof ex === 'object' && ex !== null ? own(ex as Record<string, unknown>, inp.name) : undefined;
    if (v === undefined) throw new PlainError(`${file}: ${where} is missing`);
    if (inp.classes !== undefined) {
      if (!Number.isInteger(v) || (v as number) < 0 || (v as number) >= inp.classes) throw new PlainError(`${file}: ${where} must be a class label 0..${inp.classes - 1}, got ${JSON.stringify(v)}`);
      env.set(inp.name, { shape: [], data: Float64Array.of(v as number) });
    } else {
      try { env.set(inp.name, fromNested(v, inp.shape, where)); } catch (e) { throw new PlainError(`${file}: ${(e as Error).message}`); }
    }
  }
  return env;
}

/**
 * The point's parameters, completed: from `--weights W.json` (saved by `train --save`) when given, else
 * the point's own "params", else the model's initial values — the initializers of its `param` lines with
 * seed 1, exactly as `gradc train` starts (float64 here).
 */
export function withParams(p: Point, model: Model, weights: string | undefined): Point {
  if (weights) {
    const bufs = model.params.map((q) => new Float64Array(elementsOf(q.shape)));
    loadCheckpoint(weights, { params: model.params.map((q) => ({ name: q.name, shape: [...q.shape] })) } as unknown as ModelSpec, bufs);
    return { ...p, params: Object.fromEntries(model.params.map((q, k) => [q.name, toNested({ shape: q.shape, data: bufs[k] })])) };
  }
  if (p.params) return p;
  const rng = new Rng(TRAIN_DEFAULTS.seed);
  return {
    ...p, params: Object.fromEntries(model.params.map((q) => {
      const buf = new Float64Array(elementsOf(q.shape));
      initialize(buf, q.shape, q.init, rng);
      return [q.name, toNested({ shape: q.shape, data: buf })];
    })),
  };
}

// The training loop shared by `gradc train` and the standalone trainers: seeded shuffling, minibatches,
// the optimizer, per-epoch metrics (mean loss; accuracy from the argmax of the logits when the loss is
// cross_entropy of a class label, or from a thresholded output for a binary classifier), progress, atomic checkpoints, --resume, and a stop on NaN/Inf loss.

import type { Dataset } from './data.js';
import { DataError, gatherBatch } from './data.js';
import { initialize } from './init.js';
import type { Buf } from './kernels.js';
import { argmaxRow } from './kernels.js';
import type { ArrayCtor, CompiledModel, Kernels, ModelSpec } from './model.js';
import { assertFits, elementsOf } from './model.js';
import { Optimizer, OptimizerName } from './optim.js';
import { Rng } from './rng.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { checkGeneratedGradients, type GradientReference } from './safety.js';
import { createMethod, fullBatchObjective, isSecondOrder, type SecondOrderName } from './second-order.js';

/** Defaults chosen so LeNet-300-100 reaches ≥ 96 % on the built-in MNIST test digits (see docs/training.md). */
export type Schedule = 'cosine' | 'constant';
export const TRAIN_DEFAULTS = { epochs: 10, batch: 64, lr: 0.05, optimizer: 'momentum' as OptimizerName, seed: 1, l2: 1e-4, schedule: 'cosine' as Schedule };

/**
 * The learning rate of step t of T: `constant`, or `cosine` — from lr down to 0 along half a cosine over the
 * whole run (Loshchilov and Hutter's SGDR without restarts, PyTorch's CosineAnnealingLR): large steps early,
 * small ones at the end, so the last epoch's weights are not left bouncing by the full step size.
 */
export function learningRate(lr: number, schedule: Schedule, t: number, T: number): number {
  return schedule === 'constant' || T <= 0 ? lr : 0.5 * lr * (1 + Math.cos((Math.PI * Math.min(t, T)) / T));
}

export interface TrainOptions {
  train: Dataset;
  test?: Dataset;
  epochs: number;
  batch: number;
  lr: number;
  optimizer: OptimizerName | SecondOrderName;
  /** The Hessian–vector program (newton-cg, newton): the model's params followed by directions (compiler/autodiff/hvp.ts). */
  hvp?: CompiledModel;
  /** How the learning rate changes over the run (default cosine). */
  schedule?: Schedule;
  seed: number;
  /** L2 penalty λ‖W‖² on weight matrices (rank ≥ 2). */
  l2: number;
  /** float32 (the default for training) or float64 buffers. */
  precision?: 'f32' | 'f64';
  save?: string;
  resume?: string;
  log: (line: string) => void;
  /** Redraws a progress bar (on a terminal) — or undefined for one plain line per epoch. */
  progress?: (text: string) => void;
  /** The independent evaluation the generated gradient is checked against before training (runtime/safety.ts). */
  reference?: GradientReference;
}

export interface EpochStats { epoch: number; loss: number; accuracy: number | null; testLoss: number | null; testAccuracy: number | null; examplesPerSecond: number }
export interface TrainResult { params: Buf[]; history: EpochStats[]; seconds: number }

export class TrainingStopped extends DataError {}

export function createParams(model: CompiledModel, seed: number, Arr: ArrayCtor = Float32Array): Buf[] {
  const rng = new Rng(seed);
  return model.spec.params.map((p) => {
    const buf = new Arr(elementsOf(p.shape));
    initialize(buf, p.shape, p.init, rng);
    return buf;
  });
}

/**
 * How a label is predicted from the logits: argmax for a class label; for a binary classifier, the positive
 * label 1 above the threshold, else the negative one, 0 or −1 as the training labels are. null when the
 * labels are neither 0/1 nor ±1 (a regression target): there is no accuracy.
 */
export interface Predictor { readonly negative: number; predict(logits: Buf, b: number, batch: number): number }

export function predictorFor(spec: ModelSpec, data?: Dataset): Predictor | null {
  if (spec.accuracyLabel === null) return null;
  if (!spec.binary) return { negative: 0, predict: (logits, b, batch) => { const k = logits.length / batch; return argmaxRow(logits, b * k, k); } };
  if (!data) return null; // a binary classifier's labels (0/1 or ±1) are read off the data
  const labels = data.inputs[spec.accuracyLabel];
  const values = new Set<number>();
  for (let i = 0; i < data.n && values.size <= 3; i++) values.add(labels[i]);
  const negative = [...values].every((v) => v === 0 || v === 1) ? 0 : [...values].every((v) => v === -1 || v === 1) ? -1 : null;
  if (negative === null) return null;
  const t = spec.binary.threshold;
  return { negative, predict: (logits, b) => (logits[b] > t ? 1 : negative) };
}

/** The rule the header states, e.g. `p > 0.5 predicts y = 1, otherwise −1`. */
export function accuracyRule(spec: ModelSpec, p: Predictor | null): string | null {
  if (!p || !spec.binary || spec.accuracyLabel === null) return null;
  return `${spec.binary.output} > ${spec.binary.threshold} predicts ${spec.inputs[spec.accuracyLabel].name} = 1, otherwise ${p.negative}`;
}

/** Mean loss and accuracy of `params` on a dataset, by batches. */
export function evaluate(model: CompiledModel, kernels: Kernels, params: readonly Buf[], data: Dataset, batch: number, inputs: Buf[], predictor: Predictor | null = predictorFor(model.spec, data)): { loss: number; accuracy: number | null } {
  const spec = model.spec;
  let loss = 0, correct = 0;
  for (let start = 0; start < data.n; start += batch) {
    const n = Math.min(batch, data.n - start);
    gatherBatch(data, n, (b) => start + b, inputs);
    const r = kernels.forward(params, inputs, n);
    for (let b = 0; b < n; b++) loss += r.loss[b];
    if (predictor && spec.accuracyLabel !== null && r.logits) {
      const labels = inputs[spec.accuracyLabel];
      for (let b = 0; b < n; b++) if (predictor.predict(r.logits, b, batch) === labels[b]) correct++;
    }
  }
  return { loss: loss / data.n, accuracy: predictor ? correct / data.n : null };
}

export function train(model: CompiledModel, opts: TrainOptions): TrainResult {
  const epochs = trainEpochs(model, opts);
  for (;;) {
    const r = epochs.next();
    if (r.done) return r.value;
  }
}

/**
 * The training loop, one epoch per step: `train` runs it to the end; a web page (runtime/web.ts) runs one
 * epoch per animation frame, so its chart is drawn between epochs.
 */
export function* trainEpochs(model: CompiledModel, opts: TrainOptions): Generator<EpochStats, TrainResult, void> {
  if (isSecondOrder(opts.optimizer)) return yield* fullBatchEpochs(model, { ...opts, optimizer: opts.optimizer });
  const optimizerName = opts.optimizer;
  const spec = model.spec;
  const Arr = opts.precision === 'f64' ? Float64Array : model.float32Array ?? Float32Array;
  assertFits(spec, opts.batch, Arr.BYTES_PER_ELEMENT);
  const kernels = model.create(opts.batch, Arr);
  const params = createParams(model, opts.seed, Arr);
  const grads = spec.params.map((p) => new Arr(elementsOf(p.shape)));
  const l2 = spec.params.map((p) => (p.isWeight ? opts.l2 : 0));
  const optimizer = new Optimizer(optimizerName, opts.lr, params, l2, undefined, Arr);
  const widths = spec.inputs.map((s) => (s.classes !== undefined ? 1 : elementsOf(s.shape)));
  const inputs = widths.map((w) => new Arr(opts.batch * w));
  const history: EpochStats[] = [];
  let firstEpoch = 1;
  if (opts.resume) {
    const ck = loadCheckpoint(opts.resume, spec, params);
    if (ck.optimizer) optimizer.load(ck.optimizer);
    firstEpoch = ck.epoch + 1;
    opts.log(`resumed from ${opts.resume} after epoch ${ck.epoch}`);
  }
  const data = opts.train;
  const predictor = predictorFor(spec, data);
  const order = Int32Array.from({ length: data.n }, (_, i) => i);
  const t0 = Date.now();
  for (let epoch = firstEpoch; epoch <= opts.epochs; epoch++) {
    const rng = new Rng(opts.seed * 1_000_003 + epoch); // the order of epoch e does not depend on earlier runs
    rng.shuffle(order);
    const te = performance.now();
    let lossSum = 0, seen = 0, correct = 0;
    const batches = Math.ceil(data.n / opts.batch);
    for (let bi = 0; bi < batches; bi++) {
      const start = bi * opts.batch, n = Math.min(opts.batch, data.n - start);
      if (epoch === firstEpoch && bi === 0) {
        const r = checkGeneratedGradients(model, data, (b) => order[start + b], params, opts.reference, opts.precision ?? 'f32');
        opts.log(`gradients checked against ${r.against === 'interpreter' ? 'the interpreter' : 'central differences'} on ${r.examples} examples: ok (${r.worst.toExponential(1)}, ${Math.round(r.ms)} ms)`);
      }
      gatherBatch(data, n, (b) => order[start + b], inputs);
      const loss = kernels.lossAndGrad(params, inputs, n, grads);
      if (!Number.isFinite(loss)) {
        throw new TrainingStopped(`the loss became ${loss} in epoch ${epoch}, batch ${bi + 1} of ${batches}: the learning rate ${opts.lr} is probably too large; try --lr ${opts.lr / 10}${opts.save ? `. ${opts.save} still holds the last good checkpoint` : ''}`);
      }
      if (predictor && spec.accuracyLabel !== null && kernels.logits) {
        // Running accuracy over the epoch, from the logits this step computed anyway (as PyTorch loops do).
        const labels = inputs[spec.accuracyLabel];
        for (let b = 0; b < n; b++) if (predictor.predict(kernels.logits, b, opts.batch) === labels[b]) correct++;
      }
      // The loss is the mean over the minibatch; the step's learning rate follows the schedule over the whole run.
      optimizer.update(grads, 1 / n, learningRate(opts.lr, opts.schedule ?? TRAIN_DEFAULTS.schedule, (epoch - 1) * batches + bi, opts.epochs * batches));
      lossSum += loss; seen += n;
      if (opts.progress && (bi % 8 === 0 || bi === batches - 1)) {
        const width = 20, frac = (bi + 1) / batches, done = Math.round(frac * width);
        const left = ((performance.now() - te) / 1000) * (1 / frac - 1);
        opts.progress(`epoch ${epoch}/${opts.epochs} [${'#'.repeat(done)}${'.'.repeat(width - done)}] ${Math.round(100 * frac)}% ${left < 1 ? '<1' : Math.round(left)} s left  loss ${(lossSum / seen).toFixed(4)}`);
      }
    }
    const secs = (performance.now() - te) / 1000;
    const testEval = opts.test ? evaluate(model, kernels, params, opts.test, opts.batch, inputs, predictor) : null;
    const stats: EpochStats = {
      epoch, loss: lossSum / seen, accuracy: predictor ? correct / seen : null,
      testLoss: testEval?.loss ?? null, testAccuracy: testEval?.accuracy ?? null, examplesPerSecond: seen / Math.max(secs, 1e-9),
    };
    history.push(stats);
    if (opts.save) {
      try { saveCheckpoint(opts.save, spec, epoch, params, optimizer.save(), predictor?.negative); } catch (e) {
        throw new TrainingStopped(`${opts.save}: cannot write the checkpoint after epoch ${epoch} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
    }
    const pct = (x: number | null) => (x === null ? '' : `${(100 * x).toFixed(2)}%`);
    // At most 76 columns: an epoch line must not wrap on an 80-column terminal.
    opts.log([`epoch ${epoch}/${opts.epochs}`,
      [`loss ${stats.loss.toFixed(4)}`, stats.accuracy !== null ? `acc ${pct(stats.accuracy)}` : ''].filter(Boolean).join(' '),
      [stats.testLoss !== null ? `test loss ${stats.testLoss.toFixed(4)}` : '', stats.testAccuracy !== null ? `acc ${pct(stats.testAccuracy)}` : ''].filter(Boolean).join(' '),
      `${Math.round(stats.examplesPerSecond)} ex/s`].filter(Boolean).join('  '));
    yield stats;
  }
  return { params, history, seconds: (Date.now() - t0) / 1000 };
}

/**
 * lbfgs, newton-cg and newton: full-batch iterations over the whole training set in float64, one per
 * "epoch" of the log, stopping early once converged. The learning rate and batch size do not apply (the
 * batch only sizes the kernels' buffers); the step length comes from the line search.
 */
function* fullBatchEpochs(model: CompiledModel, opts: TrainOptions & { optimizer: SecondOrderName }): Generator<EpochStats, TrainResult, void> {
  const spec = model.spec;
  assertFits(spec, opts.batch, 8);
  const params = createParams(model, opts.seed, Float64Array);
  if (opts.resume) { loadCheckpoint(opts.resume, spec, params); opts.log(`resumed from ${opts.resume}`); }
  const obj = fullBatchObjective(model, opts.hvp, opts.train, opts.batch, opts.l2);
  const x = new Float64Array(obj.dim);
  { let o = 0; for (const p of params) { x.set(p, o); o += p.length; } }
  const method = createMethod(opts.optimizer, obj, x);
  const kernels = model.create(opts.batch, Float64Array);
  const inputs = spec.inputs.map((s) => new Float64Array(opts.batch * (s.classes !== undefined ? 1 : elementsOf(s.shape))));
  const predictor = predictorFor(spec, opts.train);
  const history: EpochStats[] = [];
  const t0 = Date.now();
  for (let it = 1; it <= opts.epochs; it++) {
    const te = performance.now();
    const r = method.iterate();
    let o = 0;
    for (const p of params) { p.set(x.subarray(o, o + p.length)); o += p.length; }
    const secs = (performance.now() - te) / 1000;
    const trainEval = evaluate(model, kernels, params, opts.train, opts.batch, inputs, predictor);
    const testEval = opts.test ? evaluate(model, kernels, params, opts.test, opts.batch, inputs, predictor) : null;
    const stats: EpochStats = { epoch: it, loss: r.loss, accuracy: trainEval.accuracy, testLoss: testEval?.loss ?? null, testAccuracy: testEval?.accuracy ?? null, examplesPerSecond: opts.train.n / Math.max(secs, 1e-9) };
    history.push(stats);
    if (opts.save) saveCheckpoint(opts.save, spec, it, params, undefined, predictor?.negative);
    const pct = (v: number | null) => (v === null ? '' : ` acc ${(100 * v).toFixed(2)}%`);
    opts.log(`iteration ${it}/${opts.epochs}  loss ${r.loss.toPrecision(10)}${pct(stats.accuracy)}  |grad| ${r.gradNorm.toExponential(2)}  step ${r.step.toPrecision(3)}${stats.testAccuracy !== null ? `  test${pct(stats.testAccuracy)}` : ''}  (${obj.counts.values} gradients, ${obj.counts.hvps} H v)`);
    yield stats;
    if (r.converged) { opts.log(`converged after ${it} iteration${it === 1 ? '' : 's'}: |grad| ${r.gradNorm.toExponential(2)}`); break; }
  }
  return { params, history, seconds: (Date.now() - t0) / 1000 };
}

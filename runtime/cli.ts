// The trainer's command line, shared by the standalone trainer (`node trainer.js --data …`) and by
// `gradc train`: flags, data loading, training, the final report, predictions and --selftest.

import { accessSync, constants, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Dataset } from './data.js';
import { DataError, gatherBatch, loadSource, split } from './data.js';
import { gradcheck } from './gradcheck.js';
import type { Buf } from './kernels.js';
import type { CompiledModel, ModelSpec } from './model.js';
import { assertFits, elementsOf } from './model.js';
import type { OptimizerName } from './optim.js';
import { isSecondOrder, type SecondOrderName } from './second-order.js';
import { accuracyRule, predictorFor, TRAIN_DEFAULTS, train, TrainResult, type Predictor, type Schedule } from './train.js';
import { loadCheckpoint } from './checkpoint.js';
import type { GradientReference } from './safety.js';

export interface TrainerFlags {
  data?: string; test?: string; split?: number; epochs: number; batch: number; lr: number; optimizer: OptimizerName | SecondOrderName; schedule: Schedule;
  seed: number; l2: number; save?: string; resume?: string; predict?: string; selftest: boolean; precision: 'f32' | 'f64';
  /** Threads for the wasm kernels; 0: as many as pay on this machine (timed at start). */
  threads: number;
}

export class UsageProblem extends Error {}
export class HelpRequested extends Error {}

const FLAG_HELP = '--data SOURCE --test SOURCE --split F --epochs N --batch N --lr X --optimizer sgd|momentum|adam|lbfgs|newton-cg|newton --schedule cosine|constant --seed N --l2 X --precision f32|f64 --threads N --save FILE --resume FILE --predict OUT.csv --selftest';

/** Every training flag with its default: `node trainer.mjs --help` and `gradc train --help` print it. */
export const TRAIN_HELP = [
  '  --data SOURCE        training data: a CSV file, mnist or iris (required)',
  '  --test SOURCE        held-out data for the reported accuracy (default: the built-in test split, or none)',
  '  --split F            train on this fraction of --data, test on the rest (0.8: 80 % / 20 %)',
  `  --epochs N           passes over the data (default ${TRAIN_DEFAULTS.epochs})`,
  `  --batch N            examples per step (default ${TRAIN_DEFAULTS.batch})`,
  `  --lr X               learning rate (default ${TRAIN_DEFAULTS.lr})`,
  `  --optimizer NAME     sgd, momentum (0.9), adam; full batch: lbfgs, newton-cg, newton (default ${TRAIN_DEFAULTS.optimizer})`,
  `  --schedule S         cosine (lr decays to 0 over the run) or constant (default ${TRAIN_DEFAULTS.schedule})`,
  `  --l2 X               weight decay on weight matrices (default ${TRAIN_DEFAULTS.l2})`,
  `  --seed N             initialisation and shuffling (default ${TRAIN_DEFAULTS.seed})`,
  '  --precision P        f32 or f64 arithmetic (default f32)',
  '  --threads N          threads for the WebAssembly kernels (default: as many as pay here)',
  '  --save FILE.json     write the trained weights (also after each epoch)',
  '  --resume FILE.json   start from saved weights; with --epochs 0 and --predict, predict only',
  '  --predict OUT.csv    write predictions to OUT.csv: for the test data, else --data (labels optional)',
  '  --selftest           compare the gradients with finite differences and exit',
].join('\n');

export function parseTrainerFlags(argv: readonly string[]): TrainerFlags {
  const f: TrainerFlags = { ...TRAIN_DEFAULTS, selftest: false, precision: 'f32', threads: 0 };
  const num = (name: string, v: string | undefined, integer: boolean, min: number): number => {
    const x = Number(v);
    if (v === undefined || !Number.isFinite(x) || (integer && !Number.isInteger(x)) || x < min) throw new UsageProblem(`${name} needs ${integer ? 'an integer' : 'a number'} ≥ ${min}, got '${v ?? ''}'`);
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') throw new HelpRequested();
    const v = () => { const x = argv[++i]; if (x === undefined) throw new UsageProblem(`${a} needs a value`); return x; };
    switch (a) {
      case '--data': f.data = v(); break;
      case '--test': f.test = v(); break;
      case '--split': { const s = num(a, v(), false, 0); if (!(s > 0 && s < 1)) throw new UsageProblem('--split needs a fraction between 0 and 1, e.g. 0.8'); f.split = s; break; }
      case '--epochs': f.epochs = num(a, v(), true, 0); break;
      case '--batch': f.batch = num(a, v(), true, 1); break;
      case '--lr': f.lr = num(a, v(), false, 0); break;
      case '--l2': f.l2 = num(a, v(), false, 0); break;
      case '--seed': f.seed = num(a, v(), true, 0); break;
      case '--threads': f.threads = num(a, v(), true, 1); break;
      case '--schedule': { const o = v(); if (o !== 'cosine' && o !== 'constant') throw new UsageProblem(`--schedule must be cosine or constant, got '${o}'`); f.schedule = o; break; }
      case '--optimizer': { const o = v(); if (o !== 'sgd' && o !== 'momentum' && o !== 'adam' && !isSecondOrder(o)) throw new UsageProblem(`--optimizer must be sgd, momentum, adam, lbfgs, newton-cg or newton, got '${o}'`); f.optimizer = o; break; }
      case '--save': f.save = v(); break;
      case '--resume': f.resume = v(); break;
      case '--predict': f.predict = v(); break;
      case '--selftest': f.selftest = true; break;
      case '--precision': { const p = v(); if (p !== 'f32' && p !== 'f64') throw new UsageProblem(`--precision must be f32 or f64, got '${p}'`); f.precision = p; break; }
      default: throw new UsageProblem(`unknown option '${a}'; options: ${FLAG_HELP}`);
    }
  }
  return f;
}

export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export interface RunIo { out: (line: string) => void; err: (line: string) => void; progress?: (text: string) => void }

/**
 * A file the run will write at the end must be writable before the run starts: its folder exists and can be
 * written, and it is not a folder itself. Finding out after ten epochs would lose the work.
 */
export function checkWritable(file: string, flag: string): void {
  const dir = dirname(resolve(file));
  if (!existsSync(dir)) throw new DataError(`${flag} ${file}: the folder ${dir} does not exist (create it first)`);
  if (!statSync(dir).isDirectory()) throw new DataError(`${flag} ${file}: ${dir} is not a folder`);
  if (existsSync(file) && statSync(file).isDirectory()) throw new DataError(`${flag} ${file}: that is a folder; give a file name`);
  try { accessSync(dir, constants.W_OK); } catch { throw new DataError(`${flag} ${file}: the folder ${dir} is not writable`); }
  if (existsSync(file)) { try { accessSync(file, constants.W_OK); } catch { throw new DataError(`${flag} ${file}: the file exists and is not writable`); } }
}

/** Runs what the flags ask for; returns the exit status. `reference` is what the generated gradients are checked against. */
export function runTrainer(model: CompiledModel, flags: TrainerFlags, io: RunIo, reference?: GradientReference, onTrained?: (r: TrainResult) => void): number {
  try {
    if (flags.selftest) {
      const r = gradcheck(model, { seed: flags.seed, points: 3 });
      io.out(`selftest: generated gradients vs central differences (float64, ${r.points} points)`);
      for (const p of r.params) io.out(`  ${p.name.padEnd(12)} max abs ${p.maxAbs.toExponential(2)}  max rel ${p.maxRel.toExponential(2)}  ${p.ok ? 'ok' : 'MISMATCH'}`);
      io.out(r.ok ? 'selftest passed' : 'selftest FAILED');
      return r.ok ? 0 : 1;
    }
    if (!flags.data) throw new UsageProblem('--data SOURCE is required (a CSV file, mnist or iris)');
    if ((flags.optimizer === 'newton-cg' || flags.optimizer === 'newton') && !model.hvp) {
      throw new UsageProblem(`--optimizer ${flags.optimizer} steps with Hessian-vector products, which \`gradc train\` compiles; this trainer (the gpu target) has only gradients: use --optimizer lbfgs, or compile for the ts or wasm target`);
    }
    if (flags.save) checkWritable(flags.save, '--save');
    if (flags.predict) checkWritable(flags.predict, '--predict');
    if (flags.resume && !existsSync(flags.resume)) throw new DataError(`--resume ${flags.resume}: no such file`);
    assertFits(model.spec, flags.batch, flags.precision === 'f64' ? 8 : 4); // before the data are read

    const specs = model.spec.inputs;
    // Data to predict may leave out the label column; data to train on may not.
    let trainSet: Dataset = loadSource(flags.data, specs, 'train', { optionalLabel: flags.predict ? model.spec.accuracyLabel : null });
    if (trainSet.labeled === false && flags.epochs > 0) {
      throw new DataError(`${flags.data}: the rows have no ${specs[model.spec.accuracyLabel!].name} column, so they can be predicted but not trained on: add --epochs 0 --resume W.json to predict with trained weights`);
    }
    if (trainSet.labeled === false && !flags.resume) throw new DataError('--epochs 0 without --resume W.json would predict with untrained weights: give the weights to predict with');
    let testSet: Dataset | undefined;
    if (flags.test) testSet = loadSource(flags.test, specs, 'test');
    else if (flags.split !== undefined) [trainSet, testSet] = split(trainSet, flags.split, flags.seed);
    else if (flags.data === 'mnist') testSet = loadSource('mnist', specs, 'test');
    const threads = model.setThreads && flags.precision === 'f32' ? model.setThreads(flags.threads) : undefined;
    const predictOnly = flags.epochs === 0 && flags.predict !== undefined;
    // Two short lines rather than one that wraps mid-number on an 80-column terminal.
    if (predictOnly) io.out(`predicting with ${model.spec.name}${flags.resume ? ` (weights ${flags.resume})` : ''} for ${(testSet ?? trainSet).source}: ${(testSet ?? trainSet).n} examples`);
    else io.out(`training ${model.spec.name} on ${trainSet.source}: ${trainSet.n} examples${testSet ? `, testing on ${testSet.n}` : ''}`);
    if (!predictOnly && isSecondOrder(flags.optimizer)) io.out(`${flags.optimizer} (full batch, float64, line search), up to ${plural(flags.epochs, 'iteration')}${flags.l2 ? `, L2 ${flags.l2 < 1e-3 ? flags.l2.toExponential() : flags.l2}` : ''}, seed ${flags.seed}`);
    else if (!predictOnly) io.out(`${flags.optimizer}, lr ${flags.lr}${flags.schedule === 'cosine' ? ' (cosine)' : ''}, batch ${flags.batch}, ${plural(flags.epochs, 'epoch')}${flags.l2 ? `, L2 ${flags.l2 < 1e-3 ? flags.l2.toExponential() : flags.l2}` : ''}, seed ${flags.seed}${threads ? `; wasm, ${plural(threads, 'thread')}` : ''}`);
    const rule = accuracyRule(model.spec, predictorFor(model.spec, trainSet));
    if (rule && !predictOnly) io.out(`accuracy: ${rule}`);
    const result = train(model, {
      train: trainSet, test: testSet, epochs: flags.epochs, batch: flags.batch, lr: flags.lr, optimizer: flags.optimizer, schedule: flags.schedule, hvp: model.hvp,
      seed: flags.seed, l2: flags.l2, precision: flags.precision, save: flags.save, resume: flags.resume, log: io.out, progress: io.progress, reference,
    });
    if (flags.epochs > 0 || trainSet.labeled !== false) report(result, testSet, io);
    onTrained?.(result);
    if (flags.predict) {
      const target = testSet ?? trainSet;
      const predictor = trainSet.labeled === false ? unlabeledPredictor(model.spec, readNegativeLabel(flags.resume!)) : predictorFor(model.spec, trainSet);
      const n = writePredictions(model, result.params, target, flags.predict, flags.batch, predictor);
      io.out(`wrote ${plural(n, 'prediction')} for ${target.source} to ${flags.predict}`);
    }
    return 0;
  } catch (e) {
    if (e instanceof DataError || e instanceof UsageProblem) { io.err(e.message); return e instanceof UsageProblem ? 2 : 1; }
    throw e;
  }
}

function report(result: TrainResult, testSet: Dataset | undefined, io: RunIo): void {
  const last = result.history[result.history.length - 1];
  if (!last) { io.out('nothing to train: the checkpoint already covers every epoch'); return; }
  const parts = [`final loss ${last.loss.toFixed(4)}`];
  if (last.accuracy !== null) parts.push(`train accuracy ${(100 * last.accuracy).toFixed(2)}%`);
  if (last.testAccuracy !== null && testSet) parts.push(`test accuracy ${(100 * last.testAccuracy).toFixed(2)}% (${testSet.n} examples)`);
  else if (last.testLoss !== null) parts.push(`test loss ${last.testLoss.toFixed(4)}`);
  parts.push(`${result.seconds.toFixed(1)} s`);
  io.out(parts.join(', '));
}

/**
 * One CSV row per example: its row number in the data (1-based), every output flattened, and the predicted
 * label when accuracy applies. `-` writes to standard output. Returns the number of rows.
 */
export function writePredictions(model: CompiledModel, params: readonly Buf[], data: Dataset, file: string, batch: number, predictor: Predictor | null): number {
  const spec = model.spec;
  const Arr = params[0] instanceof Float64Array ? Float64Array : model.float32Array ?? Float32Array;
  const k = model.create(batch, Arr);
  const inputs = data.inputs.map((a) => new Arr(batch * (a.length / data.n)));
  const header = ['row', ...spec.outputs.flatMap((o) => (elementsOf(o.shape) === 1 ? [o.name] : Array.from({ length: elementsOf(o.shape) }, (_, i) => `${o.name}_${i}`)))];
  if (predictor) header.push('predicted');
  const lines = [header.join(',')];
  for (let start = 0; start < data.n; start += batch) {
    const n = Math.min(batch, data.n - start);
    gatherBatch(data, n, (b) => start + b, inputs);
    const r = k.forward(params, inputs, n);
    for (let b = 0; b < n; b++) {
      const row: string[] = [String(start + b + 1)];
      spec.outputs.forEach((o, oi) => { const w = elementsOf(o.shape); for (let j = 0; j < w; j++) row.push(String(Number(r.outputs[oi][b * w + j].toPrecision(6)))); });
      if (predictor && r.logits) row.push(String(predictor.predict(r.logits, b, batch)));
      lines.push(row.join(','));
    }
  }
  if (file === '-') { process.stdout.write(lines.join('\n') + '\n'); return data.n; }
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, lines.join('\n') + '\n');
    renameSync(tmp, file);
  } catch (e) {
    throw new DataError(`--predict ${file}: cannot write the predictions (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return data.n;
}

/**
 * Predictions for data without labels: argmax for a class label; for a binary classifier the negative label
 * the weights were trained with (saved in the checkpoint), else 0 for a probability output, −1 for a score.
 */
function unlabeledPredictor(spec: ModelSpec, savedNegative: number | undefined): Predictor | null {
  if (spec.accuracyLabel === null) return null;
  if (!spec.binary) return predictorFor(spec);
  const t = spec.binary.threshold, negative = savedNegative ?? (t === 0 ? -1 : 0);
  return { negative, predict: (logits, b) => (logits[b] > t ? 1 : negative) };
}

function readNegativeLabel(file: string): number | undefined {
  try { return (JSON.parse(readFileSync(file, 'utf8')) as { negativeLabel?: number }).negativeLabel; } catch { return undefined; }
}

/**
 * `gradc predict`: the outputs (and predicted labels) of saved weights on new data, which may leave out the
 * label column, without training. For a binary classifier on unlabeled data the negative label is the one
 * the weights were trained with (saved in the checkpoint), else 0 for a probability output, −1 for a score.
 */
export function runPredict(model: CompiledModel, opts: { weights: string; data: string; out: string; precision: 'f32' | 'f64'; batch?: number }, io: RunIo): number {
  try {
    if (opts.out !== '-') checkWritable(opts.out, '-o');
    const batch = opts.batch ?? 64;
    assertFits(model.spec, batch, opts.precision === 'f64' ? 8 : 4);
    const Arr = opts.precision === 'f64' ? Float64Array : model.float32Array ?? Float32Array;
    const params = model.spec.params.map((p) => new Arr(elementsOf(p.shape)));
    const ck = loadCheckpoint(opts.weights, model.spec, params);
    const data = loadSource(opts.data, model.spec.inputs, 'test', { optionalLabel: model.spec.accuracyLabel });
    const predictor = data.labeled === false ? unlabeledPredictor(model.spec, ck.negativeLabel) : predictorFor(model.spec, data);
    const n = writePredictions(model, params, data, opts.out, batch, predictor);
    if (opts.out !== '-') io.out(`wrote ${plural(n, 'prediction')} for ${data.source} to ${opts.out}`);
    return 0;
  } catch (e) {
    if (e instanceof DataError) { io.err(e.message); return 1; }
    throw e;
  }
}

/** Output for a person: a progress bar on a terminal (stderr), plain lines otherwise. */
export function terminalIo(): RunIo {
  const tty = process.stderr.isTTY === true;
  return {
    out: (l) => { if (tty) process.stderr.write('\r\x1b[K'); console.log(l); },
    err: (l) => console.error(l),
    progress: tty ? (t) => process.stderr.write(`\r\x1b[K${t}`) : undefined,
  };
}

/** The standalone trainer's entry point. */
export function trainerMain(gradients: CompiledModel, hvp?: CompiledModel): void {
  const model: CompiledModel = hvp ? { ...gradients, create: gradients.create.bind(gradients), hvp } : gradients;
  // `node trainer.mjs … | head` closes the pipe early: the reader's choice, not a crash to print.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); throw e; });
  let code: number;
  try {
    const flags = parseTrainerFlags(process.argv.slice(2));
    code = runTrainer(model, flags, terminalIo());
  } catch (e) {
    // The problem first: it is what the user needs to read; the usage follows for reference.
    if (e instanceof HelpRequested) { console.log(`usage: node trainer.mjs --data SOURCE [options]\n\n${TRAIN_HELP}`); code = 0; }
    else if (e instanceof UsageProblem) { console.error(`trainer: ${e.message}\nusage: node trainer.mjs ${FLAG_HELP}`); code = 2; } else throw e;
  }
  process.exitCode = code;
}

// The commands that run generated code: eval, gradcheck, compile and train.

import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { deriveGradients } from '../autodiff/gradients.js';
import { loadGpuModel, loadModelKernels, loadWasmModel, trainerMjs, trainerSource } from '../codegen/index.js';
import type { Model } from '../frontend/model.js';
import { PlainError } from '../source/diagnostics.js';
import { gradcheck } from '../../runtime/gradcheck.js';
import { parseTrainerFlags, runTrainer, terminalIo, UsageProblem } from '../../runtime/cli.js';
import { UsageError, type ParsedArgs, numberOption, choice } from './args.js';
import { evalPoint, type Point } from './point.js';
import { interpreterReference } from '../codegen/reference.js';

export function runEval(args: ParsedArgs, model: Model, file: string, point: Point): number {
  const precision = choice(args, '--precision', ['f64', 'f32'] as const, 'f64');
  // WebAssembly kernels are float32: they are the default where the arithmetic is float32.
  const target = choice(args, '--target', ['wasm', 'ts', 'gpu'] as const, precision === 'f32' ? 'wasm' : 'ts');
  const g = deriveGradients(model);
  const compiled = target === 'gpu' ? loadGpuModel(g) : target === 'wasm' ? loadWasmModel(g, (l) => console.error(l)) : loadModelKernels(g);
  console.log(JSON.stringify(evalPoint(file, model, compiled, point, precision === 'f32' ? Float32Array : Float64Array)));
  return 0;
}

export function runGradcheck(args: ParsedArgs, model: Model): number {
  const seed = numberOption(args, '--seed', 1, { integer: true, min: 0 });
  const points = numberOption(args, '--points', 5, { integer: true, min: 1 });
  const r = gradcheck(loadModelKernels(deriveGradients(model)), { seed, points });
  console.log(`gradcheck ${model.name}: generated gradients vs central differences, float64, ${points} random points (seed ${seed})`);
  console.log(`  ${'param'.padEnd(12)} ${'max abs error'.padStart(14)} ${'max rel error'.padStart(14)}`);
  for (const p of r.params) console.log(`  ${p.name.padEnd(12)} ${p.maxAbs.toExponential(2).padStart(14)} ${p.maxRel.toExponential(2).padStart(14)}  ${p.ok ? 'ok' : 'MISMATCH'}`);
  console.log(r.ok ? 'PASS' : 'FAIL: a gradient differs from finite differences by more than 1e-6 (relative)');
  return r.ok ? 0 : 1;
}

/** The documented command that type-checks a trainer.ts with the TypeScript gradc ships (docs/training.md). */
export const TYPECHECK_FLAGS = '--ignoreConfig --strict --noEmit --target es2022 --module nodenext --types node';

export function runCompile(args: ParsedArgs, model: Model): number {
  const target = choice(args, '--target', ['wasm', 'ts', 'gpu'] as const, 'wasm');
  const dir = args.options.get('-o')?.[0];
  if (!dir) throw new UsageError('compile needs -o DIR');
  const ts = trainerSource(deriveGradients(model), target);
  const js = trainerMjs(ts);
  try {
    mkdirSync(dir, { recursive: true });
    for (const [name, text] of [['trainer.ts', ts], ['trainer.mjs', js]] as const) {
      const tmp = join(dir, `.${name}.tmp-${process.pid}`);
      writeFileSync(tmp, text);
      renameSync(tmp, join(dir, name));
    }
  } catch (e) {
    throw new PlainError(`${dir}: cannot write the trainer (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  console.log(`wrote ${join(dir, 'trainer.ts')} and ${join(dir, 'trainer.mjs')}`);
  console.log(`  run:        node ${join(dir, 'trainer.mjs')} --data FILE.csv`);
  console.log(`  type-check: npx tsc ${TYPECHECK_FLAGS} ${join(dir, 'trainer.ts')}   (from the gradc folder)`);
  return 0;
}

export const TRAIN_OPTIONS = ['--data', '--test', '--split', '--epochs', '--batch', '--lr', '--optimizer', '--seed', '--save', '--resume', '--predict', '--l2', '--precision', '--threads'];

export function runTrain(args: ParsedArgs, model: Model): number {
  const argv: string[] = [];
  for (const o of TRAIN_OPTIONS) for (const v of args.options.get(o) ?? []) argv.push(o, v);
  if (args.options.has('--selftest')) argv.push('--selftest');
  let flags;
  try { flags = parseTrainerFlags(argv); } catch (e) { if (e instanceof UsageProblem) throw new UsageError(e.message); throw e; }
  const g = deriveGradients(model);
  const target = choice(args, '--target', ['wasm', 'ts'] as const, 'wasm');
  const io = terminalIo();
  const compiled = target === 'wasm' && flags.precision === 'f32' ? loadWasmModel(g, io.err) : loadModelKernels(g);
  return runTrainer(compiled, flags, io, interpreterReference(g));
}

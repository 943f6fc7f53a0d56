// The commands that run generated code: eval, gradcheck, compile and train.

import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { deriveGradients } from '../autodiff/gradients.js';
import { hvpGradients } from '../autodiff/hvp.js';
import { isSecondOrder } from '../../runtime/second-order.js';
import { loadGpuModel, loadModelKernels, loadWasmModel, trainerFiles } from '../codegen/index.js';
import type { Model } from '../frontend/model.js';
import { PlainError } from '../source/diagnostics.js';
import { gradcheck, gradcheckHvp } from '../../runtime/gradcheck.js';
import { checkWritable, parseTrainerFlags, runPredict, runTrainer, terminalIo, UsageProblem } from '../../runtime/cli.js';
import { loadSource } from '../../runtime/data.js';
import type { EpochPoint } from './report.js';
import { UsageError, type ParsedArgs, numberOption, choice, TRAIN_OPTIONS } from './args.js';
import { TRAIN_DEFAULTS } from '../../runtime/train.js';
import { evalHvp, evalPoint, type Point } from './point.js';
import { interpreterReference } from '../codegen/reference.js';
import { inputSpecs } from '../codegen/spec.js';
import type { CompiledModel } from '../../runtime/model.js';
import { elementsOf } from '../../runtime/model.js';
import { Rng } from '../../runtime/rng.js';
import type { GradientReference } from '../../runtime/safety.js';

export function runEval(args: ParsedArgs, model: Model, file: string, point: Point): number {
  const precision = choice(args, '--precision', ['f64', 'f32'] as const, 'f64');
  // WebAssembly kernels are float32: they are the default where the arithmetic is float32.
  const target = choice(args, '--target', ['wasm', 'ts', 'gpu'] as const, precision === 'f32' ? 'wasm' : 'ts');
  const g = deriveGradients(model);
  const compiled = target === 'gpu' ? loadGpuModel(g) : target === 'wasm' ? loadWasmModel(g, (l) => console.error(l)) : loadModelKernels(g);
  const result = evalPoint(file, model, compiled, point, precision === 'f32' ? Float32Array : Float64Array) as Record<string, unknown>;
  const hvpFile = args.options.get('--hvp')?.[0];
  if (hvpFile) result.hvp = evalHvp(file, hvpFile, model, loadModelKernels(hvpGradients(g)), point);
  console.log(JSON.stringify(result));
  return 0;
}

/** gradcheck --order 2: the generated H v against central differences of the generated gradient. */
function hvpCheck(model: Model, g: ReturnType<typeof deriveGradients>, seed: number, points: number): number {
  const r = gradcheckHvp(loadModelKernels(g), loadModelKernels(hvpGradients(g)), { seed, points });
  console.log(`gradcheck --order 2 ${model.name}: generated Hessian-vector products vs central differences of the generated gradient, float64, ${points} random points and directions (seed ${seed})`);
  console.log(`  ${'param'.padEnd(12)} ${'max abs error'.padStart(14)} ${'max rel error'.padStart(14)}`);
  for (const p of r.params) console.log(`  ${p.name.padEnd(12)} ${p.maxAbs.toExponential(2).padStart(14)} ${p.maxRel.toExponential(2).padStart(14)}  ${p.ok ? 'ok' : 'MISMATCH'}`);
  console.log(r.ok ? 'PASS' : 'FAIL: a block of H v differs from central differences of the gradient by more than 1e-6 (relative)');
  return r.ok ? 0 : 1;
}

export function runGradcheck(args: ParsedArgs, model: Model): number {
  const seed = numberOption(args, '--seed', 1, { integer: true, min: 0 });
  const points = numberOption(args, '--points', 5, { integer: true, min: 1 });
  const target = choice(args, '--target', ['ts', 'wasm', 'gpu'] as const, 'ts');
  const g = deriveGradients(model);
  const order = numberOption(args, '--order', 1, { integer: true, min: 1 });
  if (order > 2) throw new UsageError('--order must be 1 (gradients) or 2 (Hessian-vector products)');
  if (order === 2) return hvpCheck(model, g, seed, points);
  const r = gradcheck(loadModelKernels(g), { seed, points });
  console.log(`gradcheck ${model.name}: generated gradients vs central differences, float64, ${points} random points (seed ${seed})`);
  console.log(`  ${'param'.padEnd(12)} ${'max abs error'.padStart(14)} ${'max rel error'.padStart(14)} ${'allowance'.padStart(10)}`);
  for (const p of r.params) console.log(`  ${p.name.padEnd(12)} ${p.maxAbs.toExponential(2).padStart(14)} ${p.maxRel.toExponential(2).padStart(14)} ${p.allowance.toExponential(1).padStart(10)}  ${p.ok ? 'ok' : 'MISMATCH'}`);
  console.log('  rel = |generated − central| / max(1, |generated|, |central|); ok when rel − allowance ≤ 1e-6,');
  console.log('  allowance = 64·ε·max(1, |L|) / (h · max(1, …)) for rounding in the loss itself (h = 1e-5)');
  if (!r.ok) { console.log('FAIL: a gradient differs from finite differences by more than 1e-6 (relative, after the allowance)'); return 1; }
  if (target === 'ts') { console.log('PASS'); return 0; }
  // Finite differences in float32 are noise, so the float32 kernels are checked against the float64
  // interpreter at the same kind of random points (the float64 kernels just passed central differences).
  const compiled = target === 'gpu' ? loadGpuModel(g) : loadWasmModel(g, (l) => console.error(l));
  const t = targetCheck(compiled, interpreterReference(g), seed, points);
  console.log(`${target} kernels (float32) vs the float64 interpreter, ${points} random minibatches of ${t.batch}: error relative to the gradient's largest element`);
  for (const p of t.params) console.log(`  ${p.name.padEnd(12)} ${p.maxAbs.toExponential(2).padStart(14)} ${p.maxRel.toExponential(2).padStart(14)}  ${p.ok ? 'ok' : 'MISMATCH'}`);
  console.log(t.ok ? 'PASS' : `FAIL: a ${target} gradient differs from the float64 one by more than ${F32_TOLERANCE} (relative)`);
  return t.ok ? 0 : 1;
}

/** What float32 arithmetic over these sizes may lose (the differential tester uses the same). */
const F32_TOLERANCE = 2e-3;

function targetCheck(compiled: CompiledModel, reference: GradientReference, seed: number, points: number) {
  const spec = compiled.spec;
  const batch = 4;
  const k = compiled.create(batch, compiled.float32Array ?? Float32Array);
  const Arr = compiled.float32Array ?? Float32Array;
  const rng = new Rng(seed + 1000);
  const params = spec.params.map((p) => ({ name: p.name, maxAbs: 0, maxRel: 0, allowance: 0, ok: true }));
  for (let pt = 0; pt < points; pt++) {
    const p64 = spec.params.map((p) => Float64Array.from({ length: elementsOf(p.shape) }, () => rng.normal() * 0.5));
    const i64 = spec.inputs.map((s) => Float64Array.from({ length: batch * (s.classes !== undefined ? 1 : elementsOf(s.shape)) },
      () => (s.classes !== undefined ? Math.floor(rng.next() * s.classes) : rng.normal())));
    const ref = reference(p64, i64, batch);
    const grads = spec.params.map((p) => new Arr(elementsOf(p.shape)));
    k.lossAndGrad(p64.map((x) => Arr.from(x)), i64.map((x) => Arr.from(x)), batch, grads);
    params.forEach((r, pi) => {
      const want = ref.grads[pi], got = grads[pi];
      let scale = 1;
      for (const w of want) scale = Math.max(scale, Math.abs(w));
      for (let i = 0; i < want.length; i++) {
        const abs = Math.abs(got[i] - want[i]);
        r.maxAbs = Math.max(r.maxAbs, abs);
        r.maxRel = Math.max(r.maxRel, abs / scale);
        if (!(abs / scale <= F32_TOLERANCE)) r.ok = false;
      }
    });
  }
  return { ok: params.every((p) => p.ok), params, batch };
}

/** The documented command that type-checks a trainer.ts with the TypeScript gradc ships (docs/training.md). */
export const TYPECHECK_FLAGS = '--ignoreConfig --strict --noEmit --target es2022 --module nodenext --types node';

export async function runCompile(args: ParsedArgs, model: Model): Promise<number> {
  const target = choice(args, '--target', ['wasm', 'ts', 'gpu', 'web', 'onnx'] as const, 'wasm');
  const dir = args.options.get('-o')?.[0];
  if (!dir) throw new UsageError('compile needs -o DIR');
  if (target === 'web') return compileWeb(args, model, dir);
  if (target === 'onnx') {
    const l2 = numberOption(args, '--l2', TRAIN_DEFAULTS.l2, { min: 0 });
    (await import('./compile-onnx.js')).compileOnnx(deriveGradients(model), dir, { weights: args.options.get('--weights')?.[0], withLoss: args.options.has('--with-loss'), l2 });
    return 0;
  }
  const { ts, mjs: js } = trainerFiles(deriveGradients(model), target);
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
  console.log(`  type-check: ${typecheckCommand(join(dir, 'trainer.ts'))}`);
  return 0;
}

/**
 * The type-check command for a trainer, runnable as printed from any folder: gradc's own TypeScript and
 * Node types, found where gradc's dependencies are installed, and the trainer's path as given.
 */
export function typecheckCommand(file: string): string {
  const require = createRequire(import.meta.url);
  const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
  const types = dirname(dirname(require.resolve('@types/node/package.json')));
  const q = (s: string) => (/^[\w./@+-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);
  return `node ${q(tsc)} ${TYPECHECK_FLAGS} --typeRoots ${q(types)} ${q(file)}`;
}


export async function runTrain(args: ParsedArgs, model: Model): Promise<number> {
  const argv: string[] = [];
  for (const o of TRAIN_OPTIONS) for (const v of args.options.get(o) ?? []) argv.push(o, v);
  if (args.options.has('--selftest')) argv.push('--selftest');
  let flags;
  try { flags = parseTrainerFlags(argv); } catch (e) { if (e instanceof UsageProblem) throw new UsageError(e.message); throw e; }
  const g = deriveGradients(model);
  const target = choice(args, '--target', ['wasm', 'ts'] as const, 'wasm');
  const io = terminalIo();
  const report = args.options.get('--report')?.[0];
  if (report) { try { checkWritable(report, '--report'); } catch (e) { io.err((e as Error).message); return 1; } }
  // lbfgs, newton-cg and newton run full-batch in float64 (TypeScript kernels); the Newton methods step with H v.
  const secondOrder = isSecondOrder(flags.optimizer);
  const compiled = secondOrder ? withHvp(g, flags.optimizer) : target === 'wasm' && flags.precision === 'f32' ? loadWasmModel(g, io.err) : loadModelKernels(g);
  let history: EpochPoint[] | undefined;
  const code = runTrainer(compiled, flags, io, interpreterReference(g), (r) => { history = r.history; });
  if (report && history) {
    const { renderReport } = await import('./report.js');
    const title = `${flags.optimizer}, lr ${flags.lr}, batch ${flags.batch}, data ${flags.data}${flags.test ? `, test ${flags.test}` : ''}`;
    writeFileSync(report, await renderReport(g, { training: { title, history } }));
    io.out(`wrote ${report}`);
  }
  return code;
}

/** The model's kernels, with its Hessian–vector program beside them when the optimizer steps with H v. */
function withHvp(g: ReturnType<typeof deriveGradients>, optimizer: string): CompiledModel {
  const m = loadModelKernels(g);
  return optimizer === 'lbfgs' ? m : { ...m, create: m.create.bind(m), hvp: loadModelKernels(hvpGradients(g)) };
}

/** `gradc predict M.nn --weights W.json --data new.csv [-o OUT.csv]`: saved weights on new data, no training. */
export function runPredictCommand(args: ParsedArgs, model: Model): number {
  const weights = args.options.get('--weights')?.[0];
  const data = args.options.get('--data')?.[0];
  if (!weights || !data) throw new UsageError('predict needs --weights W.json (saved by train --save) and --data SOURCE');
  const precision = choice(args, '--precision', ['f32', 'f64'] as const, 'f32');
  const target = choice(args, '--target', ['wasm', 'ts'] as const, 'wasm');
  const g = deriveGradients(model);
  const io = terminalIo();
  const compiled = target === 'wasm' && precision === 'f32' ? loadWasmModel(g, io.err) : loadModelKernels(g);
  return runPredict(compiled, { weights, data, out: args.options.get('-o')?.[0] ?? '-', precision }, io);
}

/** `compile --target web`: the trainer page, with the data embedded when --data is given. */
async function compileWeb(args: ParsedArgs, model: Model, dir: string): Promise<number> {
  const argv: string[] = [];
  for (const o of ['--data', '--test', '--epochs', '--batch', '--lr', '--optimizer', '--schedule', '--seed', '--l2']) for (const v of args.options.get(o) ?? []) argv.push(o, v);
  let flags;
  try { flags = parseTrainerFlags(argv); } catch (e) { if (e instanceof UsageProblem) throw new UsageError(e.message); throw e; }
  const g = deriveGradients(model);
  const specs = inputSpecs(g.model);
  const testSource = flags.test ?? (flags.data === 'mnist' ? 'mnist' : undefined);
  const data = flags.data ? { train: loadSource(flags.data, specs, 'train'), ...(testSource ? { test: loadSource(testSource, specs, 'test') } : {}) } : undefined;
  const { writeWebTrainer } = await import('../codegen/web.js');
  try { mkdirSync(dir, { recursive: true }); } catch (e) { throw new PlainError(`${dir}: cannot write the page (${(e as NodeJS.ErrnoException).code ?? String(e)})`); }
  if (isSecondOrder(flags.optimizer)) throw new UsageError(`--optimizer ${flags.optimizer}: the web page trains with sgd, momentum or adam (full-batch second-order methods run in gradc train and, for lbfgs, the standalone trainer)`);
  const settings = { epochs: flags.epochs, batch: flags.batch, lr: flags.lr, optimizer: flags.optimizer, schedule: flags.schedule, seed: flags.seed, l2: flags.l2 };
  await writeWebTrainer(g, dir, { settings, data }, (file, text) => writeFileSync(file, text));
  console.log(`wrote ${join(dir, 'index.html')} (with model.js, trainer.js and gpu-browser.min.js beside it)`);
  console.log(`  open it in a browser (WebGL); ${join(dir, 'index.html')}?selftest checks every kernel against float64 JavaScript`);
  return 0;
}

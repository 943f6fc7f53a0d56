// The gradc command line (SPEC §2). Exit status: 0 success, 1 a problem with the user's input, 2 wrong usage.
// A bug inside gradc prints `internal error` and its message; the stack only with GRADC_DEBUG=1.

import { deriveGradients } from '../autodiff/gradients.js';
import { loadModel } from '../frontend/index.js';
import type { Model } from '../frontend/model.js';
import { formatDiagnostic, PlainError, UserError } from '../source/diagnostics.js';
import { choice, dimOverrides, OptionSpec, ParsedArgs, parseArgs, UsageError } from './args.js';
import { checkReport } from './check.js';
import { formatGradients } from './grad.js';
import { toDot, toSvg } from './graph.js';
import { runCompile, runEval, runGradcheck, runTrain, TRAIN_OPTIONS } from './run.js';
import { readPoint } from './point.js';
import { runVerify } from './verify.js';
import { DataError } from '../../runtime/data.js';
import { renameSync, writeFileSync } from 'node:fs';

const COMMON: Record<string, OptionSpec> = { '--dim': { flag: false, repeat: true } };

interface Command {
  summary: string;
  options: Record<string, OptionSpec>;
  run(args: ParsedArgs, model: Model): number | Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  check: {
    summary: 'parse and shape-check; print a summary of inputs, parameters and graph sizes',
    options: {},
    run: (_, model) => { console.log(checkReport(model).text); return 0; },
  },
  grad: {
    summary: 'print the derived gradients (--wrt NAME, --format text|latex|mathjs|json, --inline)',
    options: { '--wrt': { flag: false, repeat: true }, '--format': { flag: false }, '--inline': { flag: true } },
    run: (args, model) => {
      const wrt = wrtOption(args, model);
      const format = choice(args, '--format', ['text', 'latex', 'mathjs', 'json'] as const, 'text');
      const g = deriveGradients(model, wrt);
      console.log(formatGradients(g, format, args.options.has('--inline'), wrt));
      return 0;
    },
  },
  graph: {
    summary: 'the computational graph (--format dot|svg, -o FILE, --backward)',
    options: { '--format': { flag: false }, '-o': { flag: false }, '--backward': { flag: true } },
    run: async (args, model) => {
      const format = choice(args, '--format', ['dot', 'svg'] as const, 'dot');
      const dot = toDot(deriveGradients(model), args.options.has('--backward'));
      const out = format === 'svg' ? await toSvg(dot) : dot;
      const file = args.options.get('-o')?.[0];
      if (file) writeOutput(file, out + '\n');
      else console.log(out);
      return 0;
    },
  },
  eval: {
    summary: 'evaluate loss, outputs and gradients at a point (--point FILE.json, --target wasm|ts|gpu, --precision f64|f32), printing JSON',
    options: { '--point': { flag: false }, '--target': { flag: false }, '--precision': { flag: false } },
    run: () => 0, // handled in main: the point's dims must be known before the model is loaded
  },
  verify: {
    summary: 'check a hand-derived gradient: --wrt NAME --claim "EXPR" (or --claims FILE), --seed, --runs, --json',
    options: { '--wrt': { flag: false }, '--claim': { flag: false }, '--claims': { flag: false }, '--seed': { flag: false }, '--runs': { flag: false }, '--json': { flag: true } },
    run: () => 0, // handled in main: claims are parsed together with the model
  },
  gradcheck: {
    summary: 'compare generated gradients with central differences (--seed N, --points N); exit 1 on a mismatch',
    options: { '--seed': { flag: false }, '--points': { flag: false } },
    run: (args, model) => runGradcheck(args, model),
  },
  compile: {
    summary: 'write a standalone trainer: -o DIR (trainer.ts and trainer.mjs), --target wasm|ts|gpu',
    options: { '-o': { flag: false }, '--target': { flag: false } },
    run: (args, model) => runCompile(args, model),
  },
  train: {
    summary: 'compile and train: --data SOURCE (CSV, mnist, iris), --test, --split, --epochs, --batch, --lr, --optimizer, --seed, --l2, --precision f32|f64, --target wasm|ts, --threads N, --save, --resume, --predict',
    options: Object.fromEntries([...TRAIN_OPTIONS.map((o) => [o, { flag: false }]), ['--selftest', { flag: true }], ['--target', { flag: false }]]),
    run: (args, model) => runTrain(args, model),
  },
};

/** Write a file atomically (temporary file, then rename), with a plain error if that fails. */
export function writeOutput(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  } catch (e) {
    throw new PlainError(`${file}: cannot write (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

export function wrtOption(args: ParsedArgs, model: Model): string[] {
  const wrt = args.options.get('--wrt') ?? model.params.map((p) => p.name);
  for (const w of wrt) {
    if (!model.params.some((p) => p.name === w)) {
      throw new PlainError(`--wrt ${w}: '${w}' is not a parameter of ${model.name} (its parameters: ${model.params.map((p) => p.name).join(', ')})`);
    }
  }
  return wrt;
}

export const USAGE = [
  'usage: gradc COMMAND MODEL.nn [options]',
  '',
  'commands:',
  ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`),
  '',
  'every command takes --dim NAME=VALUE (repeatable) to override a dim',
].join('\n');

export async function main(argv: readonly string[]): Promise<number> {
  try {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
      console.log(USAGE);
      return argv.length === 0 ? 2 : 0;
    }
    const cmd = COMMANDS[argv[0]];
    if (!cmd) throw new UsageError(`unknown command '${argv[0]}'`);
    const args = parseArgs(argv, { ...COMMON, ...cmd.options });
    if (args.positional.length !== 1) throw new UsageError(`${args.command} takes one model file, got ${args.positional.length}`);
    const dims = dimOverrides(args);
    if (args.command === 'eval') {
      const file = args.options.get('--point')?.[0];
      if (!file) throw new UsageError('eval needs --point FILE.json');
      const point = readPoint(file);
      for (const [k, v] of Object.entries(point.dims ?? {})) if (!dims.has(k)) dims.set(k, v);
      return runEval(args, loadModel(args.positional[0], { dimOverrides: dims }), file, point);
    }
    if (args.command === 'verify') return runVerify(args, args.positional[0], dims);
    const model = loadModel(args.positional[0], { dimOverrides: dims });
    return await cmd.run(args, model);
  } catch (e) {
    return report(e);
  }
}

export function report(e: unknown): number {
  if (e instanceof UserError) {
    const MAX = 30; // a binary file or a wrong file should not flood the terminal
    console.error(e.diagnostics.slice(0, MAX).map(formatDiagnostic).join('\n'));
    const n = e.diagnostics.length;
    console.error(n > MAX ? `${n} errors (the first ${MAX} shown)` : `${n} error${n === 1 ? '' : 's'}`);
    return 1;
  }
  if (e instanceof PlainError) { console.error(`gradc: error: ${e.message}`); return 1; }
  if (e instanceof DataError) { console.error(e.message); return 1; }
  if (e instanceof UsageError) { console.error(`gradc: ${e.message}\n\n${USAGE}`); return 2; }
  const err = e as Error;
  console.error(`gradc: internal error: ${err?.message ?? String(e)}`);
  if (process.env.GRADC_DEBUG === '1') console.error(err?.stack);
  return 1;
}

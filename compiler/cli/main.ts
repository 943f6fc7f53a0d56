// The gradc command line (SPEC §2). Exit status: 0 success, 1 a problem with the user's input, 2 wrong usage.
// A bug inside gradc prints `internal error` and its message; the stack only with GRADC_DEBUG=1.

import { loadModel } from '../frontend/index.js';
import type { Model } from '../frontend/model.js';
import { formatDiagnostic, nearest, PlainError, UserError } from '../source/diagnostics.js';
import { differentiableNames } from '../verify/target.js';
import { choice, constOverrides, dimOverrides, numberOption, optionsFromHelp, ParsedArgs, parseArgs, UsageError } from './args.js';
// Each command loads what it needs when it runs: code generation pulls in ts-morph (≈ 0.4 s), which
// `gradc check` and `gradc grad` never need (see bench/startup.ts).
const load = {
  gradients: () => import('../autodiff/gradients.js'),
  check: () => import('./check.js'),
  grad: () => import('./grad.js'),
  graph: () => import('./graph.js'),
  run: () => import('./run.js'),
  point: () => import('./point.js'),
  verify: () => import('./verify.js'),
  explain: () => import('./explain.js'),
  report: () => import('./report.js'),
  grade: () => import('./grade.js'),
};
import { DataError } from '../../runtime/data.js';
import { TRAIN_HELP } from '../../runtime/cli.js';
import { packageVersion } from '../source/package-root.js';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The options every command takes (their help is the table, as for each command's own). */
const COMMON_HELP = [
  '  --dim NAME=VALUE     override a dim (repeatable, or d=2,n=3)',
  '  --const NAME=VALUE   override a const (repeatable)',
];

interface Command {
  summary: string;
  /** `gradc COMMAND --help`: each option with what it does and its default — and the option table the parser reads (optionsFromHelp). */
  help: string[];
  run(args: ParsedArgs, model: Model): number | Promise<number>;
}

export const COMMANDS: Record<string, Command> = {
  check: {
    summary: 'parse and shape-check; inputs, parameters, counts, graph sizes',
    help: [],
    run: async (_, model) => {
      const { exportsLines } = await import('./compile-onnx.js');
      console.log([(await load.check()).checkReport(model).text, ...exportsLines((await load.gradients()).deriveGradients(model))].join('\n'));
      return 0;
    },
  },
  grad: {
    summary: 'the derived gradients: the backward program, or closed forms',
    help: [
      '  --wrt NAME           a parameter, input or named value (repeatable, or NAME,NAME; default: every parameter)',
      '  --format F           text (the backward program), latex, mathjs or json (default text)',
      '  --inline             one closed expression per gradient instead of the backward program',
      '  --standalone         latex: wrap the block in \\[ … \\] to paste into a LaTeX document (amsmath)',
    ],
    run: async (args, model) => {
      const wrt = wrtOption(args, model);
      const format = choice(args, '--format', ['text', 'latex', 'mathjs', 'json'] as const, 'text');
      const g = (await load.gradients()).deriveGradients(model);
      const text = (await load.grad()).formatGradients(g, format, args.options.has('--inline'), wrt);
      console.log(format === 'latex' && args.options.has('--standalone') ? `\\[\n${text}\n\\]` : text);
      return 0;
    },
  },
  graph: {
    summary: 'the computational graph, as DOT or SVG',
    help: [
      '  --format F           dot or svg (default: from the -o extension, else dot)',
      '  -o FILE              write to FILE instead of standard output',
      '  --backward           include the gradient nodes',
    ],
    run: async (args, model) => {
      const file = args.options.get('-o')?.[0];
      const format = choice(args, '--format', ['dot', 'svg'] as const, file?.toLowerCase().endsWith('.svg') ? 'svg' : 'dot');
      const { toDot, toSvg } = await load.graph();
      const dot = toDot((await load.gradients()).deriveGradients(model), args.options.has('--backward'));
      const out = format === 'svg' ? await toSvg(dot) : dot;
      if (file) { writeOutput(file, out + '\n'); console.log(`wrote ${file}`); } else console.log(out);
      return 0;
    },
  },
  eval: {
    summary: 'loss, outputs and gradients at a point, by the generated code',
    help: [
      '  --point FILE.json    inputs (or "examples": a minibatch) and params, required; without "params", the initial values',
      '  --weights W.json     the params saved by train --save (instead of the point\'s)',
      '  --target T           the generated code that computes it: ts, wasm or gpu (default ts)',
      '  --precision P        f64 or f32 (default f64; wasm and gpu compute in f32)',
      '  --hvp V.json         also the Hessian-vector product H v for the direction V.json ({ "W1": [...], ... }), by generated code',
    ],
    run: () => 0, // handled in main: the point's dims must be known before the model is loaded
  },
  explain: {
    summary: 'backpropagation with numbers at a point, step by step',
    help: [
      '  --point FILE.json    params and inputs (format: docs/cli.md); with "examples", the first one (or --example N)',
      '  --weights W.json     the params saved by train --save (instead of the point\'s)',
      '  --example N          which example of a minibatch point to explain (default 0)',
      '  --hvp V.json         also the second-order chain rule along V.json ({ "W1": [...], ... }): R{X} of every line, ending in H v',
      '  --format F           text (default: big tensors abbreviated) or json (every value in full)',
    ],
    run: () => 0, // handled in main: the point's dims must be known before the model is loaded
  },
  report: {
    summary: 'one self-contained HTML page: model, graphs, typeset gradients',
    help: [
      '  -o FILE.html         where to write the page (required)',
      '  --point FILE.json    add the values of `gradc explain` at this point (its "dims" apply)',
      '  --weights W.json     the params saved by train --save (instead of the point\'s)',
    ],
    run: async (args, model) => {
      const file = args.options.get('-o')?.[0];
      if (!file) throw new UsageError('report needs -o FILE.html');
      const pointFile = args.options.get('--point')?.[0];
      const g = (await load.gradients()).deriveGradients(model);
      let explained: { point: string; text: string } | undefined;
      if (pointFile) {
        const pt = await load.point();
        const env = pt.pointEnv(pointFile, model, pt.withParams(pt.readPoint(pointFile), model, args.options.get('--weights')?.[0]));
        explained = { point: pointFile, text: (await load.explain()).explain(g, env, pointFile) };
      }
      writeOutput(file, await (await load.report()).renderReport(g, { explained }));
      console.log(`wrote ${file}`);
      return 0;
    },
  },
  hessian: {
    summary: 'second derivatives: the Hessian as a matrix expression, or H v',
    help: [
      '  --wrt NAME           the variable: a parameter, input or named value (repeatable: a second gives the cross block)',
      '  --format F           text, latex, mathjs or json (default text)',
      '  --direction NAME     the direction\'s name in the Hessian-vector product H v (default v, or V for a matrix)',
      '  --point FILE.json    evaluate it there: the matrix, its symmetry and eigenvalues; a "direction" value gives H v',
      '  --weights W.json     the params saved by train --save (instead of the point\'s)',
    ],
    run: () => 0, // handled in main: the point's dims must be known before the model is loaded
  },
  verify: {
    summary: 'check a hand-derived gradient: PASS, or FAIL with a counterexample',
    help: [
      '  --wrt NAME           a parameter, input or named value (repeatable with --hessian: a cross block)',
      '  --claim "EXPR"       the claimed gradient; it may use the adjoints dL/dNAME of the backward program',
      '  --hessian            the claim is a second derivative, d2L/dNAME2 (a matrix; kron(A, B) for a matrix NAME)',
      '  --claims FILE        one claim per line: NAME: EXPR, or dL/dNAME = EXPR as `gradc grad` prints it',
      '  --seed N             seed of the random points (default 1)',
      '  --runs N             random points for the numeric check (default 200)',
      '  --json               the verdicts as JSON',
    ],
    run: () => 0, // handled in main: claims are parsed together with the model
  },
  grade: {
    summary: 'grade answer files (gradc notation or LaTeX) against an exercise',
    help: [
      '  --answers DIR        a folder of answer files, one per student (lines dL/dW1 = …)',
      '  --answer FILE        a student\'s own check: verdicts and hints, no model answer',
      '  -o FILE              grades.csv, grades.json or grades.html (default: a table on the terminal)',
      '  --playground URL     where grades.html links answers to (default playground/index.html beside it)',
      '  --seed N             seed of the random points (default 1)',
      '  --runs N             random points per numeric check (default 100)',
    ],
    run: () => 0, // handled in main: its file is an exercise, not a model
  },
  playground: {
    summary: 'write the playground: gradc in a web page (static, no server)',
    help: [
      '  -o DIR               where to write index.html and playground.js (required); open DIR/index.html',
    ],
    run: () => 0, // handled in main: it takes no model
  },
  gradcheck: {
    summary: 'generated gradients against central differences',
    help: [
      '  --seed N             seed of the random points (default 1)',
      '  --points N           random points (default 5)',
      '  --target T           the generated code to check: ts (float64, default), wasm or gpu (float32)',
      '  --order N            1: gradients (default); 2: Hessian-vector products vs differences of gradients',
    ],
    run: async (args, model) => (await load.run()).runGradcheck(args, model),
  },
  compile: {
    summary: 'a standalone trainer (trainer.ts, trainer.mjs) or a web page',
    help: [
      '  -o DIR               the folder to write trainer.ts and trainer.mjs (or the web page) into (required)',
      '  --target T           wasm (default), ts, gpu (gpu.js in node), web (gpu.js on WebGL, a page) or onnx',
      '  --weights W.json     onnx: the weights to export (saved by train --save; default the initialisation)',
      '  --with-loss          onnx: model.onnx computes the loss too (its labels become inputs)',
      '  --data SOURCE        web: embed the data (mnist, iris or a CSV file); without it the page asks for a CSV',
      '  --test SOURCE        web: embed held-out data for the test accuracy (mnist: its test digits by default)',
      '  --epochs N           web: passes over the data (default as train)',
      '  --batch N            web: examples per step',
      '  --lr X               web: learning rate',
      '  --optimizer NAME     web: sgd, momentum or adam',
      '  --schedule S         web: cosine or constant',
      '  --seed N             web: initialisation and shuffling',
      '  --l2 X               web, onnx (train_step.onnx): weight decay on weight matrices',
    ],
    run: async (args, model) => (await load.run()).runCompile(args, model),
  },
  train: {
    summary: 'compile and train on mnist, iris or a CSV file',
    help: [...TRAIN_HELP.split('\n'), '  --target T           wasm (default) or ts', '  --report FILE.html   the model report with the training curves'],
    run: async (args, model) => (await load.run()).runTrain(args, model),
  },
  gpucheck: {
    summary: 'every gpu.js kernel in WebGL2 (headless Chromium) vs float64',
    help: [
      '  --chromium PATH      the browser (default /usr/bin/chromium, or $CHROMIUM_PATH)',
      '  --gpu                use the machine\'s GPU instead of SwiftShader',
    ],
    run: async (args, model) => (await import('./gpucheck.js')).runGpucheck(args, model),
  },
  predict: {
    summary: 'saved weights on new data (labels optional): outputs, labels',
    help: [
      '  --weights FILE.json  weights saved by train --save (required)',
      '  --data SOURCE        a CSV file (the label column may be left out), mnist or iris (required)',
      '  -o FILE.csv          where to write the predictions (default: standard output)',
      '  --precision P        f32 (default) or f64',
      '  --target T           wasm (default) or ts',
    ],
    run: async (args, model) => (await load.run()).runPredictCommand(args, model),
  },
};

/** Write a file atomically (temporary file, then rename), with a plain error if that fails. */
async function writePlaygroundCommand(args: ParsedArgs): Promise<number> {
  const dir = args.options.get('-o')?.[0];
  if (!dir || args.positional.length) throw new UsageError('playground takes no model: gradc playground -o DIR', 'gradc playground --help lists its options');
  const { writePlayground } = await import('../playground/build.js');
  const { bytes } = await writePlayground(dir);
  console.log(`wrote ${join(dir, 'index.html')} and playground.js, graphviz.js (${(bytes / 1024 / 1024).toFixed(1)} MiB): open it in a browser, no server needed`);
  return 0;
}

export function writeOutput(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  } catch (e) {
    throw new PlainError(`${file}: cannot write (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

/** --wrt: parameters (the default: all of them), inputs and named values, to follow backprop step by step. */
export function wrtOption(args: ParsedArgs, model: Model): string[] {
  const wrt = (args.options.get('--wrt') ?? model.params.map((p) => p.name)).flatMap((w) => w.split(',')).map((w) => w.trim());
  const known = differentiableNames(model);
  for (const w of wrt) {
    if (model.inputs.some((i) => i.name === w && i.classes !== undefined)) throw new PlainError(`--wrt ${w}: '${w}' is a class label, an integer: the loss has no gradient with respect to it`);
    if (!known.includes(w)) {
      const guess = nearest(w, known);
      throw new PlainError(`--wrt ${w}: '${w}' is not a parameter, input or named value of ${model.name}${guess ? ` (did you mean ${guess}?)` : ''}; choose from ${known.join(', ')}`);
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
  'every command takes --dim NAME=VALUE and --const NAME=VALUE (a dim or const)',
  'gradc COMMAND --help lists its options; the reference is docs/cli.md',
].join('\n');

function commandHelp(name: string, c: Command): string {
  return [`usage: gradc ${name} ${name === 'grade' ? 'EXERCISE.md ' : name === 'playground' ? '' : 'MODEL.nn '}[options]`, '', c.summary, '', 'options:', ...c.help, ...COMMON_HELP].join('\n');
}

function version(): string {
  return `gradc ${packageVersion()}`;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
      console.log(USAGE);
      return argv.length === 0 ? 2 : 0;
    }
    if (argv[0] === '--version' || argv[0] === '-V') { console.log(version()); return 0; }
    const cmd = Object.hasOwn(COMMANDS, argv[0]) ? COMMANDS[argv[0]] : undefined;
    if (!cmd) {
      const guess = nearest(argv[0], Object.keys(COMMANDS));
      throw new UsageError(`unknown command '${argv[0]}'${guess ? `: did you mean ${guess}?` : ''}`);
    }
    if (argv.slice(1).some((a) => a === '--help' || a === '-h')) { console.log(commandHelp(argv[0], cmd)); return 0; }
    const args = parseArgs(argv, optionsFromHelp([...cmd.help, ...COMMON_HELP]));
    if (args.command === 'playground') return await writePlaygroundCommand(args);
    if (args.positional.length !== 1) throw new UsageError(`${args.command} takes one model file, got ${args.positional.length}`);
    const dims = dimOverrides(args);
    const consts = constOverrides(args);
    // A point's "dims" size the model (the command line's --dim wins), so it is read before the model.
    const pointFile = args.options.get('--point')?.[0];
    if (pointFile) for (const [k, v] of Object.entries((await load.point()).readPoint(pointFile).dims ?? {})) if (!dims.has(k)) dims.set(k, v);
    if (args.command === 'eval' || args.command === 'explain') {
      const file = pointFile;
      if (!file) throw new UsageError(`${args.command} needs --point FILE.json`);
      const model = loadModel(args.positional[0], { dimOverrides: dims, constOverrides: consts });
      const point = (await load.point()).withParams((await load.point()).readPoint(file), model, args.options.get('--weights')?.[0]);
      if (args.command === 'explain') {
        const index = numberOption(args, '--example', 0, { integer: true, min: 0 });
        const env = (await load.point()).pointEnv(file, model, point, index);
        const g = (await load.gradients()).deriveGradients(model);
        const ex = await load.explain();
        const format = choice(args, '--format', ['text', 'json'] as const, 'text');
        const data = ex.explainData(g, env, point.examples ? `${file}, example ${index}` : file);
        const hvpFile = args.options.get('--hvp')?.[0];
        const second = hvpFile ? (await import('./explain-second-order.js')).explainSecondOrder(g, env, (await load.point()).readDirections(hvpFile, model)) : undefined;
        if (format === 'json') console.log(ex.explainJson(data, second));
        else console.log(ex.explainText(data, model.loss.name) + (second ? (await import('./explain-second-order.js')).secondOrderText(second, model.loss.name) : ''));
        return second && !second.ok ? 1 : 0;
      }
      return (await load.run()).runEval(args, model, file, point);
    }
    if (args.command === 'hessian') return await runHessianCommand(args, dims, consts, pointFile);
    if (args.command === 'verify') return (await load.verify()).runVerify(args, args.positional[0], dims, consts);
    if (args.command === 'grade') return (await load.grade()).runGrade(args, args.positional[0], writeOutput);
    const model = loadModel(args.positional[0], { dimOverrides: dims, constOverrides: consts });
    return await cmd.run(args, model);
  } catch (e) {
    return report(e);
  }
}

async function runHessianCommand(args: ParsedArgs, dims: Map<string, number>, consts: Map<string, number>, pointFile: string | undefined): Promise<number> {
  const model = loadModel(args.positional[0], { dimOverrides: dims, constOverrides: consts });
  const wrt = args.options.get('--wrt')?.flatMap((w) => w.split(',')).map((w) => w.trim());
  if (!wrt) throw new UsageError('hessian needs --wrt NAME (twice for a cross block)', 'gradc hessian --help lists its options');
  const format = choice(args, '--format', ['text', 'latex', 'mathjs', 'json'] as const, 'text');
  const pt = pointFile ? await load.point() : undefined;
  const point = pt && pointFile ? { file: pointFile, point: pt.withParams(pt.readPoint(pointFile), model, args.options.get('--weights')?.[0]) } : undefined;
  console.log((await import('./hessian.js')).runHessian(model, { wrt, format, direction: args.options.get('--direction')?.[0], point }));
  return 0;
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
  if (e instanceof UsageError) { console.error(`gradc: ${e.message}\n\n${e.help ?? USAGE}`); return 2; }
  const err = e as Error;
  console.error(`gradc: internal error: ${err?.message ?? String(e)}`);
  if (process.env.GRADC_DEBUG === '1') console.error(err?.stack);
  return 1;
}

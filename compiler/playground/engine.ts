// What the playground page computes, as plain functions over the model's text: the same front end,
// autodiff, simplifier, printers, check, verify and explain as the command line (the page is this module
// bundled for the browser; nothing here touches the DOM, so the tests run it in Node too).

import { parseModel } from '../frontend/index.js';
import type { Model } from '../frontend/model.js';
import { deriveGradients, type Gradients } from '../autodiff/gradients.js';
import { formatDiagnostic, PlainError, UserError } from '../source/diagnostics.js';
import { checkReport } from '../cli/check.js';
import { formatGradients } from '../cli/grad.js';
import { toDot } from '../cli/graph.js';
import { verifyReport } from '../cli/verify.js';
import { explainData, explainText } from '../cli/explain.js';
import { pointEnv, readPointText } from '../cli/point.js';
import { tensor, type Tensor } from '../ir/tensor.js';
import { Rng } from '../../runtime/rng.js';

/** A located mistake: offsets into the model's text for the editor, and the message as the CLI prints it. */
export interface Problem { readonly from: number; readonly to: number; readonly message: string; readonly printed: string }

export interface Analysis {
  readonly problems: readonly Problem[];
  /** Everything below is present when the model checks. */
  readonly model?: Model;
  readonly g?: Gradients;
  readonly check?: string;
  /** The backward program, one line per step, in text and LaTeX (without the aligned environment). */
  readonly program?: { readonly text: string[]; readonly latex: string[] };
  /** `gradc grad --inline`, in text and in LaTeX (the aligned block), for the copy buttons. */
  readonly inline?: string;
  readonly latex?: string;
  readonly dot?: { readonly forward: string; readonly backward: string };
}

export const PLAYGROUND_PATH = 'model.nn';

/** Parses and derives; a mistake becomes located problems, as `gradc check` reports them. */
export function analyze(text: string, path = PLAYGROUND_PATH): Analysis {
  let model: Model;
  try {
    model = parseModel(path, text);
  } catch (e) {
    if (e instanceof UserError) return { problems: e.diagnostics.map((d) => ({ from: d.span.start, to: Math.max(d.span.end, d.span.start + 1), message: d.message, printed: formatDiagnostic(d) })) };
    if (e instanceof PlainError) return { problems: [{ from: 0, to: 0, message: e.message, printed: `gradc: error: ${e.message}` }] };
    throw e;
  }
  const g = deriveGradients(model);
  const params = model.params.map((p) => p.name);
  const latexLines = formatGradients(g, 'latex', false, params).split('\n').slice(1, -1).map((l) => l.replace(/ \\\\\[0\.4em\]$/, ''));
  return { problems: [], model, g, program: { text: formatGradients(g, 'text', false, params).split('\n'), latex: latexLines } };
}

/** The rest of what the page shows, computed after the backward program is on screen. */
export function analyzeMore(a: Analysis): Analysis {
  if (!a.model || !a.g) return a;
  const params = a.model.params.map((p) => p.name);
  return {
    ...a,
    check: checkReport(a.model).text,
    inline: formatGradients(a.g, 'text', true, params),
    latex: formatGradients(a.g, 'latex', true, params),
    dot: { forward: toDot(a.g, false), backward: toDot(a.g, true) },
  };
}

/** `gradc verify` on one claim (`dL/dW1 = …`, or LaTeX with its left side): its output and exit status. */
export function verifyClaim(modelText: string, claim: string, opts: { seed?: number; runs?: number } = {}): { text: string; status: number } {
  try {
    const r = verifyReport({ model: { path: PLAYGROUND_PATH, text: modelText }, claims: { path: '<claim>', text: claim }, seed: opts.seed ?? 1, runs: opts.runs ?? 200 });
    return { text: r.text, status: r.status };
  } catch (e) {
    if (e instanceof UserError) return { text: e.diagnostics.map(formatDiagnostic).join('\n'), status: 1 };
    if (e instanceof PlainError) return { text: `gradc: error: ${e.message}`, status: 1 };
    throw e;
  }
}

/**
 * `gradc explain` at a point: the JSON typed in the page (the `eval --point` format), or, without one, a
 * seeded random point (params and real inputs from a normal distribution, labels uniform).
 */
export function explainAt(modelText: string, pointJson: string | undefined, seed = 1): string {
  const a = analyze(modelText);
  if (!a.model || !a.g) return a.problems.map((p) => p.printed).join('\n');
  try {
    const env = pointJson?.trim() ? pointEnv('<point>', a.model, readPointText('<point>', pointJson)) : randomPoint(a.model, seed);
    return explainText(explainData(a.g, env, pointJson?.trim() ? 'the point typed' : `a random point (seed ${seed})`), a.model.loss.name);
  } catch (e) {
    if (e instanceof PlainError) return `gradc: error: ${e.message}`;
    throw e;
  }
}

function randomPoint(model: Model, seed: number): Map<string, Tensor> {
  const r = new Rng(seed);
  const env = new Map<string, Tensor>();
  const fill = (shape: readonly number[]) => tensor(shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.round(r.normal() * 100) / 100));
  for (const i of model.inputs) env.set(i.name, i.classes !== undefined ? tensor([], [Math.floor(r.next() * i.classes)]) : fill(i.shape));
  for (const p of model.params) env.set(p.name, fill(p.shape));
  return env;
}

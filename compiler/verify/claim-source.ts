// A claim as a person writes it — `dL/dW1 = outer(dL/dz1, x)`, `W1: …`, or LaTeX on either side of the `=`
// — turned into what the claim parser reads: the name it is about, and a source in gradc's notation whose
// messages point back into the person's own text (a LaTeX claim is translated, and its errors remapped).

import type { Model } from '../frontend/model.js';
import type { Diagnostic } from '../source/diagnostics.js';
import { SourceFile } from '../source/diagnostics.js';
import { LatexError, looksLikeLatex, spanInLatex, translateLatex, type LatexNames } from '../frontend/latex.js';

export interface ClaimSource {
  readonly wrt: string;
  /** The claim's right-hand side as written (LaTeX or not). */
  readonly text: string;
  /** What the claim parser reads: gradc's notation, positioned so that messages cite the file's own place. */
  readonly source: SourceFile;
  /** Maps a message about `source` back to the person's text (identity unless the claim was LaTeX). */
  readonly remap: (d: Diagnostic) => Diagnostic;
  readonly latex: boolean;
}

/** A claim that cannot even be read (an unknown LaTeX command, no `=`): its located message. */
export class ClaimReadError extends Error {
  constructor(readonly diagnostic: Diagnostic) { super(diagnostic.message); }
}

export function latexNames(model: Model): LatexNames {
  const names = new Set<string>([
    ...model.params.map((p) => p.name), ...model.inputs.map((i) => i.name), ...model.values.map((v) => v.name),
    ...model.dims.keys(), ...model.consts.keys(), ...model.fns.keys(),
  ]);
  const labels = new Map(model.inputs.filter((i) => i.classes !== undefined).map((i) => [i.name, (i.node.attr.classDim as string | undefined) ?? String(i.classes)]));
  return { names, loss: model.loss.name, labels };
}

/**
 * The claim whose expression is `text.slice(start, end)` of a file (a claims file's line, an answer file's
 * line, or the whole of a --claim): `file` is the file as written, for messages.
 */
export function claimAt(file: SourceFile, start: number, end: number, wrt: string, names: LatexNames): ClaimSource {
  const expr = file.text.slice(start, end);
  const blank = (keep: string) => file.text.slice(0, start).replace(/[^\n]/g, ' ') + keep + file.text.slice(end).replace(/[^\n]/g, ' ');
  if (!looksLikeLatex(expr)) {
    return { wrt, text: expr.trim(), source: new SourceFile(file.path, blank(expr), file.text), remap: (d) => d, latex: false };
  }
  let tr;
  try {
    tr = translateLatex(expr, names);
  } catch (e) {
    if (!(e instanceof LatexError)) throw e;
    throw new ClaimReadError({ span: { file, start: start + e.start, end: start + e.end }, message: e.message });
  }
  // The translation is parsed on its own; its messages are moved to the LaTeX it came from.
  const translated = new SourceFile(`${file.path} (read as: ${tr.text})`, tr.text);
  const remap = (d: Diagnostic): Diagnostic => {
    if (d.span.file !== translated) return d;
    const s = spanInLatex(tr, file, d.span.start, d.span.end);
    return { ...d, span: { file, start: s.start + start, end: s.end + start }, notes: [...(d.notes ?? []), `the LaTeX reads as: ${tr.text}`] };
  };
  return { wrt, text: expr.trim(), source: translated, remap, latex: true };
}

/**
 * A line `LHS = RHS` or `NAME: RHS` of a claims or answer file: LHS is dL/dNAME, ∂L/∂NAME in LaTeX
 * (\frac{\partial L}{\partial W^{(1)}}, \nabla_{W} L), or a name. Undefined for a line that is not a claim.
 */
export function splitClaimLine(line: string, names: LatexNames): { wrt: string; rhsStart: number } | { error: string; at: number } | undefined {
  const colon = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:/.exec(line);
  if (colon && !line.includes('=')) return { wrt: colon[1], rhsStart: colon[0].length };
  const eq = topLevelEquals(line);
  if (eq < 0) return colon ? { wrt: colon[1], rhsStart: colon[0].length } : undefined;
  const lhs = line.slice(0, eq).replace(/&\s*$/, '').trim(); // a LaTeX alignment: ∂L/∂W &= …
  const plain = /^d([A-Za-z_][A-Za-z0-9_]*)\/d([A-Za-z_][A-Za-z0-9_]*)$/.exec(lhs);
  if (plain) return { wrt: plain[2], rhsStart: eq + 1 };
  if (!looksLikeLatex(lhs) && !/\\partial|\\nabla|∂/.test(lhs)) return { error: `expected dL/dNAME = … (or ∂L/∂NAME in LaTeX) on the left of '=', found ${lhs}`, at: line.indexOf(lhs) };
  try {
    const tr = translateLatex(lhs, names);
    const m = /^d[A-Za-z_][A-Za-z0-9_]*\/d([A-Za-z_][A-Za-z0-9_]*)$/.exec(tr.text);
    if (!m) return { error: `the left side should be a derivative of the loss, ∂L/∂NAME; it reads as ${tr.text}`, at: line.indexOf(lhs) };
    return { wrt: m[1], rhsStart: eq + 1 };
  } catch (e) {
    if (!(e instanceof LatexError)) throw e;
    return { error: e.message, at: line.indexOf(lhs) + e.start };
  }
}

/** The `=` that separates the sides: not one inside braces, brackets or a named argument such as pad=1. */
export function topLevelEquals(line: string): number {
  let depth = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '{' || c === '(' || c === '[') depth++;
    else if (c === '}' || c === ')' || c === ']') depth--;
    else if (c === '=' && depth === 0 && line[i + 1] !== '=' && line[i - 1] !== '=' && line[i - 1] !== '!' && line[i - 1] !== '<' && line[i - 1] !== '>') return i;
  }
  return -1;
}

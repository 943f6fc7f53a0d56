// Grading a class: every answer file in a folder, question by question, with verify's verdicts and
// diagnoses. A student's text is only ever parsed into the claim language and evaluated as IR — never run —
// and a file that is too large, binary or malformed is graded as unreadable without stopping the others.
// Identical answers (a class writes the right one, and the same few wrong ones, many times) are judged once.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseModel } from '../frontend/index.js';
import type { Model } from '../frontend/model.js';
import type { LowerOptions } from '../frontend/lower.js';
import { formatDiagnostic, PlainError, SourceFile, UserError } from '../source/diagnostics.js';
import { topo } from '../ir/node.js';
import { claimAt, ClaimReadError, latexNames, splitClaimLine, type ClaimSource } from '../verify/claim-source.js';
import type { LatexNames } from '../frontend/latex.js';
import { parseClaims, smallSizes } from '../cli/verify.js';
import { numericVerdict, quickVerdict, type Verdict } from '../verify/verify.js';
import { resolveAdjoints } from '../verify/target.js';
import type { Exercise, Question } from './exercise.js';
import { mistakeOf, NEAR_MISSES, type Mistake } from './mistakes.js';

export interface AnswerGrade {
  readonly wrt: string;
  readonly verdict: 'PASS' | 'FAIL' | 'MISSING';
  readonly points: number;
  readonly max: number;
  /** The answer as written (LaTeX or not), and its line in the file. */
  readonly answer?: string;
  readonly line?: number;
  readonly message: string;
  readonly diagnosis?: string;
  readonly mistake?: Mistake;
  /** A message located in the answer file (a syntax or shape error), as gradc prints it. */
  readonly located?: string;
  readonly counterexample?: Verdict['counterexample'];
  /** The derived formula: shown only where the exercise allows (Show answers: yes). */
  readonly derived?: string;
}

export interface StudentGrade {
  readonly student: string;
  readonly file: string;
  readonly total: number;
  readonly max: number;
  readonly answers: readonly AnswerGrade[];
  /** Why the whole file could not be graded (too large, binary); every question then scores 0. */
  readonly unreadable?: string;
  /** Lines about something that is not a question of the exercise, or a question answered twice. */
  readonly notes: readonly string[];
}

export interface GradeOptions { readonly seed: number; readonly runs: number }

const MAX_FILE_BYTES = 64 * 1024;
const MAX_LINE = 4000;

/** Grades answer texts against one exercise; keeps the model parsed and the verdicts of answers seen before. */
export class Grader {
  readonly model: Model;
  private readonly names: LatexNames;
  private readonly opts: LowerOptions;
  private readonly seen = new Map<string, Omit<AnswerGrade, 'answer' | 'line'>>();

  constructor(readonly exercise: Exercise, private readonly options: GradeOptions = { seed: 1, runs: 100 }) {
    // The checks run at small sizes, dims of equal size kept equal (a square matrix stays square).
    const full = parseModel(exercise.model.path, exercise.model.text);
    this.opts = { dimOverrides: smallSizes(full.dims, new Map()) };
    this.model = parseModel(exercise.model.path, exercise.model.text, this.opts);
    this.names = latexNames(this.model);
    for (const q of exercise.questions) {
      if (!this.names.names.has(q.wrt) || this.model.inputs.some((i) => i.name === q.wrt && i.classes !== undefined)) {
        throw new PlainError(`${exercise.path}:${q.line}:1: error: the model has no ${q.wrt} to differentiate by`);
      }
    }
  }

  /** One student's answer file. */
  gradeFile(path: string): StudentGrade {
    const student = basename(path).replace(/\.[^.]*$/, '');
    let bytes: Buffer;
    try {
      if (statSync(path).size > MAX_FILE_BYTES) return this.unreadable(student, path, `larger than ${MAX_FILE_BYTES / 1024} KiB: an answer file holds one line per question`);
      bytes = readFileSync(path);
    } catch (e) {
      return this.unreadable(student, path, `cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
    const text = bytes.toString('utf8');
    if (bytes.includes(0) || text.includes('\ufffd')) return this.unreadable(student, path, 'not a text file (binary data, or not UTF-8)');
    return this.gradeText(student, path, text);
  }

  gradeText(student: string, path: string, raw: string): StudentGrade {
    const text = raw.replace(/^\ufeff/, '').replace(/\r\n?/g, '\n');
    const file = new SourceFile(path, text);
    const found = new Map<string, AnswerGrade>();
    const notes: string[] = [];
    let offset = 0;
    text.split('\n').forEach((line, k) => {
      const here = offset;
      offset += line.length + 1;
      const claim = answerLine(line);
      if (!claim) return;
      const start = here + claim.start, end = here + claim.end;
      const expr = text.slice(start, end);
      if (expr.length > MAX_LINE) { notes.push(`line ${k + 1}: longer than ${MAX_LINE} characters, not graded`); return; }
      const split = splitClaimLine(expr, this.names);
      if (!split || 'error' in split) { notes.push(`line ${k + 1}: ${split && 'error' in split ? split.error : 'not an answer (expected dL/dNAME = …)'}`); return; }
      const q = this.exercise.questions.find((x) => x.wrt === split.wrt);
      if (!q) { notes.push(`line ${k + 1}: dL/d${split.wrt} is not a question of this exercise`); return; }
      if (found.has(q.wrt)) { notes.push(`line ${k + 1}: dL/d${q.wrt} answered again; the first answer (line ${found.get(q.wrt)!.line}) is graded`); return; }
      found.set(q.wrt, { ...this.gradeAnswer(q, file, start + split.rhsStart, end), answer: expr.slice(split.rhsStart).trim(), line: k + 1 });
    });
    const answers = this.exercise.questions.map((q) => found.get(q.wrt) ?? { wrt: q.wrt, verdict: 'MISSING' as const, points: 0, max: q.points, message: 'no answer' });
    return { student, file: path, total: answers.reduce((s, a) => s + a.points, 0), max: this.maxPoints(), answers, notes };
  }

  private maxPoints(): number { return this.exercise.questions.reduce((s, q) => s + q.points, 0); }

  private unreadable(student: string, path: string, why: string): StudentGrade {
    const answers = this.exercise.questions.map((q) => ({ wrt: q.wrt, verdict: 'MISSING' as const, points: 0, max: q.points, message: 'the file could not be read' }));
    return { student, file: path, total: 0, max: this.maxPoints(), answers, unreadable: why, notes: [] };
  }

  /** One answer: parsed (LaTeX or not), checked against what the question gives, then judged by verify. */
  private gradeAnswer(q: Question, file: SourceFile, start: number, end: number): Omit<AnswerGrade, 'answer' | 'line'> {
    let claim: ClaimSource;
    try {
      claim = claimAt(file, start, end, q.wrt, this.names);
    } catch (e) {
      if (e instanceof ClaimReadError) return this.error(q, formatDiagnostic(e.diagnostic));
      if (e instanceof RangeError) return this.error(q, 'the answer is nested too deeply to read');
      throw e;
    }
    // The same answer (as read) from another student: the same grade, located messages aside.
    const key = `${q.wrt}\u0000${claim.source.text.trim()}`;
    const known = this.seen.get(key);
    if (known && !known.located) return known;
    const graded = this.judge(q, claim);
    this.seen.set(key, graded);
    return graded;
  }

  private judge(q: Question, claim: ClaimSource): Omit<AnswerGrade, 'answer' | 'line'> {
    let parsed;
    try {
      parsed = parseClaims(this.exercise.model.path, this.exercise.model.text, [claim], this.opts);
    } catch (e) {
      if (e instanceof UserError) return this.error(q, e.diagnostics.map(formatDiagnostic).join('\n'));
      if (e instanceof RangeError) return this.error(q, 'the answer is nested too deeply to read');
      throw e;
    }
    const written = parsed.claims[0];
    const used = topo([written]).filter((n) => n.op === 'var' && typeof n.attr.adjointOf === 'string').map((n) => n.attr.adjointOf as string);
    const extra = used.find((a) => !q.given.includes(a));
    if (extra !== undefined) {
      const allowed = q.given.length ? `only ${q.given.map((g) => `d${this.model.loss.name}/d${g}`).join(', ')}` : `no adjoint: write it in the model's values`;
      return { wrt: q.wrt, verdict: 'FAIL', points: 0, max: q.points, message: `uses d${this.model.loss.name}/d${extra}, which this question does not give (${allowed})`, mistake: 'not allowed' };
    }
    const resolved = resolveAdjoints(parsed.model, written);
    const v = quickVerdict(parsed.model, q.wrt, resolved, claim.text, written)
      ?? numericVerdict(parsed.model, q.wrt, resolved, claim.text, this.options, written);
    if (v.verdict === 'PASS') return { wrt: q.wrt, verdict: 'PASS', points: q.points, max: q.points, message: v.message };
    const mistake = mistakeOf(v);
    const points = NEAR_MISSES.has(mistake) ? q.points * this.exercise.partialCredit : 0;
    return {
      wrt: q.wrt, verdict: 'FAIL', points, max: q.points, message: v.message, diagnosis: v.diagnosis, mistake,
      counterexample: v.counterexample, ...(this.exercise.showAnswers ? { derived: v.derived } : {}),
    };
  }

  private error(q: Question, located: string): Omit<AnswerGrade, 'answer' | 'line'> {
    const message = located.split('\n')[0].replace(/^.*?error: /, '');
    return { wrt: q.wrt, verdict: 'FAIL', points: 0, max: q.points, message, located, mistake: /shape|cannot multiply|cannot combine|cannot add|broadcast/.test(message) ? 'wrong shape' : 'unreadable' };
  }
}

/**
 * The claim part of a line of an answer file, without what surrounds LaTeX ($…$, \[…\], a trailing \\ or
 * full stop, & before =); undefined for a blank line or a comment (# or %).
 */
export function answerLine(line: string): { start: number; end: number } | undefined {
  let start = 0, end = line.length;
  const trim = () => { while (start < end && /\s/.test(line[start])) start++; while (end > start && /\s/.test(line[end - 1])) end--; };
  trim();
  if (start === end || line[start] === '#' || line[start] === '%') return undefined;
  for (let changed = true; changed;) {
    changed = false;
    for (const [open, close] of [['$$', '$$'], ['$', '$'], ['\\[', '\\]'], ['\\(', '\\)']]) {
      if (line.startsWith(open, start) && line.slice(start, end).endsWith(close) && end - start >= open.length + close.length) { start += open.length; end -= close.length; trim(); changed = true; }
    }
    for (const tail of ['\\\\', '.', ',']) if (line.slice(start, end).endsWith(tail)) { end -= tail.length; trim(); changed = true; }
  }
  return { start, end };
}

/** The answer files of a folder: every regular file, in name order (hidden files left out). */
export function answerFiles(dir: string): string[] {
  let entries: string[];
  try { entries = readdirSync(dir); } catch (e) {
    throw new PlainError(`${dir}: cannot read the folder of answers (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return entries.filter((f) => !f.startsWith('.')).sort().map((f) => join(dir, f)).filter((f) => { try { return statSync(f).isFile(); } catch { return false; } });
}

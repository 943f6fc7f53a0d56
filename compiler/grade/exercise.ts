// An exercise file: Markdown a teacher can hand out as it is. A `# title`, the model (a fenced ```nn block,
// or a line `Model: path.nn` relative to the exercise), settings lines, and one `## dL/dNAME` heading per
// question — with `given dL/dA, dL/dB` (the adjoints an answer may use) and `(N points)` — whose text is
// the question and whose `Hint:` lines are hints. See docs/grading.md.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PlainError } from '../source/diagnostics.js';

export interface Question {
  /** The value whose gradient is asked for (W1 for dL/dW1). */
  readonly wrt: string;
  /** Adjoints the answer may use, by the name of their value (a1 for dL/da1). */
  readonly given: readonly string[];
  readonly points: number;
  readonly text: string;
  readonly hints: readonly string[];
  /** The heading as written, e.g. `dL/dz1 given dL/da1 (2 points)`. */
  readonly heading: string;
  readonly line: number;
}

export interface Exercise {
  readonly path: string;
  readonly title: string;
  /** The model's source and the path it is reported under. */
  readonly model: { readonly path: string; readonly text: string };
  readonly questions: readonly Question[];
  /** `Show answers: yes`: a student's self-check may print the derived formula. */
  readonly showAnswers: boolean;
  /** `Partial credit: 50%`: the share of a question's points for a near miss (a sign, a constant, a transpose). */
  readonly partialCredit: number;
}

const HEADING = /^##\s+d([A-Za-z_][A-Za-z0-9_]*)\/d([A-Za-z_][A-Za-z0-9_]*)(?:\s+given\s+([^()]*?))?\s*(?:\((\d+(?:\.\d+)?)\s*points?\))?\s*$/;

export function readExercise(path: string): Exercise {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (e) {
    throw new PlainError(`${path}: cannot read the exercise (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return parseExercise(path, text);
}

export function parseExercise(path: string, text: string): Exercise {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const at = (k: number, msg: string) => new PlainError(`${path}:${k + 1}:1: error: ${msg}`);
  let title = '', modelPath: string | undefined, modelText: string | undefined, showAnswers = false, partialCredit = 0.5;
  const questions: Question[] = [];
  let current: { q: Omit<Question, 'text' | 'hints'>; text: string[]; hints: string[] } | undefined;
  const close = () => { if (current) questions.push({ ...current.q, text: current.text.join('\n').trim(), hints: current.hints }); current = undefined; };
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k];
    if (/^```\s*nn\s*$/.test(line)) {
      const end = lines.findIndex((l, j) => j > k && /^```\s*$/.test(l));
      if (end < 0) throw at(k, 'the ```nn block is not closed with ```');
      if (modelText !== undefined) throw at(k, 'a second model: an exercise has one');
      modelText = lines.slice(k + 1, end).join('\n') + '\n';
      modelPath = `${path} (the model, from line ${k + 2})`;
      k = end;
      continue;
    }
    if (/^#\s/.test(line) && !title) { title = line.replace(/^#\s+/, '').trim(); continue; }
    if (/^##\s/.test(line)) {
      close();
      const m = HEADING.exec(line);
      if (!m) throw at(k, `a question heading is ## dL/dNAME, optionally with 'given dL/dA, …' and '(N points)'; found ${line.trim()}`);
      const given = (m[3] ?? '').split(',').map((s) => s.trim()).filter(Boolean).map((g) => {
        const gm = /^d[A-Za-z_][A-Za-z0-9_]*\/d([A-Za-z_][A-Za-z0-9_]*)$/.exec(g);
        if (!gm) throw at(k, `'given' lists adjoints such as dL/da1, found ${g}`);
        return gm[1];
      });
      current = { q: { wrt: m[2], given, points: m[4] === undefined ? 1 : Number(m[4]), heading: line.replace(/^##\s+/, '').trim(), line: k + 1 }, text: [], hints: [] };
      continue;
    }
    const setting = /^(Model|Show answers|Partial credit):\s*(.*?)\s*$/i.exec(line);
    if (setting && !current) {
      const [, key, value] = setting;
      if (/^model$/i.test(key)) {
        const file = resolve(dirname(path), value.replace(/^`|`$/g, ''));
        try { modelText = readFileSync(file, 'utf8'); } catch { throw at(k, `cannot read the model ${value} (looked for ${file})`); }
        modelPath = file;
      } else if (/^show answers$/i.test(key)) showAnswers = /^(yes|true|on)$/i.test(value);
      else {
        const pm = /^(\d+(?:\.\d+)?)\s*%$/.exec(value);
        if (!pm || Number(pm[1]) > 100) throw at(k, `Partial credit is a percentage such as 50%, found ${value}`);
        partialCredit = Number(pm[1]) / 100;
      }
      continue;
    }
    if (!current) continue;
    const hint = /^\s*(?:>\s*)?Hint:\s*(.*)$/i.exec(line);
    if (hint) current.hints.push(hint[1].trim()); else current.text.push(line);
  }
  close();
  if (modelText === undefined || modelPath === undefined) throw new PlainError(`${path}: no model: put it in a \`\`\`nn block or name it on a line 'Model: file.nn'`);
  if (questions.length === 0) throw new PlainError(`${path}: no questions: each is a heading ## dL/dNAME (N points)`);
  const seen = new Set<string>();
  for (const q of questions) {
    if (seen.has(q.wrt)) throw new PlainError(`${path}:${q.line}:1: error: dL/d${q.wrt} is asked twice`);
    seen.add(q.wrt);
  }
  return { path, title: title || path, model: { path: modelPath, text: modelText }, questions, showAnswers, partialCredit };
}

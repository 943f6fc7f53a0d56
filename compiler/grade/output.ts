// A class's grades as a teacher reads them: a summary per question (how many got it, the most common
// mistakes), then every student's marks — as text, CSV (one row per student, for a grade book), JSON (all of
// it), or one self-contained HTML page in the style of gradc's reports.

import type { Exercise } from './exercise.js';
import type { AnswerGrade, StudentGrade } from './grade.js';
import type { Mistake } from './mistakes.js';

export interface QuestionSummary {
  readonly wrt: string;
  readonly heading: string;
  readonly points: number;
  readonly passed: number;
  readonly answered: number;
  readonly students: number;
  readonly meanPoints: number;
  /** The mistakes, most common first, each with how many made it and one diagnosis as an example. */
  readonly mistakes: readonly { mistake: Mistake; count: number; example: string }[];
}

export function summarize(exercise: Exercise, students: readonly StudentGrade[]): QuestionSummary[] {
  return exercise.questions.map((q) => {
    const answers = students.map((s) => s.answers.find((a) => a.wrt === q.wrt)!);
    const counts = new Map<Mistake, { count: number; example: string }>();
    for (const a of answers) {
      if (a.verdict !== 'FAIL' || !a.mistake) continue;
      const c = counts.get(a.mistake) ?? { count: 0, example: a.diagnosis ?? a.message };
      c.count++;
      counts.set(a.mistake, c);
    }
    return {
      wrt: q.wrt, heading: q.heading, points: q.points, students: students.length,
      passed: answers.filter((a) => a.verdict === 'PASS').length,
      answered: answers.filter((a) => a.verdict !== 'MISSING').length,
      meanPoints: answers.reduce((s, a) => s + a.points, 0) / Math.max(1, answers.length),
      mistakes: [...counts].map(([mistake, c]) => ({ mistake, ...c })).sort((a, b) => b.count - a.count),
    };
  });
}

const pts = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(1));
const cell = (a: AnswerGrade) => (a.verdict === 'PASS' ? pts(a.points) : a.verdict === 'MISSING' ? '–' : a.points > 0 ? `${pts(a.points)}~` : '0');

/** The text table: one line per student, then the summary. */
export function gradesText(exercise: Exercise, students: readonly StudentGrade[]): string {
  const qs = exercise.questions;
  const w = Math.max(7, ...students.map((s) => s.student.length));
  const head = `${'student'.padEnd(w)}  ${qs.map((q) => `dL/d${q.wrt}`.padStart(Math.max(6, q.wrt.length + 4))).join('  ')}   total`;
  const rows = students.flatMap((s) => [`${s.student.padEnd(w)}  ${s.answers.map((a, k) => cell(a).padStart(Math.max(6, qs[k].wrt.length + 4))).join('  ')}   ${pts(s.total)}/${pts(s.max)}${s.unreadable ? `  (unreadable: ${s.unreadable})` : ''}`,
    ...s.notes.map((n) => `${' '.repeat(w)}  note: ${n}`)]);
  const lines = [`${exercise.title}: ${students.length} answer file${students.length === 1 ? '' : 's'}`, '', head, ...rows, '', '(~ partial credit, – no answer)', ''];
  for (const q of summarize(exercise, students)) {
    lines.push(`dL/d${q.wrt} (${pts(q.points)} point${q.points === 1 ? '' : 's'}): ${q.passed} of ${q.students} right, mean ${q.meanPoints.toFixed(2)}`);
    for (const m of q.mistakes.slice(0, 4)) lines.push(`  ${String(m.count).padStart(3)} × ${m.mistake}: e.g. ${m.example}`);
  }
  return lines.join('\n');
}

/** The verdicts of one student, for their own self-check: what is wrong, and the hints; no model answer. */
export function selfCheckText(exercise: Exercise, s: StudentGrade): string {
  const lines = [`${exercise.title}: ${pts(s.total)} of ${pts(s.max)} points`];
  if (s.unreadable) lines.push(`the file could not be read: ${s.unreadable}`);
  for (const a of s.answers) {
    const q = exercise.questions.find((x) => x.wrt === a.wrt)!;
    lines.push('', `dL/d${a.wrt}: ${a.verdict === 'MISSING' ? 'no answer' : a.verdict} (${pts(a.points)} of ${pts(a.max)})`);
    if (a.verdict === 'PASS') continue;
    if (a.located) lines.push(...a.located.split('\n').map((l) => `  ${l}`));
    else if (a.verdict === 'FAIL') lines.push(`  ${a.diagnosis ?? a.message}`);
    if (a.counterexample) {
      const c = a.counterexample;
      lines.push('  at the point ' + Object.entries(c.point).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(', '));
      lines.push(`  your value:    ${JSON.stringify(c.claimed)}`, `  the gradient:  ${JSON.stringify(c.finiteDifference)} (by finite differences)`);
    }
    if (a.derived) lines.push(`  the answer: dL/d${a.wrt} = ${a.derived}`);
    for (const h of q.hints) lines.push(`  hint: ${h}`);
  }
  for (const n of s.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}

/** A cell that a spreadsheet will not run as a formula (=, +, −, @ first). */
const csvCell = (v: string) => { const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v; return /[",\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe; };

export function gradesCsv(exercise: Exercise, students: readonly StudentGrade[]): string {
  const qs = exercise.questions;
  const head = ['student', 'total', 'max', ...qs.flatMap((q) => [`dL/d${q.wrt}`, `dL/d${q.wrt} verdict`, `dL/d${q.wrt} mistake`]), 'notes'];
  const rows = students.map((s) => [s.student, pts(s.total), pts(s.max), ...s.answers.flatMap((a) => [pts(a.points), a.verdict, a.mistake ?? '']), [s.unreadable ? `unreadable: ${s.unreadable}` : '', ...s.notes].filter(Boolean).join('; ')]);
  return [head, ...rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
}

export function gradesJson(exercise: Exercise, students: readonly StudentGrade[]): string {
  return JSON.stringify({
    exercise: { title: exercise.title, path: exercise.path, questions: exercise.questions.map((q) => ({ wrt: q.wrt, given: q.given, points: q.points, heading: q.heading })) },
    summary: summarize(exercise, students),
    students,
  }, null, 2);
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** One self-contained page: the summary per question, then a row per student that opens to the details. */
export function gradesHtml(exercise: Exercise, students: readonly StudentGrade[], playground = 'playground/index.html'): string {
  const open = (a: AnswerGrade) => `${playground}#model=${encodeURIComponent(exercise.model.text)}&claim=${encodeURIComponent(`dL/d${a.wrt} = ${a.answer ?? ''}`)}`;
  const qs = exercise.questions;
  const summary = summarize(exercise, students).map((q) => `<tr><td><code>dL/d${esc(q.wrt)}</code></td><td>${pts(q.points)}</td>
<td class="right"><div class="bar"><span style="width:${(100 * q.passed / Math.max(1, q.students)).toFixed(1)}%"></span></div>${q.passed} of ${q.students}</td><td>${q.meanPoints.toFixed(2)}</td>
<td>${q.mistakes.slice(0, 4).map((m) => `<div><b>${m.count} ×</b> ${esc(m.mistake)} <span class="ex">e.g. ${esc(m.example)}</span></div>`).join('') || '—'}</td></tr>`).join('\n');
  const mark = (a: AnswerGrade) => `<td class="${a.verdict === 'PASS' ? 'pass' : a.verdict === 'MISSING' ? 'miss' : a.points > 0 ? 'part' : 'fail'}" title="${esc(a.diagnosis ?? a.message)}">${cell(a)}</td>`;
  const rows = students.map((s, i) => `<tr class="student" data-i="${i}"><td>${esc(s.student)}</td>${s.answers.map(mark).join('')}<td><b>${pts(s.total)}</b> / ${pts(s.max)}</td></tr>
<tr class="details"><td colspan="${qs.length + 2}">${details(s, open)}</td></tr>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>grades: ${esc(exercise.title)}</title>
<style>
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#1b1f24}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #d0d7de;padding-bottom:.2em}
code,pre{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}pre{background:#f6f8fa;padding:.6em;overflow:auto;border-radius:6px;margin:.3em 0}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #eaeef2;padding:.25em .6em;text-align:left;vertical-align:top}
.meta{color:#57606a}.ex{color:#57606a;font-size:.9em}
td.right{white-space:nowrap}.bar{display:inline-block;width:90px;height:9px;background:#eaeef2;border-radius:5px;margin-right:.5em;vertical-align:middle}.bar span{display:block;height:9px;background:#2da44e;border-radius:5px}
td.pass{background:#dafbe1}td.fail{background:#ffebe9}td.part{background:#fff8c5}td.miss{background:#f6f8fa;color:#8c959f}
tr.student{cursor:pointer}tr.student:hover td{filter:brightness(.97)}tr.details{display:none}tr.details.open{display:table-row}
.answer{margin:.4em 0 .8em}.verdict{font-weight:600}.verdict.PASS{color:#1a7f37}.verdict.FAIL{color:#cf222e}.verdict.MISSING{color:#8c959f}
</style></head><body>
<h1>${esc(exercise.title)}</h1>
<p class="meta">${esc(exercise.path)} — ${students.length} answer file${students.length === 1 ? '' : 's'} graded by gradc: each answer checked against the derived gradient (symbolically, else at random points), with the diagnosis of the mistake</p>
<section id="summary"><h2>Per question</h2>
<table><tr><th>question</th><th>points</th><th>right</th><th>mean</th><th>most common mistakes</th></tr>
${summary}
</table></section>
<section id="students"><h2>Students</h2><p class="meta">Click a row for the answers, the diagnoses and the counterexamples. Green: right; yellow: partial credit (a sign, a constant or a transpose); red: wrong; grey: no answer.</p>
<table id="grades"><tr><th>student</th>${qs.map((q) => `<th><code>dL/d${esc(q.wrt)}</code></th>`).join('')}<th>total</th></tr>
${rows}
</table></section>
<script>for (const r of document.querySelectorAll('tr.student')) r.addEventListener('click', () => r.nextElementSibling.classList.toggle('open'));</script>
</body></html>
`;
}

function details(s: StudentGrade, open: (a: AnswerGrade) => string): string {
  const parts = s.answers.map((a) => {
    const link = a.answer ? ` <a href="${esc(open(a))}" title="the model and this answer in the playground">open in the playground</a>` : '';
    const head = `<div class="answer"><code>dL/d${esc(a.wrt)}</code> <span class="verdict ${a.verdict}">${a.verdict === 'MISSING' ? 'no answer' : a.verdict}</span> (${pts(a.points)} of ${pts(a.max)})${link}`;
    const body = [
      a.answer ? `<pre>${esc(a.answer)}</pre>` : '',
      a.verdict === 'FAIL' ? `<div>${esc(a.diagnosis ?? a.message)}</div>` : '',
      a.located ? `<pre>${esc(a.located)}</pre>` : '',
      a.counterexample ? `<div class="ex">at ${esc(Object.entries(a.counterexample.point).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(', '))}: claimed ${esc(JSON.stringify(a.counterexample.claimed))}, derived ${esc(JSON.stringify(a.counterexample.derived))}</div>` : '',
    ].join('');
    return `${head}${body}</div>`;
  });
  const extra = [s.unreadable ? `<p class="verdict FAIL">unreadable: ${esc(s.unreadable)}</p>` : '', ...s.notes.map((n) => `<p class="ex">${esc(n)}</p>`)].join('');
  return `<p class="meta">${esc(s.file)}</p>${extra}${parts.join('')}`;
}

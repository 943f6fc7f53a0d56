// gradc grade, as a teacher runs it: a folder of answer files (right ones, each typical mistake, LaTeX and
// plain, malformed, binary, huge, hostile) graded question by question with the expected verdicts, points
// and mistakes; a student's self-check; the exercise set that ships; the HTML grades in a real browser.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseExercise } from '../compiler/grade/exercise.js';
import { answerLine } from '../compiler/grade/grade.js';
import { ROOT, runCli, tempDir } from './helpers.js';
import { browser, skipBrowser } from './browser.js';

const EX = join(ROOT, 'examples', 'exercises');
const MLP_EXERCISE = join(EX, 'mlp-backprop.md');

interface Json { summary: { wrt: string; passed: number; mistakes: { mistake: string; count: number }[] }[]; students: { student: string; total: number; unreadable?: string; notes: string[]; answers: { wrt: string; verdict: string; points: number; mistake?: string; diagnosis?: string; message: string }[] }[] }

/** The shipped class plus files a grader must survive. */
function classFolder(): string {
  const dir = tempDir('gradc-class-');
  for (const f of readdirSync(join(EX, 'answers-mlp'))) copyFileSync(join(EX, 'answers-mlp', f), join(dir, f));
  writeFileSync(join(dir, 'huge.txt'), `dL/dz2 = p - onehot(y, K)\n${'# padding\n'.repeat(8000)}`);
  writeFileSync(join(dir, '__proto__.txt'), 'dL/dz2 = p - onehot(y, K)\ndL/dW2 = outer(dL/dz2, constructor)\n');
  writeFileSync(join(dir, '=HYPERLINK("x").txt'), 'dL/dz2 = p - onehot(y, K)\n');
  writeFileSync(join(dir, 'ivan.txt'), 'dL/dz2 = p - onehot(y, K)\ndL/dW1 = outer(dL/dz1, x)\ndL/dq = 1\nthis line is prose\n');
  return dir;
}

test('a class graded question by question: the verdicts, points and mistakes expected of each answer file', () => {
  const dir = classFolder();
  const out = join(dir, 'grades.json');
  const r = runCli(['grade', MLP_EXERCISE, '--answers', dir, '-o', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^graded 12 answer files: wrote /);
  const j = JSON.parse(readFileSync(out, 'utf8')) as Json;
  const by = (name: string) => j.students.find((s) => s.student === name)!;
  const marks = (name: string) => Object.fromEntries(by(name).answers.map((a) => [a.wrt, a.mistake ?? a.verdict]));
  assert.equal(by('anna').total, 10);
  assert.equal(by('boris').total, 10); // all in LaTeX
  assert.deepEqual(marks('chen'), { z2: 'PASS', W2: 'PASS', b2: 'PASS', a1: 'missing transpose', z1: 'missing activation derivative', W1: 'PASS', b1: 'PASS' });
  assert.equal(by('chen').total, 7); // half of dL/da1's 2 points for the missing transpose
  assert.deepEqual(marks('dana'), { z2: 'wrong sign', W2: 'transposed', b2: 'PASS', a1: 'PASS', z1: 'wrong activation derivative', W1: 'PASS', b1: 'MISSING' });
  assert.equal(by('dana').total, 5.5);
  assert.deepEqual(marks('emil'), { z2: 'PASS', W2: 'constant factor', b2: 'PASS', a1: 'PASS', z1: 'unreadable', W1: 'constant factor', b1: 'unreadable' });
  assert.match(by('emil').notes.join('\n'), /line 8: dL\/db2 answered again; the first answer \(line 7\) is graded/);
  assert.match(by('fay').unreadable!, /not a text file/);
  assert.match(by('huge').unreadable!, /larger than 64 KiB/);
  assert.match(by('gleb').answers[0].message, /nested too deeply/);
  assert.match(by('hana').answers[0].message, /cannot read \\softmax/);
  assert.equal(by('__proto__').answers[1].mistake, 'unreadable'); // `constructor` is no name of the model
  assert.deepEqual(by('ivan').notes, ['line 3: dL/dq is not a question of this exercise', 'line 4: not an answer (expected dL/dNAME = …)']);
  assert.equal(by('ivan').answers.find((a) => a.wrt === 'W1')!.verdict, 'PASS'); // dL/dW1 is asked given dL/dz1
  // The per-question summary ranks the mistakes.
  const z1 = j.summary.find((q) => q.wrt === 'z1')!;
  assert.equal(z1.passed, 2);
  assert.deepEqual(z1.mistakes.map((m) => m.mistake).sort(), ['missing activation derivative', 'unreadable', 'wrong activation derivative']);
});

test('an answer may use only the adjoints its question gives', () => {
  const dir = tempDir('gradc-given-');
  writeFileSync(join(dir, 'a.txt'), 'dL/dz2 = dL/dz2\ndL/dz1 = dL/da1 .* a1 .* (1 - a1)\ndL/dW1 = outer(dL/da1 .* a1 .* (1 - a1), x)\n');
  const out = join(dir, 'g.json');
  assert.equal(runCli(['grade', MLP_EXERCISE, '--answers', dir, '-o', out]).status, 0);
  const s = (JSON.parse(readFileSync(out, 'utf8')) as Json).students[0];
  assert.match(s.answers[0].message, /uses dL\/dz2, which this question does not give \(no adjoint: write it in the model's values\)/);
  assert.equal(s.answers.find((a) => a.wrt === 'z1')!.verdict, 'PASS');
  assert.match(s.answers.find((a) => a.wrt === 'W1')!.message, /uses dL\/da1, which this question does not give \(only dL\/dz1\)/);
});

test('CSV grades for a grade book: one row per student, no cell a spreadsheet would run', () => {
  const dir = classFolder();
  const out = join(dir, 'grades.csv');
  assert.equal(runCli(['grade', MLP_EXERCISE, '--answers', dir, '-o', out]).status, 0);
  const csv = readFileSync(out, 'utf8').trim().split('\n');
  assert.equal(csv[0], 'student,total,max,dL/dz2,dL/dz2 verdict,dL/dz2 mistake,dL/dW2,dL/dW2 verdict,dL/dW2 mistake,dL/db2,dL/db2 verdict,dL/db2 mistake,dL/da1,dL/da1 verdict,dL/da1 mistake,dL/dz1,dL/dz1 verdict,dL/dz1 mistake,dL/dW1,dL/dW1 verdict,dL/dW1 mistake,dL/db1,dL/db1 verdict,dL/db1 mistake,notes');
  assert.equal(csv.length, 13);
  assert.ok(csv.some((l) => l.startsWith('"\'=HYPERLINK(""x"")",2,10,')), csv.join('\n'));
  assert.ok(csv.includes('anna,10,10,2,PASS,,1,PASS,,1,PASS,,2,PASS,,2,PASS,,1,PASS,,1,PASS,,'));
});

test('a student checks their own answers: verdicts, diagnoses and hints, no model answer unless the exercise allows it', () => {
  const r = runCli(['grade', MLP_EXERCISE, '--answer', join(EX, 'answers-mlp', 'chen.txt')]);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /^Exercise 3: .*: 7 of 10 points/);
  assert.match(r.stdout, /dL\/dz1: FAIL \(0 of 2\)\n {2}the derivative of sigmoid is missing: multiply by a1 \.\* \(1 - a1\)\n/);
  assert.match(r.stdout, /hint: a1 = σ\(z1\) elementwise, and σ′ = σ\(1 − σ\)\./);
  assert.doesNotMatch(r.stdout, /the answer: /);
  const open = join(tempDir('gradc-open-'), 'open.md');
  writeFileSync(open, readFileSync(MLP_EXERCISE, 'utf8').replace('Each step may use', 'Show answers: yes\n\nEach step may use'));
  const shown = runCli(['grade', open, '--answer', join(EX, 'answers-mlp', 'chen.txt')]);
  assert.match(shown.stdout, /the answer: dL\/dz1 = dL\/da1 \.\* a1 \.\* \(1 - a1\)/);
  assert.equal(runCli(['grade', MLP_EXERCISE, '--answer', join(EX, 'answers-mlp', 'anna.txt')]).status, 0);
});

test('the lecture\'s exercise set ships, and gradc\'s own backward program scores full marks on each exercise', () => {
  for (const f of ['logreg.md', 'softmax-regression.md', 'mlp-backprop.md', 'lenet5.md']) {
    const ex = parseExercise(join(EX, f), readFileSync(join(EX, f), 'utf8'));
    assert.ok(ex.questions.length >= 1, f);
    const model = ex.model.text;
    const dir = tempDir('gradc-key-');
    const nn = join(dir, 'm.nn');
    writeFileSync(nn, model);
    // The key: gradc's backward program, or each parameter's closed form where no adjoint is given.
    const program = runCli(['grad', nn, '--wrt', ex.questions.map((q) => q.wrt).join(',')]).stdout.split('\n');
    const inline = runCli(['grad', nn, '--inline', '--wrt', ex.questions.map((q) => q.wrt).join(',')]).stdout.split('\n');
    const key = ex.questions.map((q) => (q.given.length ? program : inline).find((l) => l.startsWith(`dL/d${q.wrt} = `))!);
    writeFileSync(join(dir, 'key.txt'), key.join('\n') + '\n');
    const r = runCli(['grade', join(EX, f), '--answer', join(dir, 'key.txt')]);
    assert.equal(r.status, 0, `${f}:\n${key.join('\n')}\n${r.stdout}${r.stderr}`);
  }
});

test('exercise files: mistakes in them are located', () => {
  const dir = tempDir('gradc-exfmt-');
  const write = (name: string, text: string) => { const p = join(dir, name); writeFileSync(p, text); return p; };
  const noModel = runCli(['grade', write('a.md', '# x\n## dL/dw (1 point)\n'), '--answers', dir]);
  assert.equal(noModel.status, 1);
  assert.match(noModel.stderr, /no model: put it in a ```nn block or name it on a line 'Model: file.nn'/);
  const heading = runCli(['grade', write('b.md', '# x\nModel: ' + join(ROOT, 'examples', 'logreg.nn') + '\n## the gradient\n'), '--answers', dir]);
  assert.match(heading.stderr, /b\.md:3:1: error: a question heading is ## dL\/dNAME/);
  const unknown = runCli(['grade', write('c.md', '# x\nModel: ' + join(ROOT, 'examples', 'logreg.nn') + '\n## dL/dv (1 point)\n'), '--answers', dir]);
  assert.match(unknown.stderr, /c\.md:3:1: error: the model has no v to differentiate by/);
});

test('answer lines as LaTeX documents write them: $…$, \\[…\\], & before =, a trailing \\\\', () => {
  const cut = (l: string) => { const r = answerLine(l)!; return l.slice(r.start, r.end); };
  assert.equal(cut('  $\\delta^{(1)} x^\\top$  '), '\\delta^{(1)} x^\\top');
  assert.equal(cut('\\[ \\frac{\\partial L}{\\partial w} &= -y x \\]'), '\\frac{\\partial L}{\\partial w} &= -y x');
  assert.equal(cut('dL/dW1 = outer(dL/dz1, x) \\\\'), 'dL/dW1 = outer(dL/dz1, x)');
  assert.equal(answerLine('% a comment'), undefined);
});

test('the HTML grades in Chromium: the summary, a row per student opening to the diagnoses (screenshot in test/output/)', { skip: skipBrowser }, async () => {
  const dir = tempDir('gradc-html-');
  for (const f of readdirSync(join(EX, 'answers-mlp'))) copyFileSync(join(EX, 'answers-mlp', f), join(dir, f));
  const out = join(dir, 'grades.html');
  assert.equal(runCli(['grade', MLP_EXERCISE, '--answers', dir, '-o', out]).status, 0);
  const html = readFileSync(out, 'utf8');
  assert.doesNotMatch(html, /https?:\/\//, 'nothing from the network');
  // Each answer opens in the playground with the exercise's model and the answer as the claim.
  assert.match(html, /href="playground\/index\.html#model=%23%20Exercise|href="playground\/index\.html#model=model%20mlp[^"]*&amp;claim=dL%2Fdz1%20%3D%20dL%2Fda1"/);
  const page = await (await browser()).newPage({ viewport: { width: 1150, height: 900 } });
  try {
    const errors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(pathToFileURL(out).href);
    const rows = await page.evaluate('document.querySelectorAll("tr.student").length');
    assert.equal(rows, 8);
    await page.click('tr.student >> nth=2'); // chen
    const open = await page.evaluate('document.querySelector("tr.details.open").textContent');
    assert.match(String(open), /the derivative of sigmoid is missing/);
    assert.deepEqual(errors, []);
    // Kept for people to look at (docs/grades.png is a copy of one).
    mkdirSync(join(ROOT, 'test', 'output'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test', 'output', 'grades.png'), fullPage: true });
  } finally {
    await page.close();
  }
});

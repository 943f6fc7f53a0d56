// What a newcomer tripped over (a teaching assistant writing their own model, checking derivations,
// training on a CSV, reading the docs), each fixed and kept fixed here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runCli, tempDir } from './helpers.js';

const dir = tempDir('gradc-newcomer-');
const file = (name: string, text: string) => { const f = join(dir, name); writeFileSync(f, text); return f; };
const doc = (name: string) => readFileSync(join(ROOT, 'docs', name), 'utf8');

test('report --point sizes the model by the point\'s "dims", as eval and explain do', () => {
  const pt = file('small.json', JSON.stringify({ dims: { d: 2 }, params: { w: [0.5, -1] }, inputs: { x: [1, 2], y: 1 } }));
  const out = join(dir, 'r.html');
  const r = runCli(['report', 'examples/logreg.nn', '--point', pt, '-o', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(readFileSync(out, 'utf8'), /x: \[2\] = \[1, 2\]/);
});

test('a point may leave out "params" (the initial values, seed 1) or take them from --weights W.json', () => {
  const pt = file('inputs-only.json', JSON.stringify({ inputs: { x: [1, 2, 3, 4], y: -1 } }));
  const e = runCli(['eval', 'examples/logreg.nn', '--point', pt]);
  assert.equal(e.status, 0, e.stderr);
  assert.equal((JSON.parse(e.stdout) as { loss: number }).loss, Math.log(2)); // w = 0 initially
  const x = runCli(['explain', 'examples/logreg.nn', '--point', pt]);
  assert.equal(x.status, 0, x.stderr);
  // Weights saved by train --save, then the same values given as params: the same answer.
  const w = join(dir, 'W.json');
  const t = runCli(['train', 'examples/softmax-regression.nn', '--data', 'iris', '--epochs', '1', '--save', w]);
  assert.equal(t.status, 0, t.stderr);
  const saved = JSON.parse(readFileSync(w, 'utf8')) as { params: { name: string; values: number[] }[] };
  const inputs = { x: [5.1, 3.5, 1.4, 0.2], y: 0 };
  const byWeights = runCli(['eval', 'examples/softmax-regression.nn', '--point', file('i.json', JSON.stringify({ inputs })), '--weights', w]);
  assert.equal(byWeights.status, 0, byWeights.stderr);
  const W = saved.params.find((p) => p.name === 'W')!.values, b = saved.params.find((p) => p.name === 'b')!.values;
  const rows = [0, 1, 2].map((i) => W.slice(i * 4, i * 4 + 4));
  const byParams = runCli(['eval', 'examples/softmax-regression.nn', '--point', file('p.json', JSON.stringify({ params: { W: rows, b }, inputs }))]);
  assert.deepEqual(JSON.parse(byWeights.stdout), JSON.parse(byParams.stdout));
  // A point with some params but not all still says which one is missing, and the two ways out.
  const partial = runCli(['eval', 'examples/softmax-regression.nn', '--point', file('q.json', JSON.stringify({ params: { W: rows }, inputs }))]);
  assert.equal(partial.status, 1);
  assert.match(partial.stderr, /params\.b is missing \(shape \[3\]\); leave "params" out for the model's initial values, or give --weights W\.json/);
});

test('train --help: --split says what it keeps; --predict says where the predictions go', () => {
  const h = runCli(['train', '--help']).stdout;
  assert.match(h, /--split F +train on this fraction of --data, test on the rest \(0\.8: 80 % \/ 20 %\)/);
  assert.match(h, /--predict OUT\.csv +write predictions to OUT\.csv/);
  assert.doesNotMatch(h, /hold out this fraction/);
});

test('compile prints a type-check command that works as printed, from the folder where compile ran', () => {
  const cwd = tempDir('gradc-elsewhere-');
  const r = runCli(['compile', join(ROOT, 'examples', 'logreg.nn'), '-o', 'out'], { cwd });
  assert.equal(r.status, 0, r.stderr);
  const cmd = /type-check: (.*)/.exec(r.stdout)![1];
  assert.doesNotMatch(cmd, /from the gradc folder/);
  const tsc = spawnSync('bash', ['-c', cmd], { cwd, encoding: 'utf8' });
  assert.equal(tsc.status, 0, `${cmd}\n${tsc.stdout}${tsc.stderr}`);
});

test('gradcheck: --points defaults to 5 as the help says; the relative error is shown plainly, next to its allowance', () => {
  assert.match(runCli(['gradcheck', '--help']).stdout, /--points N +random points \(default 5\)/);
  const r = runCli(['gradcheck', 'examples/mlp.nn']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /5 random points/);
  assert.match(r.stdout, /param +max abs error +max rel error +allowance/);
  const rows = r.stdout.split('\n').filter((l) => /^ {2}(W|b)\d /.test(l));
  assert.equal(rows.length, 4);
  for (const row of rows) {
    const [, abs, rel, allowance] = row.trim().split(/\s+/).map(Number);
    assert.ok(rel > 0 && rel <= abs + 1e-20 && allowance > 0, row); // no longer 0 after subtracting the allowance
  }
});

test('a mistyped name or option gets its suggestion; a shape error names the declarations involved', () => {
  const m = file('al.nn', 'dim d = 3, n = 2\ninput x: [d]\nparam W1: [d, n]\nz1 = W1 * x\na1 = tanh(z1)\nloss L = sum(al)\n');
  const r = runCli(['check', m]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /al\.nn:6:14: error: unknown name 'al': did you mean a1\?/);
  assert.match(r.stderr, /al\.nn:4:9: error: cannot multiply: W1 is \[3, 2\] and x is \[3\]: did you mean W1' \* x\?\n.*\n.*\n {2}note: W1 is declared on line 3: param W1: \[d, n\]\n {2}note: x is declared on line 2: input x: \[d\]/);
  const o = runCli(['train', 'examples/mlp.nn', '--data', 'iris', '--epoch', '2']);
  assert.equal(o.status, 2);
  assert.equal(o.stderr, "gradc: unknown option --epoch for 'train': did you mean --epochs?\n\ngradc train --help lists its options; the reference is docs/cli.md\n");
});

test('a predict-only run says it predicts; graph -o says what it wrote; mathjs output folds a const', () => {
  const w = join(dir, 'iris.json'), out = join(dir, 'pred.csv');
  assert.equal(runCli(['train', 'examples/softmax-regression.nn', '--data', 'iris', '--epochs', '1', '--save', w]).status, 0);
  const csv = file('new.csv', '5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n');
  const c = runCli(['compile', 'examples/softmax-regression.nn', '-o', join(dir, 'sr')]);
  assert.equal(c.status, 0, c.stderr);
  const p = spawnSync(process.execPath, [join(dir, 'sr', 'trainer.mjs'), '--data', csv, '--epochs', '0', '--resume', w, '--predict', out], { encoding: 'utf8' });
  assert.equal(p.status, 0, p.stderr);
  assert.match(p.stdout, /^predicting with softmax_regression \(weights .*iris\.json\) for .*new\.csv: 2 examples$/m);
  assert.doesNotMatch(p.stdout, /momentum, lr/);
  const g = runCli(['graph', 'examples/mlp.nn', '-o', join(dir, 'g.svg')]);
  assert.equal(g.stdout, `wrote ${join(dir, 'g.svg')}\n`);
  const mj = runCli(['grad', 'examples/l2-mlp.nn', '--format', 'mathjs', '--const', 'lambda=0.01', '--wrt', 'W2']).stdout;
  assert.match(mj, /^dL\/dW2 = 0\.02 \* W2 \+ /);
});

test('the docs a newcomer read are current', () => {
  assert.match(doc('gradients.md'), /\\mathbf\{e\}_\{y\}/);
  assert.match(doc('gradients.md'), /standard basis vector/);
  assert.match(doc('language.md'), /z = W \* x \+ b\noutput p = softmax\(z\)\nloss L = -z\[y\] \+ logsumexp\(z\)/);
  assert.doesNotMatch(doc('verify.md'), /y = 0\.25/);
  assert.doesNotMatch(doc('training.md'), /from the gradc folder\)/);
  // The trainer.ts excerpt is the generated file's own beginning.
  const c = runCli(['compile', 'examples/mlp.nn', '-o', join(dir, 'mlp')]);
  assert.equal(c.status, 0);
  const head = readFileSync(join(dir, 'mlp', 'trainer.ts'), 'utf8').split('\n').slice(0, 40).join('\n');
  assert.ok(doc('training.md').includes(head), 'docs/training.md shows the first lines of trainer.ts as compile writes them');
});

test('options: the help is the table the parser reads; --name=value, a value with a dash, one given twice', () => {
  const help = runCli(['grad', '--help']).stdout;
  for (const o of ['--wrt', '--format', '--inline', '--standalone', '--dim', '--const']) assert.match(help, new RegExp(`^ {2}${o}\\b`, 'm'));
  assert.equal(runCli(['grad', 'examples/logreg.nn', '--format=mathjs']).status, 0);
  const twice = runCli(['grad', 'examples/logreg.nn', '--format', 'text', '--format', 'latex']);
  assert.equal(twice.status, 2);
  assert.match(twice.stderr, /^gradc: --format given twice\n\ngradc grad --help lists its options/);
  const dash = runCli(['verify', 'examples/logreg.nn', '--wrt', 'w', '--claim', '-y * x * (1 - sigmoid(y * dot(w, x)))']);
  assert.equal(dash.status, 0, dash.stderr);
  assert.match(runCli(['grad', 'examples/logreg.nn', '--format']).stderr, /^gradc: --format needs a value/);
});

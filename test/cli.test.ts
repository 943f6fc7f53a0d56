// The command line end to end: exit statuses (0, 1 for bad input, 2 for wrong usage), no stack traces.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT, runCli, tempDir } from './helpers.js';

test('check succeeds on an example and prints the summary', () => {
  const r = runCli(['check', 'examples/param-growth.nn'], { spawn: true }); // as a process, as a user runs it
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /W1\s+\[300, 10000\]\s+3,000,000/);
});

test('a broken model exits 1 with located errors and no stack trace', () => {
  const dir = tempDir();
  const f = join(dir, 'bad.nn');
  writeFileSync(f, 'input x: [3]\nparam w: [4]\nloss L = dot(w, x)\n');
  const r = runCli(['check', f], { spawn: true });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /bad\.nn:3:10: error: dot needs vectors of one length: w is \[4\] and x is \[3\]/);
  assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/);
});

test('as a process: a reader that closes the pipe early (gradc grad | head -c 100) is no error', () => {
  // 40 layers: the inline gradients are about 300 KB, more than a pipe holds, so gradc is still writing.
  const dir = tempDir();
  const lines = ['dim d = 4', 'input x: [d]', 'input y: class(d)'];
  for (let i = 1; i <= 40; i++) lines.push(`param W${i}: [d, d]`, `a${i} = tanh(W${i} * ${i === 1 ? 'x' : `a${i - 1}`})`);
  writeFileSync(join(dir, 'deep.nn'), [...lines, 'loss L = cross_entropy(a40, y)'].join('\n') + '\n');
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', `"${process.execPath}" bin/gradc.js grad "${join(dir, 'deep.nn')}" --inline | head -c 100`], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout.length, 100);
});

test('wrong usage exits 2', () => {
  assert.equal(runCli(['frobnicate', 'examples/logreg.nn']).status, 2);
  assert.equal(runCli(['grad', 'examples/logreg.nn', '--format', 'pdf']).status, 2);
  assert.equal(runCli(['check']).status, 2);
  assert.equal(runCli(['check', 'examples/logreg.nn', '--dim', 'd=zero']).status, 2);
});

test('a missing file and an unknown --dim or --wrt exit 1 with a message', () => {
  const missing = runCli(['check', 'nope.nn']);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /nope\.nn: cannot read the model file/);
  assert.match(runCli(['check', 'examples/logreg.nn', '--dim', 'q=3']).stderr, /no dim 'q'/);
  assert.match(runCli(['grad', 'examples/logreg.nn', '--wrt', 'W']).stderr, /'W' is not a parameter/);
});

test('grad prints the backward program; --format json parses', () => {
  const r = runCli(['grad', 'examples/mlp.nn']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^dL\/dz2 = softmax\(z2\) - onehot\(y, K\)$/m);
  assert.match(r.stdout, /^dL\/dz1 = dL\/da1 \.\* a1 \.\* \(1 - a1\)$/m);
  const j = JSON.parse(runCli(['grad', 'examples/softmax-regression.nn', '--format', 'json']).stdout);
  assert.equal(j.wrt.W.formula, 'outer(softmax(W * x + b) - onehot(y, K), x)');
  assert.equal(j.wrt.b.formula, 'softmax(W * x + b) - onehot(y, K)');
  assert.deepEqual(j.wrt.W.shape, [3, 4]);
});

test('graph writes DOT and SVG with the lecture colours', () => {
  const dot = runCli(['graph', 'examples/logreg.nn']).stdout;
  assert.match(dot, /label="x\\n\[4\]", fillcolor="#b7e4a7"/); // input: green
  // The loss is orange; the stable rewrite it went through is named on it.
  assert.match(dot, /label="L\\nsoftplus \[\]\\n\(stable form of [^"]*log_sigmoid\(y \* dot\(w, x\)\)\)", fillcolor="#ffb86b"/);
  assert.match(dot, /label="p\\nsigmoid \[\]", fillcolor="#8fd6cf"/); // an output: teal, not a value's blue
  assert.match(dot, /cluster_legend/);
  const dir = tempDir();
  const r = runCli(['graph', 'examples/mlp.nn', '--backward', '--format', 'svg', '-o', join(dir, 'g.svg')]);
  assert.equal(r.status, 0, r.stderr);
  const svg = readFileSync(join(dir, 'g.svg'), 'utf8');
  assert.match(svg, /<svg[\s\S]*>dL\/db2<\/text>[\s\S]*>= dL\/dz2 \[10\]</); // ∂L/∂b2 has its node, saying what it equals
  assert.match(svg, />dL\/db1<\/text>/);
  assert.match(svg, />subtract</); // 1 − a1 as written, not neg + add
  // The picture and `check` count the same nodes.
  const nodes = (svg.match(/class="node"/g) ?? []).length - 6; // less the legend's six
  const counts = /graph: (\d+) forward nodes, (\d+) backward nodes/.exec(runCli(['check', 'examples/mlp.nn']).stdout)!;
  assert.equal(nodes, Number(counts[1]) + Number(counts[2]));
});

test('the command line inside the test process answers as the process does: status, stdout and stderr', () => {
  // runCli runs gradc in the test process (test/cli-worker.mjs) unless asked for a process: the two must agree.
  const dir = tempDir();
  writeFileSync(join(dir, 'bad.nn'), 'input x: [3]\nparam w: [4]\nloss L = dot(w, x)\n');
  for (const args of [['check', 'examples/mlp.nn'], ['check', join(dir, 'bad.nn')], ['grad', 'examples/logreg.nn', '--format', 'json'], ['frobnicate'], ['grad', 'examples/logreg.nn', '--wrt', 'W']]) {
    assert.deepEqual(runCli(args), runCli(args, { spawn: true }), args.join(' '));
  }
});

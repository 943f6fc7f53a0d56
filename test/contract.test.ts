// The contract checked from outside: sum(A, k) on every axis of every rank (known values, gradients, every
// printer, every target), the one orientation rule (a column times a matrix is refused like MATLAB refuses
// it), and chains of matrix products printed without parentheses that change nothing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseModel } from '../compiler/frontend/index.js';
import { deriveGradients } from '../compiler/autodiff/gradients.js';
import { formatGradients } from '../compiler/cli/grad.js';
import { formatDiagnostic, UserError } from '../compiler/source/diagnostics.js';
import { gradcMath } from '../compiler/mathjs/env.js';
import { checkModel } from './difftest/check.js';
import { runCli, tempDir } from './helpers.js';

const file = (name: string, text: string) => { const f = join(tempDir(), name); writeFileSync(f, text); return f; };
const errorOf = (src: string): string => {
  try { parseModel('m.nn', src); } catch (e) { if (e instanceof UserError) return e.diagnostics.map(formatDiagnostic).join('\n'); throw e; }
  return assert.fail('the model should not check');
};

test('sum(A, 2): the row sums, with the gradients the issue states (L = -12, dL/dA = [[0.5 x3], [-1 x3]], dL/dv = [6, 15])', () => {
  const model = file('rows.nn', 'dim m = 2, n = 3\nparam A: [m, n]\nparam v: [m]\nloss L = sum(A, 2) * v\n');
  const point = file('p.json', JSON.stringify({ params: { A: [[1, 2, 3], [4, 5, 6]], v: [0.5, -1] }, inputs: {} }));
  for (const extra of [[], ['--precision', 'f32'], ['--target', 'gpu']]) {
    const r = runCli(['eval', model, '--point', point, ...extra]);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { loss: number; grad: { A: number[][]; v: number[] } };
    assert.equal(out.loss, -12, extra.join(' '));
    assert.deepEqual(out.grad.A, [[0.5, 0.5, 0.5], [-1, -1, -1]]);
    assert.deepEqual(out.grad.v, [6, 15]);
  }
  const g = runCli(['grad', model, '--format', 'mathjs']);
  assert.equal(g.stdout, 'dL/dA = outer(v, ones(n))\ndL/dv = sum(A, 2)\n');
});

test('sum(A, 1) is the column sums, a column: sum(A, 1)\' is the row, and sum(v, 1) of a vector is a scalar', () => {
  const src = (loss: string) => `dim m = 2, n = 3\nparam A: [m, n]\nparam u: [n]\nloss L = ${loss}\n`;
  const p = file('p.json', JSON.stringify({ params: { A: [[1, 2, 3], [4, 5, 6]], u: [1, 0, -1] }, inputs: {} }));
  const loss = (l: string) => (JSON.parse(runCli(['eval', file('m.nn', src(l)), '--point', p]).stdout) as { loss: number }).loss;
  assert.equal(loss('sum(A, 1)\' * u'), 5 * 1 + 9 * -1);
  assert.equal(loss('u\' * sum(A, 1)'), -4);
  assert.equal(loss('sum(u, 1)'), 0);
  assert.equal(loss('sum(A, [1, 2])'), 21);
  assert.match(errorOf(src('sum(A, 1)\' + u')), /cannot combine a row vector with a column vector/);
});

test('every axis of an image and of a kernel: the known sums, and gradients equal in every target, central differences and mathjs', () => {
  const axes = ['1', '2', '3', '[1, 2]', '[1, 3]', '[2, 3]'];
  for (const ax of axes) {
    const src = `dim C = 2, H = 3, W = 4\ninput x: [C, H, W]\nparam G: [C, H, W]\nloss L = sum(sum(G .* x, ${ax}) .^ 2)\n`;
    const r = checkModel(src, { gpu: true, wasm: true });
    assert.equal(r.status, 'pass', `sum(…, ${ax}): ${r.problems.join('\n')}`);
  }
  for (const k of [1, 2, 3, 4]) {
    const src = `dim F = 2, C = 3, kh = 2, kw = 5\ninput x: [F, C, kh, kw]\nparam K: [F, C, kh, kw]\nloss L = sum(sin(sum(K .* x, ${k})))\n`;
    const r = checkModel(src, { gpu: true, wasm: true });
    assert.equal(r.status, 'pass', `rank 4, axis ${k}: ${r.problems.join('\n')}`);
  }
  // The values themselves: G = 0, 1, …, 23 in row-major order, summed along the middle axis.
  const m = parseModel('m.nn', 'dim C = 2, H = 3, W = 4\nparam G: [C, H, W]\nloss L = sum(sum(G, 2) .* sum(G, 2))\n');
  const math = gradcMath();
  const json = JSON.parse(formatGradients(deriveGradients(m), 'json', false, ['G'])) as { wrt: { G: { formula: string } } };
  assert.equal(json.wrt.G.formula, 'expand(2 * sum(G, 2), 2, H)');
  const G = math.reshape(math.matrix(Array.from({ length: 24 }, (_, i) => i)), [2, 3, 4]);
  const s2 = math.evaluate('sum(G, 2)', { G }) as { toArray(): number[][] };
  assert.deepEqual(s2.toArray(), [[12, 15, 18, 21], [48, 51, 54, 57]]);
  const grad = (math.evaluate(json.wrt.G.formula, { G, H: 3 }) as { toArray(): number[][][] }).toArray();
  assert.deepEqual(grad[1][2], [96, 102, 108, 114]);
});

test('expand(G, k, n) is in the language, so the printed gradient of an image sum parses back and verifies', () => {
  const model = file('img.nn', 'dim C = 2, H = 3, W = 4\ninput x: [C, H, W]\nparam G: [C, H, W]\nloss L = sum(tanh(sum(G .* x, 1)))\n');
  const printed = runCli(['grad', model, '--wrt', 'G', '--inline']);
  assert.equal(printed.status, 0, printed.stderr);
  assert.equal(printed.stdout, 'dL/dG = expand(1 - tanh(sum(G .* x, 1)) .^ 2, 1, C) .* x\n');
  const claim = printed.stdout.trim().slice('dL/dG = '.length);
  const v = runCli(['verify', model, '--wrt', 'G', '--claim', claim]);
  assert.equal(v.status, 0, v.stdout + v.stderr);
  assert.match(v.stdout, /PASS/);
  assert.match(errorOf('dim n = 3\nparam v: [n]\nloss L = sum(expand(v, 3, 2))\n'), /the new axis of expand\(v, k, n\) is 1 to 2/);
});

test('an axis that does not exist is a located error naming the axes there are', () => {
  const msg = errorOf('dim m = 2, n = 3\nparam A: [m, n]\nloss L = sum(sum(A, 3))\n');
  assert.match(msg, /^m\.nn:3:21: error: the axes of sum\(A, …\) are 1 to 2 \(one-based, as in mathjs\): A is \[2, 3\], found 3/);
  assert.match(errorOf('dim m = 2, n = 3\nparam A: [m, n]\nloss L = sum(sum(A, [2, 2]))\n'), /axis 2 is listed twice/);
});

test('a column vector times a matrix is refused as MATLAB refuses it, with the row as the fix', () => {
  const msg = errorOf('dim m = 2, n = 3\nparam M: [m, n]\nparam v: [m]\nloss L = sum(v * M)\n');
  assert.equal(msg.split('\n')[0], 'm.nn:4:16: error: cannot multiply a column vector by a matrix (v is [2] and M is [2, 3]): vectors are columns; did you mean v\' * M? (v\' is the row)');
  assert.match(errorOf('dim m = 2, n = 3\nparam M: [n, m]\nparam v: [m]\nloss L = sum(v * M)\n'), /did you mean M \* v\?/);
  // The row form is accepted and means vᵀM; a row from a function stays a row.
  const ok = parseModel('m.nn', 'dim m = 2, n = 3\nparam M: [m, n]\nparam v: [m]\nloss L = sum(v\' * M) + sum(tanh(v)\' * M)\n');
  assert.equal(ok.params.length, 2);
});

test('a row times a matrix inside a gradient prints as v\' * M, which parses back', () => {
  const src = 'dim d = 3, n = 2\ninput x: [d]\nparam W: [d, n]\nloss L = sum(tanh(x\' * W))\n';
  const m = parseModel('m.nn', src);
  const g = deriveGradients(m);
  assert.equal(formatGradients(g, 'text', false, ['W']), "dL/dW = outer(x, 1 - tanh(x' * W) .^ 2)");
  // In LaTeX every vector is a column: xᵀW is written as the column Wᵀx it stands for.
  assert.match(formatGradients(g, 'latex', false, ['W']), /\\tanh\(W\^\{\\top\} x\)/);
  const v = runCli(['verify', file('r.nn', src), '--wrt', 'W', '--claim', "outer(x, 1 - tanh(x' * W) .^ 2)"]);
  assert.equal(v.status, 0, v.stdout + v.stderr);
});

test('chains of matrix products print without parentheses that change nothing: 2 * A\' * (A * X * B + C) * B\'', () => {
  const src = 'dim m = 2, n = 3, k = 4\nparam A: [m, n]\nparam X: [n, k]\nparam B: [k, m]\nparam C: [m, m]\nloss L = sum((A * X * B + C) .^ 2)\n';
  const g = deriveGradients(parseModel('m.nn', src));
  assert.equal(formatGradients(g, 'text', true, ['X']), "dL/dX = 2 * A' * (A * X * B + C) * B'");
  assert.equal(formatGradients(g, 'mathjs', false, ['X']), "dL/dX = 2 * A' * (A * X * B + C) * B'");
  assert.ok(formatGradients(g, 'latex', true, ['X']).includes('= 2 \\cdot A^{\\top} \\left(A X B + C\\right) B^{\\top}'));
  // Parentheses that do change the meaning stay: an elementwise product inside a chain.
  const e = deriveGradients(parseModel('m.nn', 'dim n = 3\nparam X: [n, n]\nparam P: [n, n]\ninput v: [n]\nloss L = sum(X * (P .* P * v))\n'));
  assert.match(formatGradients(e, 'text', true, ['X']), /\(P \.\* P\)|P \.\* P \* v|outer/);
  assert.equal(checkModel(src).status, 'pass');
});

test('onehot at a fixed index is in the language, so the gradient of v[2] reads back (found by the LaTeX round trip)', () => {
  const model = file('oh.nn', 'dim K = 3\nparam u: [K]\nloss L = u[2] * sum(u .* u)\n');
  const g = runCli(['grad', model, '--inline']);
  assert.match(g.stdout, /onehot\(2, 3\)/);
  const v = runCli(['verify', model, '--wrt', 'u', '--claim', g.stdout.trim().slice('dL/du = '.length)]);
  assert.equal(v.status, 0, v.stdout + v.stderr);
  assert.match(errorOf('dim K = 3\nparam u: [K]\nloss L = sum(onehot(3, K) .* u)\n'), /onehot\(3, …\): the index is 0\.\.2 \(0-based\)/);
  assert.equal(checkModel('dim K = 3\nparam u: [K]\nloss L = sum(onehot(1, K) .* tanh(u))\n', { gpu: true, wasm: true }).status, 'pass');
});

// The language a course user writes: named hyperparameters (const), max/min/norm/leaky_relu/transpose(),
// indexing by a class label (z[y]), column vectors (u * v' is the outer product), and backprop checked one
// step at a time (grad --wrt any value, claims over dL/dz2, verify --claims over a printed program).
// Every model here also goes through the differential tester's check: generated code in each target, the
// printed mathjs formulas and central differences must agree.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseModel } from '../compiler/frontend/index.js';
import { deriveGradients } from '../compiler/autodiff/gradients.js';
import { formatGradients } from '../compiler/cli/grad.js';
import { formatDiagnostic, UserError } from '../compiler/source/diagnostics.js';
import { checkModel } from './difftest/check.js';
import { runCli, tempDir } from './helpers.js';

const errorOf = (src: string): string => {
  try { parseModel('m.nn', src); } catch (e) { if (e instanceof UserError) return e.diagnostics.map(formatDiagnostic).join('\n'); throw e; }
  return assert.fail('the model should not check');
};
const gradText = (src: string, opts: { consts?: Map<string, number>; format?: 'text' | 'mathjs' } = {}) => {
  const m = parseModel('m.nn', src, { constOverrides: opts.consts });
  return formatGradients(deriveGradients(m), opts.format ?? 'text', false, m.params.map((p) => p.name));
};
const model = (file: string, src: string) => { const f = join(tempDir(), file); writeFileSync(f, src); return f; };

const L2_MLP = `model l2_mlp
dim d = 4, n = 5, K = 3
const lambda = 0.01
input x: [d]
input y: class(K)
param W1: [n, d]
param b1: [n] = 0
param W2: [K, n]
param b2: [K] = 0
z1 = W1 * x + b1
a1 = leaky_relu(z1, 0.1)
z2 = W2 * a1 + b2
loss L = cross_entropy(z2, y) + lambda * (norm(W1)^2 + norm(W2)^2)
`;

test('const: a named hyperparameter prints by name, by value in mathjs, and --const overrides it', () => {
  const text = gradText(L2_MLP);
  assert.match(text, /^dL\/dz2 = softmax\(z2\) - onehot\(y, K\)\ndL\/dW2 = 2 \* lambda \* W2 \+ outer\(dL\/dz2, a1\)$/m);
  assert.match(gradText(L2_MLP, { format: 'mathjs' }), /0\.02 \* W2/); // the value folded into the factor
  assert.match(gradText(L2_MLP, { format: 'mathjs', consts: new Map([['lambda', 0.5]]) }), /dL\/dW2 = W2 \+ /);
  assert.equal(checkModel(L2_MLP, { wasm: true, gpu: true }).status, 'pass');
  const r = runCli(['check', model('l2.nn', L2_MLP), '--const', 'mu=1']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--const mu: the model has no const 'mu' \(its consts: lambda/);
  assert.equal(runCli(['check', model('l2b.nn', L2_MLP), '--const', 'lambda=x']).status, 2);
  assert.match(errorOf('const lambda = 1\nconst lambda = 2\nparam w: [2]\nloss L = lambda * sum(w)\n'), /'lambda' is already defined \(as a constant on line 1\)/);
  // A const is visible inside a fn, like a dim.
  assert.equal(checkModel('const k = 3\nfn f(t) = k * t ^ 2\nparam w: [2]\nloss L = sum(f(w))\n').status, 'pass');
});

test("the lecture's softmax regression with z[y]: the gradient is softmax(z) − onehot(y, K)", () => {
  const src = `dim d = 4, K = 3
input x: [d]
input y: class(K)
param W: [K, d]
param b: [K] = 0
z = W * x + b
loss L = -z[y] + logsumexp(z)
`;
  assert.match(gradText(src), /^dL\/dz = softmax\(z\) - onehot\(y, K\)$/m);
  assert.equal(checkModel(src, { wasm: true, gpu: true }).status, 'pass');
  assert.equal(checkModel('param w: [3]\nloss L = w[0] * w[2] - w[1] ^ 2\n', { wasm: true }).status, 'pass');
  assert.match(errorOf('param w: [3]\nloss L = w[3]\n'), /m\.nn:2:12: error: index 3 is outside w, whose indices are 0\.\.2 \(0-based\)/);
  assert.match(errorOf('param w: [3]\nparam s: []\nloss L = w[s]\n'), /an index must be a class label \(an input declared as class\(K\)\) or an integer literal/);
  assert.match(errorOf('input y: class(4)\nparam w: [3]\nloss L = w[y]\n'), /y is class\(4\) but w has 3 elements/);
  assert.match(errorOf('param W: [3, 3]\nloss L = W[0]\n'), /only a vector can be indexed/);
});

test('max, min (elementwise and over all elements), norm, leaky_relu and transpose() agree with every evaluator', () => {
  const src = `dim n = 4
input x: [n]
param W: [n, n]
param a: [] = 0.1
h = leaky_relu(W * x, a)
loss L = max(h) - min(max(h, 0.5 * x)) + norm(transpose(W) * x) + min(x, h)' * x
`;
  assert.equal(checkModel(src, { wasm: true, gpu: true }).status, 'pass');
  assert.match(gradText(src), /dL\/da = sum\(dL\/dh \.\* min\(W \* x, 0\)\)/);
  assert.match(errorOf('param w: [3]\nloss L = max(w, w, w)\n'), /max takes 1 or 2 arguments, found 3: max\(t\) or max\(a, b\)/);
  assert.match(errorOf('param w: [3]\nparam v: [2]\nloss L = sum(max(w, v))\n'), /max\(a, b\) is elementwise: w is \[3\] and v is \[2\], which do not broadcast/);
});

test("column vectors: u * v' is the outer product, u' * v the dot product, x' * A * x a scalar", () => {
  const src = `dim n = 3, m = 2
input x: [n]
input u: [m]
param A: [n, n]
param B: [m, n]
r = x' * A
loss L = r * x + sum(B .* (u * x')) + u' * B * x + sum(sigmoid(x') .* r)
`;
  assert.equal(checkModel(src, { wasm: true, gpu: true }).status, 'pass');
  assert.match(errorOf("input x: [3]\nparam w: [3]\nloss L = sum(x' + w)\n"), /cannot combine a row vector with a column vector \(x' is a row \[3\] and w is \[3\]\)/);
  assert.match(errorOf("input x: [3]\nparam A: [3, 3]\nloss L = sum(A * x')\n"), /cannot multiply a matrix by a row vector .*did you mean A \* x\?/);
  assert.match(errorOf("input x: [3]\nparam w: [3]\nloss L = x' * w'\n"), /cannot multiply two row vectors/);
  assert.match(errorOf('input x: [3]\nparam w: [2]\nloss L = sum(w * x)\n'), /for the outer product write w \* x'/);
});

test("verify: the lecture's ∂L/∂W = (p − onehot(y)) xᵀ, typed with x'", () => {
  const r = runCli(['verify', 'examples/softmax-regression.nn', '--wrt', 'W', '--claim', "(p - onehot(y, K)) * x'"]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^PASS/);
  const wrong = runCli(['verify', 'examples/softmax-regression.nn', '--wrt', 'W', '--claim', "x * (p - onehot(y, K))'"]);
  assert.equal(wrong.status, 1);
  assert.match(wrong.stdout, /transpose/);
});

test('grad --wrt follows backprop to any named value or input', () => {
  const x = runCli(['grad', 'examples/mlp.nn', '--wrt', 'x']);
  assert.equal(x.status, 0, x.stderr);
  assert.match(x.stdout, /^dL\/dz1 = dL\/da1 \.\* a1 \.\* \(1 - a1\)\ndL\/dx = W1' \* dL\/dz1$/m);
  assert.doesNotMatch(x.stdout, /dL\/dW1/);
  const a1 = runCli(['grad', 'examples/mlp.nn', '--wrt', 'a1']);
  assert.equal(a1.stdout.trim(), "dL/dz2 = softmax(z2) - onehot(y, K)\ndL/da1 = W2' * dL/dz2");
  const y = runCli(['grad', 'examples/mlp.nn', '--wrt', 'y']);
  assert.equal(y.status, 1);
  assert.match(y.stderr, /'y' is a class label/);
  const json = JSON.parse(runCli(['grad', 'examples/mlp.nn', '--wrt', 'z1', '--format', 'json']).stdout) as { wrt: Record<string, { shape: number[] }> };
  assert.deepEqual(json.wrt.z1.shape, [300]);
});

test('verify checks one backprop step given the previous one, and a whole printed program line by line', () => {
  const ok = runCli(['verify', 'examples/mlp.nn', '--wrt', 'z1', '--claim', 'dL/da1 .* a1 .* (1 - a1)']);
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  const bad = runCli(['verify', 'examples/mlp.nn', '--wrt', 'z1', '--claim', 'dL/da1 .* a1']);
  assert.equal(bad.status, 1);
  assert.match(bad.stdout, /^FAIL: the claim differs from ∂L\/∂z1/);
  const input = runCli(['verify', 'examples/mlp.nn', '--wrt', 'x', '--claim', "W1' * dL/dz1"]);
  assert.equal(input.status, 0, input.stdout + input.stderr);
  // The program exactly as `gradc grad` prints it.
  const program = runCli(['grad', 'examples/mlp.nn']).stdout;
  const file = join(tempDir(), 'program.txt');
  writeFileSync(file, program);
  const all = runCli(['verify', 'examples/mlp.nn', '--claims', file]);
  assert.equal(all.status, 0, all.stdout + all.stderr);
  assert.equal(all.stdout.trim().split('\n').filter((l) => l.startsWith('PASS ')).length, 7);
  // One wrong line is reported as such, the others still pass.
  writeFileSync(file, program.replace('dL/dz1 = dL/da1 .* a1 .* (1 - a1)', 'dL/dz1 = dL/da1 .* a1'));
  const one = runCli(['verify', 'examples/mlp.nn', '--claims', file]);
  assert.equal(one.status, 1);
  assert.match(one.stdout, /^FAIL z1: dL\/da1 \.\* a1/m);
  assert.equal(one.stdout.trim().split('\n').filter((l) => l.startsWith('PASS ')).length, 6);
  const unknown = runCli(['verify', 'examples/mlp.nn', '--wrt', 'z1', '--claim', 'dL/dq .* a1']);
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /dL\/dq: 'q' is not a parameter, input or named value/);
});

test('binary cross-entropy written out simplifies to the textbook p − y', () => {
  const src = "dim d = 4\ninput x: [d]\ninput y: scalar\nparam w: [d] = 0\nparam b: [] = 0\nz = w' * x + b\noutput p = sigmoid(z)\nloss L = -(y * log(p) + (1 - y) * log(1 - p))\n";
  assert.match(gradText(src), /^dL\/dz = sigmoid\(z\) - y$/m);
  assert.equal(checkModel(src, { wasm: true }).status, 'pass');
});

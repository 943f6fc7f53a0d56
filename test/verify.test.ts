// gradc verify: the lecture's gradients pass in several algebraic forms; typical mistakes fail with a
// counterexample and the right diagnosis; the same verdicts with --json and --claims.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from './helpers.js';

const verify = (model: string, wrt: string, claim: string, extra: string[] = []) => runCli(['verify', model, '--wrt', wrt, '--claim', claim, ...extra]);

test('logistic regression: the lecture\'s three forms are symbolically identical to the derivation', () => {
  for (const claim of ['-y * x * (1 - sigmoid(y * dot(w, x)))', 'y * x * (sigmoid(y * dot(w, x)) - 1)', '-y * sigmoid(-y * dot(w, x)) * x']) {
    assert.match(verify('examples/logreg.nn', 'w', claim).stdout, /^PASS: the claim is symbolically identical to ∂L\/∂w/, claim);
  }
});

test('logistic regression: the lecture\'s gradient passes in several forms', () => {
  for (const claim of ['-y * x * (1 - sigmoid(y * dot(w, x)))', 'y * x * (sigmoid(y * dot(w, x)) - 1)', '-y * sigmoid(-y * dot(w, x)) * x', '-y * sigmoid(-y * (w\' * x)) * x']) {
    const r = verify('examples/logreg.nn', 'w', claim);
    assert.equal(r.status, 0, `${claim}\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /^PASS: the claim (is symbolically identical to|agrees with) ∂L\/∂w/);
  }
});

test('softmax regression and every step of the MLP backward pass pass', () => {
  assert.equal(verify('examples/softmax-regression.nn', 'W', 'outer(softmax(W * x + b) - onehot(y, K), x)').status, 0);
  assert.equal(verify('examples/softmax-regression.nn', 'b', 'exp(W * x + b) / sum(exp(W * x + b)) - onehot(y, K)').status, 0);
  const r = runCli(['verify', 'examples/mlp.nn', '--claims', 'test/fixtures/mlp-claims.txt']);
  assert.equal(r.status, 0, r.stdout);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.pop(), '7 of 7 claims pass');
  assert.equal(lines.length, 7);
  for (const l of lines) assert.match(l, /^PASS (z2|W2|b2|a1|z1|W1|b1): /);
});

const mistakes: [string, string, string, RegExp][] = [
  ['examples/logreg.nn', 'w', 'y * x * (1 - sigmoid(y * dot(w, x)))', /diagnosis: sign flipped/],
  ['examples/logreg.nn', 'w', '-x * (1 - sigmoid(y * dot(w, x)))', /diagnosis: a factor y is missing/],
  ['examples/mlp.nn', 'z1', "(W2' * (softmax(z2) - onehot(y, K))) .* sigmoid(z1) .* sigmoid(z1)", /diagnosis: σ′ written as σ·σ: the derivative of sigmoid\(z1\) is sigmoid\(z1\) \.\* \(1 - sigmoid\(z1\)\)/],
  ['test/fixtures/tied.nn', 'W', 'outer(a .* (1 - a) .* (W * (2 * (r - x))), x)', /diagnosis: a missing term: W is used 2 times, and the claim leaves out the term through its use in W' \* a/],
  ['test/fixtures/ridge.nn', 'W', 'outer(softmax(z) - onehot(y, K), x) + 0.01 * W', /diagnosis: one term has the wrong factor: the claim has 0\.5 × \(0\.02 \* W\)/],
  ['examples/softmax-regression.nn', 'W', '2 * outer(softmax(W * x + b) - onehot(y, K), x)', /diagnosis: off by a constant factor: the claim is 2 × ∂L\/∂W/],
];

for (const [model, wrt, claim, diagnosis] of mistakes) {
  test(`a typical mistake fails with a counterexample: ${claim}`, () => {
    const r = verify(model, wrt, claim);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^FAIL: the claim differs from ∂L\//);
    assert.match(r.stdout, diagnosis);
    assert.match(r.stdout, /counterexample \(sizes [^)]*\):\n/);
    assert.match(r.stdout, /forward values there:\n/);
    assert.match(r.stdout, /claimed value: .*\n\s+derived value: .*\n\s+finite differences: /);
  });
}

test('a transposed outer product fails on shape, with the fix', () => {
  const r = verify('examples/softmax-regression.nn', 'W', 'outer(x, softmax(W * x + b) - onehot(y, K))');
  assert.equal(r.status, 1);
  assert.match(r.stdout, /FAIL: the claim has shape \[4, 3\], ∂L\/∂W has shape \[3, 4\]: transpose the outer product/);
});

test('--json gives the same verdicts, with the counterexample as data', () => {
  const pass = JSON.parse(verify('examples/logreg.nn', 'w', '-y * x * (1 - sigmoid(y * dot(w, x)))', ['--json']).stdout);
  assert.equal(pass.verdict, 'PASS');
  assert.equal(pass.method, 'symbolic');
  const fail = JSON.parse(verify('examples/logreg.nn', 'w', 'y * x * (1 - sigmoid(y * dot(w, x)))', ['--json']).stdout);
  assert.equal(fail.verdict, 'FAIL');
  assert.match(fail.diagnosis, /sign flipped/);
  assert.equal(fail.counterexample.claimed.length, 2);
  assert.ok(Array.isArray(fail.counterexample.finiteDifference));
});

test('--claims: one verdict per line, exit 1 when one fails; a bad claim is located', () => {
  const dir = tempDir('gradc-verify-');
  const f = join(dir, 'claims.txt');
  writeFileSync(f, '# logistic regression\nw: -y * x * (1 - sigmoid(y * dot(w, x)))\n\nw: y * x * (1 - sigmoid(y * dot(w, x)))\n');
  const r = runCli(['verify', 'examples/logreg.nn', '--claims', f]);
  assert.equal(r.status, 1);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0], /^PASS w: /);
  assert.match(lines[1], /^FAIL w: .* — sign flipped/);
  const j = JSON.parse(runCli(['verify', 'examples/logreg.nn', '--claims', f, '--json']).stdout);
  assert.deepEqual(j.map((v: { verdict: string }) => v.verdict), ['PASS', 'FAIL']);
  writeFileSync(f, 'w: -y * x * (1 - sigmoid(y * dot(w, xx)))\n');
  const bad = runCli(['verify', 'examples/logreg.nn', '--claims', f]);
  assert.equal(bad.status, 1);
  // Judged like the others: its own located verdict in the list (the line echoed as written), the rest go on.
  assert.match(bad.stdout, /^FAIL w: .* — unknown name 'xx': did you mean x\?\n {2}.*claims\.txt:1:37: error: unknown name 'xx': did you mean x\?\n {4}w: -y \* x/);
  const syntax = verify('examples/logreg.nn', 'w', '-y * (x');
  assert.equal(syntax.status, 1);
  assert.match(syntax.stderr, /<claim>:1:8: error: expected '\)'/);
});

test('division by a constant and multiplication by its inverse are symbolically identical', () => {
  const dir = tempDir('gradc-verify-');
  const f = join(dir, 'reg.nn');
  writeFileSync(f, 'dim d = 3, k = 3\ninput x: [d]\ninput t: [k]\nparam W: [k, d]\nparam b: [k] = 0\nr = W * x + b - t\nloss L = mean(r .^ 2)\n');
  const r = runCli(['verify', f, '--wrt', 'b', '--claim', '2 * (W * x + b - t) / 3']);
  assert.equal(r.status, 0, r.stdout);
  assert.match(r.stdout, /symbolically identical/);
});

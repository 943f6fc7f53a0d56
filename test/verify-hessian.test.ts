// `gradc verify --hessian`: hand-derived Hessians judged PASS (symbolically or at random points, in gradc's
// notation or LaTeX) or FAIL with the diagnosis a student needs — a missing symmetrisation, 2A for a
// non-symmetric A, a constant factor, a forgotten σ′ — and with a counterexample whose finite differences
// agree with the derived value.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { hessianVerifyReport } from '../compiler/cli/verify-hessian.js';
import { examplePath, ROOT, runCli } from './helpers.js';

const hessianExample = (name: string) => join(ROOT, 'examples', 'hessian', `${name}.nn`);
const judge = (path: string, wrt: string[], claim: string, dims: Record<string, number> = {}) =>
  hessianVerifyReport({ model: { path, text: readFileSync(path, 'utf8') }, claim, wrt, dims: new Map(Object.entries(dims)), seed: 1, runs: 100 });

test('right Hessians pass, symbolically where the forms match and numerically otherwise', () => {
  const cases: [string, string[], string, string][] = [
    [hessianExample('quadratic-form'), ['x'], "A + A'", 'symbolic'],
    [hessianExample('least-squares'), ['x'], "2 * A' * A", 'numeric'],
    [examplePath('softmax-regression'), ['W'], 'kron(diag(p) - outer(p, p), outer(x, x))', 'symbolic'],
    [examplePath('softmax-regression'), ['b'], 'diag(p) - outer(p, p)', 'symbolic'],
    // ±1 labels: y² = 1, so the textbook's form without it is right for this model.
    [examplePath('logreg'), ['w'], 'sigmoid(y * dot(w, x)) * (1 - sigmoid(y * dot(w, x))) * outer(x, x)', 'numeric'],
    [examplePath('logreg'), ['w'], '\\frac{\\partial^2 L}{\\partial w \\partial w^\\top} = \\sigma(y w^\\top x)(1 - \\sigma(y w^\\top x)) x x^\\top', 'numeric'],
    [examplePath('mlp'), ['W2'], 'kron(diag(p) - outer(p, p), outer(a1, a1))', 'symbolic'],
  ];
  for (const [file, wrt, claim, method] of cases) {
    const r = judge(file, wrt, claim);
    assert.equal(r.verdict.verdict, 'PASS', `${claim}: ${r.text}`);
    assert.equal(r.verdict.method, method, claim);
    assert.equal(r.status, 0);
  }
});

test('an MLP hidden layer has no closed form in gradc, and a full hand-derived Hessian is still checked entry by entry', () => {
  const sig = 'a1 .* (1 - a1)';
  const gaussNewton = `diag(${sig}) * W2' * (diag(p) - outer(p, p)) * W2 * diag(${sig})`;
  const dims = { d: 3, n: 4, K: 3 };
  const full = judge(examplePath('mlp'), ['b1'], `${gaussNewton} + diag(${sig} .* (1 - 2 * a1) .* (W2' * (p - onehot(y, K))))`, dims);
  assert.equal(full.verdict.verdict, 'PASS', full.text);
  // The Gauss–Newton part alone leaves out the term through σ″: it must fail.
  const partial = judge(examplePath('mlp'), ['b1'], gaussNewton, dims);
  assert.equal(partial.verdict.verdict, 'FAIL', partial.text);
  assert.equal(partial.status, 1);
});

test('the mistakes students make in a Hessian are named', () => {
  const cases: [string, string[], string, RegExp][] = [
    [hessianExample('quadratic-form'), ['x'], 'A', /missing symmetrisation: .* A \+ Aᵀ, not A/],
    [hessianExample('quadratic-form'), ['x'], '2 * A', /not symmetrised: .*2A holds only when A is symmetric/],
    [hessianExample('least-squares'), ['x'], "A' * A", /off by a constant factor: the claim is 0\.5 × ∂²L\/∂x²/],
    [examplePath('logreg'), ['w'], 'outer(x, x)', /a factor .*sigmoid\(y \* w' \* x\).* is missing.*σ′ = σ\(1 − σ\)/],
    [examplePath('logreg'), ['w'], 'sigmoid(y * dot(w, x)) * outer(x, x)', /a factor 1 - sigmoid\(y \* w' \* x\) is missing/],
    [examplePath('logreg'), ['w'], '-sigmoid(y * dot(w, x)) * (1 - sigmoid(y * dot(w, x))) * outer(x, x)', /sign flipped: the claim is −∂²L\/∂w²/],
  ];
  for (const [file, wrt, claim, diagnosis] of cases) {
    const r = judge(file, wrt, claim);
    assert.equal(r.verdict.verdict, 'FAIL', claim);
    assert.match(r.verdict.diagnosis ?? '', diagnosis, `${claim}: ${r.text}`);
    // The counterexample is one a person can check: the derived value is the finite differences' value.
    const c = r.verdict.counterexample!;
    const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flatMap(flat) : [v as number]);
    const d = flat(c.derived), fd = flat(c.finiteDifference);
    d.forEach((x, i) => assert.ok(Math.abs(x - fd[i]) <= 1e-4 * Math.max(1, Math.abs(x)), `${claim}: derived ${x} vs finite differences ${fd[i]}`));
    assert.notDeepEqual(c.claimed, c.derived);
  }
});

test('a claim of the wrong shape says what shape a Hessian has', () => {
  const asGradient = judge(examplePath('logreg'), ['w'], 'x');
  assert.equal(asGradient.verdict.method, 'shape');
  assert.match(asGradient.verdict.message, /that is the shape of w itself/);
  const small = judge(examplePath('softmax-regression'), ['W'], 'outer(x, x)');
  assert.match(small.verdict.message, /for a matrix W \[3, 4\], the Hessian is 12 × 12, W flattened row by row/);
});

test('verify --hessian from the command line: exit statuses, JSON, a left side that is not a second derivative', () => {
  const pass = runCli(['verify', hessianExample('quadratic-form'), '--hessian', '--wrt', 'x', '--claim', "d2L/dx2 = A + A'"]);
  assert.equal(pass.status, 0, pass.stderr);
  assert.match(pass.stdout, /^PASS: the claim is symbolically identical to ∂²L\/∂x²/);
  const fail = runCli(['verify', hessianExample('quadratic-form'), '--hessian', '--wrt', 'x', '--claim', '2 * A', '--json']);
  assert.equal(fail.status, 1);
  const v = JSON.parse(fail.stdout) as { verdict: string; derivedName: string; derived: string };
  assert.equal(v.verdict, 'FAIL');
  assert.equal(v.derivedName, 'd2L/dx2');
  assert.equal(v.derived, "A + A'");
  const firstOrder = runCli(['verify', hessianExample('quadratic-form'), '--hessian', '--wrt', 'x', '--claim', 'dL/dx = A']);
  assert.equal(firstOrder.status, 2);
  assert.match(firstOrder.stderr, /not a second derivative: write d2L\/dx2 = …/);
  const unknown = runCli(['verify', hessianExample('quadratic-form'), '--hessian', '--wrt', 'x', '--claim', 'B + B\'']);
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /<claim>:1:1: error: unknown name 'B'/);
});

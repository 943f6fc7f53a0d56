// Symbolic gradients of random expression graphs agree with central finite differences (float64), and the
// simplifier is sound (eval(simplify(e)) ≈ eval(e)) and idempotent (simplify(simplify(e)) === simplify(e)).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as B from '../compiler/ir/build.js';
import { evaluateOne } from '../compiler/ir/interpret.js';
import { reverse } from '../compiler/autodiff/reverse.js';
import '../compiler/autodiff/fn-derivative.js';
import { simplify, newSimplifier } from '../compiler/simplify/index.js';
import { printExpr } from '../compiler/ir/print.js';
import { graphArb } from './random-graphs.js';
import { envArb, PARAMS, toEnv } from './op-samples.js';
import { directionalCheck, relErr, rng } from './gradcheck-util.js';

const names = PARAMS.map((p) => p.attr.name as string);

test('random graphs: symbolic gradient = finite differences (200 graphs)', () => {
  fc.assert(fc.property(graphArb, envArb, fc.integer({ min: 1, max: 1e6 }), (g, e, seed) => {
    const f = g.isScalar ? g : B.sum(B.mul(g, B.constant(0.7)));
    const simp = newSimplifier();
    const adj = reverse(simp.simplify(f), PARAMS);
    const grads = new Map(PARAMS.map((p) => [p.attr.name as string, adj.has(p) ? simp.simplify(adj.get(p)!) : null]));
    const { analytic, numeric } = directionalCheck(f, grads, toEnv(e), names, rng(seed));
    assert.ok(relErr(analytic, numeric) <= 1e-6, `${printExpr(f, 'text')}: analytic ${analytic}, numeric ${numeric}`);
  }), { numRuns: 200, seed: 42 });
});

test('simplifier is sound on random expressions', () => {
  fc.assert(fc.property(graphArb, envArb, (g, e) => {
    const env = toEnv(e);
    const before = evaluateOne(g, env).data, after = evaluateOne(simplify(g), env).data;
    assert.equal(after.length, before.length);
    before.forEach((x, i) => assert.ok(relErr(x, after[i]) < 1e-9, `${printExpr(g, 'text')} → ${printExpr(simplify(g), 'text')}: ${x} vs ${after[i]}`));
  }), { numRuns: 300, seed: 3 });
});

test('simplifier is idempotent: simplify(simplify(e)) is the same node', () => {
  fc.assert(fc.property(graphArb, (g) => {
    const once = simplify(g);
    assert.equal(simplify(once), once, printExpr(once, 'text'));
  }), { numRuns: 300, seed: 5 });
});

test('hash-consing: identical expressions are one node', () => {
  const [u, v] = PARAMS;
  assert.equal(B.add(B.sigmoid(u), v), B.add(B.sigmoid(u), v));
  assert.notEqual(B.add(B.sigmoid(u), v), B.add(B.sigmoid(v), u));
});

test('simplifier rules read like algebra', () => {
  const [u] = PARAMS;
  const cases: [ReturnType<typeof B.add>, string][] = [
    [B.mul(B.constant(1), u), 'u'],
    [B.add(u, B.constant(0, [3])), 'u'],
    [B.neg(B.neg(u)), 'u'],
    [B.sub(u, u), 'zeros(3)'],
    [B.sigmoid(B.neg(u)), '1 - sigmoid(u)'],
    [B.neg(B.log(B.sigmoid(u))), 'softplus(-u)'],
    [B.log(B.softmax(u)), 'log_softmax(u)'],
    [B.log(B.sum(B.exp(u))), 'logsumexp(u)'],
    [B.div(B.exp(u), B.sum(B.exp(u))), 'softmax(u)'],
    [B.log(B.add(B.constant(1), B.exp(u))), 'softplus(u)'],
    [B.mul(B.constant(2), B.mul(B.constant(3), u)), '6 * u'],
    [B.mul(u, B.constant(-1)), '-u'],
  ];
  for (const [e, want] of cases) assert.equal(printExpr(simplify(e), 'text'), want);
});

test('a mean over 3 elements prints as a fraction, in text and LaTeX', async () => {
  const { parseModel } = await import('../compiler/frontend/index.js');
  const { deriveGradients } = await import('../compiler/autodiff/gradients.js');
  const { formatGradients } = await import('../compiler/cli/grad.js');
  const m = parseModel('reg.nn', 'dim d = 3, k = 3\ninput x: [d]\ninput t: [k]\nparam W: [k, d]\nr = W * x - t\nloss L = mean(r .^ 2)\n');
  const g = deriveGradients(m);
  assert.match(formatGradients(g, 'text', false, ['W']), /^dL\/dr = 2 \/ 3 \* r$/m);
  assert.match(formatGradients(g, 'latex', false, ['W']), /\\frac\{2\}\{3\} \\cdot r/);
});

test("verify's normal form is sound on random expressions", async () => {
  const { canonical } = await import('../compiler/verify/canonical.js');
  fc.assert(fc.property(graphArb, envArb, (g, e) => {
    const env = toEnv(e);
    const before = evaluateOne(g, env).data, after = evaluateOne(canonical(g), env).data;
    before.forEach((x, i) => assert.ok(relErr(x, after[i]) < 1e-9, `${printExpr(g, 'text')} → ${printExpr(canonical(g), 'text')}`));
  }), { numRuns: 300, seed: 13 });
});

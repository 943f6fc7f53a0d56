// Every op in the op table: the interpreter agrees with mathjs evaluating the printed mathjs form, and the
// derivative rule agrees with central finite differences in random directions (float64).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { allOps } from '../compiler/ir/node.js';
import * as B from '../compiler/ir/build.js';
import { evaluateOne } from '../compiler/ir/interpret.js';
import { printExpr } from '../compiler/ir/print.js';
import { reverse } from '../compiler/autodiff/reverse.js';
import '../compiler/autodiff/fn-derivative.js';
import { createMath } from '../compiler/mathjs/env.js';
import { SAMPLES, PARAMS, apart, envArb, toEnv, softsign } from './op-samples.js';
import { directionalCheck, relErr, rng } from './gradcheck-util.js';

const math = createMath([softsign]);

test('every op in the table has a sample expression', () => {
  const missing = allOps().map((o) => o.name).filter((n) => !(n in SAMPLES));
  assert.deepEqual(missing, []);
});

for (const op of allOps()) {
  const sample = SAMPLES[op.name];
  if (!sample) continue;

  test(`interpreter agrees with mathjs: ${op.name}`, () => {
    const node = sample();
    const formula = printExpr(node, 'mathjs');
    const compiled = math.compile(formula);
    fc.assert(fc.property(envArb, (e) => {
      const ours = Array.from(evaluateOne(node, toEnv(e)).data);
      const scope = { u: math.matrix(e.u), v: math.matrix(e.v), A: math.reshape(math.matrix(e.A), [2, 3]), M: math.reshape(math.matrix(e.M), [3, 2]), s: e.s, p: math.matrix(e.p), y: e.y, K: 3 };
      const r = compiled.evaluate(scope);
      const theirs: number[] = typeof r === 'number' ? [r] : (r.toArray() as number[]).flat(3) as number[];
      assert.equal(theirs.length, ours.length, formula);
      ours.forEach((x, i) => assert.ok(relErr(x, theirs[i]) < 1e-9, `${formula}: ${x} vs ${theirs[i]}`));
    }), { numRuns: 50, seed: 7 });
  });

  test(`derivative rule agrees with finite differences: ${op.name}`, () => {
    const node = sample();
    // Reduce to a scalar with fixed random weights, so every output element's gradient is exercised.
    const r = rng(op.name.length * 7919);
    const weights = node.isScalar ? B.constant(1.3) : B.param('__w', node.shape);
    const f = B.sum(B.mul(node, weights));
    const params = PARAMS;
    const adj = reverse(f, params);
    const grads = new Map(params.map((p) => [p.attr.name as string, adj.get(p) ?? null]));
    fc.assert(fc.property(envArb, (e) => {
      if (op.kink) fc.pre(apart(e));
      const env = toEnv(e);
      if (!node.isScalar) env.set('__w', { shape: node.shape, data: Float64Array.from({ length: node.size }, () => r() * 2 - 1) });
      const { analytic, numeric } = directionalCheck(f, grads, env, params.map((p) => p.attr.name as string), r);
      assert.ok(relErr(analytic, numeric) < 1e-6, `${op.name}: analytic ${analytic} vs numeric ${numeric}`);
    }), { numRuns: 30, seed: 11 });
  });
}

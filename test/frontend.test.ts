// The front end on the lecture's examples: every example checks, the summary counts are right, dims can be
// overridden, and the lecture's K×150 slip is a shape error that names both sizes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadModel, parseModel } from '../compiler/frontend/index.js';
import { checkReport } from '../compiler/cli/check.js';
import { formatDiagnostic, UserError } from '../compiler/source/diagnostics.js';
import { EXAMPLES, examplePath, golden } from './helpers.js';
import * as interp from '../compiler/ir/interpret.js';

for (const name of EXAMPLES) {
  test(`gradc check ${name}`, () => {
    const report = checkReport(loadModel(examplePath(name)));
    golden(`check/${name}.txt`, report.text.replace(examplePath(name), `examples/${name}.nn`) + '\n');
  });
}

test('param-growth: W1 has 3,000,000 parameters, W2 90,000, W3 3,000', () => {
  const m = loadModel(examplePath('param-growth'));
  const counts = Object.fromEntries(m.params.map((p) => [p.name, p.node.size]));
  assert.deepEqual(counts, { W1: 3_000_000, W2: 90_000, W3: 3_000 });
  assert.match(checkReport(m).text, /W1\s+\[300, 10000\]\s+3,000,000/);
  assert.match(checkReport(m).text, /total parameters: 3,093,000/);
});

test("the lecture's W3 ∈ R^{K×150} is a shape error naming both sizes", () => {
  const text = readFileSync(examplePath('param-growth'), 'utf8').replace('param W3: [K, hidden]', 'param W3: [K, 150]');
  try {
    parseModel('param-growth.nn', text);
    assert.fail('should not check');
  } catch (e) {
    assert.ok(e instanceof UserError);
    const msg = formatDiagnostic(e.diagnostics[0]);
    assert.match(msg, /W3 is \[10, 150\] and a2 is \[300\]/);
    assert.match(msg, /150 and 300/);
  }
});

test('--dim overrides a dim everywhere', () => {
  const m = loadModel(examplePath('mlp'), { dimOverrides: new Map([['n', 20]]) });
  assert.deepEqual(m.params.find((p) => p.name === 'W1')!.shape, [20, 784]);
  assert.deepEqual(m.params.find((p) => p.name === 'W2')!.shape, [10, 20]);
});

test('statements continue after ( and after a trailing operator', () => {
  const m = parseModel('cont.nn', 'input x: [3]\nparam w: [3]\nloss L = sum(\n  w .* x) +\n  dot(w,\n      x)\n');
  assert.equal(m.values.length, 1);
});

test('mathjs precedence: -x^2 is -(x^2), unary minus binds tighter than *, ^ is right-associative', () => {
  const m = parseModel('p.nn', 'input x: scalar\nparam w: scalar\nloss L = -w^2 + 2^3^2 * w\n');
  const env = new Map([['x', { shape: [], data: Float64Array.of(0) }], ['w', { shape: [], data: Float64Array.of(3) }]]);
  assert.equal(interp.evaluateOne(m.loss.node, env).data[0], -9 + 512 * 3);
});

test('user fns apply elementwise and may call earlier fns', () => {
  const m = parseModel('fn.nn', 'fn sq(t) = t * t\nfn f(a, b) = sq(a) + b\ninput x: [2]\nparam w: [2]\nloss L = sum(f(w, x))\n');
  const env = new Map([['x', { shape: [2], data: Float64Array.of(1, 2) }], ['w', { shape: [2], data: Float64Array.of(3, 4) }]]);
  assert.equal(interp.evaluateOne(m.loss.node, env).data[0], 9 + 16 + 1 + 2);
});

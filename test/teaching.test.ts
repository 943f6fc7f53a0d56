// verify as a teacher uses it: the mistakes students make most (a forgotten or wrong activation derivative,
// an untransposed square matrix, the ReLU mask left out) are named; counterexamples can be redone by hand;
// a claims file with a broken line is judged line by line. Planted mistakes in random networks get the
// right diagnosis or none, never a wrong one.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseModelWithClaims } from '../compiler/frontend/index.js';
import { SourceFile } from '../compiler/source/diagnostics.js';
import { numericVerdict, quickVerdict } from '../compiler/verify/verify.js';
import { resolveAdjoints } from '../compiler/verify/target.js';
import { CaseRng } from './difftest/generate.js';
import { runCli, tempDir } from './helpers.js';

const mlp = (act: string, sizes = 'd = 4, n = 3, K = 3') => `model mlp
dim ${sizes}
input x: [d]
input y: class(K)
param W1: [n, d]
param b1: [n] = 0
param W2: [K, n]
param b2: [K] = 0
z1 = W1 * x + b1
a1 = ${act}(z1)
z2 = W2 * a1 + b2
output p = softmax(z2)
loss L = cross_entropy(z2, y)
`;
const dir = tempDir('gradc-teaching-');
const file = (name: string, text: string) => { const f = join(dir, name); writeFileSync(f, text); return f; };
const TANH = file('tanh.nn', mlp('tanh')), SIGMOID = file('sigmoid.nn', mlp('sigmoid')), RELU = file('relu.nn', mlp('relu'));
const verify = (model: string, wrt: string, claim: string) => runCli(['verify', model, '--wrt', wrt, '--claim', claim]);

const CASES: [string, string, string, string][] = [
  [TANH, 'W1', "outer(W2' * (p - onehot(y, K)), x)", "the derivative of tanh is missing: multiply by (1 - a1 .^ 2), as in W2' * (p - onehot(y, K)) .* (1 - a1 .^ 2)"],
  [TANH, 'z1', 'dL/da1', 'the derivative of tanh is missing: multiply by (1 - a1 .^ 2)'],
  [TANH, 'z1', 'dL/da1 .* a1 .* (1 - a1)', "this is sigmoid's derivative a1 .* (1 - a1); a1 = tanh(z1) needs 1 - a1 .^ 2"],
  [SIGMOID, 'z1', 'dL/da1 .* (1 - a1 .^ 2)', "this is tanh's derivative 1 - a1 .^ 2; a1 = sigmoid(z1) needs a1 .* (1 - a1)"],
  [SIGMOID, 'W1', "outer(W2' * dL/dz2, x)", "the derivative of sigmoid is missing: multiply by a1 .* (1 - a1), as in W2' * dL/dz2 .* (a1 .* (1 - a1))"],
  [RELU, 'z1', 'dL/da1', 'the ReLU mask step(z1) is missing: dL/da1 .* step(z1)'],
  [RELU, 'W1', "outer(W2' * dL/dz2, x)", "the ReLU mask step(z1) is missing: W2' * dL/dz2 .* step(z1)"],
  [TANH, 'a1', 'W2 * dL/dz2', "W2 should be transposed: W2' * dL/dz2"],
  [TANH, 'W1', "outer(dL/da1 .* (1 - a1 .^ 2) .* a1, x)", 'the factor a1 does not belong: without it, outer(dL/da1 .* (1 - a1 .^ 2), x) is the gradient'],
];

for (const [model, wrt, claim, diagnosis] of CASES) {
  test(`verify names the mistake in ${claim} (∂L/∂${wrt}, ${model.endsWith('relu.nn') ? 'ReLU' : model.endsWith('tanh.nn') ? 'tanh' : 'sigmoid'})`, () => {
    const r = verify(model, wrt, claim);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.equal(r.stdout.split('\n')[1], `  diagnosis: ${diagnosis}`);
  });
}

test('a counterexample a person can redo: short nonzero decimals, the forward values, the derived step in the claim\'s own form', () => {
  const r = verify(TANH, 'z1', 'dL/da1');
  const lines = r.stdout.split('\n');
  const point = lines.slice(lines.indexOf('  counterexample (sizes d = 2, n = 3, K = 3):') + 1, lines.indexOf('  forward values there:'));
  assert.deepEqual(point.map((l) => l.trim().split(' = ')[0]), ['x', 'y', 'W1', 'b1', 'W2', 'b2']);
  for (const l of point.filter((x) => !x.trim().startsWith('y ='))) {
    const values = l.split(' = ')[1].replace(/[[\]]/g, '').split(', ').map(Number);
    for (const v of values) assert.ok([-1.5, -1, -0.5, 0.5, 1, 1.5].includes(v), `${v} in ${l}`);
  }
  const forward = lines.slice(lines.indexOf('  forward values there:') + 1).filter((l) => /^ {4}\S/.test(l)).map((l) => l.trim().split(' = ')[0]);
  assert.deepEqual(forward, ['z1', 'a1', 'z2', 'p', 'dL/da1', 'L']);
  assert.equal(lines.find((l) => l.startsWith('  derived: ')), '  derived: dL/dz1 = dL/da1 .* (1 - a1 .^ 2)');
  // Claimed and derived differ by more than rounding at that point.
  const nums = (k: string) => lines.find((l) => l.startsWith(k))!.split(':')[1].trim().replace(/[[\]]/g, '').split(', ').map(Number);
  const c = nums('  claimed value'), d = nums('  derived value');
  assert.ok(c.some((x, i) => Math.abs(x - d[i]) > 0.05 * Math.max(1e-9, Math.abs(d[i]))), `${c} vs ${d}`);
});

test('--claims judges every line: a broken line gets its own located verdict, a FAIL line its diagnosis, counterexample and derived step', () => {
  const claims = file('claims.txt', [
    'dL/dz2 = p - onehot(y, K)',
    'dL/da1 = W2 * dL/dz2',
    'dL/dz1 = dL/da1 .* (1 - a1 .^ 2',
    'dL/dW1 = outer(dL/dz1, x)',
    'dL/db1 = dL/dz1 .* qq',
  ].join('\n') + '\n');
  const r = runCli(['verify', TANH, '--claims', claims]);
  assert.equal(r.status, 1);
  const out = r.stdout;
  assert.match(out, /^PASS z2: /m);
  assert.match(out, /^FAIL a1: W2 \* dL\/dz2 — W2 should be transposed: W2' \* dL\/dz2\n {2}counterexample \(sizes d = 2, n = 3, K = 3\):\n/m);
  assert.match(out, /^ {2}derived: dL\/da1 = W2' \* dL\/dz2$/m);
  // The syntax error is located in the claims file, with the line echoed as written (its dL/dz1 = kept).
  assert.match(out, /^FAIL z1: dL\/da1 \.\* \(1 - a1 \.\^ 2 — expected '\)'.*\n {2}.*claims\.txt:3:32: error: expected '\)'.*\n {4}dL\/dz1 = dL\/da1 \.\* \(1 - a1 \.\^ 2\n {35}\^/m);
  assert.match(out, /^PASS W1: outer\(dL\/dz1, x\)/m);
  assert.match(out, /^FAIL b1: dL\/dz1 \.\* qq — unknown name 'qq'/m);
  assert.match(out, /^2 of 5 claims pass$/m);
  const json = JSON.parse(runCli(['verify', TANH, '--claims', claims, '--json']).stdout) as { verdict: string; method: string; located?: string }[];
  assert.deepEqual(json.map((v) => v.verdict), ['PASS', 'FAIL', 'FAIL', 'PASS', 'FAIL']);
  assert.equal(json[2].method, 'error');
  assert.match(json[2].located!, /claims\.txt:3:32/);
});

// Random two-layer networks with one planted mistake each: the diagnosis is the planted kind, or absent.
const PLANTS: { kind: string; wrt: string; claim: (act: string) => string; expect: RegExp }[] = [
  { kind: 'missing derivative', wrt: 'z1', claim: () => 'dL/da1', expect: /^the (derivative of \w+|ReLU mask step\(z1\)) is missing/ },
  { kind: 'missing derivative', wrt: 'W1', claim: () => "outer(W2' * dL/dz2, x)", expect: /^the (derivative of \w+|ReLU mask step\(z1\)) is missing/ },
  { kind: 'wrong derivative', wrt: 'z1', claim: (act) => (act === 'tanh' ? 'dL/da1 .* a1 .* (1 - a1)' : 'dL/da1 .* (1 - a1 .^ 2)'), expect: /^this is (sigmoid|tanh)'s derivative/ },
  { kind: 'transpose', wrt: 'a1', claim: () => 'W2 * dL/dz2', expect: /^W2 should be transposed/ },
  { kind: 'sign', wrt: 'W2', claim: () => 'outer(onehot(y, K) - p, a1)', expect: /^sign flipped/ },
  { kind: 'factor', wrt: 'b1', claim: (act) => `2 * dL/da1 .* ${act === 'tanh' ? '(1 - a1 .^ 2)' : act === 'relu' ? 'step(z1)' : 'a1 .* (1 - a1)'}`, expect: /^off by a constant factor: the claim is 2 ×/ },
];

test('planted mistakes in random networks: every diagnosis names the planted mistake (or none is given)', () => {
  const r = new CaseRng(2026);
  let diagnosed = 0, total = 0;
  for (let k = 0; k < 36; k++) {
    const act = r.pick(['tanh', 'sigmoid', 'relu']);
    const n = r.int(2, 4), K = r.chance(0.6) ? n : r.int(2, 4), d = r.int(2, 4);
    const plant = PLANTS[k % PLANTS.length];
    if (plant.kind === 'transpose' && K !== n) continue; // a non-square W2 is a shape error, checked elsewhere
    const src = mlp(act, `d = ${d}, n = ${n}, K = ${K}`);
    const claim = plant.claim(act);
    const parsed = parseModelWithClaims('m.nn', src, [new SourceFile('<claim>', claim)]);
    const resolved = resolveAdjoints(parsed.model, parsed.claims[0]);
    const v = quickVerdict(parsed.model, plant.wrt, resolved, claim, parsed.claims[0])
      ?? numericVerdict(parsed.model, plant.wrt, resolved, claim, { seed: k + 1, runs: 100 }, parsed.claims[0]);
    total++;
    assert.equal(v.verdict, 'FAIL', `${plant.kind} planted in ${act}, ${claim}`);
    if (v.diagnosis === undefined) continue;
    diagnosed++;
    assert.match(v.diagnosis, plant.expect, `${plant.kind} planted in a ${act} network (d ${d}, n ${n}, K ${K}): ${claim}`);
  }
  assert.ok(total >= 30 && diagnosed >= total * 0.85, `only ${diagnosed} of ${total} planted mistakes were diagnosed`);
});

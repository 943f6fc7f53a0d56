// Second derivatives: the four textbook Hessians in their textbook form (golden), every example's Hessian
// blocks against central differences of its gradient and against their own printed mathjs formulas, the
// evaluated Hessian's symmetry and eigenvalues, and the command as a person meets it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../compiler/frontend/index.js';
import { deriveHessian } from '../compiler/autodiff/hessian.js';
import { tensor } from '../compiler/ir/tensor.js';
import { checkSecondOrder } from './difftest/second-order.js';
import { examplePath, golden, ROOT, runCli, tempDir } from './helpers.js';
import { randomEnv } from './gradcheck-util.js';
import { deriveGradients } from '../compiler/autodiff/gradients.js';
import { hvpGradients } from '../compiler/autodiff/hvp.js';
import { loadModelKernels } from '../compiler/codegen/index.js';
import { explainSecondOrder } from '../compiler/cli/explain-second-order.js';

const hessianExample = (name: string) => join(ROOT, 'examples', 'hessian', `${name}.nn`);

test('the four textbook Hessians print in their textbook form', () => {
  const cases: [string, string[]][] = [
    [hessianExample('quadratic-form'), ['--wrt', 'x']],
    [hessianExample('least-squares'), ['--wrt', 'x']],
    [examplePath('logreg'), ['--wrt', 'w']],
    [examplePath('softmax-regression'), ['--wrt', 'W']],
    [examplePath('mlp'), ['--wrt', 'z2']],
  ];
  const out: string[] = [];
  for (const [file, args] of cases) {
    for (const format of ['text', 'latex', 'mathjs']) {
      const r = runCli(['hessian', file, ...args, '--format', format]);
      assert.equal(r.status, 0, r.stderr);
      out.push(`$ gradc hessian ${file.slice(ROOT.length + 1)} ${args.join(' ')} --format ${format}`, r.stdout.trimEnd(), '');
    }
  }
  golden('hessian/textbook.txt', out.join('\n'));
  const text = out.join('\n');
  for (const want of ["d2L/dx2 = A + A'", "d2L/dx2 = 2 * A' * A", "d2L/dw2 = y ^ 2 * sigmoid(y * w' * x) * (1 - sigmoid(y * w' * x)) * x * x'",
    "d2L/dW2 = kron(diag(p) - p * p', x * x')", "d2L/dz2^2 = diag(p) - p * p'"]) assert.ok(text.includes(want), want);
});

const BLOCKS: [string, Record<string, number>, string[][]][] = [
  [examplePath('logreg'), {}, [['w']]],
  [examplePath('softmax-regression'), {}, [['W'], ['b'], ['W', 'b'], ['b', 'W']]],
  [examplePath('mlp'), { d: 4, n: 3, K: 3 }, [['W1'], ['b1'], ['W2'], ['b2', 'b1'], ['z2'], ['a1'], ['W1', 'W2']]],
  [examplePath('tanh-mlp'), { d: 3, n: 3, K: 2 }, [['b1'], ['W1']]],
  [hessianExample('quadratic-form'), {}, [['x'], ['A']]],
  [hessianExample('least-squares'), {}, [['x']]],
  [join(ROOT, 'test', 'fixtures', 'fn.nn'), {}, [['w']]],
];

for (const [file, dims, blocks] of BLOCKS) {
  test(`Hessian blocks of ${file.slice(ROOT.length + 1)} = central differences of the gradient = their mathjs formulas`, () => {
    const model = loadModel(file, { dimOverrides: new Map(Object.entries(dims)) });
    for (const wrt of blocks) {
      if (!model.params.some((p) => p.name === wrt[0]) && !model.values.some((v) => v.name === wrt[0]) && !model.inputs.some((i) => i.name === wrt[0])) continue;
      const h = deriveHessian(model, wrt);
      for (let seed = 1; seed <= 3; seed++) {
        const env = randomEnv(model, seed);
        const dir = tensor(h.cols.leaf.shape, Array.from({ length: h.cols.leaf.size }, (_, i) => Math.sin(seed * 7 + i * 1.3)));
        assert.deepEqual(checkSecondOrder(h, env, dir), [], `${wrt.join(', ')} at seed ${seed} (${h.form})`);
      }
    }
  });
}

test('hessian --point: the matrix, its symmetry and eigenvalues; json; H v for a given direction', () => {
  const dir = tempDir();
  const point = join(dir, 'p.json');
  writeFileSync(point, JSON.stringify({ params: { x: [1, 2, 3] }, inputs: { A: [[1, 2, 0], [0, 1, 0], [3, 0, -2]] }, direction: [1, 0, 0] }));
  const r = runCli(['hessian', hessianExample('quadratic-form'), '--wrt', 'x', '--point', point]);
  assert.equal(r.status, 0, r.stderr);
  // A + Aᵀ = [[2, 2, 3], [2, 2, 0], [3, 0, -4]]: indefinite (a saddle), whatever x is.
  assert.match(r.stdout, /\[2, 2, 3\]\n {2}\[2, 2, 0\]\n {2}\[3, 0, -4\]/);
  assert.match(r.stdout, /symmetric: yes/);
  assert.match(r.stdout, /indefinite/);
  assert.match(r.stdout, /H v = \[2,2,3\]/);
  const j = JSON.parse(runCli(['hessian', hessianExample('quadratic-form'), '--wrt', 'x', '--point', point, '--format', 'json']).stdout);
  assert.deepEqual(j.value, [[2, 2, 3], [2, 2, 0], [3, 0, -4]]);
  assert.equal(j.symmetric, true);
  const tr = (j.eigenvalues as number[]).reduce((s, x) => s + x, 0);
  assert.ok(Math.abs(tr - 0) < 1e-12, `eigenvalues sum to the trace 0, got ${tr}`);
  assert.equal(j.form, 'matrix');
  assert.equal(j.formula, "A + A'");
});

test('hessian: a matrix parameter prints kron and H V; mistakes get one clear line and exit 1', () => {
  const r = runCli(['hessian', examplePath('softmax-regression'), '--wrt', 'W', '--direction', 'D']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /d2L\/dW2 \[D\] = /);
  for (const [args, msg] of [
    [['--wrt', 'y'], /class label/], [['--wrt', 'Q'], /not a parameter, input or named value/],
    [['--wrt', 'W', '--wrt', 'b', '--wrt', 'x'], /one --wrt NAME .* or two/], [['--wrt', 'W', '--direction', 'x'], /already has a value named x/],
  ] as [string[], RegExp][]) {
    const e = runCli(['hessian', examplePath('softmax-regression'), ...args]);
    assert.equal(e.status, 1, `${args.join(' ')}: ${e.stderr}`);
    assert.match(e.stderr, msg);
    assert.doesNotMatch(e.stderr, /at .*\.ts:\d+/);
  }
  assert.equal(runCli(['hessian', examplePath('softmax-regression')]).status, 2);
});

test('gradcheck --order 2 passes on every example; eval --hvp (generated code) = the symbolic Hessian times v', () => {
  for (const name of ['logreg', 'softmax-regression', 'mlp', 'tanh-mlp', 'mnist-mlp', 'l2-mlp', 'param-growth', 'lenet5', 'universal-approximation']) {
    const r = runCli(['gradcheck', examplePath(name), '--order', '2', '--points', '1']);
    assert.equal(r.status, 0, `${name}: ${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /PASS/);
  }
  const dir = tempDir();
  const point = join(dir, 'p.json'), v = join(dir, 'v.json');
  writeFileSync(point, JSON.stringify({ params: { W: [[0.1, 0.2, 0.3, 0.4], [0, 0.1, 0, 0], [0.2, 0, 0, 0.1]], b: [0, 0, 0] }, examples: [{ x: [1, 2, 3, 4], y: 1 }, { x: [-1, 0.5, 0, 2], y: 2 }] }));
  writeFileSync(v, JSON.stringify({ W: [[0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]] }));
  const e = runCli(['eval', examplePath('softmax-regression'), '--point', point, '--hvp', v]);
  assert.equal(e.status, 0, e.stderr);
  const hv = (JSON.parse(e.stdout).hvp.W as number[][]).flat();
  const h = JSON.parse(runCli(['hessian', examplePath('softmax-regression'), '--wrt', 'W', '--point', point, '--format', 'json']).stdout).value as number[][];
  hv.forEach((x, i) => assert.ok(Math.abs(x - h[i][1]) < 1e-12, `H v [${i}] ${x} vs column 1 of the Hessian ${h[i][1]}`));
  writeFileSync(v, JSON.stringify({ Q: [1] }));
  const bad = runCli(['eval', examplePath('softmax-regression'), '--point', point, '--hvp', v]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /Q is not a parameter/);
});

// explain --hvp: the R-operator line by line; its H v equals the generated H v program's and central differences.
const EXPLAINED: [string, Record<string, number>][] = [
  [examplePath('logreg'), {}], [examplePath('softmax-regression'), {}], [examplePath('mlp'), { d: 4, n: 3, K: 3 }],
  [examplePath('tanh-mlp'), { d: 3, n: 3, K: 2 }], [examplePath('l2-mlp'), { d: 4, n: 3, K: 3 }], [join(ROOT, 'test', 'fixtures', 'fn.nn'), {}],
];
test('explain --hvp: every line\'s R{X}, ending in H v that equals the generated H v and central differences', () => {
  for (const [file, dims] of EXPLAINED) {
    const model = loadModel(file, { dimOverrides: new Map(Object.entries(dims)) });
    const g = deriveGradients(model);
    const env = randomEnv(model, 5);
    const dirs = model.params.map((p, k) => Float64Array.from({ length: p.node.size }, (_, i) => Math.cos(k + i * 0.7)));
    const e = explainSecondOrder(g, env, dirs);
    assert.ok(e.ok, `${file}: ${JSON.stringify(e.check)}`);
    // The same product by the generated program (one example, float64).
    const hvp = loadModelKernels(hvpGradients(g)).create(1, Float64Array);
    const params = model.params.map((p) => Float64Array.from(env.get(p.name)!.data));
    const inputs = model.inputs.map((i) => Float64Array.from(env.get(i.name)!.data));
    const out = [...model.params, ...model.params].map((p) => new Float64Array(p.node.size));
    hvp.lossAndGrad([...params, ...dirs], inputs, 1, out);
    model.params.forEach((p, k) => {
      const line = e.backward.find((b) => b.name === `R{dL/d${p.name}}` || b.name === `R{d${model.loss.name}/d${p.name}}`)!;
      const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flatMap(flat) : [v as number]);
      flat(line.value).forEach((x, i) => assert.ok(Math.abs(x - out[k][i]) <= 1e-9 * Math.max(1, Math.abs(x)), `${file} ${p.name}[${i}]: ${x} vs generated ${out[k][i]}`));
    });
  }
  const dir = tempDir();
  writeFileSync(join(dir, 'p.json'), JSON.stringify({ params: { W1: [[0.5, -0.3], [0.2, 0.1], [-0.4, 0.6]], b1: [0.1, 0, -0.1], W2: [[0.3, -0.2, 0.5], [0.1, 0.4, -0.6]], b2: [0.05, -0.05] }, inputs: { x: [1, -2], y: 1 } }));
  writeFileSync(join(dir, 'v.json'), JSON.stringify({ W1: [[1, 0], [0, 1], [1, 1]], b2: [1, -1] }));
  const r = runCli(['explain', examplePath('mlp'), '--dim', 'd=2,n=3,K=2', '--point', join(dir, 'p.json'), '--hvp', join(dir, 'v.json')]);
  assert.equal(r.status, 0, r.stderr);
  for (const line of ['R{z1}: [3] = R{b1} + R{W1} * x', 'R{a1}: [3] = R{z1} .* (1 - a1) .* a1', 'R{z2}: [2] = R{b2} + R{W2} * a1 + W2 * R{a1}',
    "R{dL/da1}: [3] = R{W2}' * dL/dz2 + W2' * R{dL/dz2}", 'R{dL/dW1}: [3, 2] = outer(R{dL/dz1}, x)', 'R{dL/db2}: [2] = R{dL/dz2}', 'every H v agrees with central differences']) {
    assert.ok(r.stdout.includes(line), line);
  }
});

// Gradients that read like The Matrix Cookbook (compiler/simplify/pretty.ts): a table of classic identities
// printed by `grad --inline --format mathjs` against their textbook forms, measured by the size of the
// expression tree; and every readability rule checked on random models — the rewritten gradient evaluates
// to the same values as the derived one — with each rule seen to fire at least once.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'mathjs';
import { parseModel } from '../compiler/frontend/index.js';
import { deriveGradients } from '../compiler/autodiff/gradients.js';
import { formatGradients } from '../compiler/cli/grad.js';
import { prettifyTraced, prettyRules } from '../compiler/simplify/pretty.js';
import { evaluate } from '../compiler/ir/interpret.js';
import { tensor, type Tensor } from '../compiler/ir/tensor.js';
import { Rng } from '../runtime/rng.js';
import { generateModel } from './difftest/generate.js';
import { ROOT } from './helpers.js';
import type { Model } from '../compiler/frontend/model.js';

const treeSize = (expr: string): number => { let n = 0; parse(expr).traverse(() => { n++; }); return n; };
const IDENTITIES = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'identities.json'), 'utf8')) as { name: string; model: string; wrt: string; textbook: string }[];
const inline = (src: string, wrt: string) => {
  const m = parseModel('identity.nn', src + '\n');
  return formatGradients(deriveGradients(m), 'mathjs', true, [wrt]).replace(/^[^=]*= /, '');
};

test(`at least 90 % of ${IDENTITIES.length} classic identities print as concisely as the textbook`, () => {
  assert.ok(IDENTITIES.length >= 20);
  const longer = IDENTITIES.filter((r) => treeSize(inline(r.model, r.wrt)) > treeSize(r.textbook)).map((r) => `${r.name}: ${inline(r.model, r.wrt)} vs ${r.textbook}`);
  assert.ok(longer.length <= IDENTITIES.length / 10, longer.join('\n'));
});

test('the examples of the issue print in the textbook form', () => {
  const cases: [string, string, string][] = [
    ["dim n = 3\ninput B: [n, n]\nparam x: [n]\nloss L = x' * B * x", 'x', "(B + B') * x"],
    ["dim n = 3, m = 2\ninput A: [m, n]\nparam x: [n]\nloss L = x' * A' * A * x", 'x', "2 * A' * A * x"],
    ["dim n = 3, m = 2\ninput a: [n]\ninput b: [m]\nparam X: [m, n]\nloss L = a' * X' * b", 'X', 'outer(b, a)'],
    ["dim n = 3, m = 2\ninput b: [n]\ninput c: [n]\nparam X: [m, n]\nloss L = b' * X' * X * c", 'X', 'X * (outer(b, c) + outer(c, b))'],
    ['dim n = 3\ninput a: [n]\nparam x: [n]\nloss L = sqrt(sum((x - a) .^ 2))', 'x', '(x - a) / sqrt(sum((x - a) .^ 2))'],
    ["dim n = 3, m = 2\ninput A: [m, n]\ninput b: [m]\nparam x: [n]\nloss L = (A * x - b)' * (A * x - b)", 'x', "2 * A' * (A * x - b)"],
    ['dim n = 3\nparam X: [n, n]\nloss L = mean(X .* X)', 'X', '2 / 9 * X'],
    ['dim n = 3\ninput A: [n, n]\nparam x: [n]\nloss L = mean(A * x)', 'x', 'sum(A, 1) / 3'],
    // Sizes by their dim names where one dim has the size (mathjs evaluates formulas with the dims in scope).
    ['dim n = 3\nparam X: [n, n]\ninput x: [n]\nloss L = mean(X) * sum(x)', 'X', 'sum(x) / 9 * ones(n, n)'],
  ];
  for (const [src, wrt, want] of cases) assert.equal(inline(src, wrt), want, src);
  // The backward program keeps the lecture's step-by-step form.
  const m = parseModel('m.nn', "dim n = 3\ninput B: [n, n]\nparam x: [n]\nz = B * x\nloss L = x' * z\n");
  assert.equal(formatGradients(deriveGradients(m), 'text', false, ['x']), "dL/dz = x\ndL/dx = z + B' * dL/dz");
});

/** Random values for every leaf of a model: inputs, class labels and params. */
function randomEnv(model: Model, r: Rng): Map<string, Tensor> {
  const env = new Map<string, Tensor>();
  for (const i of model.inputs) env.set(i.name, i.classes !== undefined ? tensor([], [Math.floor(r.next() * i.classes)]) : tensor(i.shape, Array.from({ length: i.node.size }, () => r.normal() * 0.7)));
  for (const p of model.params) env.set(p.name, tensor(p.shape, Array.from({ length: p.node.size }, () => r.normal() * 0.7)));
  return env;
}

test('every readability rule keeps the value (random models, and the identities), and each one fires', () => {
  const fired = new Set<string>();
  const r = new Rng(2024);
  const sources = [...IDENTITIES.map((x) => x.model + '\n'), ...Array.from({ length: 150 }, (_, k) => generateModel(7000 + k).source)];
  for (const src of sources) {
    const model = parseModel('m.nn', src);
    const g = deriveGradients(model);
    const env = randomEnv(model, r);
    for (const [name, grad] of g.grads) {
      if (!grad) continue;
      const { node, fired: f } = prettifyTraced(grad);
      f.forEach((x) => fired.add(x));
      const vals = evaluate([grad, node], env);
      const want = vals.get(grad)!.data, got = vals.get(node)!.data;
      want.forEach((w, i) => {
        if (!Number.isFinite(w)) return;
        assert.ok(Math.abs(got[i] - w) <= 1e-9 * Math.max(1, Math.abs(w)), `${name}[${i}]: ${got[i]} vs ${w} in\n${src}`);
      });
    }
  }
  const never = prettyRules.map((x) => x.name).filter((n) => !fired.has(n));
  assert.deepEqual(never, [], 'rules that never fired: add a model that exercises them');
});

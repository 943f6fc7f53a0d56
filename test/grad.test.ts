// Printed gradients of every example (golden files in text, inline, latex and mathjs), the mathjs formulas
// evaluated by mathjs against finite differences, and the LaTeX rendered by KaTeX.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import katex from 'katex';
import { loadModel } from '../compiler/frontend/index.js';
import { deriveGradients } from '../compiler/autodiff/gradients.js';
import { formatGradients } from '../compiler/cli/grad.js';
import { fnScope, gradcMath } from '../compiler/mathjs/env.js';
import { evaluateOne } from '../compiler/ir/interpret.js';
import { topo, type Node } from '../compiler/ir/node.js';
import { tensor, Tensor } from '../compiler/ir/tensor.js';
import type { Model } from '../compiler/frontend/model.js';
import { EXAMPLES, examplePath, golden, ROOT } from './helpers.js';
import { join } from 'node:path';
import { rng } from './gradcheck-util.js';

/** Small sizes, so that finite differences over every parameter element stay cheap. */
const SMALL: Record<string, Record<string, number>> = {
  mlp: { d: 4, n: 3, K: 3 }, 'mnist-mlp': { d: 4, h1: 3, h2: 3, K: 3 }, 'param-growth': { pixels: 4, hidden: 3, K: 3 },
  'softmax-regression': {}, logreg: {},
};

const CASES = [...EXAMPLES, 'fn'];
const pathOf = (name: string) => (name === 'fn' ? join(ROOT, 'test', 'fixtures', 'fn.nn') : examplePath(name));

for (const name of CASES) {
  test(`printed gradients of ${name}`, () => {
    const model = loadModel(pathOf(name));
    const g = deriveGradients(model);
    const wrt = model.params.map((p) => p.name);
    golden(`grad/${name}.text.txt`, formatGradients(g, 'text', false, wrt) + '\n');
    golden(`grad/${name}.inline.txt`, formatGradients(g, 'text', true, wrt) + '\n');
    golden(`grad/${name}.latex.txt`, formatGradients(g, 'latex', false, wrt) + '\n');
    golden(`grad/${name}.mathjs.txt`, formatGradients(g, 'mathjs', false, wrt) + '\n');
  });

  test(`LaTeX of ${name} renders with KaTeX`, () => {
    const model = loadModel(pathOf(name));
    const g = deriveGradients(model);
    const wrt = model.params.map((p) => p.name);
    for (const inline of [false, true]) {
      const src = formatGradients(g, 'latex', inline, wrt);
      assert.doesNotThrow(() => katex.renderToString(src, { throwOnError: true, displayMode: true, strict: 'error' }), src);
    }
  });

  test(`mathjs formulas of ${name} evaluate to the gradient (finite differences)`, () => {
    const model = loadModel(pathOf(name), { dimOverrides: new Map(Object.entries(SMALL[name] ?? {})) });
    const g = deriveGradients(model);
    if (name === 'fn') assert.ok(!/'/.test(formatGradients(g, 'mathjs', false, model.params.map((p) => p.name))), 'derived fns must be written out');
    const json = JSON.parse(formatGradients(g, 'json', false, model.params.map((p) => p.name))) as { wrt: Record<string, { formula: string; shape: number[] }> };
    const math = gradcMath();
    const kinked = topo([...g.grads.values()].filter((x): x is Node => x !== null)).some((n) => n.op === 'maxpool_route');
    const r = rng(name.length);
    const env = randomPoint(model, r);
    const scope: Record<string, unknown> = Object.fromEntries([...fnScope([...model.fns.values()]), ...[...model.dims].map(([k, v]) => [k, v.value] as const)]);
    for (const [k, t] of env) scope[k] = t.shape.length === 0 ? t.data[0] : math.reshape(math.matrix(Array.from(t.data)), [...t.shape]);
    for (const p of model.params) {
      const res = math.evaluate(json.wrt[p.name].formula, scope) as number | { toArray(): unknown };
      const got = typeof res === 'number' ? [res] : ((res.toArray() as unknown[]).flat(3) as number[]);
      // Across ReLU and max-pooling kinks a finite difference can straddle a switch: those models are held
      // to the interpreter's gradient (itself checked against differences by gradcheck on smooth points).
      const want = kinked ? Array.from(evaluateOne(g.grads.get(p.name)!, env).data) : finiteDifferences(model, env, p.name);
      assert.equal(got.length, want.length);
      got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) <= (kinked ? 1e-9 : 1e-6) * Math.max(1, Math.abs(want[i])), `${p.name}[${i}]: ${v} vs ${want[i]}`));
    }
  });
}

export function randomPoint(model: Model, r: () => number): Map<string, Tensor> {
  const env = new Map<string, Tensor>();
  for (const i of model.inputs) {
    env.set(i.name, i.classes !== undefined ? tensor([], [Math.floor(r() * i.classes)])
      : i.shape.length === 0 ? tensor([], [r() < 0.5 ? -1 : 1]) : tensor(i.shape, Array.from({ length: i.node.size }, () => r() * 2 - 1)));
  }
  for (const p of model.params) env.set(p.name, tensor(p.shape, Array.from({ length: p.node.size }, () => r() * 2 - 1)));
  return env;
}

export function finiteDifferences(model: Model, env: Map<string, Tensor>, param: string, h = 1e-6): number[] {
  const base = env.get(param)!;
  return Array.from(base.data, (_, i) => {
    const at = (delta: number) => {
      const d = Float64Array.from(base.data);
      d[i] += delta;
      return evaluateOne(model.loss.node, new Map(env).set(param, { shape: base.shape, data: d })).data[0];
    };
    return (at(h) - at(-h)) / (2 * h);
  });
}

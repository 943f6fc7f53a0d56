// Generated code on every example: its loss and gradients agree with the IR interpreter (and so with the
// mathjs formulas, which grad.test.ts ties to the interpreter), float32 agrees with float64, and its own
// gradient check passes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../compiler/frontend/index.js';
import { deriveGradients } from '../compiler/autodiff/gradients.js';
import { generateModelSource, loadGpuModel, loadModelKernels } from '../compiler/codegen/index.js';
import { printStatements, ts } from '../compiler/codegen/ts/ast.js';
import { evaluate } from '../compiler/ir/interpret.js';
import { gradcheck } from '../runtime/gradcheck.js';
import { EXAMPLES, examplePath, ROOT } from './helpers.js';
import { join } from 'node:path';
import { rng } from './gradcheck-util.js';
import type { Node } from '../compiler/ir/node.js';
import { tensor, Tensor } from '../compiler/ir/tensor.js';

const SMALL: Record<string, Record<string, number>> = {
  mlp: { d: 5, n: 6, K: 3 }, 'mnist-mlp': { d: 7, h1: 6, h2: 5, K: 10 }, 'param-growth': { pixels: 9, hidden: 6, K: 4 },
  'softmax-regression': {}, logreg: {}, 'universal-approximation': {},
};
const FIXTURES = ['kitchen-sink', 'prior', 'broadcast', 'images'];
const ALL = [...EXAMPLES, 'universal-approximation', ...FIXTURES];
const pathOf = (name: string) => (FIXTURES.includes(name) ? join(ROOT, 'test', 'fixtures', `${name}.nn`) : examplePath(name));

for (const name of ALL) {
  test(`generated code agrees with the interpreter, f32 with f64: ${name}`, () => {
    const model = loadModel(pathOf(name), { dimOverrides: new Map(Object.entries(SMALL[name] ?? {})) });
    const g = deriveGradients(model);
    const compiled = loadModelKernels(g);
    const r = rng(7);
    const n = 3;
    const params = model.params.map((p) => Float64Array.from({ length: p.node.size }, () => r() * 2 - 1));
    const inputs = model.inputs.map((i) => Float64Array.from({ length: n * (i.classes !== undefined ? 1 : i.node.size) },
      () => (i.classes !== undefined ? Math.floor(r() * i.classes) : i.shape.length === 0 ? (r() < 0.5 ? -1 : 1) : r() * 2 - 1)));
    const k64 = compiled.create(n, Float64Array), k32 = compiled.create(n, Float32Array);
    const g64 = model.params.map((p) => new Float64Array(p.node.size)), g32 = model.params.map((p) => new Float32Array(p.node.size));
    const loss64 = k64.lossAndGrad(params, inputs, n, g64);
    const loss32 = k32.lossAndGrad(params.map((p) => Float32Array.from(p)), inputs.map((x) => Float32Array.from(x)), n, g32);

    // The interpreter, one example at a time, summed.
    let loss = 0;
    const sums = model.params.map((p) => new Float64Array(p.node.size));
    const roots: Node[] = [g.loss, ...model.params.map((p) => g.grads.get(p.name)).filter((x): x is Node => !!x)];
    for (let b = 0; b < n; b++) {
      const env = new Map<string, Tensor>();
      model.params.forEach((p, k) => env.set(p.name, tensor(p.shape, params[k])));
      model.inputs.forEach((inp, k) => { const w = inp.classes !== undefined ? 1 : inp.node.size; env.set(inp.name, tensor(inp.shape, inputs[k].subarray(b * w, b * w + w))); });
      const vals = evaluate(roots, env);
      loss += vals.get(g.loss)!.data[0];
      model.params.forEach((p, k) => { const gn = g.grads.get(p.name); if (gn) vals.get(gn)!.data.forEach((v, i) => { sums[k][i] += v; }); });
    }
    const close = (a: number, b: number, tol: number) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));
    assert.ok(close(loss64, loss, 1e-12), `loss ${loss64} vs ${loss}`);
    assert.ok(close(loss32, loss64, 1e-4), `f32 loss ${loss32} vs f64 ${loss64}`);
    model.params.forEach((p, k) => sums[k].forEach((v, i) => {
      assert.ok(close(g64[k][i], v, 1e-10), `${p.name}[${i}]: generated ${g64[k][i]} vs interpreter ${v}`);
      assert.ok(close(g32[k][i], g64[k][i], 1e-4), `${p.name}[${i}]: f32 ${g32[k][i]} vs f64 ${g64[k][i]}`);
    }));
  });

  test(`gradcheck passes: ${name}`, () => {
    const model = loadModel(pathOf(name), { dimOverrides: new Map(Object.entries(SMALL[name] ?? {})) });
    const r = gradcheck(loadModelKernels(deriveGradients(model)), { seed: 3, points: 2 });
    assert.ok(r.ok, JSON.stringify(r.params));
  });
}

for (const name of ALL) {
  test(`the gpu.js target agrees with the TypeScript target: ${name}`, () => {
    const model = loadModel(pathOf(name), { dimOverrides: new Map(Object.entries(SMALL[name] ?? {})) });
    const g = deriveGradients(model);
    const ts = loadModelKernels(g).create(4, Float64Array);
    const gpu = loadGpuModel(g).create(4, Float32Array);
    const r = rng(11);
    const n = 3; // fewer examples than the batch: padding rows must not leak into sums
    const params = model.params.map((p) => Float64Array.from({ length: p.node.size }, () => r() * 2 - 1));
    const inputs = model.inputs.map((i) => Float64Array.from({ length: 4 * (i.classes !== undefined ? 1 : i.node.size) },
      () => (i.classes !== undefined ? Math.floor(r() * i.classes) : r() * 2 - 1)));
    const gTs = model.params.map((p) => new Float64Array(p.node.size)), gGpu = model.params.map((p) => new Float32Array(p.node.size));
    const lTs = ts.lossAndGrad(params, inputs, n, gTs);
    const lGpu = gpu.lossAndGrad(params.map((p) => Float32Array.from(p)), inputs.map((x) => Float32Array.from(x)), n, gGpu);
    const close = (a: number, b: number) => Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(a), Math.abs(b));
    assert.ok(close(lGpu, lTs), `loss ${lGpu} vs ${lTs}`);
    model.params.forEach((p, k) => gTs[k].forEach((v, i) => assert.ok(close(gGpu[k][i], v), `${p.name}[${i}]: gpu ${gGpu[k][i]} vs ts ${v}`)));
    const fTs = ts.forward(params, inputs, n), fGpu = gpu.forward(params.map((p) => Float32Array.from(p)), inputs.map((x) => Float32Array.from(x)), n);
    fTs.outputs.forEach((o, k) => { for (let i = 0; i < (o.length / 4) * n; i++) assert.ok(close(fGpu.outputs[k][i], o[i]), `output ${k}[${i}]`); });
  });
}

test('the kernels run in this process are the emitted TypeScript printed without its types: the same text otherwise, and plain JavaScript', () => {
  for (const name of [...EXAMPLES, 'l2-mlp']) {
    const g = deriveGradients(loadModel(examplePath(name), { dimOverrides: new Map() }));
    for (const target of ['ts', 'wasm'] as const) {
      const typed = generateModelSource(g, target), js = generateModelSource(g, target, undefined, { types: false });
      // Every annotation the emitter writes, and nothing else: the JavaScript is the TypeScript with them erased.
      const erased = typed.replace(/\): (number|Kernels|ForwardResult) \{/g, ') {').replace(/: (readonly Buf\[\]|number|ArrayCtor|CompiledModel)(?=[,)= ])/g, '').replace(/ as const/g, '');
      assert.equal(js, erased, `${name} (${target})`);
      assert.doesNotThrow(() => new Function(js), `${name} (${target}): not JavaScript`);
    }
  }
  // Anything else TypeScript-only is refused, not printed as it is.
  const f = ts.factory;
  const alias = f.createTypeAliasDeclaration(undefined, 'T', undefined, f.createKeywordTypeNode(ts.SyntaxKind.NumberKeyword));
  assert.throws(() => printStatements([alias], { types: false }), /cannot strip \(TypeAliasDeclaration\)/);
});

// The wasm target: its SIMD products equal the TypeScript kernels within float32 rounding on LeNet-300-100,
// several threads give the same bits as one, and a machine without WebAssembly SIMD falls back to the
// TypeScript kernels with one line saying so. (The differential tester covers it on random models.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModel } from '../compiler/frontend/index.js';
import { deriveGradients } from '../compiler/autodiff/gradients.js';
import { generateModelSource, loadModelKernels, loadWasmModel, wasmModuleBase64 } from '../compiler/codegen/index.js';
import { withWasmKernels } from '../runtime/wasm.js';
import { HelperPool } from '../runtime/threads.js';
import { createParams } from '../runtime/train.js';
import type { CompiledModel } from '../runtime/model.js';
import { examplePath, ROOT } from './helpers.js';
import { join } from 'node:path';

const g = deriveGradients(loadModel(examplePath('mnist-mlp')));

function gradients(model: CompiledModel, n: number): Float32Array[] {
  const F = model.float32Array ?? Float32Array;
  const k = model.create(64, F);
  const params = createParams(model, 1, F);
  const x = new F(64 * 784), y = new F(64);
  for (let i = 0; i < x.length; i++) x[i] = Math.max(0, Math.sin(i * 0.37)); // zeros too, as in MNIST
  for (let b = 0; b < 64; b++) y[b] = b % 10;
  const grads = params.map((p) => new F(p.length));
  k.lossAndGrad(params, [x, y], n, grads);
  return grads.map((a) => Float32Array.from(a));
}

test('wasm products agree with the TypeScript kernels (float32), for a full and a partial batch', () => {
  for (const n of [64, 61]) {
    const want = gradients(loadModelKernels(g), n), got = gradients(loadWasmModel(g), n);
    want.forEach((w, p) => w.forEach((v, i) => assert.ok(Math.abs(got[p][i] - v) <= 1e-4 * Math.max(1, Math.abs(v)), `param ${p}[${i}]: ${got[p][i]} vs ${v}`)));
  }
});

test('two and three threads give the same bits as one', () => {
  const one = gradients(loadWasmModel(g), 61);
  for (const threads of [2, 3]) {
    const model = loadWasmModel(g);
    assert.equal(model.setThreads!(threads), threads);
    const many = gradients(model, 61);
    one.forEach((w, p) => assert.deepEqual(many[p], w, `param ${p} with ${threads} threads`));
    model.setThreads!(1);
  }
});

test('LeNet-5: the image layers split across two and three threads give the same bits as one, and agree with TypeScript', () => {
  const lenet = deriveGradients(loadModel(examplePath('lenet5')));
  const run = (model: CompiledModel, n: number) => {
    const F = model.float32Array ?? Float32Array;
    const k = model.create(32, F);
    const params = createParams(model, 1, F);
    const x = new F(32 * 784), y = new F(32);
    for (let i = 0; i < x.length; i++) x[i] = Math.max(0, Math.sin(i * 0.37));
    for (let b = 0; b < 32; b++) y[b] = b % 10;
    const grads = params.map((p) => new F(p.length));
    k.lossAndGrad(params, [x, y], n, grads);
    return grads.map((a) => Float32Array.from(a));
  };
  const one = run(loadWasmModel(lenet), 29);
  for (const threads of [2, 3]) {
    const model = loadWasmModel(lenet);
    assert.equal(model.setThreads!(threads), threads);
    run(model, 29).forEach((w, p) => assert.deepEqual(w, one[p], `param ${p} with ${threads} threads`));
    model.setThreads!(1);
  }
  const ts = run(loadModelKernels(lenet), 29);
  ts.forEach((w, p) => {
    const scale = w.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-6);
    w.forEach((v, i) => assert.ok(Math.abs(v - one[p][i]) <= 1e-4 * scale, `param ${p}[${i}]: TypeScript ${v} vs wasm ${one[p][i]}`));
  });
});

test('the helper threads take chunks of a call: each chunk runs exactly once, call after call, whoever takes it', () => {
  // z2 += b2 row by row (the MLP's ew0, three values a row), a chunk a row, with b2 = 1: after R calls every
  // row holds R only if no chunk was skipped or run twice.
  const mlp = deriveGradients(loadModel(examplePath('mlp'), { dimOverrides: new Map([['d', 5], ['n', 6], ['K', 3]]) }));
  const bytes = Buffer.from(wasmModuleBase64(mlp), 'base64');
  const W = (globalThis as unknown as { WebAssembly: { Memory: new (d: object) => { buffer: ArrayBuffer }; Module: new (b: Uint8Array) => object; Instance: new (m: object, i: object) => { exports: Record<string, (...a: number[]) => void> } } }).WebAssembly;
  const memory = new W.Memory({ initial: 1, maximum: 65536, shared: true });
  const { exports } = new W.Instance(new W.Module(bytes), { env: { memory } });
  const f = new Float32Array(memory.buffer);
  const ROWS = 60, Z = 64, ONES = Z + ROWS * 3 + 16, R = 5000;
  f.fill(0, Z, Z + ROWS * 3);
  f.fill(1, ONES, ONES + 3);
  const pool = new HelperPool(bytes, memory, Object.keys(exports), 2);
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500); // the helpers start (and then spin, waiting for calls)
    const chunks = Array.from({ length: ROWS }, (_, r) => [1, (Z + 3 * r) * 4, (Z + 3 * r) * 4, ONES * 4]);
    for (let i = 0; i < R; i++) pool.run('ew0', exports.ew0, chunks);
  } finally { pool.stop(); }
  assert.deepEqual([...f.subarray(Z, Z + ROWS * 3)], Array(ROWS * 3).fill(R));
});

test('without WebAssembly SIMD the TypeScript kernels run, with one line saying so', () => {
  const ts = loadModelKernels(g);
  const notAModule = Buffer.from('not a WebAssembly module').toString('base64');
  const r = withWasmKernels(ts, notAModule);
  assert.equal(r.model, ts);
  assert.match(r.fallback ?? '', /WebAssembly SIMD is not available here: using the TypeScript kernels/);
});

test('eval --precision f32 runs the wasm target and agrees with float64; every --target answers', async () => {
  const { runCli, tempDir } = await import('./helpers.js');
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const point = join(tempDir(), 'p.json');
  writeFileSync(point, JSON.stringify({
    params: { W1: [[0.1, 0.2, 0.3, 0.4], [0.1, -0.2, 0.3, 0.1], [0.5, 0.2, -0.3, 0.4]], W2: [[0.1, 0.2, 0.3], [0.3, -0.2, 0.1], [0.2, 0.2, 0.2]] },
    examples: [{ x: [1, 2, 3, 4], y: 1 }, { x: [0, 1, 0, 1], y: 2 }, { x: [1, 0, 1, 0], y: 0 }],
  }));
  const model = 'test/fixtures/regress/param-reused-in-loss.nn';
  const f64 = runCli(['eval', model, '--point', point]);
  assert.equal(f64.status, 0, f64.stderr);
  const want = JSON.parse(f64.stdout) as { loss: number; grad: Record<string, number[][]> };
  for (const extra of [['--precision', 'f32'], ['--precision', 'f32', '--target', 'ts'], ['--target', 'gpu'], ['--target', 'wasm']]) {
    const r = runCli(['eval', model, '--point', point, ...extra]);
    assert.equal(r.status, 0, `${extra.join(' ')}: ${r.stderr}`);
    const got = JSON.parse(r.stdout) as typeof want;
    assert.ok(Math.abs(got.loss - want.loss) < 1e-5, `${extra.join(' ')}: loss ${got.loss} vs ${want.loss}`);
    for (const [name, rows] of Object.entries(want.grad)) rows.flat().forEach((v, i) => assert.ok(Math.abs(got.grad[name].flat()[i] - v) < 1e-5, `${extra.join(' ')}: ${name}[${i}]`));
  }
});

test('the optimizer step in WebAssembly (sgd, momentum) equals the TypeScript one within float32 rounding', async () => {
  const { Optimizer } = await import('../runtime/optim.js');
  const model = loadWasmModel(g);
  const F = model.float32Array!;
  for (const name of ['sgd', 'momentum'] as const) {
    const make = (Arr: Float32ArrayConstructor) => {
      const p = [new Arr(1003), new Arr(7)], grads = [new Arr(1003), new Arr(7)];
      p.forEach((a, k) => a.forEach((_, i) => { a[i] = Math.sin(i + k); grads[k][i] = Math.cos(3 * i + k); }));
      return { p, grads, opt: new Optimizer(name, 0.05, p, [1e-4, 0], 0.9, Arr) };
    };
    const js = make(Float32Array), wasm = make(F);
    const { route } = await import('../runtime/kernels.js');
    assert.ok(route(name, wasm.p[0], wasm.grads[0], wasm.p[0]), 'the wasm step is the one that runs');
    assert.equal(route(name, js.p[0], js.grads[0], js.p[0]), undefined);
    for (let step = 0; step < 3; step++) { js.opt.update(js.grads, 1 / 64); wasm.opt.update(wasm.grads, 1 / 64); }
    js.p.forEach((a, k) => a.forEach((v, i) => assert.ok(Math.abs(wasm.p[k][i] - v) <= 1e-6 * Math.max(1, Math.abs(v)), `${name} p${k}[${i}]: ${wasm.p[k][i]} vs ${v}`)));
    // Not vacuous: the step moved the parameters.
    assert.notEqual(js.p[0][5], Math.fround(Math.sin(5)));
  }
});

test('the fused loops and the bias sums run as WebAssembly SIMD: the generated calls, and the functions on known values', () => {
  const mlp = deriveGradients(loadModel(examplePath('mlp'), { dimOverrides: new Map([['d', 5], ['n', 6], ['K', 3]]) }));
  const wasmSource = generateModelSource(mlp, 'wasm'), tsSource = generateModelSource(mlp, 'ts');
  // z2 = W2 * a1 + b2 (the bias after the product) and sigmoid's backward mask dL/da1 .* a1 .* (1 - a1) have no
  // exp: they are WebAssembly; a1 = sigmoid(W1 * x + b1) is not, and stays TypeScript.
  assert.match(wasmSource, /wasmLoop\("ew0", n, z2, z2, b2\)/);
  assert.match(wasmSource, /wasmLoop\("ew1", n, dL_dz1, dL_da1, a1\)/);
  assert.match(wasmSource, /wasmColumnSum\("colsum_6", n, dL_dz1, grad_b1, 0, 1\)/);
  assert.doesNotMatch(wasmSource, /wasmLoop\("ew\d", n, a1,/);
  assert.doesNotMatch(tsSource, /wasmLoop|wasmColumnSum/);
  // The module's functions themselves, on a memory of our own.
  const bytes = Buffer.from(wasmModuleBase64(mlp), 'base64');
  // Node's types and ES2022 do not declare the WebAssembly JS API (runtime/wasm.ts types the part it uses).
  const W = (globalThis as unknown as { WebAssembly: { Memory: new (d: object) => { buffer: ArrayBuffer }; Module: new (b: Uint8Array) => object; Instance: new (m: object, i: object) => { exports: Record<string, (...a: number[]) => void> } } }).WebAssembly;
  const memory = new W.Memory({ initial: 1, maximum: 65536, shared: true });
  const { exports } = new W.Instance(new W.Module(bytes), { env: { memory } });
  const f = new Float32Array(memory.buffer);
  const n = 3, m = 6, G = 16, A1 = G + n * m, OUT = A1 + n * m, B2 = OUT + n * m, ACC = B2 + 8; // element offsets
  for (let i = 0; i < n * m; i++) { f[G + i] = i - 7; f[A1 + i] = 0.125 * (i % 5); }
  exports.ew1(n, OUT * 4, G * 4, A1 * 4); // six a row: one f32x4 block and a scalar tail of two
  for (let i = 0; i < n * m; i++) assert.equal(f[OUT + i], Math.fround(Math.fround((i - 7) * f[A1 + i]) * (1 - f[A1 + i])), `ew1 at ${i}`);
  for (let j = 0; j < 3; j++) f[B2 + j] = 0.5 * j;
  exports.ew0(n, G * 4, G * 4, B2 * 4); // three a row: scalars only; in place, as the model runs it
  for (let i = 0; i < n * 3; i++) assert.equal(f[G + i], i - 7 + 0.5 * (i % 3), `ew0 at ${i}`);
  const Z = G;
  f.fill(Number.NaN, ACC, ACC + m); // β = 0 must not read what was there
  exports.colsum_6(n, Z * 4, ACC * 4, 0, 1);
  for (let j = 0; j < m; j++) assert.equal(f[ACC + j], [0, 1, 2].reduce((s, b) => s + f[Z + b * m + j], 0));
  exports.colsum_6(n, Z * 4, ACC * 4, 1, -1); // β = 1, a negative term: back to 0
  for (let j = 0; j < m; j++) assert.equal(f[ACC + j], 0);
});

test('an image model\'s loops in WebAssembly: a per-channel bias (one value per four lanes) and the ReLU masks agree with TypeScript', () => {
  const images = deriveGradients(loadModel(join(ROOT, 'examples', 'lenet5.nn')));
  assert.match(generateModelSource(images, 'wasm'), /wasmLoop\("ew0", n, z1, z1, c1\)/); // z1 = conv2d(x, K1) + c1
  const run = (model: CompiledModel): Float32Array[] => {
    const F = model.float32Array ?? Float32Array;
    const n = 5, k = model.create(n, F), params = createParams(model, 2, F);
    const x = new F(n * 784), y = new F(n);
    for (let i = 0; i < x.length; i++) x[i] = Math.max(0, Math.sin(i * 0.113));
    for (let b = 0; b < n; b++) y[b] = (3 * b) % 10;
    const grads = params.map((p) => new F(p.length));
    k.lossAndGrad(params, [x, y], n, grads);
    return grads.map((a) => Float32Array.from(a));
  };
  const want = run(loadModelKernels(images)), got = run(loadWasmModel(images));
  want.forEach((w, p) => w.forEach((v, i) => assert.ok(Math.abs(got[p][i] - v) <= 1e-4 * Math.max(1, Math.abs(v)), `param ${p}[${i}]: ${got[p][i]} vs ${v}`)));
});

test('the Hessian-vector program compiles to the wasm target too, and agrees with TypeScript in float64 (float32 rounding)', async () => {
  const { hvpGradients } = await import('../compiler/autodiff/hvp.js');
  for (const [file, dims] of [[examplePath('mlp'), { d: 20, n: 16, K: 5 }], [examplePath('lenet5'), {}]] as const) {
    const h = hvpGradients(deriveGradients(loadModel(file, { dimOverrides: new Map(Object.entries(dims)) })));
    const n = 4;
    const run = (cm: CompiledModel, Arr: Float64ArrayConstructor) => {
      const kernels = cm.create(n, Arr); // first: the wasm target places its buffers, then the arrays after them
      const fill = (size: number, k: number) => Arr.from({ length: size }, (_, i) => Math.sin(i * 1.3 + k) * 0.5);
      const params = h.model.params.map((p, k) => fill(p.node.size, k));
      const inputs = h.model.inputs.map((i, k) => (i.classes !== undefined ? Arr.from({ length: n }, (_, j) => j % i.classes!) : fill(i.node.size * n, k + 10)));
      const out = h.model.params.map((p) => new Arr(p.node.size));
      kernels.lossAndGrad(params, inputs, n, out);
      return out;
    };
    const wasm = loadWasmModel(h);
    const exact = run(loadModelKernels(h), Float64Array), f32 = run(wasm, (wasm.float32Array ?? Float32Array) as unknown as Float64ArrayConstructor); // float32 storage
    exact.forEach((o, k) => {
      const scale = o.reduce((m, x) => Math.max(m, Math.abs(x)), 1e-3);
      o.forEach((x, i) => assert.ok(Math.abs(x - f32[k][i]) <= 1e-4 * scale, `${file} ${h.model.params[k].name}[${i}]: ${x} vs wasm ${f32[k][i]}`));
    });
  }
});

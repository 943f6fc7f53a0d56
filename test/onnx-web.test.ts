// model.onnx in the browser, as docs/onnx.md shows it: onnxruntime-web (its WebAssembly backend) in real
// Chromium loads the exported MNIST model and classifies a digit, with the same probabilities as
// onnxruntime-node and gradc's interpreter. A screenshot of the page is kept in test/output.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import ort from 'onnxruntime-node';
import { browser, skipBrowser as skip } from './browser.js';
import { examplePath, ROOT, runCli, tempDir } from './helpers.js';

const TYPES: Record<string, string> = { '.html': 'text/html', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.onnx': 'application/octet-stream' };

test('model.onnx runs in Chromium with onnxruntime-web, as docs/onnx.md shows', { skip }, async () => {
  const dir = tempDir();
  assert.equal(runCli(['compile', examplePath('mnist-mlp'), '--target', 'onnx', '-o', dir]).status, 0);
  const dist = join(ROOT, 'node_modules', 'onnxruntime-web', 'dist'); // its exports map hides package.json
  for (const f of ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm']) copyFileSync(join(dist, f), join(dir, f));
  const x = Float32Array.from({ length: 784 }, (_, i) => ((i * 37) % 255) / 255);
  writeFileSync(join(dir, 'index.html'), `<!doctype html><meta charset="utf-8"><title>gradc model.onnx in onnxruntime-web</title>
<body style="font: 16px sans-serif; margin: 2em"><h1>mnist-mlp (gradc) in onnxruntime-web</h1><pre id="out">running…</pre>
<script type="module">
import * as ort from './ort.wasm.min.mjs';
ort.env.wasm.numThreads = 1;
ort.env.wasm.wasmPaths = './';
const session = await ort.InferenceSession.create('model.onnx');
const x = new ort.Tensor('float32', Float32Array.from(${JSON.stringify(Array.from(x))}), [1, 784]);
const { p } = await session.run({ x });
window.result = Array.from(p.data);
document.getElementById('out').textContent = 'p = ' + window.result.map((v) => v.toFixed(4)).join(', ') + '\\nbackend: WebAssembly';
</script>`);
  const server = createServer((req, res) => {
    const file = join(dir, decodeURIComponent(new URL(req.url!, 'http://x').pathname));
    let body: Buffer;
    try { body = readFileSync(file); } catch { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const page = await (await browser()).newPage();
  try {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/index.html`);
    await page.waitForFunction(() => (globalThis as unknown as { result?: number[] }).result !== undefined, undefined, { timeout: 60_000 });
    const inBrowser = await page.evaluate(() => (globalThis as unknown as { result: number[] }).result);
    assert.deepEqual(errors, []);
    mkdirSync(join(ROOT, 'test', 'output'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test', 'output', 'onnx-web.png') });
    const node = (await (await ort.InferenceSession.create(join(dir, 'model.onnx'))).run({ x: new ort.Tensor('float32', x, [1, 784]) })).p.data as Float32Array;
    assert.equal(inBrowser.length, 10);
    inBrowser.forEach((v, i) => assert.ok(Math.abs(v - node[i]) < 1e-5, `p[${i}]: browser ${v} vs node ${node[i]}`));
    assert.ok(Math.abs(inBrowser.reduce((s, v) => s + v, 0) - 1) < 1e-5);
  } finally {
    await page.close();
    server.close();
  }
});

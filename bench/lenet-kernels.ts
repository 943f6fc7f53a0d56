// npm run bench:kernels: LeNet-5's training step kernel by kernel in the wasm target, one thread, batch 64 —
// each product's GFLOP/s next to the machine's WebAssembly SIMD peak (bench/simd-peak.mjs), each data
// movement kernel's GB/s — so the profile in docs/training.md can be redone. Every kernel is timed alone on
// its real sizes, in alternating rounds (medians), from the model's own wasm module. Where a layer runs
// direct convolution kernels, its patch path is timed too, for comparison, and left out of the step's total.

import { loadModel } from '../compiler/frontend/index.js';
import { deriveGradients } from '../compiler/autodiff/gradients.js';
import { wasmModuleBase64 } from '../compiler/codegen/index.js';
import { HelperPool } from '../runtime/threads.js';
import { splitKernel } from '../runtime/wasm.js';

const BATCH = 64, ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const WA = (globalThis as unknown as { WebAssembly: {
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => { buffer: ArrayBufferLike };
  Module: new (b: Uint8Array) => object;
  Instance: new (m: object, i: object) => { exports: Record<string, (...a: number[]) => void> };
} }).WebAssembly;

const g = deriveGradients(loadModel(new URL('../examples/lenet5.nn', import.meta.url).pathname));
const memory = new WA.Memory({ initial: 4096, maximum: 65536, shared: true });
const bytes = new Uint8Array(Buffer.from(wasmModuleBase64(g), 'base64'));
const ex = new WA.Instance(new WA.Module(bytes), { env: { memory } }).exports;
// One helper thread: each kernel also runs split as the wasm target splits it with two threads.
const helpers = new HelperPool(bytes, memory, Object.keys(ex), 1);
let top = 64;
// 64 bytes after each buffer, as the wasm target's allocator leaves them.
const alloc = (n: number) => { const v = new Float32Array(memory.buffer, top, n); for (let i = 0; i < n; i++) v[i] = Math.sin(i * 0.37) * 0.5; top += Math.ceil((n * 4) / 64) * 64 + 64; return v.byteOffset; };

/** `replaced`: timed for comparison only — the patch path where the layer runs direct kernels, a kernel the model runs fused. */
interface Kernel { layer: string; what: string; call: [string, ...number[]]; flops?: number; bytes?: number; replaced?: boolean }
const kernels: Kernel[] = [];
const conv = (layer: string, [C, H, W, F, kh, kw, s, p, Ho, Wo]: number[]) => {
  const key = [C, H, W, F, kh, kw, s, p, Ho, Wo].join('_'), P = Ho * Wo, ck = C * kh * kw, n = BATCH * P;
  const x = alloc(BATCH * C * H * W), patches = alloc(n * ck), rows = alloc(n * F), img = alloc(BATCH * F * P), K = alloc(F * ck), dK = alloc(F * ck), dx = alloc(BATCH * C * H * W);
  const flops = 2 * n * F * ck;
  const pathStart = kernels.length;
  kernels.push(
    { layer, what: 'im2col (gather patches)', call: [`im2col_${key}`, BATCH, x, C * H * W, patches], bytes: 8 * n * ck },
    { layer, what: `forward product patches · Kᵀ (NT ${F}×${ck})`, call: [`gemmNT_${F}_${ck}`, n, patches, K, rows], flops },
    { layer, what: 'channel-last → channel-first', call: [`rows2img_${F}_${P}`, BATCH, rows, img, F * P], bytes: 8 * n * F },
    { layer, what: 'channel-first → channel-last (gradient)', call: [`img2rows_${F}_${P}`, BATCH, img, F * P, rows], bytes: 8 * n * F },
    { layer, what: `kernel gradient rows(G)ᵀ · patches (TN ${F}×${ck})`, call: [`gemmTN_${F}_${ck}`, n, rows, patches, dK, 0, 0, F], flops },
  );
  if (C > 1) {
    kernels.push(
      { layer, what: `image gradient rows(G) · K (NN ${F}×${ck})`, call: [`gemmNN_${F}_${ck}`, n, rows, K, patches], flops },
      { layer, what: 'col2im (patch gradients onto pixels)', call: [`col2im_${key}`, BATCH, patches, dx, C * H * W], bytes: 8 * n * ck },
    );
  }
  // The direct kernels the model runs instead (where the geometry allows), each against the patch path above.
  const direct = ex[`convfwd_${key}`] && ex[`convdk_${key}`] && (C === 1 || ex[`convdx_${key}`]);
  if (!direct) return;
  for (let i = pathStart; i < kernels.length; i++) kernels[i].replaced = true;
  // The model runs the forward with the bias and ReLU as its epilogue (convfwdbr); the plain one for comparison.
  const c = alloc(F), a = alloc(BATCH * F * P);
  kernels.push(
    { layer, what: 'direct forward (without the epilogue)', call: [`convfwd_${key}`, BATCH, x, C * H * W, K, img, F * P], flops, replaced: !!ex[`convfwdbr_${key}`] },
    ...(ex[`convfwdbr_${key}`] ? [{ layer, what: 'direct forward + bias + ReLU (fused)', call: [`convfwdbr_${key}`, BATCH, x, C * H * W, K, c, img, a, F * P] as Kernel['call'], flops }] : []),
    { layer, what: 'direct kernel gradient (for copy + TN)', call: [`convdk_${key}`, BATCH, x, C * H * W, img, F * P, dK, 0, 0, C * kh], flops },
  );
  if (C > 1) kernels.push({ layer, what: 'direct image gradient (for NN + col2im)', call: [`convdx_${key}`, BATCH, img, F * P, K, dx, C * H * W], flops });
};
conv('conv1', [1, 28, 28, 6, 5, 5, 1, 0, 24, 24]);
conv('conv2', [6, 12, 12, 16, 5, 5, 1, 0, 8, 8]);
const pool = (layer: string, [C, H, W, s]: number[]) => {
  const key = [C, H, W, s].join('_'), o = (C * H * W) / (s * s);
  const x = alloc(BATCH * C * H * W), out = alloc(BATCH * o), gout = alloc(BATCH * o), dx = alloc(BATCH * C * H * W);
  kernels.push(
    { layer, what: 'max-pool', call: [`maxpool_${key}`, BATCH, x, C * H * W, out, o], bytes: 4 * BATCH * (C * H * W + o) },
    { layer, what: 'max-pool route (without the mask)', call: [`maxroute_${key}`, BATCH, x, C * H * W, gout, o, dx, C * H * W], bytes: 4 * BATCH * (2 * C * H * W + o), replaced: true },
    // What the model runs: the route with ReLU's mask in one pass (maxroutemask).
    { layer, what: 'max-pool route × ReLU mask (fused)', call: [`maxroutemask_${key}`, BATCH, x, C * H * W, gout, o, x, dx, C * H * W], bytes: 4 * BATCH * (3 * C * H * W + o) },
  );
};
pool('pool1', [6, 24, 24, 2]);
pool('pool2', [16, 8, 8, 2]);
const dense = (layer: string, m: number, k: number, withInputGrad: boolean) => {
  const x = alloc(BATCH * k), w = alloc(m * k), out = alloc(BATCH * m), dw = alloc(m * k), dx = alloc(BATCH * k);
  const flops = 2 * BATCH * m * k;
  kernels.push({ layer, what: `forward X Wᵀ (NT ${m}×${k})`, call: [`gemmNT_${m}_${k}`, BATCH, x, w, out], flops });
  kernels.push({ layer, what: `weight gradient Gᵀ X (TN ${m}×${k})`, call: [`gemmTN_${m}_${k}`, BATCH, out, x, dw, 0, 0, m], flops });
  if (withInputGrad) kernels.push({ layer, what: `input gradient G W (NN ${m}×${k})`, call: [`gemmNN_${m}_${k}`, BATCH, out, w, dx], flops });
};
dense('fc3', 120, 256, true);
dense('fc4', 84, 120, true);
dense('fc5', 10, 84, true);

const runs = kernels.map(({ call: [name, ...args] }) => {
  const one = ex[name], two = splitKernel(helpers, name, one);
  return [() => one(...args), () => two(...args)];
});
const times = kernels.map(() => [[], []] as number[][]);
for (const [one, two] of runs) { one(); two(); }
for (let r = 0; r < ROUNDS; r++) runs.forEach((pair, i) => pair.forEach((run, th) => { const t = performance.now(); for (let q = 0; q < 5; q++) run(); times[i][th].push((performance.now() - t) / 5); }));
helpers.stop();
const median = (t: number[]) => t.sort((a, b) => a - b)[Math.floor(t.length / 2)];
const med = times.map((t) => median(t[0])), med2 = times.map((t) => median(t[1]));
const sum = (ms: number[], keep: (k: Kernel) => boolean) => ms.reduce((a, b, i) => a + (keep(kernels[i]) ? b : 0), 0);
const total = sum(med, (k) => !k.replaced), total2 = sum(med2, (k) => !k.replaced);
console.log(`LeNet-5 kernels, wasm target, batch ${BATCH} (${ROUNDS} alternating rounds, medians); the peak: npm run bench:peak`);
console.log(`  ${'layer'.padEnd(6)} ${'kernel'.padEnd(46)} ${'1 thread'.padStart(8)}  share  ${'rate'.padEnd(14)} 2 threads`);
kernels.forEach((k, i) => {
  const rate = k.flops ? `${(k.flops / med[i] / 1e6).toFixed(1)} GFLOP/s` : `${(k.bytes! / med[i] / 1e6).toFixed(1)} GB/s`;
  const share = k.replaced ? '  —  ' : `${((100 * med[i]) / total).toFixed(0).padStart(4)}%`;
  const note = k.replaced ? '  (for comparison: not run by the model)' : '';
  console.log(`  ${k.layer.padEnd(6)} ${k.what.padEnd(46)} ${med[i].toFixed(3).padStart(6)} ms  ${share}  ${rate.padEnd(14)} ${med2[i].toFixed(3)} ms (${(med[i] / med2[i]).toFixed(2)}×)${note}`);
});
console.log('  per layer, 1 → 2 threads (what the model runs):');
for (const layer of [...new Set(kernels.map((k) => k.layer))]) {
  const a = sum(med, (k) => k.layer === layer && !k.replaced), b = sum(med2, (k) => k.layer === layer && !k.replaced);
  console.log(`    ${layer.padEnd(6)} ${a.toFixed(3)} ms → ${b.toFixed(3)} ms (${(a / b).toFixed(2)}×)`);
}
const flops = kernels.reduce((s, k) => s + (k.replaced ? 0 : k.flops ?? 0), 0);
console.log(`  these kernels: ${total.toFixed(2)} ms a step on one thread (${((BATCH * 1000) / total).toFixed(0)} examples/s if nothing else ran), ${total2.toFixed(2)} ms on two (${(total / total2).toFixed(2)}×); products ${(flops / 1e6).toFixed(1)} MFLOP`);

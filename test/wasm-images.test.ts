// The wasm target's image data movement (compiler/codegen/wasm/image-builder.mjs): patch gathering (im2col)
// and scattering (col2im), the channel-first ↔ channel-last copies and max-pooling with its route, each
// specialised to a geometry, equal bit for bit to straightforward loops (and to runtime/conv.ts's pooling)
// on geometries with and without padding, stride 1 and 2, one channel and several, windows that do not
// tile the image; the per-channel sums to float32 accuracy. The products around them are tested with the models (test/wasm.test.ts, gradcheck).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildGemmModule } from '../compiler/codegen/wasm/gemm.js';
import * as conv from '../runtime/conv.js';

/** The part of the WebAssembly API used here (Node's types do not declare it). */
const WA = (globalThis as unknown as { WebAssembly: {
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => { buffer: ArrayBufferLike };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: object) => { exports: Record<string, (...a: number[]) => void> };
} }).WebAssembly;

const CONVS = [[1, 28, 28, 6, 5, 5, 1, 0, 24, 24], [6, 12, 12, 16, 5, 5, 1, 2, 12, 12], [3, 9, 9, 4, 3, 3, 2, 1, 5, 5], [2, 6, 7, 3, 2, 4, 1, 0, 5, 4]];
const POOLS = [[6, 24, 24, 2, 12, 12], [3, 7, 7, 2, 3, 3], [2, 9, 6, 3, 3, 2], [2, 10, 13, 2, 5, 6], [1, 4, 18, 2, 2, 9]];

test('im2col, col2im, the row copies and max-pooling in WebAssembly equal plain loops bit for bit', () => {
  const memory = new WA.Memory({ initial: 64, maximum: 65536, shared: true });
  const SUMS = [[6, 576], [16, 64], [3, 7]];
  const ex = new WA.Instance(new WA.Module(buildGemmModule([], true, [], [], { convs: CONVS, pools: POOLS, sums: SUMS })), { env: { memory } }).exports;
  let top = 64;
  const alloc = (n: number) => { const v = new Float32Array(memory.buffer, top, n); top += Math.ceil((n * 4) / 16) * 16 + 16; return v; };
  const random = (a: Float32Array) => { for (let i = 0; i < a.length; i++) a[i] = Math.fround(Math.sin(i * 1.7 + a.length)); return a; };
  const count = 3;
  for (const g of CONVS) {
    const [C, H, W, F, kh, kw, s, p, Ho, Wo] = g, key = g.join('_');
    const xs = C * H * W, P = Ho * Wo, ck = C * kh * kw;
    const tap = (oy: number, ox: number, ki: number, kj: number) => [oy * s + ki - p, ox * s + kj - p] as const;
    const inside = (y: number, x: number) => y >= 0 && y < H && x >= 0 && x < W;
    const X = random(alloc(count * xs)), patches = alloc(count * P * ck);
    ex[`im2col_${key}`](count, X.byteOffset, xs, patches.byteOffset);
    const wantPatches = new Float32Array(count * P * ck);
    const image = new Float32Array(count * xs);
    let q = 0;
    for (let b = 0; b < count; b++) for (let oy = 0; oy < Ho; oy++) for (let ox = 0; ox < Wo; ox++) for (let c = 0; c < C; c++) for (let ki = 0; ki < kh; ki++) for (let kj = 0; kj < kw; kj++, q++) {
      const [y, x] = tap(oy, ox, ki, kj);
      if (!inside(y, x)) continue;
      wantPatches[q] = X[b * xs + (c * H + y) * W + x];
      image[b * xs + (c * H + y) * W + x] += patches[q];
    }
    assert.deepEqual(patches, wantPatches, `im2col ${key}`);
    const back = random(alloc(count * xs)); // col2im overwrites whatever was there
    ex[`col2im_${key}`](count, patches.byteOffset, back.byteOffset, xs);
    assert.deepEqual(back, image, `col2im ${key}`);
    const img = random(alloc(count * F * P)), rows = alloc(count * P * F), again = alloc(count * F * P);
    ex[`img2rows_${F}_${P}`](count, img.byteOffset, F * P, rows.byteOffset);
    for (let b = 0; b < count; b++) for (let f = 0; f < F; f++) for (let pos = 0; pos < P; pos++) assert.equal(rows[(b * P + pos) * F + f], img[b * F * P + f * P + pos]);
    ex[`rows2img_${F}_${P}`](count, rows.byteOffset, again.byteOffset, F * P);
    assert.deepEqual(again, img, `rows2img ${F}×${P}`);
  }
  for (const g of POOLS) {
    const [C, H, W, , Ho, Wo] = g, key = g.slice(0, 4).join('_'), xs = C * H * W, os = C * Ho * Wo;
    // Values on a coarse grid, so windows tie often (the first of equal values takes the gradient), with a NaN
    // and both zeros.
    const X = random(alloc(count * xs)), out = alloc(count * os), want = new Float32Array(count * os);
    X.forEach((v, i) => { X[i] = Math.round(v * 2) / 2; }); // in place: X must stay in the module's memory
    X[1] = NaN; X[2] = -0; X[3] = 0;
    ex[`maxpool_${key}`](count, X.byteOffset, xs, out.byteOffset, os);
    conv.maxpoolForward(count, g as unknown as conv.PoolGeometry, Float32Array.from(X), xs, want, os);
    assert.deepEqual(out, want, `maxpool ${key}`);
    const G = random(alloc(count * os)), routed = random(alloc(count * xs)), wantRouted = new Float32Array(count * xs);
    ex[`maxroute_${key}`](count, X.byteOffset, xs, G.byteOffset, os, routed.byteOffset, xs);
    conv.maxpoolRoute(count, g as unknown as conv.PoolGeometry, Float32Array.from(X), xs, Float32Array.from(G), os, wantRouted, xs);
    assert.deepEqual(routed, wantRouted, `maxpool route ${key}`);
  }
  // The per-channel sums add in four lanes, then across them: float32 rounding, not the same bits as one
  // running sum, so against float64 to float32 accuracy.
  for (const [F, HW] of SUMS) {
    const X = random(alloc(count * F * HW)), out = alloc(count * F);
    ex[`sumpos_${F}_${HW}`](count, X.byteOffset, F * HW, out.byteOffset, F);
    for (let b = 0; b < count; b++) for (let f = 0; f < F; f++) {
      let want = 0;
      for (let i = 0; i < HW; i++) want += X[b * F * HW + f * HW + i];
      assert.ok(Math.abs(out[b * F + f] - want) <= 1e-5 * Math.max(1, Math.abs(want)) * Math.sqrt(HW), `sumpos ${F}×${HW} [${b}, ${f}]: ${out[b * F + f]} vs ${want}`);
    }
  }
});

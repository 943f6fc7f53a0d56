// The wasm target's image data movement (compiler/codegen/wasm/image-builder.mjs): patch gathering (im2col)
// and scattering (col2im), the channel-first ↔ channel-last copies and max-pooling with its route, each
// specialised to a geometry, equal bit for bit to straightforward loops (and to runtime/conv.ts's pooling)
// on geometries with and without padding, stride 1 and 2, one channel and several, windows that do not
// tile the image; the per-channel sums to float32 accuracy; the direct convolutions bit for bit against loops
// that add in their documented order. The products around them are tested with the models (test/wasm.test.ts, gradcheck).

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
    // The route times ReLU's mask in one pass = the route, then the plan's loop dL/da .* step(z), bit for bit
    // (a negative gradient where z ≤ 0 is −0 both ways; z holds NaN, ±0 and both signs).
    const Z = random(alloc(count * xs)), masked = random(alloc(count * xs));
    Z[0] = NaN; Z[1] = -0; Z[2] = 0;
    ex[`maxroutemask_${key}`](count, X.byteOffset, xs, G.byteOffset, os, Z.byteOffset, masked.byteOffset, xs);
    const wantMasked = wantRouted.map((v, i) => v * (Z[i] > 0 ? 1 : 0));
    assert.deepEqual(masked, wantMasked, `maxpool route with ReLU's mask ${key}`);
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

// Direct convolutions (compiler/codegen/wasm/conv-builder.mjs): each output a running float32 sum in the
// documented order, so equal bit for bit to these loops (a zero's sign aside: a lane outside G adds ±0).
// Geometries: LeNet-5's two layers, filter and channel counts that leave a remainder tile, one-column and
// wide kernels, a four-column output.
const DIRECT = [[1, 28, 28, 6, 5, 5, 1, 0, 24, 24], [6, 12, 12, 16, 5, 5, 1, 0, 8, 8], [5, 8, 12, 7, 3, 5, 1, 0, 6, 8], [2, 7, 16, 11, 2, 1, 1, 0, 6, 16], [3, 6, 8, 4, 3, 5, 1, 0, 4, 4], [1, 10, 12, 2, 3, 9, 1, 0, 8, 4]];

test('direct convolutions in WebAssembly: forward (alone, and with the bias and ReLU fused), kernel gradient and input gradient equal ordered loops', () => {
  const memory = new WA.Memory({ initial: 64, maximum: 65536, shared: true });
  const ex = new WA.Instance(new WA.Module(buildGemmModule([], true, [], [], { convs: DIRECT, pools: [] })), { env: { memory } }).exports;
  let top = 64;
  // 64 bytes after every buffer, as the wasm target's allocator leaves (convdx reads a masked vector past G's ends).
  const alloc = (n: number) => { const v = new Float32Array(memory.buffer, top, n); top += Math.ceil((n * 4) / 16) * 16 + 64; return v; };
  const random = (a: Float32Array, seed: number) => { for (let i = 0; i < a.length; i++) a[i] = Math.fround(Math.sin(i * 1.7 + seed) * 2); return a; };
  const same = (got: Float32Array, want: Float32Array, what: string) => {
    for (let i = 0; i < want.length; i++) if (!(got[i] === want[i] || (Number.isNaN(got[i]) && Number.isNaN(want[i])))) assert.fail(`${what}: element ${i} is ${got[i]}, want ${want[i]}`);
  };
  const f = Math.fround, count = 3;
  for (const g of DIRECT) {
    const [C, H, W, F, kh, kw, , , Ho, Wo] = g, key = g.join('_');
    const xs = C * H * W, gs = F * Ho * Wo, taps = C * kh * kw;
    const X = random(alloc(count * xs), 1), K = random(alloc(F * taps), 2), G = random(alloc(count * gs), 3);
    const xAt = (b: number, c: number, y: number, x: number) => X[b * xs + (c * H + y) * W + x];
    const gAt = (b: number, o: number, y: number, x: number) => G[b * gs + (o * Ho + y) * Wo + x];
    const kAt = (o: number, c: number, i: number, j: number) => K[((o * C + c) * kh + i) * kw + j];

    // Forward: taps in the order (channel, kernel row, kernel column).
    const out = random(alloc(count * gs), 4), wantOut = new Float32Array(count * gs);
    ex[`convfwd_${key}`](count, X.byteOffset, xs, K.byteOffset, out.byteOffset, gs);
    for (let b = 0; b < count; b++) for (let o = 0; o < F; o++) for (let y = 0; y < Ho; y++) for (let x = 0; x < Wo; x++) {
      let acc = 0;
      for (let c = 0; c < C; c++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) acc = f(acc + f(xAt(b, c, y + i, x + j) * kAt(o, c, i, j)));
      wantOut[b * gs + (o * Ho + y) * Wo + x] = acc;
    }
    same(out, wantOut, `convfwd ${key}`);

    // With the bias and ReLU as the epilogue: z = sum + c[o] and a = max(z, 0), the plan's two loops' bits.
    const c = random(alloc(F), 7), z = random(alloc(count * gs), 8), a = random(alloc(count * gs), 9);
    ex[`convfwdbr_${key}`](count, X.byteOffset, xs, K.byteOffset, c.byteOffset, z.byteOffset, a.byteOffset, gs);
    const wantZ = wantOut.map((v, i) => f(v + c[Math.floor((i % gs) / (Ho * Wo))]));
    same(z, wantZ, `convfwdbr ${key} (z)`);
    same(a, wantZ.map((v) => Math.max(v, 0)), `convfwdbr ${key} (a)`);

    // The kernel gradient: four lanes (output columns x ≡ lane mod 4) over the batch, then (l0 + l1) + (l2 + l3);
    // β = 1 adds to what dK held. Run as two calls over the kernel rows, as two threads would.
    const dK = random(alloc(F * taps), 5), before = Float32Array.from(dK), wantDK = new Float32Array(F * taps);
    const rows = C * kh, half = Math.floor(rows / 2);
    ex[`convdk_${key}`](count, X.byteOffset, xs, G.byteOffset, gs, dK.byteOffset, 1, 0, half);
    ex[`convdk_${key}`](count, X.byteOffset, xs, G.byteOffset, gs, dK.byteOffset, 1, half, rows);
    for (let o = 0; o < F; o++) for (let c = 0; c < C; c++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
      const lane = [0, 0, 0, 0];
      for (let b = 0; b < count; b++) for (let y = 0; y < Ho; y++) for (let x = 0; x < Wo; x++) lane[x % 4] = f(lane[x % 4] + f(gAt(b, o, y, x) * xAt(b, c, y + i, x + j)));
      const at = ((o * C + c) * kh + i) * kw + j;
      wantDK[at] = f(before[at] + f(f(lane[0] + lane[1]) + f(lane[2] + lane[3])));
    }
    same(dK, wantDK, `convdk ${key}`);

    // The input gradient: terms in the order (kernel row, kernel column, filter), those outside G left out.
    const dX = random(alloc(count * xs), 6), wantDX = new Float32Array(count * xs);
    ex[`convdx_${key}`](count, G.byteOffset, gs, K.byteOffset, dX.byteOffset, xs);
    for (let b = 0; b < count; b++) for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      let acc = 0;
      for (let i = 0; i < kh; i++) {
        if (y - i < 0 || y - i >= Ho) continue;
        for (let j = 0; j < kw; j++) for (let o = 0; o < F; o++) if (x - j >= 0 && x - j < Wo) acc = f(acc + f(gAt(b, o, y - i, x - j) * kAt(o, c, i, j)));
      }
      wantDX[b * xs + (c * H + y) * W + x] = acc;
    }
    same(dX, wantDX, `convdx ${key}`);
  }
});

test('the builder thread: a module it cannot build is an internal error with the builder\'s reason, and it goes on building', () => {
  // A loop expression the builder has no instruction for (the compiler never asks for one): binaryen's thread answers with the error.
  const bad = { name: 'bad_loop', m: 4, inputs: 1, expr: { op: 'no-such-op' } as never, lanes: true };
  assert.throws(() => buildGemmModule([], true, [bad]), /internal error: building the WebAssembly kernels failed: .*no wasm for no-such-op/);
  // Sizes no earlier run asked for, so that the thread builds it (the disk cache does not answer).
  const bytes = buildGemmModule([{ variant: 'NT', m: 3, k: 1000 + (process.pid % 5000) }], true);
  assert.ok(new WA.Module(bytes), 'the next module still builds');
});

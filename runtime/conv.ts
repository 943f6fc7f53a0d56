// Image kernels over a minibatch: convolution (cross-correlation, as every framework defines it), its two
// adjoints, and pooling. Every kernel takes `count` examples and, per buffer, the distance between one
// example's values and the next (0 for a buffer every example shares, such as a kernel K).
//

import type { Buf } from './kernels.js';
import { gemmNN, gemmNT, gemmTN, routeAll } from './kernels.js';

/** Sizes of a convolution: X [C, H, W] and K [F, C, kh, kw] give [F, Ho, Wo] at stride s with padding p. */
export type ConvGeometry = readonly [C: number, H: number, W: number, F: number, kh: number, kw: number, s: number, p: number, Ho: number, Wo: number];

/**
 * Per example, the convolution is a matrix product over the image's patches ("im2col"): row `pos` of the
 * patch matrix [Ho·Wo, C·kh·kw] holds the taps that output position reads (0 where it reads the padding).
 * Then conv2d is K · patchesᵀ, ∂L/∂K is G · patches and ∂L/∂patches is Gᵀ · K, folded back onto the image
 * ("col2im"); the products run in the tiled kernels of kernels.ts. Measured on LeNet-5's layers this is
 * 5–8× faster than the direct six-deep loops.
 */
let patchScratch32 = new Float32Array(0);
let patchScratch64 = new Float64Array(0);
function patchBuffer(like: Buf, size: number): Buf {
  if (like instanceof Float64Array) {
    if (patchScratch64.length < size) patchScratch64 = new Float64Array(size);
    return patchScratch64;
  }
  if (patchScratch32.length < size) patchScratch32 = new Float32Array(size);
  return patchScratch32;
}

/** patches[pos, (c, ki, kj)] = X[xb + c, oy·s + ki − p, ox·s + kj − p], or 0 outside the image. */
function im2col(g: ConvGeometry, X: Buf, xb: number, patches: Buf, pb: number): void {
  walkPatches(g, X, xb, patches, pb, false);
}

/** dX[xb + …] = the patch gradients summed back onto the pixels they were read from. */
function col2im(g: ConvGeometry, patches: Buf, pb: number, dX: Buf, xb: number): void {
  dX.fill(0, xb, xb + g[0] * g[1] * g[2]);
  walkPatches(g, dX, xb, patches, pb, true);
}

/**
 * The walk both share, patch by patch in memory order: gather (image → patches, 0 for the padding) or, with
 * `scatter`, add each patch value back onto its pixel. A flag rather than a callback: a call per pixel
 * measured 2–3× slower.
 */
function walkPatches(g: ConvGeometry, img: Buf, xb: number, patches: Buf, pb: number, scatter: boolean): void {
  const [C, H, W, , kh, kw, s, p, Ho, Wo] = g;
  let q = pb;
  for (let oy = 0; oy < Ho; oy++) {
    const y0 = oy * s - p;
    for (let ox = 0; ox < Wo; ox++) {
      const x0 = ox * s - p;
      // Most windows lie inside the image: their rows need no test per pixel.
      const inside = y0 >= 0 && y0 + kh <= H && x0 >= 0 && x0 + kw <= W;
      for (let c = 0; c < C; c++) for (let ki = 0; ki < kh; ki++) {
        const y = y0 + ki, row = xb + (c * H + y) * W + x0;
        if (inside) {
          if (scatter) for (let kj = 0; kj < kw; kj++) img[row + kj] += patches[q++];
          else for (let kj = 0; kj < kw; kj++) patches[q++] = img[row + kj];
          continue;
        }
        const rowInside = y >= 0 && y < H;
        for (let kj = 0; kj < kw; kj++, q++) {
          const x = x0 + kj, hit = rowInside && x >= 0 && x < W;
          if (scatter) { if (hit) img[row + kj] += patches[q]; } else patches[q] = hit ? img[row + kj] : 0;
        }
      }
    }
  }
}

/**
 * Scratch for a batch: `patches` holds every example's patch matrix, one row per output position
 * ([count·Ho·Wo, C·kh·kw]); `rows` holds an image of F channels with the channel last ([count·Ho·Wo, F]).
 * The compiled model allocates both once, in the memory its products run in (WebAssembly's, in the wasm
 * target), so that one product covers the whole batch. Without them (a kernel that differs per example)
 * the products run per example over scratch of this module's own.
 */
export interface ConvScratch { readonly patches: Buf; readonly rows: Buf }

/** rows[(b·P + pos)·F + f] = img[b·is + f·P + pos]: channel-first images to channel-last rows. */
function imageToRows(count: number, F: number, P: number, img: Buf, is: number, rows: Buf): void {
  const wasm = routeAll(`img2rows_${F}_${P}`, [img, rows]);
  if (wasm) { wasm(count, img.byteOffset, is, rows.byteOffset); return; }
  for (let b = 0; b < count; b++) for (let f = 0; f < F; f++) {
    const src = b * is + f * P, dst = b * P * F + f;
    for (let pos = 0; pos < P; pos++) rows[dst + pos * F] = img[src + pos];
  }
}
function rowsToImage(count: number, F: number, P: number, rows: Buf, img: Buf, is: number): void {
  const wasm = routeAll(`rows2img_${F}_${P}`, [rows, img]);
  if (wasm) { wasm(count, rows.byteOffset, img.byteOffset, is); return; }
  for (let b = 0; b < count; b++) for (let f = 0; f < F; f++) {
    const dst = b * is + f * P, src = b * P * F + f;
    for (let pos = 0; pos < P; pos++) img[dst + pos] = rows[src + pos * F];
  }
}
function im2colBatch(count: number, g: ConvGeometry, X: Buf, xs: number, patches: Buf): void {
  const wasm = routeAll(`im2col_${g.join('_')}`, [X, patches]);
  if (wasm) { wasm(count, X.byteOffset, xs, patches.byteOffset); return; }
  const ck = g[0] * g[4] * g[5], P = g[8] * g[9];
  for (let b = 0; b < count; b++) im2col(g, X, b * xs, patches, b * P * ck);
}

/** out = conv2d(X, K): out[f, oy, ox] = Σ_{c, ki, kj} X[c, oy·s + ki − p, ox·s + kj − p] K[f, c, ki, kj]. */
export function conv2dForward(count: number, g: ConvGeometry, X: Buf, xs: number, K: Buf, ks: number, out: Buf, os: number, scratch?: ConvScratch): void {
  const [C, , , F, kh, kw, , , Ho, Wo] = g;
  const ck = C * kh * kw, P = Ho * Wo;
  // In the wasm target, a layer its module has a direct kernel for (stride 1, no padding): no patches at all.
  const direct = ks === 0 || count === 1 ? routeAll(`convfwd_${g.join('_')}`, [X, K, out]) : undefined;
  if (direct) { direct(count, X.byteOffset, xs, K.byteOffset, out.byteOffset, os); return; }
  if (scratch && (ks === 0 || count === 1)) {
    // The whole batch as one product: rows = patches · Kᵀ.
    im2colBatch(count, g, X, xs, scratch.patches);
    gemmNT(count * P, F, ck, scratch.patches, K, scratch.rows);
    rowsToImage(count, F, P, scratch.rows, out, os);
    return;
  }
  const patches = patchBuffer(X, P * ck);
  for (let b = 0; b < count; b++) {
    im2col(g, X, b * xs, patches, 0);
    gemmNT(F, P, ck, K.subarray(b * ks, b * ks + F * ck), patches, out.subarray(b * os, b * os + F * P));
  }
}

/**
 * z = conv2d(X, K) + c (one bias per channel) and a = relu(z), in one pass where the wasm target has the
 * layer's fused kernel (the direct convolution with the bias and ReLU as its epilogue) and every buffer is in
 * its memory: true if it ran; false, and the caller runs the three steps.
 */
export function conv2dBiasRelu(count: number, g: ConvGeometry, X: Buf, xs: number, K: Buf, ks: number, c: Buf, z: Buf, a: Buf, os: number): boolean {
  const fused = ks === 0 || count === 1 ? routeAll(`convfwdbr_${g.join('_')}`, [X, K, c, z, a]) : undefined;
  if (!fused) return false;
  fused(count, X.byteOffset, xs, K.byteOffset, c.byteOffset, z.byteOffset, a.byteOffset, os);
  return true;
}

/** dX = the full convolution of G with the flipped kernel: dX[c, y, x] = Σ G[f, oy, ox] K[f, c, ki, kj] over the taps that read (y, x). */
export function conv2dGradInput(count: number, g: ConvGeometry, G: Buf, gs: number, K: Buf, ks: number, out: Buf, os: number, scratch?: ConvScratch): void {
  const [C, , , F, kh, kw, , , Ho, Wo] = g;
  const ck = C * kh * kw, P = Ho * Wo;
  const direct = ks === 0 || count === 1 ? routeAll(`convdx_${g.join('_')}`, [G, K, out]) : undefined;
  if (direct) { direct(count, G.byteOffset, gs, K.byteOffset, out.byteOffset, os); return; }
  if (scratch && (ks === 0 || count === 1)) {
    // ∂L/∂patches = rows(G) · K for the whole batch, then each patch's gradient back onto its pixels.
    imageToRows(count, F, P, G, gs, scratch.rows);
    gemmNN(count * P, F, ck, scratch.rows, K, scratch.patches);
    const wasm = routeAll(`col2im_${g.join('_')}`, [scratch.patches, out]);
    if (wasm) wasm(count, scratch.patches.byteOffset, out.byteOffset, os);
    else for (let b = 0; b < count; b++) col2im(g, scratch.patches, b * P * ck, out, b * os);
    return;
  }
  const patches = patchBuffer(G, P * ck);
  for (let b = 0; b < count; b++) {
    gemmTN(F, P, ck, G.subarray(b * gs, b * gs + F * P), K.subarray(b * ks, b * ks + F * ck), patches, 0);
    col2im(g, patches, 0, out, b * os);
  }
}

/** dK = the correlation of X with G: dK[f, c, ki, kj] = Σ_{oy, ox} G[f, oy, ox] X[c, oy·s + ki − p, ox·s + kj − p], per example. */
export function conv2dGradKernel(count: number, g: ConvGeometry, X: Buf, xs: number, G: Buf, gs: number, out: Buf, os: number): void {
  const [C, , , F, kh, kw, , , Ho, Wo] = g;
  const ck = C * kh * kw, P = Ho * Wo;
  const patches = patchBuffer(X, P * ck);
  for (let b = 0; b < count; b++) {
    im2col(g, X, b * xs, patches, 0);
    gemmNN(F, P, ck, G.subarray(b * gs, b * gs + F * P), patches, out.subarray(b * os, b * os + F * ck));
  }
}

/**
 * acc = β·acc + Σ_b dK_b: a kernel's gradient summed over the batch in one product, rows(G)ᵀ · patches
 * (β = 0 overwrites: the gradient's first term; 1 adds). `gathered`: the forward convolution of this step
 * already gathered X's patches into scratch.patches (the compiled model gives each layer its own).
 */
export function conv2dGradKernelSum(count: number, g: ConvGeometry, X: Buf, xs: number, G: Buf, gs: number, acc: Buf, beta: number, scratch: ConvScratch, gathered: number): void {
  const [C, , , F, kh, kw, , , Ho, Wo] = g;
  const ck = C * kh * kw, P = Ho * Wo;
  const key = g.join('_');
  const direct = routeAll(`convdk_${key}`, [X, G, acc]);
  if (direct) { direct(count, X.byteOffset, xs, G.byteOffset, gs, acc.byteOffset, beta ? 1 : 0, 0, C * kh); return; }
  // The forward convolution left the patches there, unless it ran a direct kernel.
  if (!gathered || routeAll(`convfwd_${key}`, [X])) im2colBatch(count, g, X, xs, scratch.patches);
  imageToRows(count, F, P, G, gs, scratch.rows);
  gemmTN(count * P, F, ck, scratch.rows, scratch.patches, acc, beta);
}

/** Pooling windows: X [C, H, W] in non-overlapping s×s windows gives [C, Ho, Wo] (Ho = ⌊H/s⌋: a remainder is dropped). */
export type PoolGeometry = readonly [C: number, H: number, W: number, s: number, Ho: number, Wo: number];

/** The index within one example of the first largest element of window (c, py, px). */
function argmaxWindow(g: PoolGeometry, X: Buf, xb: number, c: number, py: number, px: number): number {
  const [, H, W, s] = g;
  let best = (c * H + py * s) * W + px * s, m = X[xb + best];
  for (let i = 0; i < s; i++) {
    const row = (c * H + py * s + i) * W + px * s;
    for (let j = 0; j < s; j++) if (X[xb + row + j] > m) { m = X[xb + row + j]; best = row + j; }
  }
  return best;
}

export function maxpoolForward(count: number, g: PoolGeometry, X: Buf, xs: number, out: Buf, os: number): void {
  const wasm = routeAll(`maxpool_${g.slice(0, 4).join('_')}`, [X, out]);
  if (wasm) { wasm(count, X.byteOffset, xs, out.byteOffset, os); return; }
  const [C, H, W, s, Ho, Wo] = g;
  for (let b = 0; b < count; b++) {
    let o = b * os;
    for (let c = 0; c < C; c++) for (let py = 0; py < Ho; py++) {
      const top = b * xs + (c * H + py * s) * W;
      for (let px = 0; px < Wo; px++) {
        let m = X[top + px * s];
        for (let i = 0; i < s; i++) for (let j = 0, at = top + i * W + px * s; j < s; j++, at++) if (X[at] > m) m = X[at];
        out[o++] = m;
      }
    }
  }
}

/** The adjoint of maxpool: each window's gradient goes to its arg-max (the first, on a tie); the rest get 0. */
export function maxpoolRoute(count: number, g: PoolGeometry, X: Buf, xs: number, G: Buf, gs: number, out: Buf, os: number): void {
  const wasm = routeAll(`maxroute_${g.slice(0, 4).join('_')}`, [X, G, out]);
  if (wasm) { wasm(count, X.byteOffset, xs, G.byteOffset, gs, out.byteOffset, os); return; }
  const [C, H, W, s, Ho, Wo] = g;
  for (let b = 0; b < count; b++) {
    out.fill(0, b * os, b * os + C * H * W);
    let o = b * gs;
    for (let c = 0; c < C; c++) for (let py = 0; py < Ho; py++) {
      const top = (c * H + py * s) * W;
      for (let px = 0; px < Wo; px++) {
        let best = top + px * s, m = X[b * xs + best];
        for (let i = 0; i < s; i++) for (let j = 0, at = top + i * W + px * s; j < s; j++, at++) if (X[b * xs + at] > m) { m = X[b * xs + at]; best = at; }
        out[b * os + best] = G[o++];
      }
    }
  }
}

/**
 * out = maxpoolRoute(X, G) .* step(Z) (Z laid out as out: ReLU's mask where the gradient lands) in one pass,
 * where the wasm target has the fused kernel: true if it ran; false, and the caller runs the two steps.
 */
export function maxpoolRouteMask(count: number, g: PoolGeometry, X: Buf, xs: number, G: Buf, gs: number, Z: Buf, out: Buf, os: number): boolean {
  const fused = routeAll(`maxroutemask_${g.slice(0, 4).join('_')}`, [X, G, Z, out]);
  if (!fused) return false;
  fused(count, X.byteOffset, xs, G.byteOffset, gs, Z.byteOffset, out.byteOffset, os);
  return true;
}

/** The value of H at each window's arg-max in X (the adjoint of maxpoolRoute with respect to its gradient). */
export function maxpoolGather(count: number, g: PoolGeometry, X: Buf, xs: number, H: Buf, hs: number, out: Buf, os: number): void {
  const [C, , , , Ho, Wo] = g;
  for (let b = 0; b < count; b++) {
    let o = b * os;
    for (let c = 0; c < C; c++) for (let py = 0; py < Ho; py++) for (let px = 0; px < Wo; px++) out[o++] = H[b * hs + argmaxWindow(g, X, b * xs, c, py, px)];
  }
}

export function avgpoolForward(count: number, g: PoolGeometry, X: Buf, xs: number, out: Buf, os: number): void {
  const [C, H, W, s, Ho, Wo] = g;
  for (let b = 0; b < count; b++) {
    let o = b * os;
    for (let c = 0; c < C; c++) for (let py = 0; py < Ho; py++) for (let px = 0; px < Wo; px++) {
      let acc = 0;
      for (let i = 0; i < s; i++) for (let j = 0; j < s; j++) acc += X[b * xs + (c * H + py * s + i) * W + px * s + j];
      out[o++] = acc / (s * s);
    }
  }
}

/** Each element of G repeated over its s×s window of an [C, H, W] image; a dropped remainder gets 0. */
export function upsample(count: number, g: PoolGeometry, G: Buf, gs: number, out: Buf, os: number): void {
  const [C, H, W, s, Ho, Wo] = g;
  for (let b = 0; b < count; b++) {
    out.fill(0, b * os, b * os + C * H * W);
    let o = b * gs;
    for (let c = 0; c < C; c++) for (let py = 0; py < Ho; py++) for (let px = 0; px < Wo; px++, o++) {
      for (let i = 0; i < s; i++) for (let j = 0; j < s; j++) out[b * os + (c * H + py * s + i) * W + px * s + j] = G[o];
    }
  }
}

/** out[f] = Σ_{y, x} X[f, y, x]: the gradient of a per-channel bias. */
export function sumPositions(count: number, [F, HW]: readonly number[], X: Buf, xs: number, out: Buf, os: number): void {
  const wasm = routeAll(`sumpos_${F}_${HW}`, [X, out]);
  if (wasm) { wasm(count, X.byteOffset, xs, out.byteOffset, os); return; }
  for (let b = 0; b < count; b++) for (let f = 0; f < F; f++) {
    let acc = 0;
    for (let i = 0; i < HW; i++) acc += X[b * xs + f * HW + i];
    out[b * os + f] = acc;
  }
}

/** The same elements in another shape: a copy (row-major order is unchanged). */
export function copyElements(count: number, [size]: readonly number[], X: Buf, xs: number, out: Buf, os: number): void {
  for (let b = 0; b < count; b++) for (let i = 0; i < size; i++) out[b * os + i] = X[b * xs + i];
}

/** out[p, q] = Σ_j X[p, j, q]: a sum along one axis of any tensor, its sizes as [before, axis, after]. */
export function sumAxis(count: number, [P, K, Q]: readonly number[], X: Buf, xs: number, out: Buf, os: number): void {
  for (let b = 0; b < count; b++) {
    out.fill(0, b * os, b * os + P * Q);
    for (let p = 0; p < P; p++) for (let j = 0; j < K; j++) {
      const from = b * xs + (p * K + j) * Q, to = b * os + p * Q;
      for (let q = 0; q < Q; q++) out[to + q] += X[from + q];
    }
  }
}

/** out[p, j, q] = G[p, q]: G repeated along a new axis, the adjoint of sumAxis. */
export function spreadAxis(count: number, [P, K, Q]: readonly number[], G: Buf, gs: number, out: Buf, os: number): void {
  for (let b = 0; b < count; b++) for (let p = 0; p < P; p++) for (let j = 0; j < K; j++) {
    const from = b * gs + p * Q, to = b * os + (p * K + j) * Q;
    for (let q = 0; q < Q; q++) out[to + q] = G[from + q];
  }
}

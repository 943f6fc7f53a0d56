// Dense kernels over a minibatch, row-major, for float32 or float64 buffers. The matrix products are
// 4×4 register-tiled with the reduction in the innermost loop over contiguous memory where possible.

export type Buf = Float32Array | Float64Array;

/**
 * WebAssembly kernels for products whose operands all live in one WebAssembly memory (runtime/wasm.ts
 * registers them): `route` returns the specialised kernel for this product, or undefined to run the
 * TypeScript loops below (float64 buffers, buffers from elsewhere, sizes without a kernel).
 */
export interface GemmRoute { alive(): boolean; owns(buf: Buf): boolean; kernel(name: string): ((...args: number[]) => void) | undefined }
const gemmRoutes: GemmRoute[] = [];
export function addGemmRoute(r: GemmRoute): void {
  for (let i = gemmRoutes.length - 1; i >= 0; i--) if (!gemmRoutes[i].alive()) gemmRoutes.splice(i, 1);
  gemmRoutes.push(r);
}
/** The WebAssembly kernel `name` if buffers a, b and c all live in its memory (the optimizer asks too). */
export function route(name: string, a: Buf, b: Buf, c: Buf): ((...args: number[]) => void) | undefined {
  return routeAll(name, [a, b, c]);
}
/** The same for any number of buffers (the fused loops read several, the image kernels two or three). */
export function routeAll(name: string, bufs: readonly Buf[]): ((...args: number[]) => void) | undefined {
  if (!(bufs[0] instanceof Float32Array)) return undefined;
  for (const r of gemmRoutes) if (bufs.every((x) => r.owns(x))) return r.kernel(name);
  return undefined;
}

/**
 * A fused elementwise loop in WebAssembly (the wasm target builds one per eligible loop of the model), when
 * every buffer lives in that module's memory: true if it ran, false to run the TypeScript loop instead.
 */
export function wasmLoop(name: string, n: number, out: Buf, ...inputs: Buf[]): boolean {
  const fn = gemmRoutes.length ? routeAll(name, [out, ...inputs]) : undefined;
  if (!fn) return false;
  fn(n, out.byteOffset, ...inputs.map((x) => x.byteOffset));
  return true;
}

/** acc = β·acc + sign·Σ_b G[b, ·] in WebAssembly (the wasm target's bias gradients): true if it ran. */
export function wasmColumnSum(name: string, n: number, G: Buf, acc: Buf, beta: number, sign: number): boolean {
  const fn = gemmRoutes.length ? route(name, G, acc, acc) : undefined;
  if (!fn) return false;
  fn(n, G.byteOffset, acc.byteOffset, beta, sign);
  return true;
}

/**
 * Columns of X (n×k) that are not zero in every row. Inputs such as images have many (MNIST's border pixels),
 * and a product over the batch can skip them. The index buffer grows once and is reused.
 */
let activeScratch = new Int32Array(0);
function activeColumns(n: number, k: number, X: Buf): number {
  if (activeScratch.length < k) activeScratch = new Int32Array(k);
  let count = 0;
  for (let p = 0; p < k; p++) {
    for (let b = 0; b < n; b++) if (X[b * k + p] !== 0) { activeScratch[count++] = p; break; }
  }
  return count;
}

/** out[b, i] = Σ_p X[b, p] · W[i, p]   (X: n×k, W: m×k, out: n×m) — a layer's forward product. */
export function gemmNT(n: number, m: number, k: number, X: Buf, W: Buf, out: Buf): void {
  const wasm = gemmRoutes.length ? route(`gemmNT_${m}_${k}`, X, W, out) : undefined;
  if (wasm) { wasm(n, X.byteOffset, W.byteOffset, out.byteOffset); return; }
  if (k >= 64 && n >= 4) {
    const count = activeColumns(n, k, X);
    if (count < 0.85 * k) { gemmNTSparse(n, m, k, X, W, out, count, activeScratch); return; }
  }
  let b = 0;
  for (; b + 4 <= n; b += 4) {
    const x0 = b * k, x1 = x0 + k, x2 = x1 + k, x3 = x2 + k;
    let i = 0;
    for (; i + 4 <= m; i += 4) {
      const w0 = i * k, w1 = w0 + k, w2 = w1 + k, w3 = w2 + k;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let p = 0; p < k; p++) {
        const a0 = X[x0 + p], a1 = X[x1 + p], a2 = X[x2 + p], a3 = X[x3 + p];
        const v0 = W[w0 + p], v1 = W[w1 + p], v2 = W[w2 + p], v3 = W[w3 + p];
        c00 += a0 * v0; c01 += a0 * v1; c02 += a0 * v2; c03 += a0 * v3;
        c10 += a1 * v0; c11 += a1 * v1; c12 += a1 * v2; c13 += a1 * v3;
        c20 += a2 * v0; c21 += a2 * v1; c22 += a2 * v2; c23 += a2 * v3;
        c30 += a3 * v0; c31 += a3 * v1; c32 += a3 * v2; c33 += a3 * v3;
      }
      const o0 = b * m + i, o1 = o0 + m, o2 = o1 + m, o3 = o2 + m;
      out[o0] = c00; out[o0 + 1] = c01; out[o0 + 2] = c02; out[o0 + 3] = c03;
      out[o1] = c10; out[o1 + 1] = c11; out[o1 + 2] = c12; out[o1 + 3] = c13;
      out[o2] = c20; out[o2 + 1] = c21; out[o2 + 2] = c22; out[o2 + 3] = c23;
      out[o3] = c30; out[o3 + 1] = c31; out[o3 + 2] = c32; out[o3 + 3] = c33;
    }
    for (; i < m; i++) for (let r = 0; r < 4; r++) out[(b + r) * m + i] = dotRow(X, (b + r) * k, W, i * k, k);
  }
  for (; b < n; b++) for (let i = 0; i < m; i++) out[b * m + i] = dotRow(X, b * k, W, i * k, k);
}

/**
 * gemmNT over the listed columns only (the others are zero in every row of X). The tile loop repeats
 * gemmNT's on purpose: with every column listed, the indexed loop measured 5–8 % slower on dense inputs.
 */
function gemmNTSparse(n: number, m: number, k: number, X: Buf, W: Buf, out: Buf, count: number, cols: Int32Array): void {
  let b = 0;
  for (; b + 4 <= n; b += 4) {
    const x0 = b * k, x1 = x0 + k, x2 = x1 + k, x3 = x2 + k;
    let i = 0;
    for (; i + 4 <= m; i += 4) {
      const w0 = i * k, w1 = w0 + k, w2 = w1 + k, w3 = w2 + k;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let q = 0; q < count; q++) {
        const p = cols[q];
        const a0 = X[x0 + p], a1 = X[x1 + p], a2 = X[x2 + p], a3 = X[x3 + p];
        const v0 = W[w0 + p], v1 = W[w1 + p], v2 = W[w2 + p], v3 = W[w3 + p];
        c00 += a0 * v0; c01 += a0 * v1; c02 += a0 * v2; c03 += a0 * v3;
        c10 += a1 * v0; c11 += a1 * v1; c12 += a1 * v2; c13 += a1 * v3;
        c20 += a2 * v0; c21 += a2 * v1; c22 += a2 * v2; c23 += a2 * v3;
        c30 += a3 * v0; c31 += a3 * v1; c32 += a3 * v2; c33 += a3 * v3;
      }
      const o0 = b * m + i, o1 = o0 + m, o2 = o1 + m, o3 = o2 + m;
      out[o0] = c00; out[o0 + 1] = c01; out[o0 + 2] = c02; out[o0 + 3] = c03;
      out[o1] = c10; out[o1 + 1] = c11; out[o1 + 2] = c12; out[o1 + 3] = c13;
      out[o2] = c20; out[o2 + 1] = c21; out[o2 + 2] = c22; out[o2 + 3] = c23;
      out[o3] = c30; out[o3 + 1] = c31; out[o3 + 2] = c32; out[o3 + 3] = c33;
    }
    for (; i < m; i++) for (let r = 0; r < 4; r++) out[(b + r) * m + i] = dotRow(X, (b + r) * k, W, i * k, k);
  }
  for (; b < n; b++) for (let i = 0; i < m; i++) out[b * m + i] = dotRow(X, b * k, W, i * k, k);
}

function dotRow(A: Buf, a: number, B: Buf, c: number, k: number): number {
  let s = 0;
  for (let p = 0; p < k; p++) s += A[a + p] * B[c + p];
  return s;
}

/** out[b, j] = Σ_i G[b, i] · W[i, j]   (G: n×m, W: m×k, out: n×k) — Wᵀg for every example. */
export function gemmNN(n: number, m: number, k: number, G: Buf, W: Buf, out: Buf): void {
  const wasm = gemmRoutes.length ? route(`gemmNN_${m}_${k}`, G, W, out) : undefined;
  if (wasm) { wasm(n, G.byteOffset, W.byteOffset, out.byteOffset); return; }
  let b = 0;
  for (; b + 4 <= n; b += 4) {
    const g0 = b * m, g1 = g0 + m, g2 = g1 + m, g3 = g2 + m;
    let j = 0;
    for (; j + 4 <= k; j += 4) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let i = 0, w = j; i < m; i++, w += k) {
        const a0 = G[g0 + i], a1 = G[g1 + i], a2 = G[g2 + i], a3 = G[g3 + i];
        const v0 = W[w], v1 = W[w + 1], v2 = W[w + 2], v3 = W[w + 3];
        c00 += a0 * v0; c01 += a0 * v1; c02 += a0 * v2; c03 += a0 * v3;
        c10 += a1 * v0; c11 += a1 * v1; c12 += a1 * v2; c13 += a1 * v3;
        c20 += a2 * v0; c21 += a2 * v1; c22 += a2 * v2; c23 += a2 * v3;
        c30 += a3 * v0; c31 += a3 * v1; c32 += a3 * v2; c33 += a3 * v3;
      }
      const o0 = b * k + j, o1 = o0 + k, o2 = o1 + k, o3 = o2 + k;
      out[o0] = c00; out[o0 + 1] = c01; out[o0 + 2] = c02; out[o0 + 3] = c03;
      out[o1] = c10; out[o1 + 1] = c11; out[o1 + 2] = c12; out[o1 + 3] = c13;
      out[o2] = c20; out[o2 + 1] = c21; out[o2 + 2] = c22; out[o2 + 3] = c23;
      out[o3] = c30; out[o3 + 1] = c31; out[o3 + 2] = c32; out[o3 + 3] = c33;
    }
    for (; j < k; j++) for (let r = 0; r < 4; r++) out[(b + r) * k + j] = columnDot(G, (b + r) * m, W, j, k, m);
  }
  for (; b < n; b++) for (let j = 0; j < k; j++) out[b * k + j] = columnDot(G, b * m, W, j, k, m);
}

/** Σ_i A[a + i] · W[i·stride + j] */
function columnDot(A: Buf, a: number, W: Buf, j: number, stride: number, m: number): number {
  let s = 0;
  for (let i = 0; i < m; i++) s += A[a + i] * W[i * stride + j];
  return s;
}

/**
 * acc[i, j] = β·acc[i, j] + Σ_b U[b, i] · V[b, j]   (U: n×m, V: n×k, acc: m×k) — Σ over the batch of
 * outer(u, v). β = 0 overwrites (the first term of a gradient), β = 1 accumulates.
 */
export function gemmTN(n: number, m: number, k: number, U: Buf, V: Buf, acc: Buf, beta: number): void {
  const wasm = gemmRoutes.length ? route(`gemmTN_${m}_${k}`, U, V, acc) : undefined;
  if (wasm) { wasm(n, U.byteOffset, V.byteOffset, acc.byteOffset, beta, 0, m); return; }
  if (beta === 0) acc.fill(0, 0, m * k);
  // Blocks of 4 columns of V that are zero in every row contribute nothing (an image's border pixels).
  const count = k >= 64 ? activeColumns(n, k, V) : k;
  const sparse = count < 0.85 * k;
  if (sparse) {
    if (blockScratch.length < k) blockScratch = new Uint8Array(k);
    blockScratch.fill(0, 0, k);
    for (let q = 0; q < count; q++) blockScratch[activeScratch[q] >> 2] = 1;
  }
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    let j = 0;
    for (; j + 4 <= k; j += 4) {
      if (sparse && blockScratch[j >> 2] === 0) continue;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let b = 0, u = i, v = j; b < n; b++, u += m, v += k) {
        const a0 = U[u], a1 = U[u + 1], a2 = U[u + 2], a3 = U[u + 3];
        const x0 = V[v], x1 = V[v + 1], x2 = V[v + 2], x3 = V[v + 3];
        c00 += a0 * x0; c01 += a0 * x1; c02 += a0 * x2; c03 += a0 * x3;
        c10 += a1 * x0; c11 += a1 * x1; c12 += a1 * x2; c13 += a1 * x3;
        c20 += a2 * x0; c21 += a2 * x1; c22 += a2 * x2; c23 += a2 * x3;
        c30 += a3 * x0; c31 += a3 * x1; c32 += a3 * x2; c33 += a3 * x3;
      }
      const r0 = i * k + j, r1 = r0 + k, r2 = r1 + k, r3 = r2 + k;
      acc[r0] += c00; acc[r0 + 1] += c01; acc[r0 + 2] += c02; acc[r0 + 3] += c03;
      acc[r1] += c10; acc[r1 + 1] += c11; acc[r1 + 2] += c12; acc[r1 + 3] += c13;
      acc[r2] += c20; acc[r2 + 1] += c21; acc[r2 + 2] += c22; acc[r2 + 3] += c23;
      acc[r3] += c30; acc[r3 + 1] += c31; acc[r3 + 2] += c32; acc[r3 + 3] += c33;
    }
    for (; j < k; j++) for (let r = 0; r < 4; r++) acc[(i + r) * k + j] += columnDot2(U, i + r, m, V, j, k, n);
  }
  for (; i < m; i++) for (let j = 0; j < k; j++) acc[i * k + j] += columnDot2(U, i, m, V, j, k, n);
}

let blockScratch = new Uint8Array(0);

/** Σ_b U[b·m + i] · V[b·k + j] */
function columnDot2(U: Buf, i: number, m: number, V: Buf, j: number, k: number, n: number): number {
  let s = 0;
  for (let b = 0; b < n; b++) s += U[b * m + i] * V[b * k + j];
  return s;
}

/** Stable row-wise softmax, log-softmax, logsumexp and cross-entropy over n rows of length k. */
export function logsumexpRow(Z: Buf, o: number, k: number): number {
  let mx = -Infinity;
  for (let j = 0; j < k; j++) if (Z[o + j] > mx) mx = Z[o + j];
  if (mx === -Infinity || mx === Infinity || mx !== mx) return mx;
  let s = 0;
  for (let j = 0; j < k; j++) s += Math.exp(Z[o + j] - mx);
  return mx + Math.log(s);
}

export function softmaxRows(n: number, k: number, Z: Buf, out: Buf): void {
  for (let b = 0; b < n; b++) {
    const o = b * k, l = logsumexpRow(Z, o, k);
    for (let j = 0; j < k; j++) out[o + j] = Math.exp(Z[o + j] - l);
  }
}

export function logSoftmaxRows(n: number, k: number, Z: Buf, out: Buf): void {
  for (let b = 0; b < n; b++) {
    const o = b * k, l = logsumexpRow(Z, o, k);
    for (let j = 0; j < k; j++) out[o + j] = Z[o + j] - l;
  }
}

export function logsumexpRows(n: number, k: number, Z: Buf, out: Buf): void {
  for (let b = 0; b < n; b++) out[b] = logsumexpRow(Z, b * k, k);
}

/** CE(z, y) = logsumexp(z) − z_y for each row; Y holds the labels. */
export function crossEntropyRows(n: number, k: number, Z: Buf, Y: Buf, out: Buf): void {
  for (let b = 0; b < n; b++) out[b] = logsumexpRow(Z, b * k, k) - Z[b * k + Y[b]];
}

export function argmaxRow(Z: Buf, o: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (Z[o + j] > Z[o + best]) best = j;
  return best;
}

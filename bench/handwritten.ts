// The reference for `npm run bench`: LeNet-300-100 trained by hand-written plain TypeScript — Float32Array
// buffers, 4×4 register-tiled matrix products, bias and ReLU fused, plain SGD. It shares no code with gradc.

type F = Float32Array;

/** C[r, c] = Σ_p A[r, p] · B[c, p]  (A: R×P, B: C×P) */
function mmABt(R: number, C: number, P: number, A: F, B: F, out: F): void {
  for (let r = 0; r < R; r += 4) {
    for (let c = 0; c < C; c += 4) {
      const rr = Math.min(4, R - r), cc = Math.min(4, C - c);
      if (rr === 4 && cc === 4) {
        let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0, s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
        const a0 = r * P, a1 = a0 + P, a2 = a1 + P, a3 = a2 + P, b0 = c * P, b1 = b0 + P, b2 = b1 + P, b3 = b2 + P;
        for (let p = 0; p < P; p++) {
          const x0 = A[a0 + p], x1 = A[a1 + p], x2 = A[a2 + p], x3 = A[a3 + p], y0 = B[b0 + p], y1 = B[b1 + p], y2 = B[b2 + p], y3 = B[b3 + p];
          s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3; s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
          s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3; s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
        }
        const o = r * C + c;
        out[o] = s00; out[o + 1] = s01; out[o + 2] = s02; out[o + 3] = s03; out[o + C] = s10; out[o + C + 1] = s11; out[o + C + 2] = s12; out[o + C + 3] = s13;
        out[o + 2 * C] = s20; out[o + 2 * C + 1] = s21; out[o + 2 * C + 2] = s22; out[o + 2 * C + 3] = s23; out[o + 3 * C] = s30; out[o + 3 * C + 1] = s31; out[o + 3 * C + 2] = s32; out[o + 3 * C + 3] = s33;
      } else {
        for (let i = r; i < r + rr; i++) for (let j = c; j < c + cc; j++) { let s = 0; for (let p = 0; p < P; p++) s += A[i * P + p] * B[j * P + p]; out[i * C + j] = s; }
      }
    }
  }
}

/** C[r, c] = Σ_p A[r, p] · B[p, c]  (A: R×P, B: P×C) */
function mmAB(R: number, C: number, P: number, A: F, B: F, out: F): void {
  for (let r = 0; r < R; r += 4) {
    for (let c = 0; c < C; c += 4) {
      const rr = Math.min(4, R - r), cc = Math.min(4, C - c);
      if (rr === 4 && cc === 4) {
        let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0, s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
        for (let p = 0; p < P; p++) {
          const x0 = A[r * P + p], x1 = A[(r + 1) * P + p], x2 = A[(r + 2) * P + p], x3 = A[(r + 3) * P + p], b = p * C + c;
          const y0 = B[b], y1 = B[b + 1], y2 = B[b + 2], y3 = B[b + 3];
          s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3; s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
          s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3; s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
        }
        const o = r * C + c;
        out[o] = s00; out[o + 1] = s01; out[o + 2] = s02; out[o + 3] = s03; out[o + C] = s10; out[o + C + 1] = s11; out[o + C + 2] = s12; out[o + C + 3] = s13;
        out[o + 2 * C] = s20; out[o + 2 * C + 1] = s21; out[o + 2 * C + 2] = s22; out[o + 2 * C + 3] = s23; out[o + 3 * C] = s30; out[o + 3 * C + 1] = s31; out[o + 3 * C + 2] = s32; out[o + 3 * C + 3] = s33;
      } else {
        for (let i = r; i < r + rr; i++) for (let j = c; j < c + cc; j++) { let s = 0; for (let p = 0; p < P; p++) s += A[i * P + p] * B[p * C + j]; out[i * C + j] = s; }
      }
    }
  }
}

/** C[r, c] = Σ_p A[p, r] · B[p, c]  (A: P×R, B: P×C) — weight gradients, summed over the batch. */
function mmAtB(R: number, C: number, P: number, A: F, B: F, out: F): void {
  for (let r = 0; r < R; r += 4) {
    for (let c = 0; c < C; c += 4) {
      const rr = Math.min(4, R - r), cc = Math.min(4, C - c);
      if (rr === 4 && cc === 4) {
        let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0, s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
        for (let p = 0; p < P; p++) {
          const a = p * R + r, b = p * C + c;
          const x0 = A[a], x1 = A[a + 1], x2 = A[a + 2], x3 = A[a + 3], y0 = B[b], y1 = B[b + 1], y2 = B[b + 2], y3 = B[b + 3];
          s00 += x0 * y0; s01 += x0 * y1; s02 += x0 * y2; s03 += x0 * y3; s10 += x1 * y0; s11 += x1 * y1; s12 += x1 * y2; s13 += x1 * y3;
          s20 += x2 * y0; s21 += x2 * y1; s22 += x2 * y2; s23 += x2 * y3; s30 += x3 * y0; s31 += x3 * y1; s32 += x3 * y2; s33 += x3 * y3;
        }
        const o = r * C + c;
        out[o] = s00; out[o + 1] = s01; out[o + 2] = s02; out[o + 3] = s03; out[o + C] = s10; out[o + C + 1] = s11; out[o + C + 2] = s12; out[o + C + 3] = s13;
        out[o + 2 * C] = s20; out[o + 2 * C + 1] = s21; out[o + 2 * C + 2] = s22; out[o + 2 * C + 3] = s23; out[o + 3 * C] = s30; out[o + 3 * C + 1] = s31; out[o + 3 * C + 2] = s32; out[o + 3 * C + 3] = s33;
      } else {
        for (let i = r; i < r + rr; i++) for (let j = c; j < c + cc; j++) { let s = 0; for (let p = 0; p < P; p++) s += A[p * R + i] * B[p * C + j]; out[i * C + j] = s; }
      }
    }
  }
}

export class HandwrittenLeNet {
  readonly sizes = [784, 300, 100, 10];
  readonly W: F[]; readonly b: F[]; private readonly dW: F[]; private readonly db: F[];
  private readonly h: F[]; private readonly d: F[];
  constructor(B: number, seed = 1) {
    let s = seed;
    const rand = () => { s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648; };
    const L = this.sizes;
    this.W = [0, 1, 2].map((l) => { const a = Math.sqrt(6 / (L[l] + L[l + 1])); return Float32Array.from({ length: L[l] * L[l + 1] }, () => (rand() * 2 - 1) * a); });
    this.b = [0, 1, 2].map((l) => new Float32Array(L[l + 1]));
    this.dW = this.W.map((w) => new Float32Array(w.length));
    this.db = this.b.map((v) => new Float32Array(v.length));
    this.h = [1, 2, 3].map((l) => new Float32Array(B * L[l]));
    this.d = [1, 2, 3].map((l) => new Float32Array(B * L[l]));
  }
  /** One SGD step on a batch; returns the summed loss. */
  step(X: F, Y: F, n: number, lr: number): number {
    const L = this.sizes, { W, b, h, d, dW, db } = this;
    let input = X;
    for (let l = 0; l < 3; l++) {
      mmABt(n, L[l + 1], L[l], input, W[l], h[l]);
      const out = h[l], bias = b[l], m = L[l + 1];
      for (let r = 0; r < n; r++) for (let j = 0; j < m; j++) { const v = out[r * m + j] + bias[j]; out[r * m + j] = l < 2 && v < 0 ? 0 : v; }
      input = h[l];
    }
    let loss = 0;
    const z = h[2], dz = d[2];
    for (let r = 0; r < n; r++) {
      let mx = -Infinity;
      for (let j = 0; j < 10; j++) mx = Math.max(mx, z[r * 10 + j]);
      let sum = 0;
      for (let j = 0; j < 10; j++) sum += Math.exp(z[r * 10 + j] - mx);
      const y = Y[r];
      loss += mx + Math.log(sum) - z[r * 10 + y];
      for (let j = 0; j < 10; j++) dz[r * 10 + j] = Math.exp(z[r * 10 + j] - mx) / sum - (j === y ? 1 : 0);
    }
    for (let l = 2; l >= 0; l--) {
      const below = l === 0 ? X : h[l - 1], m = L[l + 1], k = L[l];
      mmAtB(m, k, n, d[l], below, dW[l]);
      db[l].fill(0);
      for (let r = 0; r < n; r++) for (let j = 0; j < m; j++) db[l][j] += d[l][r * m + j];
      if (l > 0) {
        mmAB(n, k, m, d[l], W[l], d[l - 1]);
        const hv = h[l - 1], dv = d[l - 1];
        for (let i = 0; i < n * k; i++) if (hv[i] <= 0) dv[i] = 0;
      }
    }
    const scale = lr / n;
    for (let l = 0; l < 3; l++) {
      const w = W[l], g = dW[l];
      for (let i = 0; i < w.length; i++) w[i] -= scale * g[i];
      for (let i = 0; i < b[l].length; i++) b[l][i] -= scale * db[l][i];
    }
    return loss;
  }
}

// The runtime's matrix kernels against naive loops: every tail (sizes not multiples of 4), dense inputs and
// inputs with all-zero columns (which take the sparse paths), overwrite and accumulate.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { gemmNN, gemmNT, gemmTN, softmaxRows, crossEntropyRows } from '../runtime/kernels.js';

const matrix = (rows: number, cols: number, zeroCols: number, seed: number) => {
  let s = seed;
  const r = () => { s = (s * 16807) % 2147483647; return s / 2147483647 - 0.5; };
  const zero = new Set(Array.from({ length: zeroCols }, (_, i) => (i * 7) % cols));
  return Float64Array.from({ length: rows * cols }, (_, i) => (zero.has(i % cols) ? 0 : r()));
};
const near = (a: Float64Array, b: Float64Array) => a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) < 1e-9, `[${i}] ${x} vs ${b[i]}`));

test('gemmNT, gemmNN and gemmTN agree with naive loops (dense and sparse, every tail)', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 11 }), fc.integer({ min: 1, max: 11 }), fc.integer({ min: 1, max: 90 }), fc.boolean(), fc.integer({ min: 1, max: 1e6 }),
    (n, m, k, sparse, seed) => {
      const X = matrix(n, k, sparse ? Math.floor(k * 0.6) : 0, seed), W = matrix(m, k, 0, seed + 1);
      const out = new Float64Array(n * m), want = new Float64Array(n * m);
      gemmNT(n, m, k, X, W, out);
      for (let b = 0; b < n; b++) for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) want[b * m + i] += X[b * k + p] * W[i * k + p];
      near(out, want);

      const G = matrix(n, m, 0, seed + 2), out2 = new Float64Array(n * k), want2 = new Float64Array(n * k);
      gemmNN(n, m, k, G, W, out2);
      for (let b = 0; b < n; b++) for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) want2[b * k + j] += G[b * m + i] * W[i * k + j];
      near(out2, want2);

      const acc = Float64Array.from({ length: m * k }, () => 1), want3 = new Float64Array(m * k);
      for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) for (let b = 0; b < n; b++) want3[i * k + j] += G[b * m + i] * X[b * k + j];
      gemmTN(n, m, k, G, X, acc, 0);
      near(acc, want3);
      gemmTN(n, m, k, G, X, acc, 1);
      near(acc, want3.map((x) => 2 * x));
    }), { numRuns: 150, seed: 9 });
});

test('softmax and cross-entropy rows are stable for large logits', () => {
  const Z = Float64Array.of(1000, 0, -1000, 0.5, 0.5, 0.5);
  const S = new Float64Array(6), L = new Float64Array(2);
  softmaxRows(2, 3, Z, S);
  near(S, Float64Array.of(1, 0, 0, 1 / 3, 1 / 3, 1 / 3));
  crossEntropyRows(2, 3, Z, Float64Array.of(1, 2), L);
  near(L, Float64Array.of(1000, Math.log(3)));
});

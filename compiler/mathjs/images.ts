// The image functions of `grad --format mathjs` (conv2d, full_conv2d with flip, correlate, pooling and its
// adjoints), written from their textbook definitions on nested arrays. Like the rest of this mathjs
// instance they share no code with gradc's interpreter, so tests can use them as a second opinion.

type Nested = number[][][];
type Kernel = number[][][][];

const zeros3 = (a: number, b: number, c: number): Nested => Array.from({ length: a }, () => Array.from({ length: b }, () => new Array<number>(c).fill(0)));
/** X[c][y][x], or 0 outside the image (the padding). */
const pixel = (X: Nested, c: number, y: number, x: number): number => (y >= 0 && y < X[c].length && x >= 0 && x < X[c][0].length ? X[c][y][x] : 0);

/** out[f][oy][ox] = Σ_{c,i,j} K[f][c][i][j] · X[c][oy·s + i − p][ox·s + j − p] */
export function conv2d(X: Nested, K: Kernel, s: number, p: number): Nested {
  const [F, C, kh, kw] = [K.length, K[0].length, K[0][0].length, K[0][0][0].length];
  const Ho = (X[0].length + 2 * p - kh) / s + 1, Wo = (X[0][0].length + 2 * p - kw) / s + 1;
  const out = zeros3(F, Ho, Wo);
  for (let f = 0; f < F; f++) for (let oy = 0; oy < Ho; oy++) for (let ox = 0; ox < Wo; ox++) {
    let acc = 0;
    for (let c = 0; c < C; c++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) acc += K[f][c][i][j] * pixel(X, c, oy * s + i - p, ox * s + j - p);
    out[f][oy][ox] = acc;
  }
  return out;
}

/** The kernel rotated by 180° with its input and output channels swapped: flip(K)[c][f][i][j] = K[f][c][kh−1−i][kw−1−j]. */
export function flip(K: Kernel): Kernel {
  const [F, C, kh, kw] = [K.length, K[0].length, K[0][0].length, K[0][0][0].length];
  return Array.from({ length: C }, (_, c) => Array.from({ length: F }, (_, f) =>
    Array.from({ length: kh }, (_, i) => Array.from({ length: kw }, (_, j) => K[f][c][kh - 1 - i][kw - 1 - j]))));
}

/**
 * The full convolution of G with a flipped kernel Kf: G is dilated by the stride (s − 1 zeros between its
 * elements), padded by kh − 1 − p, and correlated with Kf, giving the [C, H, W] image.
 */
export function fullConv2d(G: Nested, Kf: Kernel, s: number, p: number, H: number, W: number): Nested {
  const [C, F, kh, kw] = [Kf.length, Kf[0].length, Kf[0][0].length, Kf[0][0][0].length];
  const dilated = (f: number, u: number, v: number): number => (u % s === 0 && v % s === 0 ? pixel(G, f, u / s, v / s) : 0);
  const out = zeros3(C, H, W);
  for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    let acc = 0;
    for (let f = 0; f < F; f++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
      const u = y + i - (kh - 1 - p), v = x + j - (kw - 1 - p);
      if (u >= 0 && v >= 0) acc += Kf[c][f][i][j] * dilated(f, u, v);
    }
    out[c][y][x] = acc;
  }
  return out;
}

/** dK[f][c][i][j] = Σ_{oy,ox} G[f][oy][ox] · X[c][oy·s + i − p][ox·s + j − p] */
export function correlate(X: Nested, G: Nested, s: number, p: number, kh: number, kw: number): Kernel {
  return G.map((Gf) => X.map((_, c) => Array.from({ length: kh }, (_, i) => Array.from({ length: kw }, (_, j) => {
    let acc = 0;
    Gf.forEach((row, oy) => row.forEach((g, ox) => { acc += g * pixel(X, c, oy * s + i - p, ox * s + j - p); }));
    return acc;
  }))));
}

/** The s×s windows of X: window (c, py, px) as a list of [y, x], row by row. */
function windows(X: Nested, s: number): { c: number; py: number; px: number; cells: [number, number][] }[] {
  const out: { c: number; py: number; px: number; cells: [number, number][] }[] = [];
  X.forEach((_, c) => {
    for (let py = 0; py < Math.floor(X[0].length / s); py++) for (let px = 0; px < Math.floor(X[0][0].length / s); px++) {
      const cells: [number, number][] = [];
      for (let i = 0; i < s; i++) for (let j = 0; j < s; j++) cells.push([py * s + i, px * s + j]);
      out.push({ c, py, px, cells });
    }
  });
  return out;
}
const pooled = (X: Nested, s: number) => zeros3(X.length, Math.floor(X[0].length / s), Math.floor(X[0][0].length / s));
/** The first cell of the window holding its largest value. */
const argmax = (X: Nested, c: number, cells: [number, number][]) => cells.reduce((b, q) => (X[c][q[0]][q[1]] > X[c][b[0]][b[1]] ? q : b));

export function maxpool(X: Nested, s: number): Nested {
  const out = pooled(X, s);
  for (const w of windows(X, s)) { const [y, x] = argmax(X, w.c, w.cells); out[w.c][w.py][w.px] = X[w.c][y][x]; }
  return out;
}
export function avgpool(X: Nested, s: number): Nested {
  const out = pooled(X, s);
  for (const w of windows(X, s)) out[w.c][w.py][w.px] = w.cells.reduce((a, [y, x]) => a + X[w.c][y][x], 0) / (s * s);
  return out;
}
/** G's values sent to the arg-max of each window of X; 0 elsewhere. */
export function routeToMax(G: Nested, X: Nested, s: number): Nested {
  const out = zeros3(X.length, X[0].length, X[0][0].length);
  for (const w of windows(X, s)) { const [y, x] = argmax(X, w.c, w.cells); out[w.c][y][x] = G[w.c][w.py][w.px]; }
  return out;
}
/** H's value at the arg-max of each window of X. */
export function gatherMax(H: Nested, X: Nested, s: number): Nested {
  const out = pooled(X, s);
  for (const w of windows(X, s)) { const [y, x] = argmax(X, w.c, w.cells); out[w.c][w.py][w.px] = H[w.c][y][x]; }
  return out;
}
/** Each element of G over its s×s window of an [C, H, W] image. */
export function upsample(G: Nested, s: number, H: number, W: number): Nested {
  const out = zeros3(G.length, H, W);
  G.forEach((plane, c) => plane.forEach((row, py) => row.forEach((g, px) => {
    for (let i = 0; i < s; i++) for (let j = 0; j < s; j++) out[c][py * s + i][px * s + j] = g;
  })));
  return out;
}
/** A per-channel vector as an image: b[c] at every position of an H×W plane. */
export const perChannel = (b: number[], H: number, W: number): Nested => b.map((v) => Array.from({ length: H }, () => new Array<number>(W).fill(v)));

// The model's matrix products as WebAssembly SIMD128 (f32x4) kernels, built with binaryen and specialised to
// the model's sizes: every size and stride but the batch count is a constant, so binaryen's optimiser folds
// the address arithmetic. Register tiles: 4×2 (four rows of X against two rows of W, each a dot product over
// contiguous memory, four lanes at a time) for X Wᵀ; 4 rows × 8 columns (two f32x4 accumulators a row) for
// the rank-1 updates of G W and Gᵀ X. Remainders (rows, columns, the last k mod 4 terms) are handled in
// scalar code, so any size works.

import binaryen from 'binaryen';

export type GemmVariant = 'NT' | 'NN' | 'TN';
/** One specialised product: the variant and the two sizes fixed by the model (the batch count n is not). */
export interface GemmShape { readonly variant: GemmVariant; readonly m: number; readonly k: number }

export const MAX_PAGES = 65536;

export const gemmExportName = (s: GemmShape): string => `gemm${s.variant}_${s.m}_${s.k}`;

const { i32, f32, v128, none } = binaryen;

/** A module with one exported function per shape, importing its memory as env.memory (shared when `shared`). */
export function buildGemmModule(shapes: readonly GemmShape[], shared = false): Uint8Array {
  const mod = new binaryen.Module();
  mod.setFeatures(binaryen.Features.MVP | binaryen.Features.SIMD128 | binaryen.Features.Atomics | binaryen.Features.BulkMemory | binaryen.Features.SignExt | binaryen.Features.MutableGlobals);
  // Limits 1…65536 pages (64 KiB each, 4 GiB in all): the runtime creates the memory with the same maximum.
  mod.setMemory(1, MAX_PAGES, null, [], shared, false, '0');
  mod.addMemoryImport('0', 'env', 'memory', shared);
  const seen = new Set<string>();
  for (const s of shapes) {
    const name = gemmExportName(s);
    if (seen.has(name)) continue;
    seen.add(name);
    if (s.variant === 'NT') buildNT(mod, name, s.m, s.k);
    else buildRankUpdate(mod, name, s.variant, s.m, s.k);
    mod.addFunctionExport(name, name);
  }
  if (!mod.validate()) throw new Error('internal error: the generated WebAssembly module does not validate');
  binaryen.setOptimizeLevel(3);
  mod.optimize();
  const bytes = mod.emitBinary();
  mod.dispose();
  return bytes;
}

type Ref = number; // binaryen.ExpressionRef

/** Small expression helpers over a module. */
function helpers(mod: binaryen.Module) {
  const c = (v: number): Ref => mod.i32.const(v);
  const get = (l: number, t: number = i32): Ref => mod.local.get(l, t);
  const set = (l: number, v: Ref): Ref => mod.local.set(l, v);
  const add = (a: Ref, b: Ref): Ref => mod.i32.add(a, b);
  const mul = (a: Ref, b: Ref): Ref => mod.i32.mul(a, b);
  const addr = (base: Ref, elems: Ref): Ref => add(base, mul(elems, c(4)));
  /** for (v = from; v < to; v += step) body — `to` evaluated each time; nothing runs when from ≥ to. */
  let labels = 0;
  const loop = (v: number, from: Ref, to: () => Ref, step: number, body: Ref[]): Ref => {
    const id = labels++;
    return mod.block(null, [
      set(v, from),
      mod.block(`out${id}`, [
        mod.br(`out${id}`, mod.i32.ge_s(get(v), to())),
        mod.loop(`top${id}`, mod.block(null, [
          ...body,
          set(v, add(get(v), c(step))),
          mod.br(`top${id}`, mod.i32.lt_s(get(v), to())),
        ])),
      ]),
    ]);
  };
  const hsum = (x: Ref, tmp: number): Ref[] => [
    set(tmp, x),
    mod.f32.add(mod.f32.add(mod.f32x4.extract_lane(get(tmp, v128), 0), mod.f32x4.extract_lane(get(tmp, v128), 1)),
      mod.f32.add(mod.f32x4.extract_lane(get(tmp, v128), 2), mod.f32x4.extract_lane(get(tmp, v128), 3))),
  ];
  return { c, get, set, add, mul, addr, loop, hsum };
}

/**
 * out[b, i] = Σ_p X[b, p] W[i, p]   (X: n×k, W: m×k, out: n×m): X Wᵀ, a layer's forward product.
 * Params: n, X, W, out (byte addresses).
 */
function buildNT(mod: binaryen.Module, name: string, m: number, k: number): void {
  const h = helpers(mod);
  const [N, X, W, OUT] = [0, 1, 2, 3];
  const B = 4, I = 5, P = 6, TMP = 7, S = 8; // i32 locals, then a v128 temp, then f32 sums
  const ACC = 16;                            // 8 v128 accumulators
  const XV = 24, WV = 28;                    // the tile's 4 rows of X and 2 rows of W, four lanes at a time
  const k4 = k & ~3;
  const locals = [i32, i32, i32, v128, ...Array(8).fill(f32), ...Array(8).fill(v128), ...Array(6).fill(v128)];
  // An expression belongs to one parent: every use builds its own.
  const zero = () => mod.v128.const([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

  /** An R×C tile at rows b.., i.. (R ≤ 4, C ≤ 2). */
  const tile = (R: number, C: number): Ref[] => {
    const acc = (r: number, c: number) => ACC + r * 2 + c;
    const xAt = (r: number, p: Ref) => h.addr(h.get(X), h.add(h.mul(h.add(h.get(B), h.c(r)), h.c(k)), p));
    const wAt = (c: number, p: Ref) => h.addr(h.get(W), h.add(h.mul(h.add(h.get(I), h.c(c)), h.c(k)), p));
    const body: Ref[] = [];
    for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) body.push(h.set(acc(r, c), zero()));
    const inner: Ref[] = [];
    for (let r = 0; r < R; r++) inner.push(h.set(XV + r, mod.v128.load(0, 4, xAt(r, h.get(P)))));
    for (let c = 0; c < C; c++) inner.push(h.set(WV + c, mod.v128.load(0, 4, wAt(c, h.get(P)))));
    for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) {
      inner.push(h.set(acc(r, c), mod.f32x4.add(h.get(acc(r, c), v128), mod.f32x4.mul(h.get(XV + r, v128), h.get(WV + c, v128)))));
    }
    if (k4 > 0) body.push(h.loop(P, h.c(0), () => h.c(k4), 4, inner));
    for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) {
      const s = S + r * 2 + c;
      const [st, sum] = h.hsum(h.get(acc(r, c), v128), TMP);
      body.push(st, h.set(s, sum));
      for (let p = k4; p < k; p++) body.push(h.set(s, mod.f32.add(h.get(s, f32), mod.f32.mul(mod.f32.load(0, 4, xAt(r, h.c(p))), mod.f32.load(0, 4, wAt(c, h.c(p)))))));
      body.push(mod.f32.store(0, 4, h.addr(h.get(OUT), h.add(h.mul(h.add(h.get(B), h.c(r)), h.c(m)), h.add(h.get(I), h.c(c)))), h.get(s, f32)));
    }
    return body;
  };
  const rows = (R: number): Ref[] => {
    const m2 = m & ~1;
    return [
      ...(m2 > 0 ? [h.loop(I, h.c(0), () => h.c(m2), 2, tile(R, 2))] : []),
      ...(m2 < m ? [h.set(I, h.c(m2)), ...tile(R, 1)] : []),
    ];
  };
  const body = mod.block(null, [
    h.loop(B, h.c(0), () => mod.i32.and(h.get(N), h.c(~3)), 4, rows(4)),
    h.loop(B, mod.i32.and(h.get(N), h.c(~3)), () => h.get(N), 1, rows(1)),
  ]);
  mod.addFunction(name, binaryen.createType([i32, i32, i32, i32]), none, locals, body);
}

/**
 * Sums of rank-1 updates, vectorised along the contiguous columns j of B and out:
 *  NN: out[b, j] = Σ_i G[b, i] W[i, j]           (G: n×m, W: m×k, out: n×k) — Wᵀg over the batch
 *  TN: out[i, j] = β out[i, j] + Σ_b U[b, i] V[b, j]  (U: n×m, V: n×k, out: m×k) — Σ_b outer(u_b, v_b)
 * Params: n, A (G or U), Bm (W or V), out, and for TN β (0 or 1).
 */
function buildRankUpdate(mod: binaryen.Module, name: string, variant: 'NN' | 'TN', m: number, k: number): void {
  const h = helpers(mod);
  const [N, A, BM, OUT, BETA] = [0, 1, 2, 3, 4];
  const base = variant === 'TN' ? 5 : 4;
  const R0 = base, J = base + 1, T = base + 2, S = base + 3; // i32 row, column, reduction index; f32 scalar sum
  const SPL = base + 4;                                    // 4 v128 splats
  const ACC = base + 8;                                    // 8 v128 accumulators
  const BV = base + 16;                                    // 2 v128: the row of B this step reads
  const locals = [i32, i32, i32, f32, ...Array(4).fill(v128), ...Array(8).fill(v128), ...Array(2).fill(v128)];
  // An expression belongs to one parent: every use builds its own.
  const zero = () => mod.v128.const([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  // Rows of the output and the range of the reduction: NN rows are examples, TN rows are the m of U.
  const rowsEnd = (): Ref => (variant === 'NN' ? h.get(N) : h.c(m));
  const tEnd = (): Ref => (variant === 'NN' ? h.c(m) : h.get(N));
  const aAt = (r: number, t: Ref): Ref => (variant === 'NN'
    ? h.addr(h.get(A), h.add(h.mul(h.add(h.get(R0), h.c(r)), h.c(m)), t))   // G[b, i]
    : h.addr(h.get(A), h.add(h.mul(t, h.c(m)), h.add(h.get(R0), h.c(r))))); // U[b, i]
  const bAt = (t: Ref, j: Ref): Ref => h.addr(h.get(BM), h.add(h.mul(t, h.c(k)), j));
  const outAt = (r: number, j: Ref): Ref => h.addr(h.get(OUT), h.add(h.mul(h.add(h.get(R0), h.c(r)), h.c(k)), j));
  const finish = (r: number, j: () => Ref, value: () => Ref, scalar: boolean): Ref => {
    const old = () => (scalar ? mod.f32.load(0, 4, outAt(r, j())) : mod.v128.load(0, 4, outAt(r, j())));
    const withBeta = variant === 'TN'
      ? mod.if(h.get(BETA), scalar ? mod.f32.add(old(), value()) : mod.f32x4.add(old(), value()), value())
      : value();
    return scalar ? mod.f32.store(0, 4, outAt(r, j()), withBeta) : mod.v128.store(0, 4, outAt(r, j()), withBeta);
  };
  /** R rows × V vectors of 4 columns, at rows R0.., columns J.. */
  const tile = (R: number, V: number): Ref[] => {
    const acc = (r: number, v: number) => ACC + r * 2 + v;
    const body: Ref[] = [];
    for (let r = 0; r < R; r++) for (let v = 0; v < V; v++) body.push(h.set(acc(r, v), zero()));
    const inner: Ref[] = [];
    for (let r = 0; r < R; r++) inner.push(h.set(SPL + r, mod.f32x4.splat(mod.f32.load(0, 4, aAt(r, h.get(T))))));
    for (let v = 0; v < V; v++) {
      inner.push(h.set(BV + v, mod.v128.load(0, 4, bAt(h.get(T), h.add(h.get(J), h.c(4 * v))))));
      for (let r = 0; r < R; r++) inner.push(h.set(acc(r, v), mod.f32x4.add(h.get(acc(r, v), v128), mod.f32x4.mul(h.get(SPL + r, v128), h.get(BV + v, v128)))));
    }
    body.push(h.loop(T, h.c(0), tEnd, 1, inner));
    for (let r = 0; r < R; r++) for (let v = 0; v < V; v++) body.push(finish(r, () => h.add(h.get(J), h.c(4 * v)), () => h.get(acc(r, v), v128), false));
    return body;
  };
  /** The last k mod 4 columns, one at a time. */
  const scalarColumns = (R: number, from: number): Ref[] => {
    const out: Ref[] = [];
    for (let j = from; j < k; j++) for (let r = 0; r < R; r++) {
      out.push(h.set(S, mod.f32.const(0)),
        h.loop(T, h.c(0), tEnd, 1, [h.set(S, mod.f32.add(h.get(S, f32), mod.f32.mul(mod.f32.load(0, 4, aAt(r, h.get(T))), mod.f32.load(0, 4, bAt(h.get(T), h.c(j))))))]),
        finish(r, () => h.c(j), () => h.get(S, f32), true));
    }
    return out;
  };
  const k8 = k & ~7, k4 = k & ~3;
  const rowBlock = (R: number): Ref[] => [
    ...(k8 > 0 ? [h.loop(J, h.c(0), () => h.c(k8), 8, tile(R, 2))] : []),
    ...(k4 > k8 ? [h.set(J, h.c(k8)), ...tile(R, 1)] : []),
    ...scalarColumns(R, k4),
  ];
  const body = mod.block(null, [
    h.loop(R0, h.c(0), () => mod.i32.and(rowsEnd(), h.c(~3)), 4, rowBlock(4)),
    h.loop(R0, mod.i32.and(rowsEnd(), h.c(~3)), rowsEnd, 1, rowBlock(1)),
  ]);
  const params = variant === 'TN' ? [i32, i32, i32, i32, i32] : [i32, i32, i32, i32];
  mod.addFunction(name, binaryen.createType(params), none, locals, body);
}

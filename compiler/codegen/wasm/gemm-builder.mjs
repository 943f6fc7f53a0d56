// Run by plain `node` (never through tsx, which takes seconds over binaryen's 100 MB of JavaScript): in a
// worker thread of its own (builder-worker.mjs), or as a script that reads {"shapes": [...], "shared": bool}
// on stdin and writes the WebAssembly module's bytes to stdout.
// compiler/codegen/wasm/gemm.ts is the typed interface; this file is its implementation.
//
// The model's matrix products as WebAssembly SIMD128 (f32x4) kernels, built with binaryen and specialised to
// the model's sizes: every size and stride but the batch count is a constant, so binaryen's optimiser folds
// the address arithmetic. Register tiles: 4×2 (four rows of X against two rows of W, each a dot product over
// contiguous memory, four lanes at a time) for X Wᵀ; 3 rows × 16 columns (four f32x4 accumulators a row) for
// the rank-1 updates of G W and Gᵀ X. Remainders (rows, columns, the last k mod 4 terms) are handled in
// scalar code, so any size works.

import binaryen from 'binaryen';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildImageKernels } from './image-builder.mjs';


const MAX_PAGES = 65536;

const gemmExportName = (s) => `gemm${s.variant}_${s.m}_${s.k}`;

const { i32, f32, v128, none } = binaryen;

/** A module with one exported function per shape, importing its memory as env.memory (shared when `shared`). */
function buildGemmModule(shapes, shared = false, loops = [], columnSums = [], images = {}) {
  const mod = new binaryen.Module();
  mod.setFeatures(binaryen.Features.MVP | binaryen.Features.SIMD128 | binaryen.Features.Atomics | binaryen.Features.BulkMemory | binaryen.Features.BulkMemoryOpt | binaryen.Features.SignExt | binaryen.Features.MutableGlobals);
  // Limits 1…65536 pages (64 KiB each, 4 GiB in all): the runtime creates the memory with the same maximum.
  mod.setMemory(1, MAX_PAGES, null, [], shared, false, '0');
  mod.addMemoryImport('0', 'env', 'memory', shared);
  const seen = new Set();
  for (const s of shapes) {
    const name = gemmExportName(s);
    if (seen.has(name)) continue;
    seen.add(name);
    if (s.variant === 'NT') buildNT(mod, name, s.m, s.k);
    else buildRankUpdate(mod, name, s.variant, s.m, s.k);
    mod.addFunctionExport(name, name);
  }
  buildOptimizerStep(mod, 'sgd');
  buildOptimizerStep(mod, 'momentum');
  for (const l of loops) buildLoop(mod, l);
  for (const m of columnSums) buildColumnSum(mod, m);
  buildImageKernels(mod, images);
  if (!mod.validate()) throw new Error('internal error: the generated WebAssembly module does not validate');
  binaryen.setOptimizeLevel(3);
  mod.optimize();
  const bytes = mod.emitBinary();
  mod.dispose();
  return bytes;
}


/** Small expression helpers over a module. */
function helpers(mod) {
  const c = (v) => mod.i32.const(v);
  const get = (l, t = i32) => mod.local.get(l, t);
  const set = (l, v) => mod.local.set(l, v);
  const add = (a, b) => mod.i32.add(a, b);
  const mul = (a, b) => mod.i32.mul(a, b);
  const addr = (base, elems) => add(base, mul(elems, c(4)));
  /** for (v = from; v < to; v += step) body — `to` evaluated each time; nothing runs when from ≥ to. */
  let labels = 0;
  const loop = (v, from, to, step, body) => {
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
  const hsum = (x, tmp) => [
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
function buildNT(mod, name, m, k) {
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
  const tile = (R, C) => {
    const acc = (r, c) => ACC + r * 2 + c;
    const xAt = (r, p) => h.addr(h.get(X), h.add(h.mul(h.add(h.get(B), h.c(r)), h.c(k)), p));
    const wAt = (c, p) => h.addr(h.get(W), h.add(h.mul(h.add(h.get(I), h.c(c)), h.c(k)), p));
    const body = [];
    for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) body.push(h.set(acc(r, c), zero()));
    const inner = [];
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
  const rows = (R) => {
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
 * Params: n, A (G or U), Bm (W or V), out, and for TN β (0 or 1) and the output rows i0 ≤ i < i1 to compute.
 */
/** Rows × f32x4 vectors of the rank-update kernels' register tile. */
const RANK_TILE = [4, 2]; // measured (alternating rounds, one process): 4×2 beats 3×4 by 15–45 % on the 300×784, 120×256 and 16×150 products

function buildRankUpdate(mod, name, variant, m, k) {
  const h = helpers(mod);
  const [N, A, BM, OUT, BETA, I0, I1] = [0, 1, 2, 3, 4, 5, 6];
  const base = variant === 'TN' ? 7 : 4;
  // Register tile: RT rows × VT vectors of 4 columns. A gradient over a long batch with few rows (a small
  // convolution's kernel gradient: 6 rows, 36,864 terms) takes all its rows in one tile, one vector wide, so
  // the batch is read once per four columns rather than once per row block.
  const [RT, VT] = variant === 'TN' && m <= 6 ? [m, 1] : RANK_TILE;
  const R0 = base, J = base + 1, T = base + 2, S = base + 3; // i32 row, column, reduction index; f32 scalar sum
  const SPL = base + 4;                                    // RT v128 splats
  const ACC = SPL + RT;                                    // RT·VT v128 accumulators
  const BV = ACC + RT * VT;                                // VT v128: the row of B this step reads
  const SC = BV + VT;                                      // f32 sums of the last k mod 4 columns, RT·3 of them
  const locals = [i32, i32, i32, f32, ...Array(RT).fill(v128), ...Array(RT * VT).fill(v128), ...Array(VT).fill(v128), ...Array(RT * 3).fill(f32)];
  // An expression belongs to one parent: every use builds its own.
  const zero = () => mod.v128.const([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  // Rows of the output and the range of the reduction: NN rows are examples, TN rows are the m of U.
  // TN computes the output rows I0 ≤ i < I1 only, so threads can split the rows without a reduction.
  const rowStart = () => (variant === 'NN' ? h.c(0) : h.get(I0));
  const rowsEnd = () => (variant === 'NN' ? h.get(N) : h.get(I1));
  const blockEnd = () => mod.i32.sub(rowsEnd(), mod.i32.rem_u(mod.i32.sub(rowsEnd(), rowStart()), h.c(RT)));
  const tEnd = () => (variant === 'NN' ? h.c(m) : h.get(N));
  const aAt = (r, t) => (variant === 'NN'
    ? h.addr(h.get(A), h.add(h.mul(h.add(h.get(R0), h.c(r)), h.c(m)), t))   // G[b, i]
    : h.addr(h.get(A), h.add(h.mul(t, h.c(m)), h.add(h.get(R0), h.c(r))))); // U[b, i]
  const bAt = (t, j) => h.addr(h.get(BM), h.add(h.mul(t, h.c(k)), j));
  const outAt = (r, j) => h.addr(h.get(OUT), h.add(h.mul(h.add(h.get(R0), h.c(r)), h.c(k)), j));
  const finish = (r, j, value, scalar) => {
    const old = () => (scalar ? mod.f32.load(0, 4, outAt(r, j())) : mod.v128.load(0, 4, outAt(r, j())));
    const withBeta = variant === 'TN'
      ? mod.if(h.get(BETA), scalar ? mod.f32.add(old(), value()) : mod.f32x4.add(old(), value()), value())
      : value();
    return scalar ? mod.f32.store(0, 4, outAt(r, j()), withBeta) : mod.v128.store(0, 4, outAt(r, j()), withBeta);
  };
  /** R rows × V vectors of 4 columns, at rows R0.., columns J.. */
  const tile = (R, V) => {
    const acc = (r, v) => ACC + r * VT + v;
    const body = [];
    for (let r = 0; r < R; r++) for (let v = 0; v < V; v++) body.push(h.set(acc(r, v), zero()));
    const inner = [];
    for (let r = 0; r < R; r++) inner.push(h.set(SPL + r, mod.v128.load32_splat(0, 4, aAt(r, h.get(T)))));
    for (let v = 0; v < V; v++) {
      inner.push(h.set(BV + v, mod.v128.load(0, 4, bAt(h.get(T), h.add(h.get(J), h.c(4 * v))))));
      for (let r = 0; r < R; r++) inner.push(h.set(acc(r, v), mod.f32x4.add(h.get(acc(r, v), v128), mod.f32x4.mul(h.get(SPL + r, v128), h.get(BV + v, v128)))));
    }
    body.push(h.loop(T, h.c(0), tEnd, 1, inner));
    for (let r = 0; r < R; r++) for (let v = 0; v < V; v++) body.push(finish(r, () => h.add(h.get(J), h.c(4 * v)), () => h.get(acc(r, v), v128), false));
    return body;
  };
  /** The last k mod 4 columns, all R rows of them in one pass over the reduction. */
  const scalarColumns = (R, from) => {
    if (from >= k) return [];
    const sum = (r, j) => SC + r * 3 + (j - from);
    const cells = [];
    for (let r = 0; r < R; r++) for (let j = from; j < k; j++) cells.push([r, j]);
    return [
      ...cells.map(([r, j]) => h.set(sum(r, j), mod.f32.const(0))),
      h.loop(T, h.c(0), tEnd, 1, cells.map(([r, j]) => h.set(sum(r, j), mod.f32.add(h.get(sum(r, j), f32), mod.f32.mul(mod.f32.load(0, 4, aAt(r, h.get(T))), mod.f32.load(0, 4, bAt(h.get(T), h.c(j)))))))),
      ...cells.map(([r, j]) => finish(r, () => h.c(j), () => h.get(sum(r, j), f32), true)),
    ];
  };
  const kT = k - (k % (4 * VT)), k4 = k & ~3;
  const rowBlock = (R) => [
    ...(kT > 0 ? [h.loop(J, h.c(0), () => h.c(kT), 4 * VT, tile(R, VT))] : []),
    ...(k4 > kT ? [h.loop(J, h.c(kT), () => h.c(k4), 4, tile(R, 1))] : []),
    ...scalarColumns(R, k4),
  ];
  const body = mod.block(null, [
    h.loop(R0, rowStart(), blockEnd, RT, rowBlock(RT)),
    h.loop(R0, blockEnd(), rowsEnd, 1, rowBlock(1)),
  ]);
  const params = variant === 'TN' ? [i32, i32, i32, i32, i32, i32, i32] : [i32, i32, i32, i32];
  mod.addFunction(name, binaryen.createType(params), none, locals, body);
}

/**
 * The optimizer's step over one parameter, four lanes at a time (the runtime's Optimizer calls it when the
 * buffers live in this memory):
 *   sgd:      p ← p − lr (scale g + decay p)
 *   momentum: m ← μ m + scale g + decay p;  p ← p − lr m
 * Params: n, p, g, m (byte addresses; m unused by sgd), lr, scale, decay, μ (f32).
 */
function buildOptimizerStep(mod, kind) {
  const h = helpers(mod);
  const [N, P, G, M, LR, SCALE, DECAY, MU] = [0, 1, 2, 3, 4, 5, 6, 7];
  const I = 8, PV = 9, MV = 10, PS = 11, MS = 12; // i32 index; v128 p, m; f32 p, m for the tail
  const locals = [i32, v128, v128, f32, f32];
  const at = (base, i) => h.addr(h.get(base), i);
  const vsplat = (l) => mod.f32x4.splat(h.get(l, f32));
  // The same update in lanes (v = true) and in scalars (the last n mod 4 elements).
  const update = (v) => {
    const ops = v ? mod.f32x4 : mod.f32;
    const load = (base) => (v ? mod.v128.load(0, 4, at(base, h.get(I))) : mod.f32.load(0, 4, at(base, h.get(I))));
    const store = (base, x) => (v ? mod.v128.store(0, 4, at(base, h.get(I)), x) : mod.f32.store(0, 4, at(base, h.get(I)), x));
    const c = (l) => (v ? vsplat(l) : h.get(l, f32));
    const pl = v ? PV : PS, ml = v ? MV : MS, t = v ? v128 : f32;
    const grad = () => ops.add(ops.mul(c(SCALE), load(G)), ops.mul(c(DECAY), h.get(pl, t)));
    if (kind === 'sgd') return [h.set(pl, load(P)), store(P, ops.sub(h.get(pl, t), ops.mul(c(LR), grad())))];
    return [
      h.set(pl, load(P)),
      h.set(ml, ops.add(ops.mul(c(MU), load(M)), grad())),
      store(M, h.get(ml, t)),
      store(P, ops.sub(h.get(pl, t), ops.mul(c(LR), h.get(ml, t)))),
    ];
  };
  const n4 = () => mod.i32.and(h.get(N), h.c(~3));
  const body = mod.block(null, [h.loop(I, h.c(0), n4, 4, update(true)), h.loop(I, n4(), () => h.get(N), 1, update(false))]);
  mod.addFunction(kind, binaryen.createType([i32, i32, i32, i32, f32, f32, f32, f32]), none, locals, body);
  mod.addFunctionExport(kind, kind);
}

/**
 * A fused elementwise loop (compiler/codegen/wasm/loops.ts): out[b·m + i] = expr for b < n, i < m, four
 * lanes at a time and the last m mod 4 elements in scalars. Params: n, out, then each input (byte addresses).
 * Inputs are read per lane ([b·m + i]), shared by every example ([i]), or one value per example ([b]) or in
 * all ([0]), splatted to the lanes.
 */
function buildLoop(mod, { name, m, inputs, expr, lanes = true }) {
  const h = helpers(mod);
  const N = 0, OUT = 1, IN = 2;
  const B = IN + inputs, I = B + 1;
  const m4 = lanes ? m & ~3 : 0;
  const zero = (v) => (v ? mod.f32x4.splat(mod.f32.const(0)) : mod.f32.const(0));
  const compile = (e, v) => {
    const ops = v ? mod.f32x4 : mod.f32;
    const at = (index) => h.addr(h.get(IN + e.arg), index);
    switch (e.op) {
      case 'num': return v ? mod.f32x4.splat(mod.f32.const(e.v)) : mod.f32.const(e.v);
      case 'load': {
        if (e.kind === 'row') { const a = at(h.add(h.mul(h.get(B), h.c(m)), h.get(I))); return v ? mod.v128.load(0, 4, a) : mod.f32.load(0, 4, a); }
        if (e.kind === 'shared') { const a = at(h.get(I)); return v ? mod.v128.load(0, 4, a) : mod.f32.load(0, 4, a); }
        if (e.kind === 'column' || e.kind === 'bcolumn') {
          // i mod cols: a group of four stays in one row (lanes only when cols is a multiple of 4).
          const col = mod.i32.rem_u(h.get(I), h.c(e.per));
          const a = at(e.kind === 'bcolumn' ? h.add(h.mul(h.get(B), h.c(e.per)), col) : col);
          return v ? mod.v128.load(0, 4, a) : mod.f32.load(0, 4, a);
        }
        if (e.kind === 'channel' || e.kind === 'bchannel') {
          // ⌊i / hw⌋: one value for the whole group of four (lanes only when hw is a multiple of 4).
          const ch = mod.i32.div_u(h.get(I), h.c(e.per));
          const one = mod.f32.load(0, 4, at(e.kind === 'bchannel' ? h.add(h.mul(h.get(B), h.c(m / e.per)), ch) : ch));
          return v ? mod.f32x4.splat(one) : one;
        }
        const one = mod.f32.load(0, 4, at(e.kind === 'bscalar' ? h.get(B) : h.c(0)));
        return v ? mod.f32x4.splat(one) : one;
      }
      case 'neg': case 'abs': case 'sqrt': return ops[e.op](compile(e.a, v));
      case 'add': case 'sub': case 'mul': case 'div': case 'max': case 'min': return ops[e.op](compile(e.a, v), compile(e.b, v));
      case 'ifpos':
        return v ? mod.v128.bitselect(compile(e.a, v), compile(e.b, v), mod.f32x4.gt(compile(e.x, v), zero(v)))
          : mod.select(mod.f32.gt(compile(e.x, v), zero(v)), compile(e.a, v), compile(e.b, v));
      default: throw new Error(`internal error: no wasm for ${e.op}`);
    }
  };
  const outAt = () => h.addr(h.get(OUT), h.add(h.mul(h.get(B), h.c(m)), h.get(I)));
  const perExample = [
    ...(m4 > 0 ? [h.loop(I, h.c(0), () => h.c(m4), 4, [mod.v128.store(0, 4, outAt(), compile(expr, true))])] : []),
    ...(m4 < m ? [h.loop(I, h.c(m4), () => h.c(m), 1, [mod.f32.store(0, 4, outAt(), compile(expr, false))])] : []),
  ];
  const body = h.loop(B, h.c(0), () => h.get(N), 1, perExample);
  mod.addFunction(name, binaryen.createType(Array(IN + inputs).fill(i32)), none, [i32, i32], body);
  mod.addFunctionExport(name, name);
}

/**
 * acc[j] = β·acc[j] + sign·Σ_b G[b·m + j] for j < m: a bias's gradient summed over the batch, four columns at
 * a time (then the last m mod 4). Params: n, G, acc (byte addresses), β, sign (f32). Exported as colsum_m.
 */
function buildColumnSum(mod, m) {
  const h = helpers(mod);
  const [N, G, ACC, BETA, SIGN] = [0, 1, 2, 3, 4];
  const J = 5, B = 6, SV = 7, SS = 8; // i32 column and row, v128 and f32 sums
  const m4 = m & ~3;
  const column = (v) => {
    const ops = v ? mod.f32x4 : mod.f32;
    const t = v ? v128 : f32, S = v ? SV : SS;
    const load = (a) => (v ? mod.v128.load(0, 4, a) : mod.f32.load(0, 4, a));
    const par = (l) => (v ? mod.f32x4.splat(h.get(l, f32)) : h.get(l, f32));
    const accAt = () => h.addr(h.get(ACC), h.get(J));
    return [
      h.set(S, v ? mod.f32x4.splat(mod.f32.const(0)) : mod.f32.const(0)),
      h.loop(B, h.c(0), () => h.get(N), 1, [h.set(S, ops.add(h.get(S, t), load(h.addr(h.get(G), h.add(h.mul(h.get(B), h.c(m)), h.get(J))))))]),
      // β = 0 overwrites without reading acc (whatever it held, NaN included).
      mod.if(mod.f32.eq(h.get(BETA, f32), mod.f32.const(0)),
        (v ? mod.v128.store : mod.f32.store)(0, 4, accAt(), ops.mul(par(SIGN), h.get(S, t))),
        (v ? mod.v128.store : mod.f32.store)(0, 4, accAt(), ops.add(ops.mul(par(BETA), load(accAt())), ops.mul(par(SIGN), h.get(S, t))))),
    ];
  };
  const body = mod.block(null, [
    ...(m4 > 0 ? [h.loop(J, h.c(0), () => h.c(m4), 4, column(true))] : []),
    ...(m4 < m ? [h.loop(J, h.c(m4), () => h.c(m), 1, column(false))] : []),
  ]);
  const name = `colsum_${m}`;
  mod.addFunction(name, binaryen.createType([i32, i32, i32, f32, f32]), none, [i32, i32, v128, f32], body);
  mod.addFunctionExport(name, name);
}

const build = (r) => Buffer.from(buildGemmModule(r.shapes, r.shared, r.loops ?? [], r.columnSums ?? [], r.images ?? {}));

/**
 * The module a request asks for; a {"batch": [...]} request gets several, each as a 4-byte little-endian
 * length, then its bytes.
 */
export function buildRequest(text) {
  const request = JSON.parse(text);
  if (!request.batch) return build(request);
  const parts = [];
  for (const r of request.batch) {
    const bytes = build(r), len = Buffer.alloc(4);
    len.writeUInt32LE(bytes.length);
    parts.push(len, bytes);
  }
  return Buffer.concat(parts);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.stdout.write(buildRequest(readFileSync(0, 'utf8')));

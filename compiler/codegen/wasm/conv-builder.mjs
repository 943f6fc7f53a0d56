// Direct convolutions as WebAssembly SIMD128, specialised to one layer: every size is a constant, and each
// kernel keeps a register tile of accumulators over four output positions a vector — no patch matrix is
// gathered, and the result is written channel-first where the layer wants it. For stride 1 without padding
// (the convolutions of LeNet-style networks); other geometries keep the patch products of image-builder.mjs.
// Part of gemm-builder.mjs's module (plain node, binaryen). `tiles` overrides a kernel's tile sizes (for
// timing them; the defaults are the measured best).
//
//   convfwd_KEY(count, X, xs, K, out, os)            out[b] = conv2d(X[b], K)
//   convfwdbr_KEY(count, X, xs, K, c, z, a, os)      z[b] = conv2d(X[b], K) + c (per channel), a[b] = relu(z[b])
//   convdk_KEY(count, X, xs, G, gs, dK, β, r0, r1)   dK = β·dK + Σ_b correlation(X[b], G[b]), kernel rows r0…r1−1
//   convdx_KEY(count, G, gs, K, out, os)             out[b] = the full convolution of G[b] with the flipped K
//
// Each output element is one lane's running sum in a fixed order (named at each kernel), so a thread count
// never changes a bit: the forward and input-gradient kernels split the batch by examples, the kernel
// gradient splits its output by kernel rows (channel, row of the kernel: C·kh of them) and sums each over
// the whole batch.

import binaryen from 'binaryen';

const { i32, v128, none } = binaryen;

/**
 * Accumulators a register tile may hold. x64 has 16 vector registers, V8 keeps one for itself, and its
 * scheduler issues a basic block's loads before the arithmetic that uses them, so a tile's loads are live
 * beside its accumulators: measured on LeNet-5's layers, tiles of 6–8 accumulators run at 35–52 GFLOP/s and
 * tiles of 9 or more at half that.
 */
const TILE_BUDGET = 8;

export const directForward = ([, , , , , kw, s, p, , Wo]) => s === 1 && p === 0 && Wo % 4 === 0 && kw <= 16;
export const directKernelGrad = ([, , , , , , s, p, , Wo]) => s === 1 && p === 0 && Wo % 4 === 0;
export const directInputGrad = ([, , W, , , kw, s, p, , Wo]) => s === 1 && p === 0 && W % 4 === 0 && Wo >= 4 && kw <= 16;

/** Loops with a step, i32 arithmetic and f32 loads over one function's locals (image-builder.mjs uses them too). */
export function tools(mod) {
  const c = (v) => mod.i32.const(v);
  const get = (l, t = i32) => mod.local.get(l, t);
  const set = (l, v) => mod.local.set(l, v);
  const add = (...xs) => xs.reduce((a, b) => mod.i32.add(a, b));
  const mul = (a, b) => mod.i32.mul(a, b);
  let labels = 0;
  /** for (v = from; v < to; v += step) body; nothing runs when from ≥ to. */
  const loop = (v, from, to, body, step = 1) => {
    const id = labels++;
    return mod.block(null, [
      set(v, from),
      mod.block(`o${id}`, [
        mod.br(`o${id}`, mod.i32.ge_s(get(v), to())),
        mod.loop(`t${id}`, mod.block(null, [...body, set(v, add(get(v), c(step))), mod.br(`t${id}`, mod.i32.lt_s(get(v), to()))])),
      ]),
    ]);
  };
  /** count items in blocks of `step` (v = each block's first), then one block of what remains: body(width) per block. */
  const blocks = (v, count, step, body) => {
    const full = count - (count % step);
    return [loop(v, c(0), () => c(full), body(step), step), ...(full < count ? [set(v, c(full)), ...body(count - full)] : [])];
  };
  const zero = () => mod.v128.const(new Array(16).fill(0));
  /** acc ← acc + a·b, the product rounded first: the order a scalar loop `acc += a * b` has. */
  const madd = (acc, a, b) => set(acc, mod.f32x4.add(get(acc, v128), mod.f32x4.mul(a, b)));
  const range = (n) => Array.from({ length: n }, (_, i) => i);
  const f32At = (a) => mod.f32.load(0, 1, a);
  const storeF32 = (a, x) => mod.f32.store(0, 1, a, x);
  return { c, get, set, add, mul, loop, blocks, zero, madd, range, f32At, storeF32 };
}

/** The largest divisor of n that is at most `most`. */
const divisorAtMost = (n, most) => { for (let d = Math.min(n, most); d > 1; d--) if (n % d === 0) return d; return 1; };

/**
 * The forward convolution: per example, block of FT filters, output row and run of XT vectors (4·XT output
 * positions), the FT×XT accumulators sum the taps in the order (channel, kernel row, kernel column) — each
 * tap one load of XT input vectors and FT splats of the kernel — and are stored channel-first.
 * `biasRelu`: the layer's bias and ReLU as the tile's epilogue (convfwdbr): z = sum + c[f] and a = max(z, 0)
 * stored from the registers, the f32x4 add and max the plan's own loops run (the same bits), so the
 * pre-activation is not written by the product, read back for the bias and read again for the ReLU.
 */
export function convForward(mod, name, g, tiles = {}, biasRelu = false) {
  const [C, H, W, F, kh, kw, , , Ho, Wo] = g;
  const t = tools(mod);
  const XT = tiles.XT ?? divisorAtMost(Wo / 4, 2), FT = tiles.FT ?? Math.min(F, Math.floor(TILE_BUDGET / XT));
  // convfwd (count, X, xs, K, out, os); convfwdbr (count, X, xs, K, c, z, a, os).
  const [N, X, XS, K, BIAS, OUT, RELU, OS] = biasRelu ? [0, 1, 2, 3, 4, 5, 6, 7] : [0, 1, 2, 3, -1, 4, -1, 5];
  const params = biasRelu ? 8 : 6;
  const [b, fb, oy, xv, ch, XP, KP, OP, ki, kj] = t.range(10).map((i) => params + i);
  const RP = params + 10, ACC = params + 11, IN = ACC + FT * XT, SPL = IN + XT; // RP: the tile's address in a
  const taps = C * kh * kw;
  const tile = (FR) => {
    const acc = (f, v) => ACC + f * XT + v;
    // One tap a loop iteration, not the kernel unrolled: V8 schedules a basic block's loads first, and a whole
    // unrolled kernel's loads at once spill the accumulators to the stack (measured 2× slower).
    const tap = [
      ...t.range(XT).map((v) => t.set(IN + v, mod.v128.load(16 * v, 4, t.get(XP)))),
      ...t.range(FR).flatMap((f) => [
        t.set(SPL, mod.v128.load32_splat(f * taps * 4, 4, t.get(KP))),
        ...t.range(XT).map((v) => t.madd(acc(f, v), t.get(IN + v, v128), t.get(SPL, v128))),
      ]),
      t.set(XP, t.add(t.get(XP), t.c(4))),
      t.set(KP, t.add(t.get(KP), t.c(4))),
    ];
    const kernelRow = [
      t.set(XP, t.add(t.get(X), t.mul(t.add(t.mul(t.get(b), t.get(XS)), t.mul(t.get(ch), t.c(H * W)), t.mul(t.add(t.get(oy), t.get(ki)), t.c(W)), t.mul(t.get(xv), t.c(4 * XT))), t.c(4)))),
      t.set(KP, t.add(t.get(K), t.mul(t.add(t.mul(t.get(fb), t.c(taps)), t.mul(t.get(ch), t.c(kh * kw)), t.mul(t.get(ki), t.c(kw))), t.c(4)))),
      t.loop(kj, t.c(0), () => t.c(kw), tap),
    ];
    const perChannel = [t.loop(ki, t.c(0), () => t.c(kh), kernelRow)];
    return [
      ...t.range(FR).flatMap((f) => t.range(XT).map((v) => t.set(acc(f, v), t.zero()))),
      t.loop(ch, t.c(0), () => t.c(C), perChannel),
      t.set(OP, t.mul(t.add(t.mul(t.get(b), t.get(OS)), t.mul(t.get(fb), t.c(Ho * Wo)), t.mul(t.get(oy), t.c(Wo)), t.mul(t.get(xv), t.c(4 * XT))), t.c(4))),
      ...(biasRelu ? [t.set(RP, t.add(t.get(RELU), t.get(OP)))] : []), // z and a are laid out alike
      t.set(OP, t.add(t.get(OUT), t.get(OP))),
      ...t.range(FR).flatMap((f) => t.range(XT).flatMap((v) => store(f, v, acc(f, v)))),
    ];
  };
  const store = (f, v, a) => {
    const offset = (f * Ho * Wo + 4 * v) * 4;
    if (!biasRelu) return [mod.v128.store(offset, 4, t.get(OP), t.get(a, v128))];
    const bias = mod.f32x4.splat(mod.f32.load(f * 4, 4, t.add(t.get(BIAS), t.mul(t.get(fb), t.c(4)))));
    return [
      t.set(a, mod.f32x4.add(t.get(a, v128), bias)),
      mod.v128.store(offset, 4, t.get(OP), t.get(a, v128)),
      mod.v128.store(offset, 4, t.get(RP), mod.f32x4.max(t.get(a, v128), t.zero())),
    ];
  };
  const rows = (FR) => [t.loop(oy, t.c(0), () => t.c(Ho), [t.loop(xv, t.c(0), () => t.c(Wo / 4 / XT), tile(FR))])];
  const perExample = t.blocks(fb, F, FT, rows);
  const locals = [...Array(11).fill(i32), ...Array(FT * XT + XT + 1).fill(v128)];
  mod.addFunction(name, binaryen.createType(Array(params).fill(i32)), none, locals, t.loop(b, t.c(0), () => t.get(N), perExample));
  mod.addFunctionExport(name, name);
}

/**
 * The kernel's gradient summed over the batch. A work unit is one kernel row (channel c, row ki) of every
 * filter, r = c·kh + ki < C·kh; in it, each block of FT filters × TT kernel columns keeps FT·TT accumulators
 * running over every example, output row and vector of four positions — per step FT vectors of G and TT of X
 * — and each lane's partial sums are added at the end ((l0 + l1) + (l2 + l3)).
 */
export function convKernelGrad(mod, name, g, tiles = {}) {
  const [C, H, W, F, kh, kw, , , Ho, Wo] = g;
  const t = tools(mod);
  // Measured on LeNet-5's layers: 2 × 4 and 4 × 2 tiles run at 40–50 GFLOP/s, a row of five columns at once
  // spills (its seven loads are scheduled before the ten accumulators' arithmetic). Where the filters fill
  // blocks of four, 4 filters × 2 columns beat 2 × 4 (conv2, 16 filters: 0.60 → 0.55 ms, alternating runs);
  // with a remainder block (conv1's 6 filters: 4 + 2) they lose (0.32 → 0.36 ms).
  const wide = F % 4 === 0 && kw > 1;
  const TT = tiles.TT ?? (wide ? 2 : Math.min(kw, 4)), FT = tiles.FT ?? (wide ? 4 : Math.min(F, Math.max(1, Math.floor(TILE_BUDGET / TT))));
  const [N, X, XS, G, GS, DK, BETA, U0, U1] = t.range(9);
  const [r, fb, b, oy, xv, XP, GP, ROW] = t.range(8).map((i) => 9 + i);
  const ACC = 17, GV = ACC + FT * TT, XV = GV + FT, TMP = XV + 1;
  const taps = C * kh * kw;
  /** FR filters from fb × the kernel columns j0 … j0 + JR − 1 of row r, over the whole batch. */
  const tile = (FR, j0, JR) => {
    const acc = (f, j) => ACC + f * TT + j;
    const step = [
      ...t.range(FR).map((f) => t.set(GV + f, mod.v128.load(f * Ho * Wo * 4, 4, t.get(GP)))),
      ...t.range(JR).flatMap((j) => [
        t.set(XV, mod.v128.load((j0 + j) * 4, 4, t.get(XP))),
        ...t.range(FR).map((f) => t.madd(acc(f, j), t.get(GV + f, v128), t.get(XV, v128))),
      ]),
      t.set(XP, t.add(t.get(XP), t.c(16))),
      t.set(GP, t.add(t.get(GP), t.c(16))),
    ];
    const lanes = () => {
      const l = (i) => mod.f32x4.extract_lane(t.get(TMP, v128), i);
      return mod.f32.add(mod.f32.add(l(0), l(1)), mod.f32.add(l(2), l(3)));
    };
    const finish = (f, j) => {
      const at = () => t.add(t.get(DK), t.mul(t.add(t.mul(t.add(t.get(fb), t.c(f)), t.c(taps)), t.mul(t.get(r), t.c(kw)), t.c(j0 + j)), t.c(4)));
      return [
        t.set(TMP, t.get(acc(f, j), v128)),
        mod.f32.store(0, 4, at(), mod.if(t.get(BETA), mod.f32.add(mod.f32.load(0, 4, at()), lanes()), lanes())),
      ];
    };
    return [
      ...t.range(FR).flatMap((f) => t.range(JR).map((j) => t.set(acc(f, j), t.zero()))),
      t.loop(b, t.c(0), () => t.get(N), [t.loop(oy, t.c(0), () => t.c(Ho), [
        t.set(XP, t.add(t.get(X), t.mul(t.add(t.mul(t.get(b), t.get(XS)), t.get(ROW), t.mul(t.get(oy), t.c(W))), t.c(4)))),
        t.set(GP, t.add(t.get(G), t.mul(t.add(t.mul(t.get(b), t.get(GS)), t.mul(t.get(fb), t.c(Ho * Wo)), t.mul(t.get(oy), t.c(Wo))), t.c(4)))),
        t.loop(xv, t.c(0), () => t.c(Wo / 4), step),
      ])]),
      ...t.range(FR).flatMap((f) => t.range(JR).flatMap((j) => finish(f, j))),
    ];
  };
  const columns = (FR) => {
    const out = [];
    for (let j0 = 0; j0 < kw; j0 += TT) out.push(...tile(FR, j0, Math.min(TT, kw - j0)));
    return out;
  };
  const unit = [
    // The kernel row's first input pixel: channel ⌊r / kh⌋, image row r mod kh.
    t.set(ROW, t.mul(t.add(t.mul(mod.i32.div_u(t.get(r), t.c(kh)), t.c(H)), mod.i32.rem_u(t.get(r), t.c(kh))), t.c(W))),
    ...t.blocks(fb, F, FT, columns),
  ];
  const locals = [...Array(8).fill(i32), ...Array(FT * TT + FT + 2).fill(v128)];
  mod.addFunction(name, binaryen.createType(Array(9).fill(i32)), none, locals, t.loop(r, t.get(U0), () => t.get(U1), unit));
  mod.addFunctionExport(name, name);
}

/**
 * The input's gradient: out[c, y, x] = Σ_{ki, kj, f} G[f, y − ki, x − kj] K[f, c, ki, kj] over the terms
 * inside G, in that order — per example, block of CT channels, image row and run of XT vectors, the kernel
 * rows that reach a row of G (a test per row), then for each kernel column a loop over the filters: XT
 * vectors of G (the lanes that fall outside G's row masked to 0, which the vector's position and kj fix at
 * compile time) and CT splats of K. A vector entirely outside is skipped.
 */
export function convInputGrad(mod, name, g, tiles = {}) {
  const [C, H, W, F, kh, kw, , , Ho, Wo] = g;
  const t = tools(mod);
  const vectors = W / 4, XT = tiles.XT ?? Math.min(3, vectors), CT = tiles.CT ?? Math.min(C, Math.max(1, Math.floor(6 / XT)));
  const [N, G, GS, K, OUT, OS] = [0, 1, 2, 3, 4, 5];
  const [b, cb, y, f, GP, KP, OP] = t.range(7).map((i) => 6 + i);
  const ACC = 13, GV = ACC + CT * XT, SPL = GV + XT;
  const taps = C * kh * kw;
  // G's row at column 4·vec − kj, from an address (kw − 1) columns before the row so every offset is ≥ 0.
  const lanesInside = (vec, kj) => t.range(4).map((l) => { const ox = 4 * vec + l - kj; return ox >= 0 && ox < Wo; });
  const tile = (CR, v0, XR) => {
    const acc = (cc, v) => ACC + cc * XT + v;
    // One filter a loop iteration (V8 schedules a basic block's loads first: a longer block spills).
    const column = (ki, kj) => {
      const live = t.range(XR).filter((v) => lanesInside(v0 + v, kj).some(Boolean));
      if (!live.length) return [];
      const load = (v) => {
        const raw = mod.v128.load((4 * (v0 + v) - kj + kw - 1) * 4, 4, t.get(GP));
        const inside = lanesInside(v0 + v, kj);
        if (inside.every(Boolean)) return raw;
        const mask = inside.flatMap((ok) => Array(4).fill(ok ? 0xff : 0));
        return mod.v128.and(raw, mod.v128.const(mask));
      };
      const filter = [
        ...live.map((v) => t.set(GV + v, load(v))),
        ...t.range(CR).flatMap((cc) => [
          t.set(SPL, mod.v128.load32_splat(cc * kh * kw * 4, 4, t.get(KP))),
          ...live.map((v) => t.madd(acc(cc, v), t.get(GV + v, v128), t.get(SPL, v128))),
        ]),
        t.set(GP, t.add(t.get(GP), t.c(Ho * Wo * 4))),
        t.set(KP, t.add(t.get(KP), t.c(taps * 4))),
      ];
      return [
        t.set(GP, t.add(t.get(G), t.mul(t.add(t.mul(t.get(b), t.get(GS)), t.mul(t.add(t.get(y), t.c(-ki)), t.c(Wo)), t.c(-(kw - 1))), t.c(4)))),
        t.set(KP, t.add(t.get(K), t.mul(t.add(t.mul(t.get(cb), t.c(kh * kw)), t.c(ki * kw + kj)), t.c(4)))),
        t.loop(f, t.c(0), () => t.c(F), filter),
      ];
    };
    const kernelRow = (ki) => mod.if(
      mod.i32.and(mod.i32.ge_s(t.get(y), t.c(ki)), mod.i32.lt_s(t.get(y), t.c(Ho + ki))),
      mod.block(null, t.range(kw).flatMap((kj) => column(ki, kj))),
    );
    return [
      ...t.range(CR).flatMap((cc) => t.range(XR).map((v) => t.set(acc(cc, v), t.zero()))),
      ...t.range(kh).map(kernelRow),
      t.set(OP, t.add(t.get(OUT), t.mul(t.add(t.mul(t.get(b), t.get(OS)), t.mul(t.get(cb), t.c(H * W)), t.mul(t.get(y), t.c(W)), t.c(4 * v0)), t.c(4)))),
      ...t.range(CR).flatMap((cc) => t.range(XR).map((v) => mod.v128.store((cc * H * W + 4 * v) * 4, 4, t.get(OP), t.get(acc(cc, v), v128)))),
    ];
  };
  const row = (CR) => {
    const out = [];
    for (let v0 = 0; v0 < vectors; v0 += XT) out.push(...tile(CR, v0, Math.min(XT, vectors - v0)));
    return [t.loop(y, t.c(0), () => t.c(H), out)];
  };
  const perExample = t.blocks(cb, C, CT, row);
  const locals = [...Array(7).fill(i32), ...Array(CT * XT + XT + 1).fill(v128)];
  mod.addFunction(name, binaryen.createType(Array(6).fill(i32)), none, locals, t.loop(b, t.c(0), () => t.get(N), perExample));
  mod.addFunctionExport(name, name);
}

/** The direct kernels a convolution's geometry allows, named by its key. */
export function buildDirectConv(mod, g, key, once) {
  if (directForward(g)) once(`convfwd_${key}`, (n) => convForward(mod, n, g));
  if (directForward(g)) once(`convfwdbr_${key}`, (n) => convForward(mod, n, g, {}, true));
  if (directKernelGrad(g)) once(`convdk_${key}`, (n) => convKernelGrad(mod, n, g));
  if (directInputGrad(g)) once(`convdx_${key}`, (n) => convInputGrad(mod, n, g));
}

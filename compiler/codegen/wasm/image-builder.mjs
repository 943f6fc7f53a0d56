// The image layers' data movement as WebAssembly, specialised to each layer's geometry (every size, the
// stride and the padding are constants): gathering patches for the convolutions' products (im2col) and
// adding patch gradients back onto the pixels (col2im), the channel-first ↔ channel-last copies around the
// products, and max-pooling with its backward route. The TypeScript versions in runtime/conv.ts walk the
// same elements in the same order, so the results are bit-identical; these are the ones the wasm target runs
// when the buffers live in its memory. Part of gemm-builder.mjs's module (plain node, binaryen).

import binaryen from 'binaryen';
import { buildDirectConv, tools } from './conv-builder.mjs';

const { i32, f32, v128, none } = binaryen;

export const convKey = (g) => g.join('_');
export const rowsKey = (F, P) => `${F}_${P}`;
export const poolKey = (g) => g.slice(0, 4).join('_');

/**
 * The patch walk of runtime/conv.ts (walkPatches): per example, output position, channel and kernel row,
 * `kw` taps copied (gather) or added back (scatter), four lanes at a time where four fit. Windows that reach
 * into the padding test each tap.
 * im2col_KEY(count, X, xs, patches): patches[b] = the patch matrix of X[b·xs…].
 * col2im_KEY(count, patches, out, os): out[b·os…] = 0, then every patch value added onto its pixel.
 */
function patchWalk(mod, name, g, scatter) {
  const [C, H, W, , kh, kw, s, p, Ho, Wo] = g;
  const t = tools(mod);
  // gather (count, X, xs, patches): A = X, B = patches; scatter (count, patches, out, os): A = patches, B = out.
  const [N, A, B, STRIDE] = scatter ? [0, 1, 2, 3] : [0, 1, 3, 2];
  const [b, oy, ox, ch, ki, q, row, y, x0, kj] = [4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  const img = scatter ? B : A, patches = scatter ? A : B;
  // Each use builds its own address expression: a binaryen expression has exactly one parent.
  const copyTap = (off, lanes) => {
    const src = () => t.add(t.get(row), t.c(off * 4)), dst = () => t.add(t.get(q), t.c(off * 4));
    if (lanes) {
      return scatter
        ? mod.v128.store(0, 1, src(), mod.f32x4.add(mod.v128.load(0, 1, src()), mod.v128.load(0, 1, dst())))
        : mod.v128.store(0, 1, dst(), mod.v128.load(0, 1, src()));
    }
    return scatter ? t.storeF32(src(), mod.f32.add(t.f32At(src()), t.f32At(dst()))) : t.storeF32(dst(), t.f32At(src()));
  };
  const fullRow = () => {
    const out = [];
    let off = 0;
    for (; off + 4 <= kw; off += 4) out.push(copyTap(off, true));
    for (; off < kw; off++) out.push(copyTap(off, false));
    return out;
  };
  // A window row that may reach into the padding: tap by tap, 0 (gather) or nothing (scatter) outside.
  const checkedRow = () => [t.loop(kj, t.c(0), () => t.c(kw), [
    mod.if(
      mod.i32.and(
        mod.i32.and(mod.i32.ge_s(t.get(y), t.c(0)), mod.i32.lt_s(t.get(y), t.c(H))),
        mod.i32.and(mod.i32.ge_s(t.add(t.get(x0), t.get(kj)), t.c(0)), mod.i32.lt_s(t.add(t.get(x0), t.get(kj)), t.c(W)))),
      scatter
        ? t.storeF32(t.add(t.get(row), t.mul(t.get(kj), t.c(4))), mod.f32.add(t.f32At(t.add(t.get(row), t.mul(t.get(kj), t.c(4)))), t.f32At(t.add(t.get(q), t.mul(t.get(kj), t.c(4))))))
        : t.storeF32(t.add(t.get(q), t.mul(t.get(kj), t.c(4))), t.f32At(t.add(t.get(row), t.mul(t.get(kj), t.c(4))))),
      scatter ? undefined : t.storeF32(t.add(t.get(q), t.mul(t.get(kj), t.c(4))), mod.f32.const(0))),
  ])];
  const inside = () => mod.i32.and(
    mod.i32.and(mod.i32.ge_s(t.get(y), t.c(0)), mod.i32.le_s(t.get(y), t.c(H - 1))),
    mod.i32.and(mod.i32.ge_s(t.get(x0), t.c(0)), mod.i32.le_s(t.get(x0), t.c(W - kw))));
  const kernelRow = [
    t.set(y, t.add(t.mul(t.get(oy), t.c(s)), t.c(-p), t.get(ki))),
    // The pixel address of the window row's first tap (possibly outside the image: then only the checked walk reads).
    t.set(row, t.add(t.get(img), t.mul(t.get(b), t.mul(t.get(STRIDE), t.c(4))), t.mul(t.add(t.mul(t.add(t.mul(t.get(ch), t.c(H)), t.get(y)), t.c(W)), t.get(x0)), t.c(4)))),
    p === 0 ? mod.block(null, fullRow()) : mod.if(inside(), mod.block(null, fullRow()), mod.block(null, checkedRow())),
    t.set(q, t.add(t.get(q), t.c(kw * 4))),
  ];
  const perExample = [
    ...(scatter ? [mod.memory.fill(t.add(t.get(img), t.mul(t.get(b), t.mul(t.get(STRIDE), t.c(4)))), mod.i32.const(0), t.c(C * H * W * 4))] : []),
    t.loop(oy, t.c(0), () => t.c(Ho), [
      t.loop(ox, t.c(0), () => t.c(Wo), [
        t.set(x0, t.add(t.mul(t.get(ox), t.c(s)), t.c(-p))),
        t.loop(ch, t.c(0), () => t.c(C), [t.loop(ki, t.c(0), () => t.c(kh), kernelRow)]),
      ]),
    ]),
  ];
  const body = mod.block(null, [t.set(q, t.get(patches)), t.loop(b, t.c(0), () => t.get(N), perExample)]);
  mod.addFunction(name, binaryen.createType([i32, i32, i32, i32]), none, Array(10).fill(i32), body);
  mod.addFunctionExport(name, name);
}

/**
 * img2rows_F_P(count, img, is, rows): rows[(b·P + pos)·F + f] = img[b·is + f·P + pos] (channel-first to
 * channel-last); rows2img_F_P(count, rows, img, is) the other way.
 */
function transpose(mod, name, F, P, toRows) {
  const t = tools(mod);
  // img2rows (count, img, is, rows); rows2img (count, rows, img, is).
  const [N, A, B, STRIDE] = toRows ? [0, 1, 3, 2] : [0, 1, 2, 3];
  const [b, f, pos, IMG, ROWS] = [4, 5, 6, 7, 8]; // IMG, ROWS: running byte addresses (no multiply per element)
  const imgBase = toRows ? A : B, rowsBase = toRows ? B : A;
  const copy = toRows ? t.storeF32(t.get(ROWS), t.f32At(t.get(IMG))) : t.storeF32(t.get(IMG), t.f32At(t.get(ROWS)));
  const body = t.loop(b, t.c(0), () => t.get(N), [t.loop(f, t.c(0), () => t.c(F), [
    t.set(IMG, t.add(t.get(imgBase), t.mul(t.add(t.mul(t.get(b), t.get(STRIDE)), t.mul(t.get(f), t.c(P))), t.c(4)))),
    t.set(ROWS, t.add(t.get(rowsBase), t.mul(t.add(t.mul(t.get(b), t.c(P * F)), t.get(f)), t.c(4)))),
    t.loop(pos, t.c(0), () => t.c(P), [copy, t.set(IMG, t.add(t.get(IMG), t.c(4))), t.set(ROWS, t.add(t.get(ROWS), t.c(F * 4)))]),
  ])]);
  mod.addFunction(name, binaryen.createType([i32, i32, i32, i32]), none, [i32, i32, i32, i32, i32], body);
  mod.addFunctionExport(name, name);
}

/**
 * maxpool_KEY(count, X, xs, out, os): each s×s window's largest value; maxroute_KEY(count, X, xs, G, gs, out,
 * os): out = 0, then each window's gradient at its first arg-max — runtime/conv.ts's loops, compare for compare.
 * maxroutemask_KEY(count, X, xs, G, gs, Z, out, os): the route times ReLU's mask, step(Z) (Z laid out as out),
 * as one pass: the gradient is multiplied by 1 or 0 where it lands, as the plan's loop `dL/da .* step(z)`
 * multiplies it afterwards (the same bits: elsewhere both leave +0).
 * For 2×2 windows, four windows at a time: the two rows of eight pixels split into even and odd columns
 * (shuffles), then m ← v where v > m in the scalar loop's order (x00, x01, x10, x11), so ties and NaN go the
 * same way; the route keeps each lane's arg-max offset beside its maximum and stores lane by lane.
 */
function maxpool(mod, name, g, route, mask = false) {
  const [C, H, W, s, Ho, Wo] = g;
  const t = tools(mod);
  const [N, X, XS, G, GS, Z, OUT, OS] = mask ? [0, 1, 2, 3, 4, 5, 6, 7] : route ? [0, 1, 2, 3, 4, -1, 5, 6] : [0, 1, 2, -1, -1, -1, 3, 4];
  const params = mask ? 8 : route ? 7 : 5;
  const first = params;
  const [b, c, py, px, i, j, at, best, o, q] = Array.from({ length: 10 }, (_, k) => first + k);
  const M = first + 10, V = first + 11; // f32 locals
  const VX = first + 12; // v128 locals: the four taps, the maximum, its offsets, a mask
  const [X00, X01, X10, X11, VM, IDX, MASK] = Array.from({ length: 7 }, (_, k) => VX + k);
  const xb = () => t.add(t.get(X), t.mul(t.get(b), t.mul(t.get(XS), t.c(4))));
  const outAt = (pos) => t.add(t.get(OUT), t.mul(t.get(b), t.mul(t.get(OS), t.c(4))), t.mul(pos, t.c(4)));
  const gAt = (k) => t.add(t.get(G), t.mul(t.add(t.mul(t.get(b), t.get(GS)), t.add(t.get(o), t.c(k))), t.c(4)));
  /** What the route stores at pixel `pos`: window k's gradient, times step(Z) there with `mask`. */
  const routed = (k, pos) => {
    const grad = t.f32At(gAt(k));
    if (!mask) return grad;
    const z = t.f32At(t.add(t.get(Z), t.mul(t.get(b), t.mul(t.get(OS), t.c(4))), t.mul(pos, t.c(4))));
    return mod.f32.mul(grad, mod.select(mod.f32.gt(z, mod.f32.const(0)), mod.f32.const(1), mod.f32.const(0)));
  };
  const window = [
    t.set(at, t.add(t.mul(t.add(t.mul(t.get(c), t.c(H)), t.mul(t.get(py), t.c(s))), t.c(W)), t.mul(t.get(px), t.c(s)))),
    t.set(best, t.get(at)),
    t.set(M, t.f32At(t.add(xb(), t.mul(t.get(at), t.c(4))))),
    t.loop(i, t.c(0), () => t.c(s), [t.loop(j, t.c(0), () => t.c(s), [
      t.set(V, t.f32At(t.add(xb(), t.mul(t.add(t.get(at), t.add(t.mul(t.get(i), t.c(W)), t.get(j))), t.c(4))))),
      mod.if(mod.f32.gt(t.get(V, f32), t.get(M, f32)), mod.block(null, [t.set(M, t.get(V, f32)), t.set(best, t.add(t.get(at), t.add(t.mul(t.get(i), t.c(W)), t.get(j))))])),
    ])]),
    route ? t.storeF32(outAt(t.get(best)), routed(0, t.get(best))) : t.storeF32(t.add(t.get(OUT), t.mul(t.add(t.mul(t.get(b), t.get(OS)), t.get(o)), t.c(4))), t.get(M, f32)),
    t.set(o, t.add(t.get(o), t.c(1))),
  ];
  const EVENS = [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27], ODDS = EVENS.map((x) => x + 4);
  const Wo4 = s === 2 ? Wo & ~3 : 0;
  const rowAddr = (dy, dx) => t.add(xb(), t.mul(t.add(t.mul(t.add(t.mul(t.get(c), t.c(H)), t.add(t.mul(t.get(py), t.c(2)), t.c(dy))), t.c(W)), t.add(t.mul(t.get(px), t.c(2)), t.c(dx))), t.c(4)));
  const vload = (dy, dx) => mod.v128.load(0, 1, rowAddr(dy, dx));
  const splatI = (v) => mod.i32x4.splat(t.c(v));
  const step = (x, offset) => [
    t.set(MASK, mod.f32x4.gt(t.get(x, v128), t.get(VM, v128))),
    t.set(VM, mod.v128.bitselect(t.get(x, v128), t.get(VM, v128), t.get(MASK, v128))),
    ...(route ? [t.set(IDX, mod.v128.bitselect(splatI(offset), t.get(IDX, v128), t.get(MASK, v128)))] : []),
  ];
  const fourWindows = [
    t.set(px, t.mul(t.get(q), t.c(4))),
    t.set(X00, mod.i8x16.shuffle(vload(0, 0), vload(0, 4), EVENS)),
    t.set(X01, mod.i8x16.shuffle(vload(0, 0), vload(0, 4), ODDS)),
    t.set(X10, mod.i8x16.shuffle(vload(1, 0), vload(1, 4), EVENS)),
    t.set(X11, mod.i8x16.shuffle(vload(1, 0), vload(1, 4), ODDS)),
    t.set(VM, t.get(X00, v128)),
    ...(route ? [t.set(IDX, splatI(0))] : []),
    ...step(X01, 1), ...step(X10, W), ...step(X11, W + 1),
    ...(route
      ? [0, 1, 2, 3].flatMap((l) => [
        t.set(at, t.add(t.mul(t.add(t.mul(t.get(c), t.c(H)), t.mul(t.get(py), t.c(2))), t.c(W)), t.mul(t.add(t.get(px), t.c(l)), t.c(2)), mod.i32x4.extract_lane(t.get(IDX, v128), l))),
        t.storeF32(outAt(t.get(at)), routed(l, t.get(at))),
      ])
      : [mod.v128.store(0, 1, t.add(t.get(OUT), t.mul(t.add(t.mul(t.get(b), t.get(OS)), t.get(o)), t.c(4))), t.get(VM, v128))]),
    t.set(o, t.add(t.get(o), t.c(4))),
  ];
  const row = [
    ...(Wo4 > 0 ? [t.loop(q, t.c(0), () => t.c(Wo4 / 4), fourWindows)] : []),
    ...(Wo4 < Wo ? [t.loop(px, t.c(Wo4), () => t.c(Wo), window)] : []),
  ];
  const perExample = [
    ...(route ? [mod.memory.fill(t.add(t.get(OUT), t.mul(t.get(b), t.mul(t.get(OS), t.c(4)))), mod.i32.const(0), t.c(C * H * W * 4))] : []),
    t.set(o, t.c(0)),
    t.loop(c, t.c(0), () => t.c(C), [t.loop(py, t.c(0), () => t.c(Ho), row)]),
  ];
  mod.addFunction(name, binaryen.createType(Array(params).fill(i32)), none, [...Array(10).fill(i32), f32, f32, ...Array(7).fill(v128)], t.loop(b, t.c(0), () => t.get(N), perExample));
  mod.addFunctionExport(name, name);
}

/**
 * sumpos_F_HW(count, X, xs, out, os): out[b·os + f] = Σ_i X[b·xs + f·HW + i], a per-channel bias's gradient:
 * four lanes of partial sums, then the lanes added (the order differs from the TypeScript loop's, so the last
 * bits may; any thread count gives the same, as each example is one thread's).
 */
function sumPositions(mod, name, F, HW) {
  const t = tools(mod);
  const [N, X, XS, OUT, OS] = [0, 1, 2, 3, 4];
  const [b, f, i, AT] = [5, 6, 7, 8];
  const ACC = 9, SUM = 10; // v128, f32
  const hw4 = HW & ~3;
  const lanes = (v) => mod.f32.add(mod.f32.add(mod.f32x4.extract_lane(v(), 0), mod.f32x4.extract_lane(v(), 1)), mod.f32.add(mod.f32x4.extract_lane(v(), 2), mod.f32x4.extract_lane(v(), 3)));
  const perChannel = [
    t.set(AT, t.add(t.get(X), t.mul(t.add(t.mul(t.get(b), t.get(XS)), t.mul(t.get(f), t.c(HW))), t.c(4)))),
    t.set(ACC, mod.f32x4.splat(mod.f32.const(0))),
    ...(hw4 > 0 ? [t.loop(i, t.c(0), () => t.c(hw4 / 4), [t.set(ACC, mod.f32x4.add(t.get(ACC, v128), mod.v128.load(0, 1, t.add(t.get(AT), t.mul(t.get(i), t.c(16))))))])] : []),
    t.set(SUM, lanes(() => t.get(ACC, v128))),
    ...Array.from({ length: HW - hw4 }, (_, r) => t.set(SUM, mod.f32.add(t.get(SUM, f32), t.f32At(t.add(t.get(AT), t.c((hw4 + r) * 4)))))),
    t.storeF32(t.add(t.get(OUT), t.mul(t.add(t.mul(t.get(b), t.get(OS)), t.get(f)), t.c(4))), t.get(SUM, f32)),
  ];
  const body = t.loop(b, t.c(0), () => t.get(N), [t.loop(f, t.c(0), () => t.c(F), perChannel)]);
  mod.addFunction(name, binaryen.createType([i32, i32, i32, i32, i32]), none, [i32, i32, i32, i32, v128, f32], body);
  mod.addFunctionExport(name, name);
}

/** Adds the functions a model's image layers need: `convs` are ConvGeometry, `pools` PoolGeometry arrays. */
export function buildImageKernels(mod, { convs = [], pools = [], sums = [] } = {}) {
  const done = new Set();
  const once = (name, build) => { if (!done.has(name)) { done.add(name); build(name); } };
  for (const g of convs) {
    const [, , , F, , , , , Ho, Wo] = g;
    once(`im2col_${convKey(g)}`, (n) => patchWalk(mod, n, g, false));
    once(`col2im_${convKey(g)}`, (n) => patchWalk(mod, n, g, true));
    once(`img2rows_${rowsKey(F, Ho * Wo)}`, (n) => transpose(mod, n, F, Ho * Wo, true));
    once(`rows2img_${rowsKey(F, Ho * Wo)}`, (n) => transpose(mod, n, F, Ho * Wo, false));
    buildDirectConv(mod, g, convKey(g), once);
  }
  for (const g of pools) {
    once(`maxpool_${poolKey(g)}`, (n) => maxpool(mod, n, g, false));
    once(`maxroute_${poolKey(g)}`, (n) => maxpool(mod, n, g, true));
    once(`maxroutemask_${poolKey(g)}`, (n) => maxpool(mod, n, g, true, true));
  }
  for (const [F, HW] of sums) once(`sumpos_${F}_${HW}`, (n) => sumPositions(mod, n, F, HW));
}

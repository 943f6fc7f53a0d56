// Images: convolution, pooling and reshaping over [C, H, W] tensors. Their derivative rules are the
// textbook's: ∂L/∂K is the correlation of the input with the output's adjoint, ∂L/∂X the "full" convolution
// of the adjoint with the flipped kernel, max pooling routes each window's adjoint to its arg-max and
// average pooling spreads it evenly (upsampling). Each op names the runtime kernel (runtime/conv.ts) that
// computes it over a batch, and the sizes that kernel is specialised to.

import type { Node, Shape } from '../node.js';
import { registerOp, showShape, sizeOf } from '../node.js';
import type { OpDef, PrintCtx, Printed } from '../op.js';
import { PREC } from '../op.js';
import * as B from '../build.js';
import type { Tensor } from '../tensor.js';
import { tensor } from '../tensor.js';
import { printed } from './common.js';

/** [C, H, W, F, kh, kw, stride, pad, Ho, Wo]: the layout of runtime/conv.ts's ConvGeometry. */
export type ConvSizes = [number, number, number, number, number, number, number, number, number, number];

/** The output size of a convolution along one axis, or a message saying why there is none. */
export function convOutSize(size: number, k: number, stride: number, pad: number): number | string {
  const span = size + 2 * pad - k;
  if (span < 0) return `the kernel (${k}) is larger than the padded image (${size}${pad ? ` + 2·${pad}` : ''})`;
  if (span % stride !== 0) return `(${size} + 2·${pad} − ${k}) is not a multiple of the stride ${stride}`;
  return span / stride + 1;
}

function convShape(x: Shape, k: Shape, stride: number, pad: number): Shape {
  if (x.length !== 3 || k.length !== 4) throw new Error(`conv2d needs an image [C, H, W] and a kernel [F, C, kh, kw], got ${showShape(x)} and ${showShape(k)}`);
  if (x[0] !== k[1]) throw new Error(`conv2d: the image has ${x[0]} channels but the kernel expects ${k[1]}`);
  const ho = convOutSize(x[1], k[2], stride, pad), wo = convOutSize(x[2], k[3], stride, pad);
  if (typeof ho === 'string') throw new Error(`conv2d: ${ho}`);
  if (typeof wo === 'string') throw new Error(`conv2d: ${wo}`);
  return [k[0], ho, wo];
}

/** The sizes of the convolution a conv2d, conv2d_grad_input or conv2d_grad_kernel node belongs to. */
export function convSizes(n: Node): ConvSizes {
  const s = n.attr.stride as number, p = n.attr.pad as number;
  const [a, b] = n.args;
  switch (n.op) {
    case 'conv2d': return [a.shape[0], a.shape[1], a.shape[2], b.shape[0], b.shape[2], b.shape[3], s, p, n.shape[1], n.shape[2]];
    case 'conv2d_grad_input': return [n.shape[0], n.shape[1], n.shape[2], b.shape[0], b.shape[2], b.shape[3], s, p, a.shape[1], a.shape[2]];
    default: return [a.shape[0], a.shape[1], a.shape[2], b.shape[0], n.shape[2], n.shape[3], s, p, b.shape[1], b.shape[2]];
  }
}

/**
 * Visits every multiply of a convolution: flat indices into the image, the kernel and the output. The
 * interpreter computes all three convolution ops with it, so they are adjoint to each other by construction.
 */
function forEachTap(g: ConvSizes, visit: (x: number, k: number, o: number) => void): void {
  const [C, H, W, F, kh, kw, s, p, Ho, Wo] = g;
  for (let f = 0; f < F; f++) for (let oy = 0; oy < Ho; oy++) for (let ox = 0; ox < Wo; ox++) {
    for (let c = 0; c < C; c++) for (let ki = 0; ki < kh; ki++) for (let kj = 0; kj < kw; kj++) {
      const y = oy * s + ki - p, x = ox * s + kj - p;
      if (y < 0 || y >= H || x < 0 || x >= W) continue;
      visit((c * H + y) * W + x, ((f * C + c) * kh + ki) * kw + kj, (f * Ho + oy) * Wo + ox);
    }
  }
}

/** `, stride=2, pad=1` where they differ from the defaults (text and LaTeX); every argument in mathjs. */
function convOptions(p: PrintCtx, extra: number[] = []): string[] {
  const s = p.node.attr.stride as number, pad = p.node.attr.pad as number;
  if (p.style === 'mathjs') return [String(s), String(pad), ...extra.map(String)];
  return [...(s !== 1 ? [`stride=${s}`] : []), ...(pad !== 0 ? [`pad=${pad}`] : [])];
}
/** Per example: the patch matrix [Ho·Wo, C·kh·kw] and a channel-last image [Ho·Wo, F]. */
export function convScratch(n: Node): { patches: number; rows: number } {
  const [C, , , F, kh, kw, , , Ho, Wo] = convSizes(n);
  return { patches: Ho * Wo * C * kh * kw, rows: Ho * Wo * F };
}
const flops = (n: Node) => { const g = convSizes(n); return 2 * g[3] * g[8] * g[9] * g[0] * g[4] * g[5]; };
const convAttr = (n: Node) => ({ stride: n.attr.stride as number, pad: n.attr.pad as number });

const conv2d: OpDef = {
  name: 'conv2d', arity: 2,
  shape: ([x, k], attr) => convShape(x, k, attr.stride as number, attr.pad as number),
  eval: ([x, k], n) => { const out = tensor(n.shape); forEachTap(convSizes(n), (i, j, o) => { out.data[o] += x.data[i] * k.data[j]; }); return out; },
  vjp: (g, n) => {
    const [x, k] = n.args;
    return [B.conv2dGradInput(g, k, x.shape, convAttr(n)), B.conv2dGradKernel(x, g, k.shape, convAttr(n))];
  },
  print: (p) => p.call('conv2d', [p.arg(0, 0), p.arg(1, 0), ...convOptions(p)], '\\operatorname{conv}'),
  flops,
  kernel: { fn: 'conv2dForward', sizes: convSizes, scratch: convScratch },
};

/** ∂L/∂X of conv2d: the full convolution of the adjoint G [F, Ho, Wo] with the flipped kernel, giving [C, H, W]. */
const conv2dGradInput: OpDef = {
  name: 'conv2d_grad_input', arity: 2,
  shape: (_, attr) => attr.image as number[],
  eval: ([g, k], n) => { const out = tensor(n.shape); forEachTap(convSizes(n), (i, j, o) => { out.data[i] += g.data[o] * k.data[j]; }); return out; },
  vjp: (h, n) => {
    const [g, k] = n.args;
    return [B.conv2d(h, k, convAttr(n)), B.conv2dGradKernel(h, g, k.shape, convAttr(n))];
  },
  print: (p) => {
    const [, h, w] = p.node.shape;
    if (p.style === 'latex') return p.call('full_conv', [p.arg(0, 0), `\\operatorname{rot}_{180}(${p.arg(1, 0)})`, ...convOptions(p)], '\\operatorname{conv}_{\\mathrm{full}}');
    return p.call('full_conv2d', [p.arg(0, 0), `flip(${p.arg(1, 0)})`, ...convOptions(p, [h, w])]);
  },
  flops,
  kernel: { fn: 'conv2dGradInput', sizes: convSizes, scratch: convScratch },
};

/** ∂L/∂K of conv2d: the correlation of the input X [C, H, W] with the adjoint G [F, Ho, Wo], giving [F, C, kh, kw]. */
const conv2dGradKernel: OpDef = {
  name: 'conv2d_grad_kernel', arity: 2,
  shape: ([x, g], attr) => [g[0], x[0], ...(attr.window as number[])],
  eval: ([x, g], n) => { const out = tensor(n.shape); forEachTap(convSizes(n), (i, j, o) => { out.data[j] += g.data[o] * x.data[i]; }); return out; },
  vjp: (h, n) => {
    const [x, g] = n.args;
    return [B.conv2dGradInput(g, h, x.shape, convAttr(n)), B.conv2d(x, h, convAttr(n))];
  },
  print: (p) => {
    const [, , kh, kw] = p.node.shape;
    if (p.style === 'latex') return p.call('corr', [p.arg(0, 0), p.arg(1, 0), ...convOptions(p)], '\\operatorname{corr}');
    return p.call('correlate', [p.arg(0, 0), p.arg(1, 0), ...convOptions(p, [kh, kw])]);
  },
  flops,
  kernel: { fn: 'conv2dGradKernel', sizes: convSizes },
};

// ---- pooling ----------------------------------------------------------------------------------------

/** [C, H, W, s, Ho, Wo]: the layout of runtime/conv.ts's PoolGeometry (H, W the image, Ho, Wo the pooled sizes). */
export function poolSizes(image: Shape, s: number): [number, number, number, number, number, number] {
  return [image[0], image[1], image[2], s, Math.floor(image[1] / s), Math.floor(image[2] / s)];
}
function pooledShape(x: Shape, s: number, name: string): Shape {
  if (x.length !== 3) throw new Error(`${name} needs an image [C, H, W], got ${showShape(x)}`);
  if (!Number.isInteger(s) || s < 1 || s > x[1] || s > x[2]) throw new Error(`${name}: a window of ${s} does not fit ${showShape(x)}`);
  return [x[0], Math.floor(x[1] / s), Math.floor(x[2] / s)];
}
/** Visits each window: its output index and the image indices it covers, row by row. */
function forEachWindow(image: Shape, s: number, visit: (o: number, cells: number[]) => void): void {
  const [C, H, W, , Ho, Wo] = poolSizes(image, s);
  for (let c = 0; c < C; c++) for (let py = 0; py < Ho; py++) for (let px = 0; px < Wo; px++) {
    const cells: number[] = [];
    for (let i = 0; i < s; i++) for (let j = 0; j < s; j++) cells.push((c * H + py * s + i) * W + px * s + j);
    visit((c * Ho + py) * Wo + px, cells);
  }
}
/** The first cell holding the window's largest value. */
const argmaxOf = (x: Tensor, cells: number[]) => cells.reduce((best, i) => (x.data[i] > x.data[best] ? i : best), cells[0]);
const sizeAttr = (n: Node) => n.attr.size as number;
const windowName = (p: PrintCtx) => String(sizeAttr(p.node));

const maxpool: OpDef = {
  name: 'maxpool', arity: 1, kink: true,
  shape: ([x], attr) => pooledShape(x, attr.size as number, 'maxpool'),
  eval: ([x], n) => { const out = tensor(n.shape); forEachWindow(x.shape, sizeAttr(n), (o, cells) => { out.data[o] = x.data[argmaxOf(x, cells)]; }); return out; },
  vjp: (g, n) => [B.maxpoolRoute(n.args[0], g, sizeAttr(n))],
  print: (p) => p.call('maxpool', [p.arg(0, 0), windowName(p)], '\\operatorname{maxpool}'),
  flops: (n) => n.args[0].size,
  kernel: { fn: 'maxpoolForward', sizes: (n) => poolSizes(n.args[0].shape, sizeAttr(n)) },
};

/** The adjoint of maxpool(X): G [C, Ho, Wo] routed to each window's arg-max in X (the first on a tie), 0 elsewhere. */
const maxpoolRoute: OpDef = {
  name: 'maxpool_route', arity: 2, kink: true,
  shape: ([x, g], attr) => {
    const pooled = pooledShape(x, attr.size as number, 'maxpool_route');
    if (sizeOf(pooled) !== sizeOf(g) || g.length !== 3) throw new Error(`maxpool_route: ${showShape(g)} is not the pooled shape ${showShape(pooled)}`);
    return x;
  },
  eval: ([x, g], n) => { const out = tensor(n.shape); forEachWindow(x.shape, sizeAttr(n), (o, cells) => { out.data[argmaxOf(x, cells)] = g.data[o]; }); return out; },
  vjp: (h, n) => [null, B.maxpoolGather(n.args[0], h, sizeAttr(n))],
  print: (p) => p.call('route_to_max', [p.arg(1, 0), p.arg(0, 0), windowName(p)], '\\operatorname{route}_{\\max}'),
  flops: () => 0,
  kernel: { fn: 'maxpoolRoute', sizes: (n) => poolSizes(n.shape, sizeAttr(n)) },
};

/** H at each window's arg-max in X: the adjoint of maxpool_route with respect to the routed gradient. */
const maxpoolGather: OpDef = {
  name: 'maxpool_gather', arity: 2, kink: true,
  shape: ([x], attr) => pooledShape(x, attr.size as number, 'maxpool_gather'),
  eval: ([x, h], n) => { const out = tensor(n.shape); forEachWindow(x.shape, sizeAttr(n), (o, cells) => { out.data[o] = h.data[argmaxOf(x, cells)]; }); return out; },
  vjp: (g, n) => [null, B.maxpoolRoute(n.args[0], g, sizeAttr(n))],
  print: (p) => p.call('gather_max', [p.arg(1, 0), p.arg(0, 0), windowName(p)], '\\operatorname{gather}_{\\max}'),
  flops: () => 0,
  kernel: { fn: 'maxpoolGather', sizes: (n) => poolSizes(n.args[0].shape, sizeAttr(n)) },
};

const avgpool: OpDef = {
  name: 'avgpool', arity: 1,
  shape: ([x], attr) => pooledShape(x, attr.size as number, 'avgpool'),
  eval: ([x], n) => {
    const out = tensor(n.shape);
    forEachWindow(x.shape, sizeAttr(n), (o, cells) => { out.data[o] = cells.reduce((acc, i) => acc + x.data[i], 0) / cells.length; });
    return out;
  },
  vjp: (g, n) => { const s = sizeAttr(n); return [B.div(B.upsample(g, s, n.args[0].shape), B.constant(s * s))]; },
  print: (p) => p.call('avgpool', [p.arg(0, 0), windowName(p)], '\\operatorname{avgpool}'),
  flops: (n) => n.args[0].size,
  kernel: { fn: 'avgpoolForward', sizes: (n) => poolSizes(n.args[0].shape, sizeAttr(n)) },
};

/** Each element of G [C, Ho, Wo] repeated over its s×s window of a [C, H, W] image (a dropped remainder gets 0). */
const upsample: OpDef = {
  name: 'upsample', arity: 1,
  shape: ([g], attr) => {
    const image = attr.image as number[];
    const pooled = pooledShape(image, attr.size as number, 'upsample');
    if (g.length !== 3 || sizeOf(pooled) !== sizeOf(g)) throw new Error(`upsample: ${showShape(g)} is not the pooled shape ${showShape(pooled)}`);
    return image;
  },
  eval: ([g], n) => { const out = tensor(n.shape); forEachWindow(n.shape, sizeAttr(n), (o, cells) => { for (const i of cells) out.data[i] = g.data[o]; }); return out; },
  vjp: (h, n) => { const s = sizeAttr(n); return [B.mul(B.constant(s * s), B.avgpool(h, s))]; },
  print: (p) => {
    if (p.style === 'mathjs') return p.call('upsample', [p.arg(0, 0), windowName(p), String(p.node.shape[1]), String(p.node.shape[2])]);
    return p.call('upsample', [p.arg(0, 0), windowName(p)], '\\operatorname{upsample}');
  },
  flops: () => 0,
  kernel: { fn: 'upsample', sizes: (n) => poolSizes(n.shape, sizeAttr(n)) },
};

// ---- shapes -----------------------------------------------------------------------------------------

/** The same elements, row-major, in another shape: `reshape(X, [n, …])`, or `flatten(X)` (attr flat). */
const reshape: OpDef = {
  name: 'reshape', arity: 1,
  shape: ([x], attr) => {
    const shape = attr.shape as number[];
    if (sizeOf(shape) !== sizeOf(x)) throw new Error(`reshape: ${showShape(x)} has ${sizeOf(x)} elements, ${showShape(shape)} has ${sizeOf(shape)}`);
    return shape;
  },
  eval: ([x], n) => tensor(n.shape, x.data),
  vjp: (g, n) => [B.reshape(g, n.args[0].shape)],
  print: (p) => {
    if (p.node.attr.flat === true) return p.call('flatten', [p.arg(0, 0)], '\\operatorname{vec}');
    return p.call('reshape', [p.arg(0, 0), `[${p.sizes(p.node.shape)}]`], '\\operatorname{reshape}');
  },
  flops: () => 0,
  kernel: { fn: 'copyElements', sizes: (n) => [n.size] },
};

/** Σ over positions of [F, H, W], giving [F]: what undoes a per-channel bias's broadcast. */
const sumPositions: OpDef = {
  name: 'sum_positions', arity: 1,
  shape: ([x]) => { if (x.length !== 3) throw new Error(`sum_positions needs [C, H, W], got ${showShape(x)}`); return [x[0]]; },
  eval: ([x]) => {
    const [F, H, W] = x.shape, out = tensor([F]);
    for (let i = 0; i < x.data.length; i++) out.data[Math.floor(i / (H * W))] += x.data[i];
    return out;
  },
  vjp: (g, n) => [B.fill(g, n.args[0].shape)],
  print: (p): Printed => {
    if (p.style === 'latex') return printed(`\\sum_{i,j} ${p.arg(0, PREC.mul)}`, PREC.add); // a factor of a product gets parentheses: (Σ G) ⊙ H
    if (p.style === 'mathjs') return p.call('sum', [p.call('sum', [p.arg(0, 0), '3']).s, '2']);
    return p.call('sum', [p.arg(0, 0), '[2, 3]']);
  },
  flops: (n) => n.args[0].size,
  kernel: { fn: 'sumPositions', sizes: (n) => [n.shape[0], n.args[0].shape[1] * n.args[0].shape[2]] },
};

for (const op of [conv2d, conv2dGradInput, conv2dGradKernel, maxpool, maxpoolRoute, maxpoolGather, avgpool, upsample, reshape, sumPositions]) registerOp(op);

// Lowering the image built-ins: conv2d(X, K, stride=, pad=), maxpool/avgpool(X, s), reshape(X, [sizes…]) and
// flatten(X). They take integer options (a literal or a dim) and shapes the user must get right, so every
// check here names the sizes involved and what to change.

import type { Node } from '../ir/node.js';
import { showShape, sizeOf } from '../ir/node.js';
import * as B from '../ir/build.js';
import { convOutSize } from '../ir/ops/image.js';
import { nearest } from '../source/diagnostics.js';
import type { Span } from '../source/diagnostics.js';
import type { Expr } from './ast.js';

type Call = Extract<Expr, { kind: 'call' }>;

export interface ImageLowering {
  /** Lowers an argument expression (null after an error, already reported). */
  expr(e: Expr): Node | null;
  /** The value of a literal or a dim, or undefined if `e` is neither. */
  integer(e: Expr): number | undefined;
  text(e: Expr): string;
  error(span: Span, message: string): void;
}

export const IMAGE_BUILTINS: Readonly<Record<string, { signature: string; arity: readonly number[]; options: readonly string[] }>> = {
  conv2d: { signature: 'conv2d(X, K, stride=1, pad=0)', arity: [2, 3, 4], options: ['stride', 'pad'] },
  maxpool: { signature: 'maxpool(X, s)', arity: [2], options: [] },
  avgpool: { signature: 'avgpool(X, s)', arity: [2], options: [] },
  reshape: { signature: 'reshape(X, [n, …])', arity: [2], options: [] },
  flatten: { signature: 'flatten(X)', arity: [1], options: [] },
  // The adjoints as `gradc grad` prints them, so that a printed backward program (and a student's claim,
  // `verify --wrt K1 --claim "correlate(x, dL/dz1)"`) reads back in.
  correlate: { signature: 'correlate(X, G, stride=1, pad=0)', arity: [2, 3, 4], options: ['stride', 'pad'] },
  full_conv2d: { signature: 'full_conv2d(G, flip(K), stride=1, pad=0)', arity: [2, 3, 4], options: ['stride', 'pad'] },
  flip: { signature: 'flip(K), only inside full_conv2d(G, flip(K))', arity: [1], options: [] },
  route_to_max: { signature: 'route_to_max(G, X, s)', arity: [3], options: [] },
  gather_max: { signature: 'gather_max(H, X, s)', arity: [3], options: [] },
  upsample: { signature: 'upsample(G, s)', arity: [2], options: [] },
};

const times = (a: number, b: number) => `${a}×${b}`;

export function lowerImageCall(e: Call, L: ImageLowering): Node | null {
  const spec = IMAGE_BUILTINS[e.name];
  for (const n of e.named) {
    if (spec.options.includes(n.name)) continue;
    const guess = nearest(n.name, [...spec.options]);
    L.error(n.nameSpan, spec.options.length
      ? `${e.name} has no option '${n.name}'${guess ? `: did you mean ${guess}?` : ''} (its options: ${spec.options.map((o) => `${o}=`).join(', ')})`
      : `${e.name} takes no named options: ${spec.signature}`);
    return null;
  }
  if (e.name === 'reshape') return reshape(e, L);
  if (e.name === 'flip') { L.error(e.span, 'flip(K) is the flipped kernel of full_conv2d(G, flip(K)), and only that'); return null; }
  if (e.name === 'full_conv2d') return fullConv(e, L);
  const x = L.expr(e.args[0]);
  if (e.name === 'conv2d') return conv(e, x, L);
  if (e.name === 'correlate') return correlate(e, x, L);
  if (e.name === 'route_to_max' || e.name === 'gather_max' || e.name === 'upsample') return unpool(e, x, L);
  if (!x) return null;
  if (e.name === 'flatten') return B.reshape(x, [x.size], true);
  return pool(e, x, L);
}

/** A non-negative (or, with min 1, positive) integer option: a literal or a dim. */
function option(L: ImageLowering, e: Expr, what: string, min: number): number | undefined {
  const v = L.integer(e);
  if (v === undefined || !Number.isInteger(v) || v < min) {
    L.error(e.span, `${what} must be ${min === 1 ? 'a positive' : 'a non-negative'} integer (a number or a dim), found ${L.text(e)}`);
    return undefined;
  }
  return v;
}

function imageArg(L: ImageLowering, e: Expr, x: Node, fn: string): boolean {
  if (x.rank === 3) return true;
  const hint = x.rank === 1 && Number.isInteger(Math.sqrt(x.size))
    ? `: declare it as an image, input ${L.text(e)}: [1, ${Math.sqrt(x.size)}, ${Math.sqrt(x.size)}], or write reshape(${L.text(e)}, [1, ${Math.sqrt(x.size)}, ${Math.sqrt(x.size)}])`
    : ': images are [channels, height, width]';
  L.error(e.span, `${fn} needs an image [C, H, W], but ${L.text(e)} is ${showShape(x.shape)}${hint}`);
  return false;
}

/** stride= and pad= (named, or the third and fourth arguments). */
function strideAndPad(e: Call, L: ImageLowering): { stride: number; pad: number } | undefined {
  const byName = (name: string, pos: number): Expr | undefined => e.named.find((n) => n.name === name)?.value ?? e.args[pos];
  const sExpr = byName('stride', 2), pExpr = byName('pad', 3);
  const stride = sExpr ? option(L, sExpr, 'the stride', 1) : 1;
  const pad = pExpr ? option(L, pExpr, 'the padding', 0) : 0;
  return stride === undefined || pad === undefined ? undefined : { stride, pad };
}

function conv(e: Call, x: Node | null, L: ImageLowering): Node | null {
  const k = L.expr(e.args[1]);
  const sp = strideAndPad(e, L);
  if (!x || !k || !sp) return null;
  const { stride, pad } = sp;
  if (!imageArg(L, e.args[0], x, 'conv2d')) return null;
  const [xt, kt] = [L.text(e.args[0]), L.text(e.args[1])];
  if (k.rank !== 4) {
    const hint = k.rank === 3 ? `: with ${x.shape[0]} input channel${x.shape[0] === 1 ? '' : 's'}, declare it as [${k.shape[0]}, ${x.shape[0]}, ${k.shape[1]}, ${k.shape[2]}]` : '';
    L.error(e.args[1].span, `conv2d needs a kernel [F, C, kh, kw] (filters, channels, height, width), but ${kt} is ${showShape(k.shape)}${hint}`);
    return null;
  }
  const [C, H, W] = x.shape, [F, kc, kh, kw] = k.shape;
  if (kc !== C) {
    L.error(e.span, `conv2d: ${xt} has ${C} channel${C === 1 ? '' : 's'} (${showShape(x.shape)}) but the kernel ${kt} expects ${kc} (${showShape(k.shape)}): declare ${kt} as [${F}, ${C}, ${kh}, ${kw}]`);
    return null;
  }
  for (const [size, kSize, axis] of [[H, kh, 'height'], [W, kw, 'width']] as const) {
    const out = convOutSize(size, kSize, stride, pad);
    if (typeof out === 'number') continue;
    if (size + 2 * pad < kSize) {
      L.error(e.span, `conv2d: the kernel ${kt} is ${times(kh, kw)} but the image ${xt} is ${times(H, W)}${pad ? ` (${times(H + 2 * pad, W + 2 * pad)} padded)` : ''}: its ${axis} ${kSize} is larger than the image's ${size + 2 * pad}; use a smaller kernel or pad=${Math.ceil((kSize - size) / 2)}`);
    } else {
      const fix = [1, 2, 3].map((d) => pad + d).find((p) => (size + 2 * p - kSize) % stride === 0);
      const kernels = [kSize - 1, kSize + 1].filter((k) => k >= 1 && k <= size + 2 * pad && (size + 2 * pad - k) % stride === 0);
      const options = [...(fix !== undefined ? [`pad=${fix}`] : []), ...(kernels.length ? [`a kernel ${kernels.join(' or ')} wide`] : []), 'another stride'];
      L.error(e.span, `conv2d: with stride=${stride} the ${axis} does not come out whole: (${size} + 2·${pad} − ${kSize}) / ${stride} + 1 = ${((size + 2 * pad - kSize) / stride + 1).toFixed(2)}; use ${options.join(', or ')}`);
    }
    return null;
  }
  return B.conv2d(x, k, { stride, pad });
}

function pool(e: Call, x: Node, L: ImageLowering): Node | null {
  const s = option(L, e.args[1], `the window of ${e.name}`, 1);
  if (s === undefined || !imageArg(L, e.args[0], x, e.name)) return null;
  const [, H, W] = x.shape;
  if (s > H || s > W) {
    L.error(e.args[1].span, `${e.name}: a ${times(s, s)} window does not fit the ${times(H, W)} image ${L.text(e.args[0])}: use a window of at most ${Math.min(H, W)}`);
    return null;
  }
  return e.name === 'maxpool' ? B.maxpool(x, s) : B.avgpool(x, s);
}

function reshape(e: Call, L: ImageLowering): Node | null {
  const x = L.expr(e.args[0]);
  const list = e.args[1];
  if (list.kind !== 'list') {
    L.error(list.span, `the shape of reshape is a list of sizes in brackets: reshape(${L.text(e.args[0])}, [n, …])`);
    return null;
  }
  const sizes = list.items.map((item) => option(L, item, 'a size', 1));
  if (!x || sizes.some((v) => v === undefined)) return null;
  const shape = sizes as number[];
  if (shape.length === 0 || shape.length > 4) { L.error(list.span, `reshape to ${shape.length} axes: give 1 to 4 sizes`); return null; }
  if (sizeOf(shape) !== x.size) {
    L.error(list.span, `reshape: ${L.text(e.args[0])} is ${showShape(x.shape)} with ${x.size} elements, but ${showShape(shape)} has ${sizeOf(shape)}: the sizes must multiply to ${x.size}`);
    return null;
  }
  return B.reshape(x, shape);
}

/** The size a convolution's adjoint gives back along one axis, or undefined if none fits. */
const backSize = (size: number) => (size >= 1 ? size : undefined);

/** correlate(X, G): ∂L/∂K of conv2d(X, K) with output adjoint G; the kernel's size follows from X, G, stride and padding. */
function correlate(e: Call, x: Node | null, L: ImageLowering): Node | null {
  const g = L.expr(e.args[1]);
  const sp = strideAndPad(e, L);
  if (!x || !g || !sp) return null;
  if (!imageArg(L, e.args[0], x, 'correlate') || !imageArg(L, e.args[1], g, 'correlate')) return null;
  const kh = backSize(x.shape[1] + 2 * sp.pad - (g.shape[1] - 1) * sp.stride), kw = backSize(x.shape[2] + 2 * sp.pad - (g.shape[2] - 1) * sp.stride);
  if (kh === undefined || kw === undefined) {
    L.error(e.span, `correlate: ${L.text(e.args[1])} ${showShape(g.shape)} is larger than a convolution of ${L.text(e.args[0])} ${showShape(x.shape)} can give`);
    return null;
  }
  return B.conv2dGradKernel(x, g, [g.shape[0], x.shape[0], kh, kw], sp);
}

/** full_conv2d(G, flip(K)): ∂L/∂X of conv2d(X, K) with output adjoint G; the image's size follows from G, K, stride and padding. */
function fullConv(e: Call, L: ImageLowering): Node | null {
  const g = L.expr(e.args[0]);
  const flipped = e.args[1];
  if (flipped.kind !== 'call' || flipped.name !== 'flip' || flipped.args.length !== 1) {
    L.error(flipped.span, `full_conv2d takes the flipped kernel: full_conv2d(${L.text(e.args[0])}, flip(K))`);
    return null;
  }
  const k = L.expr(flipped.args[0]);
  const sp = strideAndPad(e, L);
  if (!g || !k || !sp) return null;
  if (!imageArg(L, e.args[0], g, 'full_conv2d')) return null;
  if (k.rank !== 4 || k.shape[0] !== g.shape[0]) {
    L.error(flipped.args[0].span, `full_conv2d: the kernel must be [F, C, kh, kw] with F = ${g.shape[0]}, the channels of ${L.text(e.args[0])}; ${L.text(flipped.args[0])} is ${showShape(k.shape)}`);
    return null;
  }
  const h = backSize((g.shape[1] - 1) * sp.stride + k.shape[2] - 2 * sp.pad), w = backSize((g.shape[2] - 1) * sp.stride + k.shape[3] - 2 * sp.pad);
  if (h === undefined || w === undefined) { L.error(e.span, 'full_conv2d: the padding is larger than the image it would give'); return null; }
  return B.conv2dGradInput(g, k, [k.shape[1], h, w], sp);
}

/** route_to_max(G, X, s), gather_max(H, X, s) and upsample(G, s): pooling's adjoints. */
function unpool(e: Call, first: Node | null, L: ImageLowering): Node | null {
  if (e.name === 'upsample') {
    const s = option(L, e.args[1], 'the window of upsample', 1);
    if (!first || s === undefined || !imageArg(L, e.args[0], first, 'upsample')) return null;
    return B.upsample(first, s, [first.shape[0], first.shape[1] * s, first.shape[2] * s]);
  }
  const x = L.expr(e.args[1]);
  const s = option(L, e.args[2], `the window of ${e.name}`, 1);
  if (!first || !x || s === undefined || !imageArg(L, e.args[1], x, e.name)) return null;
  const pooled = [x.shape[0], Math.floor(x.shape[1] / s), Math.floor(x.shape[2] / s)];
  const want = e.name === 'route_to_max' ? pooled : x.shape;
  if (first.rank !== 3 || first.shape.some((d, i) => d !== want[i])) {
    L.error(e.args[0].span, `${e.name}: ${L.text(e.args[0])} is ${showShape(first.shape)}, but ${e.name === 'route_to_max' ? `maxpool(${L.text(e.args[1])}, ${s})` : L.text(e.args[1])} is ${showShape(want)}: they must agree`);
    return null;
  }
  return e.name === 'route_to_max' ? B.maxpoolRoute(x, first, s) : B.maxpoolGather(x, first, s);
}

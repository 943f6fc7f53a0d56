// Helpers shared by the op families: broadcasting, elementwise evaluation, and printing shortcuts.

import type { Node, Shape } from '../node.js';
import { sameShape, showShape, sizeOf } from '../node.js';
import type { PrintCtx, Printed, Style } from '../op.js';
import { PREC } from '../op.js';
import type { Tensor } from '../tensor.js';
import { tensor } from '../tensor.js';

/**
 * SPEC §1 broadcasting: equal shapes, or one side a scalar, or a matrix and a vector of its last size
 * (the vector is repeated along the rows), or an image [C, H, W] and a vector of its channel count (one
 * value per channel, repeated over the positions: a convolution's bias). Undefined when they do not broadcast.
 */
export function broadcastShape(a: Shape, b: Shape): Shape | undefined {
  if (sameShape(a, b)) return a;
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  if (b.length === 1 && isVectorBroadcast(b[0], a)) return a;
  if (a.length === 1 && isVectorBroadcast(a[0], b)) return b;
  return undefined;
}
const isVectorBroadcast = (n: number, big: Shape) => (big.length === 2 && big[1] === n) || (big.length === 3 && big[0] === n);

/** How many consecutive elements of a broadcast result of shape `out` read one element of a vector: 1 along a matrix's rows, H·W per channel. */
export function vectorRepeat(out: Shape): number {
  return out.length === 3 ? out[1] * out[2] : 1;
}

export function broadcastAll(shapes: readonly Shape[], what: string): Shape {
  let out: Shape = [];
  for (const s of shapes) {
    const r = broadcastShape(out, s);
    if (!r) throw new Error(`${what}: shapes ${shapes.map(showShape).join(' and ')} do not broadcast`);
    out = r;
  }
  return out;
}

/** Index of the element of `arg` that lines up with flat index i of a broadcast result of `out`'s shape. */
function broadcastIndex(arg: Shape, out: Shape): (i: number) => number {
  if (arg.length === 0) return () => 0;
  if (sameShape(arg, out)) return (i) => i;
  const n = arg[0], r = vectorRepeat(out);
  return (i) => Math.floor(i / r) % n;
}

export function elementwise(args: readonly Tensor[], f: (...xs: number[]) => number): Tensor {
  const shape = broadcastAll(args.map((a) => a.shape), 'elementwise');
  const out = tensor(shape);
  const idx = args.map((a) => broadcastIndex(a.shape, shape));
  const xs = new Array<number>(args.length);
  for (let i = 0; i < out.data.length; i++) {
    for (let k = 0; k < args.length; k++) xs[k] = args[k].data[idx[k](i)];
    out.data[i] = f(...xs);
  }
  return out;
}

export function requireRank(s: Shape, rank: number, what: string): void {
  if (s.length !== rank) throw new Error(`${what} needs rank ${rank}, got ${showShape(s)}`);
}

export const size = (n: Node): number => sizeOf(n.shape);

/** Parenthesize for the style. */
export function paren(p: Printed, min: number, style: Style): string {
  if (p.prec >= min) return p.s;
  return style === 'latex' ? `\\left(${p.s}\\right)` : `(${p.s})`;
}

export function callOf(p: PrintCtx, name: string, latexName?: string): Printed {
  return p.call(name, p.node.args.map((_, i) => p.arg(i, 0)), latexName);
}

export const printed = (s: string, prec: number = PREC.atom): Printed => ({ s, prec });

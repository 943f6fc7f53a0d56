// Parameter initializers of SPEC §1. Fan-in and fan-out follow the layer convention W: [out, in], and for a
// convolution kernel K: [F, C, kh, kw] count each filter's receptive field (C·kh·kw in, F·kh·kw out), as PyTorch does.

import type { Buf } from './kernels.js';
import type { Rng } from './rng.js';

export type InitSpec =
  | { kind: 'const'; value: number }
  | { kind: 'xavier' } | { kind: 'he' }
  | { kind: 'normal'; mean: number; std: number }
  | { kind: 'uniform'; lo: number; hi: number };

export function initialize(buf: Buf, shape: readonly number[], init: InitSpec, rng: Rng): void {
  const field = shape.slice(2).reduce((a, b) => a * b, 1);
  const fanOut = (shape.length >= 1 ? shape[0] : 1) * field;
  const fanIn = (shape.length >= 2 ? shape[1] : shape.length === 1 ? shape[0] : 1) * field;
  for (let i = 0; i < buf.length; i++) {
    switch (init.kind) {
      case 'const': buf[i] = init.value; break;
      case 'xavier': { const a = Math.sqrt(6 / (fanIn + fanOut)); buf[i] = (rng.next() * 2 - 1) * a; break; } // Glorot uniform
      case 'he': buf[i] = rng.normal() * Math.sqrt(2 / fanIn); break;
      case 'normal': buf[i] = init.mean + init.std * rng.normal(); break;
      case 'uniform': buf[i] = init.lo + (init.hi - init.lo) * rng.next(); break;
    }
  }
}

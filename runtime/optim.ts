// Optimizers with the usual defaults (PyTorch's): sgd, momentum (0.9), adam (β₁ 0.9, β₂ 0.999, ε 1e-8).
// An L2 penalty λ‖W‖² on weight matrices adds 2λW to their gradient (decoupled from the loss printout).

import type { Buf } from './kernels.js';
import { route } from './kernels.js';
import type { ArrayCtor } from './model.js';

export type OptimizerName = 'sgd' | 'momentum' | 'adam';

export interface OptimizerState { name: OptimizerName; step: number; slots: number[][][] }

export class Optimizer {
  step = 0;
  private readonly m: Buf[];
  private readonly v: Buf[];
  /** `Arr` makes the optimizer's state (the wasm target passes its memory's allocator, so the step runs there). */
  constructor(readonly name: OptimizerName, readonly lr: number, private readonly params: Buf[], private readonly l2: number[], private readonly momentum = 0.9, Arr?: ArrayCtor) {
    const like = (p: Buf) => (Arr ? new Arr(p.length) : p instanceof Float32Array ? new Float32Array(p.length) : new Float64Array(p.length));
    this.m = name === 'sgd' ? [] : params.map(like);
    this.v = name === 'adam' ? params.map(like) : [];
  }

  /** Apply one update; `scale` turns the given gradients into those of the mean loss (1/n for a sum over n). */
  update(grads: Buf[], scale = 1, lr = this.lr): void {
    this.step++;
    const b1 = 0.9, b2 = 0.999, eps = 1e-8;
    const c1 = 1 - Math.pow(b1, this.step), c2 = 1 - Math.pow(b2, this.step);
    for (let k = 0; k < this.params.length; k++) {
      const p = this.params[k], g = grads[k], decay = 2 * this.l2[k];
      // In WebAssembly SIMD when the buffers live in the wasm target's memory.
      const wasm = this.name === 'adam' ? undefined : route(this.name, p, g, this.name === 'momentum' ? this.m[k] : p);
      if (wasm) { wasm(p.length, p.byteOffset, g.byteOffset, this.name === 'momentum' ? this.m[k].byteOffset : 0, lr, scale, decay, this.momentum); continue; }
      if (this.name === 'sgd') {
        for (let i = 0; i < p.length; i++) p[i] -= lr * (scale * g[i] + decay * p[i]);
      } else if (this.name === 'momentum') {
        const m = this.m[k], mu = this.momentum;
        for (let i = 0; i < p.length; i++) { m[i] = mu * m[i] + scale * g[i] + decay * p[i]; p[i] -= lr * m[i]; }
      } else {
        const m = this.m[k], v = this.v[k];
        for (let i = 0; i < p.length; i++) {
          const gi = scale * g[i] + decay * p[i];
          m[i] = b1 * m[i] + (1 - b1) * gi;
          v[i] = b2 * v[i] + (1 - b2) * gi * gi;
          p[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
        }
      }
    }
  }

  save(): OptimizerState { return { name: this.name, step: this.step, slots: [this.m.map((b) => Array.from(b)), this.v.map((b) => Array.from(b))] }; }
  load(s: OptimizerState): void {
    if (s.name !== this.name) return; // a different optimizer starts fresh from the saved weights
    this.step = s.step;
    s.slots[0]?.forEach((a, k) => this.m[k]?.set(a));
    s.slots[1]?.forEach((a, k) => this.v[k]?.set(a));
  }
}

// The peer for `npm run bench`: LeNet-300-100 in TensorFlow.js with its WebAssembly backend (XNNPACK, SIMD),
// trained with plain SGD two ways — as TF.js users write it (optimizer.minimize, autodiff by tape) and with a
// hand-written backward pass (the lecture's formulas as tf ops, updated in place with tf.tidy).

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
// optimizer.minimize needs the gradient functions, which @tensorflow/tfjs (the full package) registers.
import '@tensorflow/tfjs';

export async function tfjsReady(threads = 1): Promise<string> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setThreadsCount(threads);
  await tf.setBackend('wasm');
  await tf.ready();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const mt = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  return `${tf.getBackend()} (SIMD ${simd ? 'on' : 'off'}, threads ${mt ? 'available' : 'not available'})`;
}

export class TfLeNet {
  readonly W: tf.Variable[];
  readonly b: tf.Variable[];
  private readonly opt: tf.SGDOptimizer;
  constructor(private readonly lr: number, sizes = [784, 300, 100, 10]) {
    this.W = sizes.slice(1).map((n, i) => tf.variable(tf.randomNormal([sizes[i], n], 0, Math.sqrt(2 / (sizes[i] + n)), 'float32', 1 + i)));
    this.b = sizes.slice(1).map((n) => tf.variable(tf.zeros([n])));
    this.opt = tf.train.sgd(lr);
  }
  private logits(x: tf.Tensor2D): tf.Tensor2D {
    let a: tf.Tensor2D = x;
    for (let l = 0; l < 3; l++) {
      const z = tf.add(tf.matMul(a, this.W[l]), this.b[l]) as tf.Tensor2D;
      a = l < 2 ? tf.relu(z) : z;
    }
    return a;
  }
  /** As TF.js users write it: the loss, and optimizer.minimize differentiates it by tape. */
  stepAutodiff(x: Float32Array, y: Int32Array, n: number): void {
    tf.tidy(() => {
      const X = tf.tensor2d(x, [n, 784]), Y = tf.oneHot(tf.tensor1d(y, 'int32'), 10);
      this.opt.minimize(() => tf.losses.softmaxCrossEntropy(Y, this.logits(X)) as tf.Scalar);
    });
  }
  /** With the backward pass written out (∂L/∂z = softmax(z) − onehot(y), ∂L/∂W = aᵀ δ, δ ← δ Wᵀ ⊙ step(z)), as fast as TF.js allows. */
  stepManual(x: Float32Array, y: Int32Array, n: number): void {
    tf.tidy(() => {
      const X = tf.tensor2d(x, [n, 784]), Y = tf.oneHot(tf.tensor1d(y, 'int32'), 10);
      const as: tf.Tensor2D[] = [X], zs: tf.Tensor2D[] = [];
      for (let l = 0; l < 3; l++) {
        const z = tf.add(tf.matMul(as[l], this.W[l]), this.b[l]) as tf.Tensor2D;
        zs.push(z);
        as.push(l < 2 ? tf.relu(z) : z);
      }
      let d = tf.div(tf.sub(tf.softmax(zs[2]), Y), n) as tf.Tensor2D;
      for (let l = 2; l >= 0; l--) {
        // Explicit transposes: TF.js's WebAssembly matMul with transposeA/B set is ~15× slower (measured).
        const gW = tf.matMul(tf.transpose(as[l]), d), gb = tf.sum(d, 0);
        if (l > 0) d = tf.mul(tf.matMul(d, tf.transpose(this.W[l])), tf.step(zs[l - 1])) as tf.Tensor2D;
        this.W[l].assign(tf.sub(this.W[l], tf.mul(gW, this.lr)));
        this.b[l].assign(tf.sub(this.b[l], tf.mul(gb, this.lr)));
      }
    });
  }
}

/** GFLOP/s of TF.js's 64×784 · 784×300 product. */
export function tfMatmulGflops(reps: number): number {
  const a = tf.randomNormal([64, 784]), b = tf.randomNormal([784, 300]);
  for (let i = 0; i < 5; i++) tf.matMul(a, b).dataSync();
  const t = performance.now();
  for (let i = 0; i < reps; i++) tf.tidy(() => { tf.matMul(a, b).dataSync(); });
  const s = (performance.now() - t) / 1000;
  return (2 * 64 * 784 * 300 * reps) / s / 1e9;
}

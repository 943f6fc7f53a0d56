// For the record in `npm run bench`: LeNet-5 in TensorFlow.js's JavaScript backend ('cpu'), as a TF.js user
// writes it (the layers API, trainOnBatch with SGD and momentum). Its WebAssembly backend cannot train a
// convolution at all (no gradient kernel for Conv2D's filter is registered there), and the JavaScript one is
// about a thousand times slower than the others here, so it gets a few batches, not alternating rounds.

import * as tf from '@tensorflow/tfjs';

/** Examples per second of `batches` LeNet-5 training steps (after one of warm-up) on the given MNIST rows. */
export async function tfjsLenet5ExamplesPerSecond(X: Float32Array, Y: ArrayLike<number>, batch: number, batches: number): Promise<number> {
  tf.enableProdMode(); // as a deployed model runs (and without its banner suggesting tfjs-node)
  await tf.setBackend('cpu');
  await tf.ready();
  const conv = (filters: number, inputShape?: number[]) => tf.layers.conv2d({ filters, kernelSize: 5, activation: 'relu', kernelInitializer: 'heNormal', ...(inputShape ? { inputShape } : {}) });
  const model = tf.sequential({
    layers: [
      conv(6, [28, 28, 1]), tf.layers.maxPooling2d({ poolSize: 2 }),
      conv(16), tf.layers.maxPooling2d({ poolSize: 2 }), tf.layers.flatten(),
      tf.layers.dense({ units: 120, activation: 'relu', kernelInitializer: 'heNormal' }),
      tf.layers.dense({ units: 84, activation: 'relu', kernelInitializer: 'heNormal' }),
      tf.layers.dense({ units: 10, kernelInitializer: 'glorotNormal' }),
    ],
  });
  model.compile({ optimizer: tf.train.momentum(0.05, 0.9), loss: (y: tf.Tensor, z: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, z) });
  const step = async (i: number) => {
    const start = i * batch;
    const [x, y] = tf.tidy(() => [
      tf.tensor4d(X.subarray(start * 784, (start + batch) * 784), [batch, 28, 28, 1]),
      tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, b) => Y[start + b]), 'int32'), 10),
    ]);
    await model.trainOnBatch(x, y);
    tf.dispose([x, y]);
  };
  await step(0);
  const t = performance.now();
  for (let i = 1; i <= batches; i++) await step(i);
  const perSecond = (batches * batch) / ((performance.now() - t) / 1000);
  model.dispose();
  return perSecond;
}

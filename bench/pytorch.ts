// npm run bench (second part): gradc against PyTorch on the CPU, the peer a user would pick, in the same run —
// LeNet-300-100 and LeNet-5, batch 64, SGD with momentum 0.9, the same MNIST batches and initialisation scale,
// one and two threads, in alternating rounds (medians). PyTorch runs bench/pytorch_lenet.py, one process a
// round (its import is not timed). Without PyTorch the comparison is skipped, saying how to get it.
// A round is 120 batches (BENCH_TORCH_BATCHES): with 30, a round of LeNet-300-100 lasted 40–60 ms, and both
// contenders measured below their steady pace (PyTorch's one thread 44–52,000 examples/s against 74,000).
//   BENCH_ROUNDS=N BENCH_TORCH_BATCHES=M npm run bench:pytorch

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../compiler/frontend/index.js';
import { deriveGradients } from '../compiler/autodiff/gradients.js';
import { loadWasmModel } from '../compiler/codegen/index.js';
import { loadMnist } from '../runtime/data.js';
import { gradcStepper, timedRound } from './gradc-step.js';
import { tfjsLenet5ExamplesPerSecond } from './tfjs-lenet5.js';
import type { CompiledModel } from '../runtime/model.js';

const BATCH = 64, ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5), BATCHES = Number(process.env.BENCH_TORCH_BATCHES ?? 120);
/** TF.js's JavaScript backend trains LeNet-5 at about 30 examples/s here: two batches take some seconds. */
const TFJS_BATCHES = 2;
const SCRIPT = new URL('./pytorch_lenet.py', import.meta.url).pathname;

/** A Python that has torch: Debian's python3-torch is for the system's Python, which may not be the first on PATH. */
function torchPython(): string | undefined {
  return ['python3', '/usr/bin/python3'].find((p) => spawnSync(p, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0);
}

const python = torchPython();
if (!python) {
  console.log('PyTorch: not installed, skipped (Debian: apt-get install python3-torch libopenblas0-pthread; without OpenBLAS, Debian\'s PyTorch uses the reference BLAS and is about 5× slower on products)');
  process.exit(0);
}

const mnistSpec = loadWasmModel(deriveGradients(loadModel(new URL('../examples/mnist-mlp.nn', import.meta.url).pathname))).spec;
const data = loadMnist(mnistSpec.inputs, 'train');
const X = Float32Array.from(data.inputs[0]), Y = data.inputs[1];
const rows = Math.floor(X.length / 784 / BATCH) * BATCH;
const dir = mkdtempSync(join(tmpdir(), 'gradc-bench-torch-'));
writeFileSync(join(dir, 'x.f32'), Buffer.from(X.buffer, X.byteOffset, X.byteLength));
writeFileSync(join(dir, 'y.i64'), Buffer.from(BigInt64Array.from(Y, (v) => BigInt(v)).buffer));

/** gradc's step as `gradc train` runs it, with momentum SGD, timed over one round of batches. */
function gradcRound(model: CompiledModel): () => number {
  const start = (i: number) => (i * BATCH) % (rows - BATCH);
  return timedRound(gradcStepper(model, BATCH, (i) => [X.subarray(start(i) * 784, (start(i) + BATCH) * 784), Y.subarray(start(i), start(i) + BATCH)], 'momentum'), BATCHES, BATCH);
}

function torchRound(net: string, threads: number): () => number {
  return () => {
    const r = spawnSync(python!, [SCRIPT, net, String(threads), String(BATCHES), dir], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`PyTorch failed: ${r.stderr}`);
    return (JSON.parse(r.stdout.trim().split('\n').pop()!) as { examples_per_s: number }).examples_per_s;
  };
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
try {
  for (const [label, file, net] of [['LeNet-300-100', 'mnist-mlp', 'lenet300'], ['LeNet-5', 'lenet5', 'lenet5']] as const) {
    const g = deriveGradients(loadModel(new URL(`../examples/${file}.nn`, import.meta.url).pathname));
    const one = loadWasmModel(g), two = loadWasmModel(g);
    const t2 = two.setThreads?.(2) ?? 1;
    const contenders: [string, () => number][] = [
      ['gradc wasm, 1 thread', gradcRound(one)], [`gradc wasm, ${t2} threads`, gradcRound(two)],
      ['PyTorch CPU, 1 thread', torchRound(net, 1)], ['PyTorch CPU, 2 threads', torchRound(net, 2)],
    ];
    const results = contenders.map(() => [] as number[]);
    for (let r = 0; r < ROUNDS; r++) contenders.forEach(([, round], k) => results[k].push(round()));
    const med = results.map(median);
    console.log(`${label}, batch ${BATCH}, SGD with momentum, ${ROUNDS} alternating rounds × ${BATCHES} batches (medians)`);
    contenders.forEach(([name], k) => console.log(`  ${name.padEnd(26)} ${med[k].toFixed(0).padStart(8)} examples/s`));
    console.log(`  gradc / PyTorch: ${(med[0] / med[2]).toFixed(2)}× at 1 thread, ${(med[1] / med[3]).toFixed(2)}× at 2 threads`);
    if (net === 'lenet5') {
      const tfjs = await tfjsLenet5ExamplesPerSecond(X, Y, BATCH, TFJS_BATCHES);
      console.log(`  for the record, TF.js JavaScript backend (its wasm backend cannot train a convolution): ${tfjs.toFixed(0)} examples/s (${TFJS_BATCHES} batches); gradc ${(med[0] / tfjs).toFixed(0)}× at 1 thread`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

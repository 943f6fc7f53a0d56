// Trains examples/universal-approximation.nn on examples/data/sin.csv and prints the maximum absolute
// error of the network against sin(x) on a grid of 2,001 points of [0, 2π].
// Run: npx tsx scripts/universal-approximation.ts
import { loadModel } from '../compiler/frontend/index.js';
import { deriveGradients } from '../compiler/autodiff/gradients.js';
import { loadModelKernels } from '../compiler/codegen/index.js';
import { loadCsv } from '../runtime/data.js';
import { train, TRAIN_DEFAULTS } from '../runtime/train.js';

const root = new URL('..', import.meta.url).pathname;
const model = loadModelKernels(deriveGradients(loadModel(`${root}examples/universal-approximation.nn`)));
const data = loadCsv(`${root}examples/data/sin.csv`, model.spec.inputs);
const r = train(model, { ...TRAIN_DEFAULTS, optimizer: 'adam', lr: 0.01, epochs: 400, batch: 32, l2: 0, train: data, log: () => undefined });
const grid = 2001;
const xs = Float32Array.from({ length: grid }, (_, i) => (2 * Math.PI * i) / (grid - 1));
const ys = model.create(grid, Float32Array).forward(r.params, [xs, new Float32Array(grid)], grid).outputs[0];
let worst = 0, at = 0;
for (let i = 0; i < grid; i++) { const e = Math.abs(ys[i] - Math.sin(xs[i])); if (e > worst) { worst = e; at = xs[i]; } }
console.log(`trained ${r.history.length} epochs in ${r.seconds.toFixed(1)} s; final training loss ${r.history.at(-1)!.loss.toExponential(2)}`);
console.log(`max |y(x) − sin(x)| on ${grid} points of [0, 2π]: ${worst.toFixed(4)} (at x = ${at.toFixed(3)})`);

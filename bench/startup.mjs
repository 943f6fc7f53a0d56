#!/usr/bin/env node
// Start-up time of the gradc commands, as a person runs them (a fresh `node` process each time), next to
// `node -e 0` measured in the same run: the ratio is what this machine's noise does not change.
// Targets (issue: start-up): --help, check and grad under 0.3 s; compile of a 64-layer MLP under 1 s.
// Run it with `npm run bench:startup` (after `npm ci`, which builds dist/).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const gradc = join(root, 'bin', 'gradc.js');
const work = mkdtempSync(join(tmpdir(), 'gradc-startup-'));
const deep = join(work, 'deep64.nn');
const lines = ['dim d = 16, h = 16, K = 4', 'input x: [d]', 'input y: class(K)'];
for (let i = 1, prev = 'x', pd = 'd'; i <= 64; i++, prev = `a${i - 1}`, pd = 'h') lines.push(`param W${i}: [h, ${pd}]`, `param b${i}: [h] = 0`, `a${i} = tanh(W${i} * ${i === 1 ? 'x' : `a${i - 1}`} + b${i})`);
lines.push('param Wo: [K, h]', 'loss L = cross_entropy(Wo * a64, y)');
writeFileSync(deep, lines.join('\n') + '\n');

const cases = [
  ['node -e 0', ['-e', '0'], null],
  ['gradc --help', [gradc, '--help'], 0.3],
  ['gradc check examples/mlp.nn', [gradc, 'check', 'examples/mlp.nn'], 0.3],
  ['gradc grad examples/mlp.nn', [gradc, 'grad', 'examples/mlp.nn'], 0.3],
  ['gradc grad examples/mnist-mlp.nn', [gradc, 'grad', 'examples/mnist-mlp.nn'], 0.3],
  ['gradc compile 64-layer MLP --target ts', [gradc, 'compile', deep, '-o', join(work, 'ts'), '--target', 'ts'], 1],
  ['gradc compile 64-layer MLP (wasm)', [gradc, 'compile', deep, '-o', join(work, 'wasm')], 1],
];
const ROUNDS = 5;
const times = new Map(cases.map(([name]) => [name, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, args] of cases) {
    const t0 = performance.now();
    const p = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
    if (p.status !== 0) { console.error(`${name} failed:\n${p.stderr}`); process.exit(1); }
    times.get(name).push((performance.now() - t0) / 1000);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(times.get('node -e 0'));
console.log(`start-up, median of ${ROUNDS} rounds (the first compile also builds the wasm kernels: see the max)`);
console.log(`  ${'command'.padEnd(40)} ${'median s'.padStart(9)} ${'max s'.padStart(7)} ${'× node'.padStart(7)}  target`);
let ok = true;
for (const [name, , target] of cases) {
  const m = median(times.get(name)), mx = Math.max(...times.get(name));
  const pass = target === null || m < target;
  ok &&= pass;
  console.log(`  ${name.padEnd(40)} ${m.toFixed(3).padStart(9)} ${mx.toFixed(3).padStart(7)} ${(m / base).toFixed(1).padStart(7)}  ${target === null ? '' : `< ${target} s ${pass ? 'met' : 'MISSED'}`}`);
}
rmSync(work, { recursive: true, force: true });
if (!ok) console.log('a start-up target was missed on this run');

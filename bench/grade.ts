// npm run bench:grade — grading a large class: 1,000 answer files for the two-layer network's exercise,
// drawn from what a class writes (the right answers in gradc's notation and in LaTeX, each classic mistake,
// spacing and spelling variants, unreadable files), graded by `gradc grade` as a teacher runs it.
// Prints the wall time and the files graded per second; the target is 1,000 files in under 10 s on 2 cores.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Rng } from '../runtime/rng.js';

const FILES = Number(process.env.BENCH_GRADE_FILES ?? 1000);
const EXERCISE = new URL('../examples/exercises/mlp-backprop.md', import.meta.url).pathname;

/** Per question, the ways a class answers it: right (several spellings), and the usual mistakes. */
const VARIANTS: Record<string, string[]> = {
  z2: ['softmax(z2) - onehot(y, K)', 'p - onehot(y, K)', '\\operatorname{softmax}(z^{(2)}) - e_y', 'p - \\mathbb{1}[y]', 'onehot(y, K) - p', 'softmax(z2)'],
  W2: ['outer(dL/dz2, a1)', 'dL/dz2 * a1\'', '\\delta^{(2)} a^{(1)\\top}', 'outer(a1, dL/dz2)', '2 * outer(dL/dz2, a1)'],
  b2: ['dL/dz2', '\\delta^{(2)}', '\\delta_2', 'sum(dL/dz2)'],
  a1: ["W2' * dL/dz2", 'W^{(2)\\top} \\delta^{(2)}', 'W2 * dL/dz2', "W2' * dL/dz2 .* a1"],
  z1: ['dL/da1 .* a1 .* (1 - a1)', '\\frac{\\partial L}{\\partial a^{(1)}} \\odot \\sigma(z^{(1)}) \\odot (1 - \\sigma(z^{(1)}))', 'dL/da1', 'dL/da1 .* (1 - a1 .^ 2)', 'dL/da1 .* a1 .* (1 - a1'],
  W1: ['outer(dL/dz1, x)', '\\delta^{(1)} x^\\top', 'outer(x, dL/dz1)', 'dL/dz1 * x'],
  b1: ['dL/dz1', '\\delta^{(1)}', '-dL/dz1'],
};

const dir = mkdtempSync(join(tmpdir(), 'gradc-bench-grade-'));
try {
  const r = new Rng(2026);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r.next() * xs.length)];
  for (let k = 0; k < FILES; k++) {
    const name = join(dir, `student-${String(k).padStart(4, '0')}.txt`);
    if (k % 97 === 13) { writeFileSync(name, Buffer.from([0, 1, 2, 255, 254])); continue; } // an unreadable file now and then
    const lines = Object.entries(VARIANTS).map(([wrt, vs]) => {
      const v = r.next() < 0.6 ? vs[0] : pick(vs); // most of a class is right
      return v.includes('\\') ? `\\frac{\\partial L}{\\partial ${wrt[0]}^{(${wrt[1]})}} = ${v}` : `dL/d${wrt} = ${v}`;
    });
    writeFileSync(name, lines.join('\n') + '\n');
  }
  const t0 = performance.now();
  const g = spawnSync(process.execPath, [new URL('../bin/gradc.js', import.meta.url).pathname, 'grade', EXERCISE, '--answers', dir, '-o', join(dir, 'grades.csv')], { encoding: 'utf8' });
  const seconds = (performance.now() - t0) / 1000;
  if (g.status !== 0) throw new Error(g.stderr);
  console.log(`gradc grade: ${FILES} answer files (7 questions each) in ${seconds.toFixed(2)} s = ${(FILES / seconds).toFixed(0)} files/s   (target: ${FILES} in < 10 s)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

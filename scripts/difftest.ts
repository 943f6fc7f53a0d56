// Runs the differential tester over many seeded random models and summarises what it finds:
//   npx tsx scripts/difftest.ts [CASES] [FIRST_SEED] [--gpu] [--wasm] [--dump DIR]
// Failing models are written to DIR (default /tmp/gradc-difftest) as seed-N.nn with the problems as comments.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateModel } from '../test/difftest/generate.js';
import { checkModel } from '../test/difftest/check.js';

const args = process.argv.slice(2);
const positional = args.filter((a) => !a.startsWith('--') && !args[args.indexOf(a) - 1]?.startsWith('--dump'));
const cases = Number(positional[0] ?? 200), first = Number(positional[1] ?? 1);
const gpu = args.includes('--gpu'), wasm = args.includes('--wasm');
const dump = args.includes('--dump') ? args[args.indexOf('--dump') + 1] : '/tmp/gradc-difftest';
mkdirSync(dump, { recursive: true });
const counts = { pass: 0, fail: 0, skip: 0 };
let secondOrder = 0;
const kinds = new Map<string, number>();
const features = new Map<string, number>();
for (let seed = first; seed < first + cases; seed++) {
  const m = generateModel(seed);
  for (const f of m.features) features.set(f, (features.get(f) ?? 0) + 1);
  const r = checkModel(m.source, { gpu, wasm });
  counts[r.status]++;
  if (r.secondOrder && r.status !== 'skip') secondOrder++;
  if (r.status === 'fail') {
    for (const p of r.problems) { const k = p.replace(/-?\d[\d.e+-]*/g, '#').slice(0, 60); kinds.set(k, (kinds.get(k) ?? 0) + 1); }
    writeFileSync(join(dump, `seed-${seed}.nn`), r.problems.map((p) => `# ${p}`).join('\n') + '\n' + m.source);
  }
}
console.log(`${cases} cases from seed ${first}: ${counts.pass} pass, ${counts.fail} fail, ${counts.skip} skipped (overflow); second order (H v generated and symbolic, Hessians, mathjs) checked on ${secondOrder}`);
for (const [k, c] of [...kinds].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${String(c).padStart(4)}  ${k}`);
console.log('features drawn:', [...features].sort().map(([f, c]) => `${f} ${c}`).join(', '));

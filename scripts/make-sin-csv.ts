// Writes examples/data/sin.csv: f(x) = sin(x) at 400 evenly spaced points of [0, 2π], columns x, t.
// Run: npx tsx scripts/make-sin-csv.ts
import { writeFileSync } from 'node:fs';

const rows = ['x,t'];
const N = 400;
for (let i = 0; i < N; i++) {
  const x = (2 * Math.PI * i) / (N - 1);
  rows.push(`${x.toFixed(6)},${Math.sin(x).toFixed(6)}`);
}
writeFileSync(new URL('../examples/data/sin.csv', import.meta.url), rows.join('\n') + '\n');
console.log(`wrote examples/data/sin.csv (${N} rows)`);

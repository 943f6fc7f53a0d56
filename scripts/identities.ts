// The classic-identities table (issue: Matrix Cookbook readability): for each model, the size of the
// expression tree of `gradc grad --inline --format mathjs` next to the textbook form's; prints the table
// and how many are as concise. Usage: npx tsx scripts/identities.ts [FILE.json]
import { readFileSync } from 'node:fs';
import { parseModel } from '../compiler/frontend/index.js';
import { deriveGradients } from '../compiler/autodiff/gradients.js';
import { formatGradients } from '../compiler/cli/grad.js';
import { parse } from 'mathjs';

export const treeSize = (expr: string): number => { let n = 0; parse(expr).traverse(() => { n++; }); return n; };

const file = process.argv[2] ?? 'test/fixtures/identities.json';
const rows = JSON.parse(readFileSync(file, 'utf8')) as { name: string; model: string; wrt: string; textbook: string }[];
let ok = 0;
for (const { name, model: src, wrt, textbook } of rows) {
  const m = parseModel(`${name}.nn`, src + '\n');
  const out = formatGradients(deriveGradients(m), 'mathjs', true, [wrt]).replace(/^[^=]*= /, '');
  const a = treeSize(out), b = treeSize(textbook);
  if (a <= b) ok++;
  console.log(`${a <= b ? 'ok  ' : 'LONG'} ${String(a).padStart(3)} vs ${String(b).padStart(3)}  ${name.padEnd(26)} ${out}   [${textbook}]`);
}
console.log(`${ok} of ${rows.length} as concise as the textbook form`);

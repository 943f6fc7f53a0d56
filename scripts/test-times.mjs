#!/usr/bin/env node
// Where the suite's time goes, per file: each test file run alone under Node's runner, as many at a time as
// npm test runs (two on a 2-core machine), with its wall time, longest first: the order scripts/test.mjs
// starts the files in comes from here.
// `node scripts/test-times.mjs [test/FILE.test.ts …]`; GRADC_TEST_CONCURRENCY=N runs N at a time.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const files = process.argv.slice(2).length ? process.argv.slice(2) : readdirSync(join(root, 'test')).filter((f) => f.endsWith('.test.ts')).map((f) => join('test', f));
const concurrency = Number(process.env.GRADC_TEST_CONCURRENCY ?? Math.max(2, availableParallelism()));
const rows = [];

/** Runs one file; resolves to its wall seconds and whether it passed. */
function timeFile(file) {
  const t0 = performance.now();
  return new Promise((resolve) => {
    // As npm test runs it (transpiled, with its own browsers), alone.
    const child = spawn(process.execPath, [join(root, 'scripts', 'test.mjs'), file], { cwd: root, stdio: 'ignore' });
    child.on('exit', (code) => resolve({ file, wall: (performance.now() - t0) / 1000, ok: code === 0 }));
  });
}

let next = 0;
async function worker() {
  while (next < files.length) {
    const r = await timeFile(files[next++]);
    rows.push(r);
    process.stderr.write(`${r.file} ${r.wall.toFixed(1)} s${r.ok ? '' : ' (failed)'}\n`);
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
rows.sort((a, b) => b.wall - a.wall);
for (const r of rows) console.log(`${r.file.padEnd(36)} ${r.wall.toFixed(1).padStart(7)} s${r.ok ? '' : '  failed'}`);
console.log(`${'sum'.padEnd(36)} ${rows.reduce((s, r) => s + r.wall, 0).toFixed(0).padStart(7)} s`);

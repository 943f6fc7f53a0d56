#!/usr/bin/env node
// Entry point. `npm ci` builds gradc's JavaScript into dist/ (scripts/build.mjs); it is used while it is
// newer than every TypeScript source. Otherwise (sources edited since, or never built) the sources run
// through tsx's loader, slower to start but always current.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, 'dist', 'BUILT');

function builtIsCurrent() {
  if (!existsSync(stamp)) return false;
  const built = statSync(stamp).mtimeMs;
  for (const dir of ['compiler', 'runtime']) {
    for (const f of readdirSync(join(root, dir), { recursive: true })) {
      if (f.endsWith('.ts') && statSync(join(root, dir, f)).mtimeMs > built) return false;
    }
  }
  return true;
}

// `gradc grad M.nn | head` closes the pipe early: that is the reader's choice, not an error to print.
for (const stream of [process.stdout, process.stderr]) stream.on('error', (e) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); throw e; });
let main;
if (builtIsCurrent()) ({ main } = await import('../dist/compiler/cli/main.js'));
else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../compiler/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));

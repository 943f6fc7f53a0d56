// Which gradc to run: the JavaScript `npm ci` built into dist/ (scripts/build.mjs) while it is newer than
// every TypeScript source; otherwise (sources edited since, or never built) the sources through tsx's
// loader, slower to start but always current. Used by bin/gradc.js, and by the tests that run the command
// line inside their own process (test/cli-worker.ts).
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

/** gradc's `main(argv)`, resolving to the exit status. */
export async function loadMain() {
  if (builtIsCurrent()) return (await import('../dist/compiler/cli/main.js')).main;
  const { register } = await import('tsx/esm/api');
  register();
  return (await import('../compiler/cli/main.ts')).main;
}

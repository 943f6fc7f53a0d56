// The test suite as JavaScript: compiler/, runtime/ and test/ transpiled by esbuild (0.4 s for all of them)
// into a folder of the run's own under node_modules/.cache, with source maps, so that every test process
// runs plain node. Through tsx each process spent 0.3 s starting its loader thread, and every import of a
// TypeScript file was a round trip to that thread. Type-checking is `npm test`'s pretest (tsc), not this.
// The folder lies inside the repository so that the compiled files find the packages in node_modules and
// gradc's package.json (compiler/source/package-root.ts) as the sources do.

import { build } from 'esbuild';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Data the tests read from the repository itself (test/helpers.ts ROOT), not transpiled or copied. */
const NOT_CODE = /^test\/(fixtures|golden|output)\//;

/** Transpiles the sources into a new folder and returns it; the caller removes it. */
export async function compileTests(root) {
  const cache = join(root, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const out = mkdtempSync(join(cache, 'gradc-tests-'));
  const sources = [], copies = [];
  for (const dir of ['compiler', 'runtime', 'test']) {
    for (const f of readdirSync(join(root, dir), { recursive: true })) {
      const rel = join(dir, f);
      if (NOT_CODE.test(rel)) continue;
      if (rel.endsWith('.ts') && !rel.endsWith('.d.ts')) sources.push(join(root, rel));
      else if (/\.(mjs|cjs|json)$/.test(rel)) copies.push(rel); // plain JavaScript and JSON beside the sources, for a relative import
    }
  }
  try {
    await build({ entryPoints: sources, outdir: out, outbase: root, format: 'esm', platform: 'node', target: 'es2022', sourcemap: 'inline', logLevel: 'error' });
  } catch {
    // esbuild has printed where and what; the type-check before the tests usually says it first.
    rmSync(out, { recursive: true, force: true });
    console.error('npm test: the sources do not transpile (esbuild\'s errors above)');
    process.exit(1);
  }
  for (const rel of copies) {
    mkdirSync(dirname(join(out, rel)), { recursive: true });
    copyFileSync(join(root, rel), join(out, rel));
  }
  return out;
}

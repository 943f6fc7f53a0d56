// Where gradc is installed: the folder of its package.json. Source files (the runtime inlined into
// trainers, the wasm kernel builder) are found from here, whether gradc runs from its TypeScript sources
// (through tsx) or from the JavaScript built into dist/.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(start: string): string {
  for (let d = start; ; d = dirname(d)) {
    const pkg = join(d, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'gradc') return d;
    if (dirname(d) === d) throw new Error(`internal error: gradc's package.json not found above ${start}`);
  }
}

export const PACKAGE_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

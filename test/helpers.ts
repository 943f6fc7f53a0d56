// Shared test helpers: golden files (refreshed with UPDATE_GOLDEN=1), model loading, and running the CLI.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const GOLDEN = join(ROOT, 'test', 'golden');

/** Compare with a golden file; UPDATE_GOLDEN=1 rewrites it instead. */
export function golden(relPath: string, actual: string): void {
  const path = join(GOLDEN, relPath);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(path)) {
    if (process.env.CI === 'true' && !existsSync(path)) assert.fail(`missing golden file ${relPath}`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  assert.equal(actual, readFileSync(path, 'utf8'), `golden ${relPath} differs (UPDATE_GOLDEN=1 to refresh)`);
}

export function runCli(args: string[], opts: { cwd?: string; input?: string } = {}): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'gradc.js'), ...args], { cwd: opts.cwd ?? ROOT, encoding: 'utf8', input: opts.input, timeout: 120_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export const EXAMPLES = ['logreg', 'softmax-regression', 'mlp', 'mnist-mlp', 'param-growth', 'lenet5'];
export const examplePath = (name: string) => join(ROOT, 'examples', `${name}.nn`);

const made: string[] = [];
process.on('exit', () => { for (const d of made) rmSync(d, { recursive: true, force: true }); });
/** A temporary folder, removed when the test process exits. */
export function tempDir(prefix = 'gradc-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

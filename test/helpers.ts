// Shared test helpers: golden files (refreshed with UPDATE_GOLDEN=1), model loading, and running the CLI.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { SHARE_ENV, Worker } from 'node:worker_threads';
import { callSync } from '../compiler/source/sync-call.js';
import { PACKAGE_ROOT } from '../compiler/source/package-root.js';

/** The repository: the tests read its examples, fixtures and golden files from there, wherever they run from. */
export const ROOT = PACKAGE_ROOT;
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

/**
 * Runs `gradc ARGS`. By default inside this process (test/cli-worker.ts: the same main, its modules loaded
 * once per test file); as a separate `node bin/gradc.js` process — as a user runs it — when the test asks
 * (`spawn: true`), when it needs another working folder or a standard input, or everywhere with
 * GRADC_TEST_SPAWN=1.
 */
export function runCli(args: string[], opts: { cwd?: string; input?: string; spawn?: boolean } = {}): { status: number; stdout: string; stderr: string } {
  const cwd = opts.cwd ?? ROOT;
  if (!opts.spawn && opts.input === undefined && cwd === process.cwd() && process.env.GRADC_TEST_SPAWN !== '1') return runInProcess(args);
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'gradc.js'), ...args], { cwd, encoding: 'utf8', input: opts.input, timeout: 120_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** What test/cli-worker.mjs answers (a synchronous call: compiler/source/sync-call.ts). */
interface CliReply { readonly status: number; readonly stdout: string; readonly stderr: string }

let cliWorker: Worker | undefined;

function runInProcess(args: string[]): CliReply {
  // SHARE_ENV: the command sees the environment as the test has it now, as a spawned one would.
  // The repository's worker script, wherever this file was compiled to (scripts/compile-tests.mjs).
  cliWorker ??= new Worker(join(ROOT, 'test', 'cli-worker.mjs'), { env: SHARE_ENV });
  cliWorker.unref();
  const reply = callSync<CliReply>(cliWorker, { args }, 120_000);
  if (!reply) {
    void cliWorker.terminate();
    cliWorker = undefined;
    return { status: -1, stdout: '', stderr: `gradc ${args.join(' ')}: no answer in 120 s` };
  }
  return reply;
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

#!/usr/bin/env node
// npm test: every test file under Node's own runner, as many at a time as there are cores (at least two).
// The long files run in processes of their own, longest first, so that the others fill the time beside them
// instead of leaving a core idle at the end; the short files share a few processes ("groups"), because a
// process costs 0.3–1 s to start (the compiler's modules, the command line's worker) and most short files
// run for less than that. The files run as JavaScript transpiled once per run (scripts/compile-tests.mjs).
// GRADC_TEST_CONCURRENCY=N overrides the concurrency; arguments (file names) run just those files, each in
// its own process.
import { spawn } from 'node:child_process';
import { availableParallelism, constants, tmpdir } from 'node:os';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compileTests } from './compile-tests.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Seconds each file took alone beside one other (`node scripts/test-times.mjs`, docs/testing.md): the WebGL
// pages under SwiftShader, the random models in three slices, ONNX Runtime, the pages in Chromium, then the
// short files. A file not listed counts as DEFAULT_SECONDS.
const SECONDS = {
  'web.test.ts': 37, 'web-regress.test.ts': 20, 'onnx.test.ts': 30, 'difftest-3.test.ts': 26, 'report.test.ts': 25, 'difftest-1.test.ts': 24,
  'difftest-2.test.ts': 24, 'playground.test.ts': 17, 'trainer.test.ts': 16, 'difftest.test.ts': 14, 'second-order-train.test.ts': 11,
  'onnx-web.test.ts': 10, 'hessian.test.ts': 10, 'latex.test.ts': 10, 'wasm.test.ts': 9, 'newcomer.test.ts': 9, 'codegen.test.ts': 8,
  'grade.test.ts': 7, 'contract.test.ts': 7, 'cli.test.ts': 6, 'pretty.test.ts': 6, 'safety.test.ts': 6, 'language.test.ts': 6,
  'package.test.ts': 6, 'train.test.ts': 6, 'usability.test.ts': 6, 'teaching.test.ts': 5, 'grad.test.ts': 3, 'verify-hessian.test.ts': 3,
  'ops.test.ts': 3, 'images.test.ts': 2, 'autodiff.test.ts': 2, 'verify.test.ts': 2, 'fuzz.test.ts': 2, 'wasm-images.test.ts': 2,
  'depth-sweep.test.ts': 1, 'frontend.test.ts': 1, 'errors.test.ts': 1, 'kernels.test.ts': 1,
};
const DEFAULT_SECONDS = 5;
/** A file this long runs in a process of its own; shorter ones are packed into groups of about GROUP_SECONDS. */
const SOLO_SECONDS = 9, GROUP_SECONDS = 15;
const secondsOf = (f) => SECONDS[f] ?? DEFAULT_SECONDS;

const all = readdirSync(join(root, 'test')).filter((f) => f.endsWith('.test.ts')).sort();
const named = process.argv.slice(2).map((f) => f.replace(/^test\//, ''));
const concurrency = Number(process.env.GRADC_TEST_CONCURRENCY ?? Math.max(2, availableParallelism()));
const built = await compileTests(root);
const scratch = mkdtempSync(join(tmpdir(), 'gradc-test-groups-'));
/** A test file's transpiled JavaScript. */
const js = (f) => join(built, 'test', f.replace(/\.ts$/, '.js'));

/** The short files packed into groups of about GROUP_SECONDS: longest first, each into the group with the least so far. */
function groups(files) {
  const total = files.reduce((s, f) => s + secondsOf(f), 0);
  const packs = Array.from({ length: Math.max(1, Math.ceil(total / GROUP_SECONDS)) }, () => ({ seconds: 0, members: [] }));
  for (const f of [...files].sort((a, b) => secondsOf(b) - secondsOf(a))) {
    const least = packs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    least.members.push(f);
    least.seconds += secondsOf(f);
  }
  return packs.filter((p) => p.members.length);
}

/**
 * Everything npm test runs, longest first: the long files alone, then the groups of short ones. Each process
 * gets an entry file that imports its test files, named so that their order is this one: Node's runner
 * starts the files it is given in the order of their names, not in the order given.
 */
function schedule() {
  const solo = all.filter((f) => secondsOf(f) >= SOLO_SECONDS).map((f) => ({ seconds: secondsOf(f), members: [f] }));
  const runs = [...solo, ...groups(all.filter((f) => secondsOf(f) < SOLO_SECONDS))].sort((a, b) => b.seconds - a.seconds);
  return runs.map((run, k) => {
    const name = run.members.length === 1 ? run.members[0].replace(/\.ts$/, '') : `short-tests-${run.members.length}-files`;
    const entry = join(scratch, `${String(k + 1).padStart(2, '0')}-${name}.mjs`);
    writeFileSync(entry, `// ${run.members.join(', ')}\n${run.members.map((f) => `import ${JSON.stringify(pathToFileURL(js(f)).href)};`).join('\n')}\n`);
    return entry;
  });
}

const chosen = named.length ? named.map(js) : schedule();
const files = named.length ? named : all;
/**
 * One Chromium of each kind the chosen files drive (test/chromium.ts), started before the test processes and
 * shared by them; a file run some other way launches its own.
 */
const { kindsUsedBy, launchSuiteBrowsers } = await import(pathToFileURL(js('chromium.ts')).href);
const browsers = await launchSuiteBrowsers(new Set(files.flatMap((f) => kindsUsedBy(readFileSync(join(root, 'test', f), 'utf8')))));
// Source maps: a failure's stack names the TypeScript file and line.
const runner = spawn(process.execPath, ['--enable-source-maps', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...chosen], {
  cwd: root, stdio: 'inherit', env: { ...process.env, ...browsers.env },
});
// Ctrl-C reaches the runner too (the same process group); either way the folders and browsers still go.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => runner.kill(signal));
const status = await new Promise((done) => runner.on('close', (code, signal) => done(code ?? 128 + (constants.signals[signal] ?? 0))));
for (const d of [scratch, built]) rmSync(d, { recursive: true, force: true });
await browsers.close().catch((e) => console.error(`npm test: closing the browsers: ${e.message}`));
process.exit(status);

// The WebGL2 kernel check shared by test/web.test.ts and test/web-regress.test.ts (two files, so that the
// test runner can run them side by side): every kernel of each model, run by gpu.js in headless Chromium
// (SwiftShader), must run in WebGL2 and agree with float64 JavaScript.

import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { loadModel, parseModel } from '../compiler/frontend/index.js';
import { deriveGradients } from '../compiler/autodiff/gradients.js';
import { browserBundle, GPU_BROWSER_JS, webProgram, writeWebTrainer } from '../compiler/codegen/web.js';
import type { KernelCheck } from '../runtime/web-selftest.js';
import { TRAIN_DEFAULTS } from '../runtime/train.js';
import { ROOT, tempDir } from './helpers.js';
import { browser as openBrowser } from './browser.js';

/** The self-test through the trainer page itself, as a user opens it: `index.html?selftest`. */
async function pageSelftest(browser: Browser, dir: string): Promise<{ verdict: string; mode: string; text: string }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    // 'commit': the self-test runs as the page loads, and under load it may take longer than a load timeout.
    await page.goto(`${pathToFileURL(join(dir, 'index.html')).href}?selftest`, { waitUntil: 'commit' });
    await page.waitForSelector('#verdict[data-verdict]', { timeout: 120_000 }).catch(() => assert.fail(`no verdict: ${errors.join('; ') || 'the page hung'}`));
    return { verdict: (await page.getAttribute('#verdict', 'data-verdict'))!, mode: (await page.getAttribute('#verdict', 'data-mode'))!, text: (await page.textContent('#selftest'))! };
  } finally {
    await page.close();
  }
}

/** One page with gpu.js and the self-test, for many models: test/web-selftest-page.ts. */
async function selftestPage(browser: Browser): Promise<Page> {
  const dir = tempDir('gradc-web-');
  copyFileSync(GPU_BROWSER_JS, join(dir, 'gpu-browser.min.js'));
  writeFileSync(join(dir, 'selftest.js'), await browserBundle(join(ROOT, 'test', 'web-selftest-page.ts')));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><script src="gpu-browser.min.js"></script><script src="selftest.js"></script>');
  const page = await browser.newPage();
  await page.goto(pathToFileURL(join(dir, 'index.html')).href);
  return page;
}

const SMALL: Record<string, [string, number][]> = { mlp: [['d', 20], ['n', 8]], 'l2-mlp': [['d', 20], ['n', 8]], 'mnist-mlp': [['d', 20], ['h1', 8], ['h2', 6]] };

function modelOf(m: { name: string; src: string }) {
  // The MNIST-sized examples at smaller sizes: SwiftShader is a CPU, and the kernels are the same.
  return m.name.startsWith('random') || m.name.startsWith('regress') || m.name === 'kitchen-sink' || m.name === 'images'
    ? parseModel(`${m.name.replace(/^regress /, '')}`, m.src)
    : loadModel(join(ROOT, 'examples', `${m.name}.nn`), { dimOverrides: new Map(SMALL[m.name] ?? []) });
}

/**
 * Every kernel of every model: the first model through its own trainer page (`?selftest`, as a user opens
 * it; `trainerPage: false` leaves that to another test), the others through the same self-test in one
 * shared page. In the shared page a kernel that is the same GPU program as an earlier model's
 * (runtime/web-selftest.ts sameKernelKey) is checked once; the test's diagnostics say how many were checked
 * and how many were repeats.
 */
export async function checkKernels(t: TestContext, models: readonly { name: string; src: string }[], opts: { trainerPage?: boolean } = {}): Promise<void> {
  const browser = await openBrowser('webgl');
  const counts = { checked: 0, repeated: 0 };
  let page: Page | undefined;
  try {
    let rest = models;
    if (opts.trainerPage !== false) {
      const first = models[0];
      rest = models.slice(1);
      const dir = tempDir('gradc-web-');
      await writeWebTrainer(deriveGradients(modelOf(first)), dir, { settings: { ...TRAIN_DEFAULTS } }, (f, t) => writeFileSync(f, t));
      const r = await pageSelftest(browser, dir);
      assert.equal(r.mode, 'webgl2', `${first.name}: gpu.js should run in WebGL2 here`);
      assert.equal(r.verdict, 'PASS', `${first.name}:\n${r.text}\n${first.src}`);
    }
    const shared = page = await selftestPage(browser);
    for (const m of rest) {
      const program = webProgram(deriveGradients(modelOf(m)));
      const { mode, checks, repeated } = await shared.evaluate((p) => (globalThis as unknown as { gradcSelftest: (p: unknown) => { mode: string; checks: KernelCheck[]; repeated: number } }).gradcSelftest(p), program);
      assert.equal(mode, 'webgl2', `${m.name}: gpu.js should run in WebGL2 here`);
      assert.ok(checks.length + repeated > 0, `${m.name}: no kernel was checked`);
      counts.checked += checks.length;
      counts.repeated += repeated;
      const bad = checks.filter((c) => !c.ok);
      assert.deepEqual(bad, [], `${m.name}: ${bad.length} of ${checks.length} kernels disagree with float64 JavaScript\n${m.src}`);
    }
    t.diagnostic(`${counts.checked} GPU programs checked, ${counts.repeated} kernels the same program as one checked before`);
    assert.ok(counts.checked > 100, `only ${counts.checked} kernels checked`);
  } finally {
    await page?.close();
  }
}

// The WebGL2 kernel check shared by test/web.test.ts and test/web-regress.test.ts (two files, so that the
// test runner can run them side by side): each model's trainer page, opened with ?selftest in headless
// Chromium (SwiftShader), must run every kernel in WebGL2 and agree with float64 JavaScript.

import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { loadModel, parseModel } from '../compiler/frontend/index.js';
import { deriveGradients } from '../compiler/autodiff/gradients.js';
import { writeWebTrainer } from '../compiler/codegen/web.js';
import { SWIFTSHADER_FLAGS } from '../compiler/cli/gpucheck.js';
import { TRAIN_DEFAULTS } from '../runtime/train.js';
import { ROOT, tempDir } from './helpers.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
export const skip = CHROMIUM ? false : 'no chromium installed (apt-get install chromium)';
export const launch = () => chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', ...SWIFTSHADER_FLAGS] });

async function selftest(browser: Browser, dir: string): Promise<{ verdict: string; mode: string; text: string }> {
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

/** Every kernel of every model, in one browser. */
export async function checkKernels(models: readonly { name: string; src: string }[]): Promise<void> {
  const browser = await launch();
  try {
    for (const m of models) {
      const dir = tempDir('gradc-web-');
      // The MNIST-sized examples at smaller sizes: SwiftShader is a CPU, and the kernels are the same.
      const small: Record<string, [string, number][]> = { mlp: [['d', 20], ['n', 8]], 'l2-mlp': [['d', 20], ['n', 8]], 'mnist-mlp': [['d', 20], ['h1', 8], ['h2', 6]] };
      const model = m.name.startsWith('random') || m.name.startsWith('regress') || m.name === 'kitchen-sink' || m.name === 'images' ? parseModel(`${m.name.replace(/^regress /, '')}`, m.src) : loadModel(join(ROOT, 'examples', `${m.name}.nn`), { dimOverrides: new Map(small[m.name] ?? []) });
      await writeWebTrainer(deriveGradients(model), dir, { settings: { ...TRAIN_DEFAULTS } }, (f, t) => writeFileSync(f, t));
      const r = await selftest(browser, dir);
      assert.equal(r.mode, 'webgl2', `${m.name}: gpu.js should run in WebGL2 here`);
      assert.equal(r.verdict, 'PASS', `${m.name}:\n${r.text}\n${m.src}`);
    }
  } finally {
    await browser.close();
  }
}

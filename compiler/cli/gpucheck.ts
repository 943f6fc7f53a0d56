// `gradc gpucheck M.nn`: the model's gpu.js kernels proven on a real GPU API. The trainer page is written to
// a temporary folder and opened with ?selftest in headless Chromium (Debian's chromium, driven by
// playwright-core; WebGL2 through SwiftShader unless --gpu), where every kernel of the plan runs in WebGL on
// random inputs next to the same kernel in float64 JavaScript; the page's verdict is printed here.

import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { deriveGradients } from '../autodiff/gradients.js';
import type { Model } from '../frontend/model.js';
import { PlainError } from '../source/diagnostics.js';
import type { ParsedArgs } from './args.js';
import { TRAIN_DEFAULTS } from '../../runtime/train.js';

/** Chromium's flags for WebGL without a GPU: SwiftShader, a software implementation of the real API. */
export const SWIFTSHADER_FLAGS = ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'];

/** $CHROMIUM_PATH, or Debian's chromium where it is installed; undefined where neither is. */
export function installedChromium(): string | undefined {
  return process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
}

export function chromiumPath(explicit?: string): string {
  const path = explicit ?? installedChromium();
  if (!path || !existsSync(path)) throw new PlainError(`gpucheck needs Chromium${explicit ? ` (${explicit} does not exist)` : ''}: install Debian's chromium (apt-get install chromium) or give --chromium PATH`);
  return path;
}

export async function runGpucheck(args: ParsedArgs, model: Model): Promise<number> {
  const browserPath = chromiumPath(args.options.get('--chromium')?.[0]);
  const dir = mkdtempSync(join(tmpdir(), 'gradc-gpucheck-'));
  try {
    const { writeWebTrainer } = await import('../codegen/web.js');
    await writeWebTrainer(deriveGradients(model), dir, { settings: { ...TRAIN_DEFAULTS } }, (f, t) => writeFileSync(f, t));
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: browserPath, args: ['--no-sandbox', ...(args.options.has('--gpu') ? [] : SWIFTSHADER_FLAGS)] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${pathToFileURL(join(dir, 'index.html')).href}?selftest`);
      try {
        await page.waitForSelector('#verdict[data-verdict]', { timeout: 300_000 });
      } catch {
        throw new PlainError(`the page did not finish its self-test${errors.length ? `: ${errors.join('; ')}` : ''}`);
      }
      const verdict = await page.getAttribute('#verdict', 'data-verdict');
      console.log(`gpucheck ${model.name}: ${await page.textContent('#mode')}, Chromium ${browser.version()}${args.options.has('--gpu') ? '' : ' (SwiftShader)'}`);
      console.log(await page.textContent('#selftest'));
      console.log(await page.textContent('#verdict'));
      return verdict === 'PASS' ? 0 : 1;
    } finally {
      await browser.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// The gpu.js target on a real GPU API: the trainer page (`compile --target web`) in headless Chromium, WebGL2
// through SwiftShader (Debian's chromium driven by playwright-core; no browser download). Every kernel of
// every example, the kitchen sink and a sample of the differential tester's random models passes the page's
// self-test against float64 JavaScript (GRADC_WEB_CASES=N for more random models); a model trained in the page
// reaches the accuracy the TypeScript target reaches (GRADC_WEB_MNIST=1 adds one epoch of the MNIST MLP).
// Skipped, saying so, where no chromium is installed (.ci/run installs it).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { loadModel, parseModel } from '../compiler/frontend/index.js';
import { deriveGradients } from '../compiler/autodiff/gradients.js';
import { writeWebTrainer } from '../compiler/codegen/web.js';
import { SWIFTSHADER_FLAGS } from '../compiler/cli/gpucheck.js';
import { TRAIN_DEFAULTS } from '../runtime/train.js';
import { generateModel } from './difftest/generate.js';
import { ROOT, runCli, tempDir } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const skip = CHROMIUM ? false : 'no chromium installed (apt-get install chromium)';
const launch = () => chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', ...SWIFTSHADER_FLAGS] });

async function selftest(browser: Browser, dir: string): Promise<{ verdict: string; mode: string; text: string }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(`${pathToFileURL(join(dir, 'index.html')).href}?selftest`);
    await page.waitForSelector('#verdict[data-verdict]', { timeout: 120_000 }).catch(() => assert.fail(`no verdict: ${errors.join('; ') || 'the page hung'}`));
    return { verdict: (await page.getAttribute('#verdict', 'data-verdict'))!, mode: (await page.getAttribute('#verdict', 'data-mode'))!, text: (await page.textContent('#selftest'))! };
  } finally {
    await page.close();
  }
}

test('every kernel in WebGL2 agrees with float64 JavaScript: the examples, the kitchen sink, random models', { skip }, async () => {
  const models = [
    ...['logreg', 'softmax-regression', 'mlp', 'mnist-mlp', 'universal-approximation', 'l2-mlp'].map((n) => ({ name: n, src: readFileSync(join(ROOT, 'examples', `${n}.nn`), 'utf8') })),
    { name: 'kitchen-sink', src: readFileSync(join(ROOT, 'test', 'fixtures', 'kitchen-sink.nn'), 'utf8') },
    { name: 'images', src: readFileSync(join(ROOT, 'test', 'fixtures', 'images.nn'), 'utf8') },
    // Every named regression fixture too (one of them was found here: a negative base's power in GLSL).
    ...readdirSync(join(ROOT, 'test', 'fixtures', 'regress')).filter((f) => f.endsWith('.nn')).map((f) => ({ name: `regress ${f}`, src: readFileSync(join(ROOT, 'test', 'fixtures', 'regress', f), 'utf8') })),
    ...Array.from({ length: Number(process.env.GRADC_WEB_CASES ?? 6) }, (_, k) => ({ name: `random ${9001 + k}`, src: generateModel(9001 + k).source })),
  ];
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
});

/** Trains in the page and returns its last epoch's test accuracy, with a screenshot for people. */
async function trainInPage(dir: string, shot: string): Promise<number> {
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(join(dir, 'index.html')).href, { waitUntil: 'commit' });
    await page.waitForSelector('#done[data-epochs]', { timeout: 1_200_000 });
    assert.deepEqual(errors, []);
    mkdirSync(join(ROOT, 'test', 'output'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test', 'output', shot) });
    return Number(await page.getAttribute('#done', 'data-test-accuracy'));
  } finally {
    await browser.close();
  }
}

test('softmax regression trained in the page reaches the TypeScript target\'s accuracy (same loop, same data)', { skip }, async () => {
  const dir = tempDir('gradc-web-');
  const csv = join(dir, 'data.csv');
  // Two clusters per class in 4-D, 300 rows, labels 0..2: separable enough to learn in a few epochs.
  const rows: string[] = [];
  for (let i = 0; i < 300; i++) { const y = i % 3; const x = [0, 1, 2, 3].map((j) => (j === y ? 2 : 0) + Math.sin(i * 7.1 + j) * 0.8); rows.push([...x.map((v) => v.toFixed(4)), y].join(',')); }
  writeFileSync(csv, rows.join('\n') + '\n');
  const train = runCli(['train', 'examples/softmax-regression.nn', '--data', csv, '--test', csv, '--epochs', '5', '--target', 'ts']);
  assert.equal(train.status, 0, train.stderr);
  const want = Number(/test accuracy ([\d.]+)%/.exec(train.stdout)![1]) / 100;
  assert.equal(runCli(['compile', 'examples/softmax-regression.nn', '--target', 'web', '-o', join(dir, 'page'), '--data', csv, '--test', csv, '--epochs', '5']).status, 0);
  const got = await trainInPage(join(dir, 'page'), 'web-softmax.png');
  assert.ok(Math.abs(got - want) <= 0.005, `page ${got} vs node ${want}`);
});

test('one epoch of the MNIST MLP in the page: the TypeScript target\'s first-epoch test accuracy within 0.5 points', { skip: skip || (process.env.GRADC_WEB_MNIST ? false : 'slow under SwiftShader: GRADC_WEB_MNIST=1 runs it') }, async () => {
  const dir = tempDir('gradc-web-');
  const ts = runCli(['train', 'examples/mnist-mlp.nn', '--data', 'mnist', '--epochs', '1', '--target', 'ts']);
  const want = Number(/test accuracy ([\d.]+)%/.exec(ts.stdout)![1]) / 100;
  assert.equal(runCli(['compile', 'examples/mnist-mlp.nn', '--target', 'web', '-o', dir, '--data', 'mnist', '--epochs', '1']).status, 0);
  const got = await trainInPage(dir, 'web-mnist.png');
  assert.ok(Math.abs(got - want) <= 0.005, `page ${got} vs node ${want}`);
});

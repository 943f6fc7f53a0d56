// The gpu.js target on a real GPU API: the trainer page (`compile --target web`) in headless Chromium, WebGL2
// through SwiftShader (Debian's chromium driven by playwright-core; no browser download). Every kernel of
// every example, the kitchen sink and a sample of the differential tester's random models (the regression
// fixtures: test/web-regress.test.ts) passes the page's
// self-test against float64 JavaScript (GRADC_WEB_CASES=N for more random models); a model trained in the page
// reaches the accuracy the TypeScript target reaches (GRADC_WEB_MNIST=1 adds one epoch of the MNIST MLP).
// Skipped, saying so, where no chromium is installed (.ci/run installs it).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateModel } from './difftest/generate.js';
import { ROOT, runCli, tempDir } from './helpers.js';
import { checkKernels } from './web-helpers.js';
import { browser, skipBrowser as skip } from './browser.js';


test('every kernel in WebGL2 agrees with float64 JavaScript: the examples, the kitchen sink, random models', { skip }, async (t) => {
  const models = [
    ...['logreg', 'softmax-regression', 'mlp', 'mnist-mlp', 'universal-approximation', 'l2-mlp'].map((n) => ({ name: n, src: readFileSync(join(ROOT, 'examples', `${n}.nn`), 'utf8') })),
    { name: 'kitchen-sink', src: readFileSync(join(ROOT, 'test', 'fixtures', 'kitchen-sink.nn'), 'utf8') },
    { name: 'images', src: readFileSync(join(ROOT, 'test', 'fixtures', 'images.nn'), 'utf8') },
    ...Array.from({ length: Number(process.env.GRADC_WEB_CASES ?? 6) }, (_, k) => ({ name: `random ${9001 + k}`, src: generateModel(9001 + k).source })),
  ];
  await checkKernels(t, models);
});

/** Trains in the page and returns its last epoch's test accuracy, with a screenshot for people. */
async function trainInPage(dir: string, shot: string): Promise<number> {
  const page = await (await browser('webgl')).newPage();
  try {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(join(dir, 'index.html')).href, { waitUntil: 'commit' });
    await page.waitForSelector('#done[data-epochs]', { timeout: 1_200_000 });
    assert.deepEqual(errors, []);
    mkdirSync(join(ROOT, 'test', 'output'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test', 'output', shot) });
    return Number(await page.getAttribute('#done', 'data-test-accuracy'));
  } finally {
    await page.close();
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

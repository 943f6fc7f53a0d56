// gradc report, looked at as a reader would: the page opened in a real browser (Debian's chromium driven by
// playwright-core, no browser downloaded), every formula rendered by KaTeX without an error, both graphs
// drawn with their nodes, the training curves present, and a screenshot kept in test/output/ for people to
// look at. Skipped, saying so, where no chromium is installed (.ci/run installs it).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, runCli, tempDir } from './helpers.js';
import { browser, skipBrowser } from './browser.js';

const OUT = join(ROOT, 'test', 'output');

test('the report renders in Chromium: formulas, graphs, values; train --report adds the curves', { skip: skipBrowser }, async () => {
  const dir = tempDir();
  const page1 = join(dir, 'mlp.html');
  const point = join(dir, 'p.json');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(point, JSON.stringify({ params: { W1: [[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]], b1: [0, 0.1, 0], W2: [[0.2, -0.1, 0.3], [0.1, 0.2, -0.3]], b2: [0, 0] }, inputs: { x: [1, 2], y: 1 } }));
  const r = runCli(['report', 'examples/mlp.nn', '-o', page1, '--point', point, '--dim', 'd=2,n=3,K=2']);
  assert.equal(r.status, 0, r.stderr);
  const html = readFileSync(page1, 'utf8');
  assert.doesNotMatch(html, /https?:\/\/(?!www\.w3\.org)/, 'the page must not load anything from the network');

  const page2 = join(dir, 'train.html');
  const t = runCli(['train', 'examples/softmax-regression.nn', '--data', 'iris', '--split', '0.8', '--epochs', '5', '--report', page2]);
  assert.equal(t.status, 0, t.stderr);

  const page = await (await browser()).newPage({ viewport: { width: 1200, height: 900 } });
  try {
    const requests: string[] = [];
    page.on('request', (q) => { if (!q.url().startsWith('file:') && !q.url().startsWith('data:')) requests.push(q.url()); });
    await page.goto(pathToFileURL(page1).href);
    // Evaluated in the page (a string: this file is type-checked without the DOM's types).
    const counts = await page.evaluate(`({
      formulas: document.querySelectorAll('td.tex .katex').length,
      errors: document.querySelectorAll('.katex-error').length,
      rows: document.querySelectorAll('table.program tr').length,
      forwardNodes: document.querySelectorAll('#forward-graph g.node').length,
      backwardNodes: document.querySelectorAll('#backward-graph g.node').length,
      values: document.querySelector('#values pre')?.textContent ?? '',
    })`) as { formulas: number; errors: number; rows: number; forwardNodes: number; backwardNodes: number; values: string };
    assert.equal(counts.errors, 0, 'a formula failed to render');
    assert.equal(counts.formulas, 7, 'one typeset formula per step of the backward program');
    assert.equal(counts.rows, 7);
    assert.ok(counts.forwardNodes >= 10, `forward graph nodes: ${counts.forwardNodes}`);
    assert.ok(counts.backwardNodes > counts.forwardNodes, `backward graph nodes: ${counts.backwardNodes}`);
    assert.match(counts.values, /every gradient agrees with central differences/);
    assert.deepEqual(requests, []);
    mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: join(OUT, 'report-mlp.png'), fullPage: true });

    await page.goto(pathToFileURL(page2).href);
    const charts = await page.evaluate(`[...document.querySelectorAll('#training svg.chart')].map((s) => s.querySelectorAll('polyline').length)`) as number[];
    assert.deepEqual(charts, [2, 2], 'loss and accuracy charts, train and test each');
    await page.screenshot({ path: join(OUT, 'report-training.png'), fullPage: true });
  } finally {
    await page.close();
  }
});

test('a report for every example renders without a KaTeX error, with both graphs (screenshots of two in test/output/)', { skip: skipBrowser }, async () => {
  const dir = tempDir();
  // One page for all of them, as a reader clicks from one report to the next.
  const page = await (await browser()).newPage({ viewport: { width: 1200, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    for (const name of ['logreg', 'softmax-regression', 'mlp', 'mnist-mlp', 'param-growth', 'universal-approximation', 'l2-mlp', 'lenet5']) {
      const file = join(dir, `${name}.html`);
      const r = runCli(['report', `examples/${name}.nn`, '-o', file]);
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
      errors.length = 0;
      await page.goto(pathToFileURL(file).href);
      const c = await page.evaluate(`({
        errors: document.querySelectorAll('.katex-error').length,
        formulas: document.querySelectorAll('td.tex .katex').length,
        forward: document.querySelectorAll('#forward-graph g.node').length,
        backward: document.querySelectorAll('#backward-graph g.node').length,
      })`) as { errors: number; formulas: number; forward: number; backward: number };
      assert.deepEqual(errors, [], name);
      assert.equal(c.errors, 0, `${name}: a formula failed to render`);
      assert.ok(c.formulas > 0 && c.forward > 0 && c.backward > c.forward, `${name}: ${JSON.stringify(c)}`);
      // Two whole pages for people to look at (a full-page screenshot costs a second under SwiftShader).
      if (name === 'logreg' || name === 'lenet5') {
        mkdirSync(OUT, { recursive: true });
        await page.screenshot({ path: join(OUT, `report-example-${name}.png`), fullPage: true });
      }
    }
  } finally {
    await page.close();
  }
});

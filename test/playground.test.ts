// The playground: the engine (the CLI's own code) on its own, then the page as a person meets it in
// Chromium — a model typed, a mistake underlined at its place with the CLI's message, fixed, the gradients
// read, a right and a wrong claim checked, a shared link followed — with no console error and no request
// to the network. Screenshots go to test/output/.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { analyze, analyzeMore, explainAt, verifyClaim } from '../compiler/playground/engine.js';
import { ROOT, runCli, tempDir } from './helpers.js';
import { browser, skipBrowser } from './browser.js';

const example = (n: string) => readFileSync(join(ROOT, 'examples', `${n}.nn`), 'utf8');

test('the engine: the lecture\'s models derive; a mistake is located as gradc check locates it', () => {
  for (const n of ['logreg', 'softmax-regression', 'mlp', 'mnist-mlp', 'lenet5', 'universal-approximation']) {
    const a = analyzeMore(analyze(example(n)));
    assert.deepEqual(a.problems, [], n);
    assert.ok(a.program!.text.length === a.program!.latex.length && a.check!.includes('OK') && a.dot!.backward.startsWith('digraph'), n);
  }
  const text = example('mlp').replace('z2 = W2 * a1 + b2', 'z2 = W2 * al + b2');
  const a = analyze(text);
  assert.equal(a.problems.length, 1);
  assert.equal(text.slice(a.problems[0].from, a.problems[0].to), 'al');
  assert.match(a.problems[0].printed, /^model\.nn:18:11: error: unknown name 'al': did you mean a1\?/);
});

test('the engine: claims answered exactly as gradc verify answers them; explain at a random or a typed point', () => {
  const dir = tempDir('gradc-pg-');
  const model = join(dir, 'model.nn');
  writeFileSync(model, example('mlp'));
  for (const claim of ['dL/dz1 = dL/da1 .* a1 .* (1 - a1)', 'dL/dz1 = dL/da1', '\\frac{\\partial L}{\\partial W^{(1)}} = \\delta^{(1)} x^\\top']) {
    const file = join(dir, 'c.txt');
    writeFileSync(file, claim);
    const cli = runCli(['verify', 'model.nn', '--claims', 'c.txt'], { cwd: dir });
    const page = verifyClaim(example('mlp'), claim);
    assert.equal(page.status, cli.status, claim);
    assert.equal(page.text + '\n', cli.stdout.replace(/c\.txt/g, '<claim>'), claim);
  }
  const small = example('mlp').replace('dim d = 784, n = 300, K = 10', 'dim d = 3, n = 2, K = 2');
  assert.match(explainAt(small, undefined), /^forward pass of mlp at a random point \(seed 1\)/);
  const typed = explainAt(small, JSON.stringify({ params: { W1: [[1, 0, 0], [0, 1, 0]], b1: [0, 0], W2: [[1, -1], [0, 1]], b2: [0, 0] }, inputs: { x: [1, 2, 3], y: 1 } }));
  assert.match(typed, /at the point typed/);
  assert.match(typed, /x: \[3\] += \[1, 2, 3\]/);
});

test('the playground in Chromium: type, see the mistake underlined, fix it, read the gradients, check claims, share a link', { skip: skipBrowser }, async () => {
  const dir = tempDir('gradc-playground-');
  const w = runCli(['playground', '-o', dir]);
  assert.equal(w.status, 0, w.stderr);
  assert.match(w.stdout, /wrote .*index\.html and playground\.js, graphviz\.js \(\d\.\d MiB\)/);
  assert.doesNotMatch(readFileSync(join(dir, 'index.html'), 'utf8'), /src="https?:|href="https?:/);
  assert.ok(statSync(join(dir, 'playground.js')).size < 2 * 1024 * 1024 && statSync(join(dir, 'graphviz.js')).size < 2 * 1024 * 1024);
  const out = join(ROOT, 'test', 'output');
  mkdirSync(out, { recursive: true });
  const chromium = await browser();
  const page = await chromium.newPage({ viewport: { width: 1400, height: 950 } });
  try {
    const problems: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(String(e)));
    page.on('request', (q) => { if (!/^(file|data|blob):/.test(q.url())) problems.push(`request ${q.url()}`); });
    await page.goto(pathToFileURL(join(dir, 'index.html')).href);
    await page.waitForSelector('body[data-rendered][data-editor]');
    assert.match(String(await page.textContent('#status')), /^OK/);

    // Type a model with a mistake (a misspelt name), replacing the example.
    await page.click('.cm-content');
    await page.keyboard.press('Control+A');
    const typo = 'dim d = 3, K = 2\ninput x: [d]\ninput y: class(K)\nparam W: [K, d]\nz = W * xx\nloss L = cross_entropy(z, y)\n';
    await page.keyboard.insertText(typo);
    await page.waitForSelector('.cm-lintRange-error');
    assert.equal(await page.textContent('.cm-lintRange-error'), 'xx');
    assert.match(String(await page.textContent('#problems')), /^model\.nn:5:9: error: unknown name 'xx': did you mean x\?\n {2}z = W \* xx\n {10}\^~/);
    await page.screenshot({ path: join(out, 'playground-mistake.png') });

    // Fix it: the gradients appear.
    await page.keyboard.press('Control+A');
    await page.keyboard.insertText(typo.replace('W * xx', 'W * x'));
    await page.waitForFunction('document.querySelector("#status").textContent.startsWith("OK")');
    await page.waitForFunction('document.querySelector("#program").textContent.includes("dL/dW = outer(dL/dz, x)")');
    assert.equal(await page.locator('.cm-lintRange-error').count(), 0);
    assert.ok(await page.locator('#program .katex').count() >= 2);

    // A right claim and a wrong one, answered as gradc verify answers them.
    await page.fill('#claim', 'dL/dW = outer(softmax(z) - onehot(y, K), x)');
    await page.click('#verify');
    assert.match(String(await page.textContent('#verdict')), /^PASS W: /);
    await page.fill('#claim', 'dL/dW = outer(x, softmax(z) - onehot(y, K))');
    await page.click('#verify');
    assert.match(String(await page.textContent('#verdict')), /^FAIL W: .* transpose the outer product/);
    await page.fill('#claim', '\\frac{\\partial L}{\\partial z} = \\mathbb{1}[y] - \\operatorname{softmax}(z)');
    await page.press('#claim', 'Enter');
    assert.match(String(await page.textContent('#verdict')), /^FAIL z: .* — sign flipped/);
    await page.screenshot({ path: join(out, 'playground.png'), fullPage: false });
    await page.click('#explain-random');
    assert.match(String(await page.textContent('#explained')), /backward pass/);

    // The link reproduces the model.
    const link = page.url();
    const other = await chromium.newPage({ viewport: { width: 1400, height: 950 } });
    await other.goto(link);
    await other.waitForSelector('body[data-rendered][data-editor]');
    assert.equal(await other.evaluate('window.gradcEditor.state.doc.toString()'), typo.replace('W * xx', 'W * x'));
    // A link with a claim (as the grades page makes them) checks it at once.
    const withClaim = await chromium.newPage();
    await withClaim.goto(`${link}&claim=${encodeURIComponent('dL/dz = onehot(y, K) - softmax(z)')}`);
    await withClaim.waitForFunction('document.querySelector("#verdict").textContent.length > 0');
    assert.match(String(await withClaim.textContent('#verdict')), /^FAIL z: .* — sign flipped/);
    await withClaim.close();
    // The menu loads the lecture's models.
    await other.selectOption('#examples', 'LeNet-5');
    await other.waitForFunction('document.querySelector("#program").textContent.includes("correlate")');
    await other.close();
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

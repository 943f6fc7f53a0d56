// Claims in LaTeX, as students write them: the lecture's notations read into gradc's claim language,
// located messages for what cannot be read, and the round trip — everything `gradc grad --format latex`
// prints, on every example and on random models, reads back to the same gradient.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseModel } from '../compiler/frontend/index.js';
import { deriveGradients } from '../compiler/autodiff/gradients.js';
import { formatGradients } from '../compiler/cli/grad.js';
import { translateLatex, looksLikeLatex } from '../compiler/frontend/latex.js';
import { claimAt, latexNames, splitClaimLine } from '../compiler/verify/claim-source.js';
import { parseClaims } from '../compiler/cli/verify.js';
import { numericVerdict, quickVerdict } from '../compiler/verify/verify.js';
import { resolveAdjoints } from '../compiler/verify/target.js';
import { SourceFile } from '../compiler/source/diagnostics.js';
import { generateModel } from './difftest/generate.js';
import { EXAMPLES, ROOT, runCli } from './helpers.js';

const MLP = readFileSync(join(ROOT, 'examples', 'mlp.nn'), 'utf8');
const LOGREG = readFileSync(join(ROOT, 'examples', 'logreg.nn'), 'utf8');
const read = (src: string, latex: string) => translateLatex(latex, latexNames(parseModel('m.nn', src))).text;

test('the lecture\'s notations read as gradc\'s', () => {
  const cases: [string, string, string][] = [
    [LOGREG, '-y x (1 - \\sigma(y w^T x))', '-y * x * (1 - sigmoid(y * w\' * x))'],
    [LOGREG, '-yx(1 - \\sigma(yw^T x))', '-y * x * (1 - sigmoid(y * w\' * x))'],
    [LOGREG, 'yx \\cdot \\sigma(yw^T x)(1 - \\sigma(yw^T x)) \\cdot \\frac{-1}{\\sigma(yw^T x)}', "y * x * sigmoid(y * w' * x) * (1 - sigmoid(y * w' * x)) * (-1) ./ (sigmoid(y * w' * x))"],
    [MLP, '\\delta^{(1)} x^\\top', 'dL/dz1 * x\''],
    [MLP, '\\frac{\\partial L}{\\partial z^{(1)}} x^{\\top}', 'dL/dz1 * x\''],
    [MLP, '(W^{(2)})^\\top \\delta^{(2)}', '(W2)\' * dL/dz2'],
    [MLP, 'W_2^T \\delta_2', 'W2\' * dL/dz2'],
    [MLP, 'W^{2\\top} \\frac{\\partial \\mathcal{L}}{\\partial z^2}', 'W2\' * dL/dz2'],
    [MLP, '\\operatorname{softmax}(z^{(2)}) - \\mathbb{1}[y]', 'softmax(z2) - onehot(y, K)'],
    [MLP, '\\mathrm{softmax}(z_2) - e_y', 'softmax(z2) - onehot(y, K)'],
    [MLP, '\\delta^{(1)} \\odot a^{(1)} \\odot (1 - a^{(1)})', 'dL/dz1 .* a1 .* (1 - a1)'],
    [MLP, '\\nabla_{a^{(1)}} L \\circ \\sigma(z_1) \\circ \\left(1 - \\sigma(z_1)\\right)', 'dL/da1 .* sigmoid(z1) .* (1 - sigmoid(z1))'],
    [MLP, '\\sum_{i} W^{(1)}', 'sum(W1, 1)'],
    [MLP, '{\\tanh(z^{(1)})}^{2}', '((tanh(z1))) .^ 2'],
    // ⊗ as gradc prints kron (the random-model round trip found it unread): operands are single factors.
    [MLP, 'x \\otimes W^{(1)}', 'kron(x, W1)'],
    [MLP, '2 \\cdot \\left(-x\\right) \\otimes \\left(0.5 \\cdot x\\right) \\cdot 3', '2 * kron((-x), (0.5 * x)) * 3'],
  ];
  for (const [src, latex, text] of cases) assert.equal(read(src, latex), text, latex);
  assert.ok(looksLikeLatex('x^\\top') && looksLikeLatex('W^T x') && !looksLikeLatex("W1' * x") && !looksLikeLatex('x ^ 2'));
});

test('the left side of an answer: dL/dW1, ∂L/∂W^{(1)} in any of its spellings, ∇_W L', () => {
  const names = latexNames(parseModel('m.nn', MLP));
  for (const line of ['dL/dW1 = …', '\\frac{\\partial L}{\\partial W^{(1)}} = …', '\\frac{\\partial \\mathcal{L}}{\\partial W_1} = …', '\\nabla_{W^1} L = …', '\\partial L / \\partial W^{(1)} = …']) {
    const s = splitClaimLine(line, names);
    assert.ok(s && !('error' in s) && s.wrt === 'W1', `${line}: ${JSON.stringify(s)}`);
  }
  const bad = splitClaimLine('\\frac{\\partial L}{\\partial V^{(1)}} = x', names);
  assert.ok(bad && 'error' in bad && /the model has no V1|no V1/.test(bad.error), JSON.stringify(bad));
});

test('verify --claim reads LaTeX; what it cannot read is located in the LaTeX', () => {
  const ok = runCli(['verify', 'examples/logreg.nn', '--wrt', 'w', '--claim', '-y x (1 - \\sigma(y w^T x))']);
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  const sided = runCli(['verify', 'examples/mlp.nn', '--claim', '\\frac{\\partial L}{\\partial W^{(1)}} = \\delta^{(1)} x^\\top']);
  assert.equal(sided.status, 0, sided.stdout + sided.stderr);
  const unknown = runCli(['verify', 'examples/mlp.nn', '--wrt', 'W2', '--claim', '\\delta^{(2)} \\foo a^{(1)}']);
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /^<claim>:1:14: error: cannot read \\foo/);
  const shape = runCli(['verify', 'examples/mlp.nn', '--wrt', 'W2', '--claim', '\\delta^{(2)} a^{(1)}']);
  assert.equal(shape.status, 1);
  assert.match(shape.stderr, /^<claim>:1:14: error: the product of two vectors is their dot product/);
  assert.match(shape.stderr, /note: the LaTeX reads as: dL\/dz2 \* a1/);
});

/** Verifies one printed line (`dL/dW = …` or its LaTeX) as a claim; the message if it does not pass. */
function judge(path: string, src: string, line: string): string | undefined {
  const model = parseModel(path, src);
  const names = latexNames(model);
  const split = splitClaimLine(line, names);
  if (!split || 'error' in split) return split && 'error' in split ? split.error : 'no left side';
  try {
    const claim = claimAt(new SourceFile('<line>', line), split.rhsStart, line.length, split.wrt, names);
    const parsed = parseClaims(path, src, [claim], {});
    const resolved = resolveAdjoints(parsed.model, parsed.claims[0]);
    const v = quickVerdict(parsed.model, split.wrt, resolved, claim.text, parsed.claims[0])
      ?? numericVerdict(parsed.model, split.wrt, resolved, claim.text, { seed: 1, runs: 30 }, parsed.claims[0]);
    return v.verdict === 'PASS' ? undefined : `reads as ${claim.source.text.trim()}: ${v.message}`;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Every line gradc prints in LaTeX, read back and verified against the gradient it stands for. A line
 * whose text form does not read back either (a size the claim language leaves implicit) is no LaTeX
 * matter: it is counted apart.
 */
function roundTrip(path: string, src: string): { checked: number; skipped: number; textToo: number; failures: string[] } {
  const model = parseModel(path, src);
  const g = deriveGradients(model);
  const params = model.params.map((p) => p.name);
  const lines = (style: 'latex' | 'text') => [false, true].flatMap((inline) => formatGradients(g, style, inline, params).split('\n'))
    .filter((l) => style === 'text' || l.includes('&='));
  const latex = lines('latex'), text = lines('text');
  assert.equal(latex.length, text.length, `${path}: one LaTeX line per text line`);
  let checked = 0, skipped = 0, textToo = 0;
  const failures: string[] = [];
  latex.forEach((raw, k) => {
    const line = raw.replace(/ \\\\\[0\.4em\]$/, '').replace('&=', '=');
    // A derived fn (f′) and the arg-max mask have no notation in the claim language, in text as in LaTeX.
    if (/\\#|\}'/.test(line)) { skipped++; return; }
    checked++;
    const problem = judge(path, src, line);
    if (!problem) return;
    if (judge(path, src, text[k])) { textToo++; return; }
    failures.push(`${line}\n  text: ${text[k]}\n  ${problem}`);
  });
  return { checked, skipped, textToo, failures };
}

test('round trip: gradc\'s LaTeX of every example reads back to the same gradients', () => {
  for (const name of [...EXAMPLES, 'tanh-mlp', 'l2-mlp', 'universal-approximation']) {
    const path = join(ROOT, 'examples', `${name}.nn`);
    const r = roundTrip(path, readFileSync(path, 'utf8'));
    assert.deepEqual(r.failures, [], name);
    assert.ok(r.checked > 0, name);
  }
});

test('round trip on random models: the LaTeX of their gradients reads back to the same gradients', () => {
  let checked = 0, skipped = 0, textToo = 0;
  const failures: string[] = [];
  for (let seed = 1; seed <= 60; seed++) {
    const m = generateModel(seed);
    const r = roundTrip(`random-${seed}.nn`, m.source);
    checked += r.checked; skipped += r.skipped; textToo += r.textToo;
    failures.push(...r.failures.map((f) => `seed ${seed}: ${f}`));
  }
  assert.deepEqual(failures, []);
  assert.ok(checked > 200 && skipped + textToo < checked / 4, `${checked} checked, ${skipped} skipped, ${textToo} that the text form does not read back either`);
});

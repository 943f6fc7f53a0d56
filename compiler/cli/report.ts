// `gradc report M.nn -o report.html`: one self-contained page for a student or a teacher — the model's
// source, its shapes and counts, the forward and backward graphs, the backward program typeset (KaTeX,
// rendered here, its CSS and fonts embedded) next to its plain text, the stable rewrites, and with a point
// the values (`explain`); `train --report` adds the training curves. Nothing on the page needs a network.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Gradients } from '../autodiff/gradients.js';
import { gradName } from '../autodiff/names.js';
import { checkReport } from './check.js';
import { programLines, wrtGrads } from './grad.js';
import { toDot, toSvg } from './graph.js';

interface Katex { renderToString(tex: string, opts: { displayMode?: boolean; throwOnError?: boolean }): string }

/** One epoch of training, as the curves need it. */
export interface EpochPoint { epoch: number; loss: number; accuracy: number | null; testLoss: number | null; testAccuracy: number | null }

export interface ReportOptions {
  /** `gradc explain` at the given point, shown as the worked example. */
  readonly explained?: { readonly point: string; readonly text: string };
  readonly training?: { readonly title: string; readonly history: readonly EpochPoint[] };
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const KEYWORDS = new Set(['model', 'dim', 'const', 'input', 'param', 'fn', 'output', 'loss', 'class', 'scalar']);

/** The model's source with comments, keywords, numbers and function calls marked for colour. */
export function highlight(source: string): string {
  return source.split('\n').map((line) => {
    const hash = line.indexOf('#');
    const code = hash >= 0 ? line.slice(0, hash) : line;
    const comment = hash >= 0 ? `<span class="c">${escape(line.slice(hash))}</span>` : '';
    const body = code.replace(/([A-Za-z_][A-Za-z0-9_]*)(\s*\()?|(\d+(\.\d+)?([eE][-+]?\d+)?)|([^A-Za-z_\d]+)/g, (m, word: string | undefined, call: string | undefined, num: string | undefined) => {
      if (word !== undefined) {
        if (KEYWORDS.has(word)) return `<span class="k">${word}</span>${escape(call ?? '')}`;
        if (call) return `<span class="f">${word}</span>${escape(call)}`;
        return escape(word);
      }
      if (num !== undefined) return `<span class="n">${num}</span>`;
      return escape(m);
    });
    return body + comment;
  }).join('\n');
}

/** KaTeX's stylesheet with its fonts inlined (woff2 only, which every current browser reads). */
export function katexCss(): string {
  const dir = join(dirname(createRequire(import.meta.url).resolve('katex')), 'fonts');
  const css = readFileSync(join(dir, '..', 'katex.min.css'), 'utf8');
  return css.replace(/src:url\(fonts\/([^)]+)\.woff2\)[^;}]*/g, (_, name: string) =>
    `src:url(data:font/woff2;base64,${readFileSync(join(dir, `${name}.woff2`)).toString('base64')}) format("woff2")`);
}

/** A small line chart (SVG) of per-epoch series; nulls are left out. */
export function lineChart(title: string, epochs: readonly number[], series: readonly { name: string; values: readonly (number | null)[]; color: string }[], percent = false): string {
  const W = 460, H = 240, L = 52, R = 12, T = 28, Bm = 36;
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  if (all.length === 0) return '';
  let lo = Math.min(...all), hi = Math.max(...all);
  if (hi - lo < 1e-9) { lo -= 0.5; hi += 0.5; }
  const x = (i: number) => L + (epochs.length === 1 ? (W - L - R) / 2 : ((W - L - R) * i) / (epochs.length - 1));
  const y = (v: number) => T + (H - T - Bm) * (1 - (v - lo) / (hi - lo));
  const fmt = (v: number) => (percent ? `${(100 * v).toFixed(1)}%` : v.toPrecision(3));
  const ticks = [lo, (lo + hi) / 2, hi].map((v) => `<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" class="grid"/><text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${fmt(v)}</text>`).join('');
  const xt = epochs.map((e, i) => (epochs.length <= 12 || i % Math.ceil(epochs.length / 12) === 0 ? `<text x="${x(i)}" y="${H - Bm + 16}" text-anchor="middle">${e}</text>` : '')).join('');
  const lines = series.map((s) => {
    const pts = s.values.map((v, i) => (v === null ? null : `${x(i).toFixed(1)},${y(v).toFixed(1)}`)).filter(Boolean);
    return pts.length ? `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.join(' ')}"/>${pts.map((p) => `<circle r="2.5" fill="${s.color}" cx="${p!.split(',')[0]}" cy="${p!.split(',')[1]}"/>`).join('')}` : '';
  }).join('');
  const legend = series.filter((s) => s.values.some((v) => v !== null)).map((s, i) => `<rect x="${L + 8 + i * 110}" y="8" width="12" height="4" fill="${s.color}"/><text x="${L + 24 + i * 110}" y="14">${escape(s.name)}</text>`).join('');
  return `<svg class="chart" role="img" aria-label="${escape(title)}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}"><title>${escape(title)}</title>${ticks}${xt}<text x="${(W + L) / 2}" y="${H - 4}" text-anchor="middle">epoch</text>${lines}${legend}</svg>`;
}

export async function renderReport(g: Gradients, opts: ReportOptions = {}): Promise<string> {
  const katex = createRequire(import.meta.url)('katex') as Katex;
  const model = g.model;
  const wrt = model.params.map((p) => p.name);
  const latex = programLines(g, 'latex', wrtGrads(g, wrt));
  const text = programLines(g, 'text', wrtGrads(g, wrt));
  const rows = latex.map((l, i) => {
    const tex = l.replace(' &= ', ' = ');
    return `<tr><td class="tex">${katex.renderToString(tex, { displayMode: true, throwOnError: false })}</td><td><code>${escape(text[i])}</code></td></tr>`;
  }).join('\n');
  const forward = await toSvg(toDot(g, false));
  const backward = await toSvg(toDot(g, true));
  const check = checkReport(model).text;
  const training = opts.training ? trainingSection(opts.training) : '';
  const explained = opts.explained ? `<section id="values"><h2>Backpropagation with numbers at ${escape(opts.explained.point)}</h2><pre>${escape(opts.explained.text)}</pre></section>` : '';
  const loss = model.loss.name;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>gradc report: ${escape(model.name)}</title>
<style>${katexCss()}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#1b1f24}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #d0d7de;padding-bottom:.2em}
pre,code{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}pre{background:#f6f8fa;padding:1em;overflow:auto;border-radius:6px}
.c{color:#6e7781;font-style:italic}.k{color:#cf222e;font-weight:600}.n{color:#0550ae}.f{color:#8250df}
table.program{border-collapse:collapse;width:100%}table.program td{border-bottom:1px solid #eaeef2;padding:.1em .6em;vertical-align:middle}
td.tex{width:55%}td.tex .katex-display{margin:.35em 0;text-align:left}td.tex .katex-display>.katex{text-align:left}
.graph{overflow:auto;border:1px solid #eaeef2;border-radius:6px;padding:.5em;margin:.5em 0}.graph svg{max-width:100%;height:auto}
.charts{display:flex;flex-wrap:wrap;gap:1em}.chart text{font-size:11px;fill:#57606a}.chart .grid{stroke:#eaeef2}
.meta{color:#57606a}
</style></head><body>
<h1>${escape(model.name)}</h1>
<p class="meta">${escape(model.file.path)} — derived by gradc: every gradient of the loss ${escape(loss)} by the chain rule (reverse mode)</p>
<section id="source"><h2>The model</h2><pre>${highlight(model.file.text)}</pre></section>
<section id="check"><h2>Shapes and counts</h2><pre>${escape(check)}</pre></section>
<section id="program"><h2>The backward program</h2>
<p>One step per line, from the loss down, in the model's own names: ${escape(gradName(loss, 'z', 'text'))} is ∂${escape(loss)}/∂z.</p>
<table class="program">
${rows}
</table></section>
<section id="graphs"><h2>The graph</h2>
<h3>Forward</h3><div class="graph" id="forward-graph">${forward}</div>
<h3>Forward and backward</h3><div class="graph" id="backward-graph">${backward}</div></section>
${explained}
${training}
</body></html>
`;
}

function trainingSection(t: NonNullable<ReportOptions['training']>): string {
  const epochs = t.history.map((h) => h.epoch);
  const loss = lineChart('loss per epoch', epochs, [
    { name: 'train loss', values: t.history.map((h) => h.loss), color: '#0969da' },
    { name: 'test loss', values: t.history.map((h) => h.testLoss), color: '#cf222e' },
  ]);
  const acc = lineChart('accuracy per epoch', epochs, [
    { name: 'train accuracy', values: t.history.map((h) => h.accuracy), color: '#0969da' },
    { name: 'test accuracy', values: t.history.map((h) => h.testAccuracy), color: '#cf222e' },
  ], true);
  const rows = t.history.map((h) => `<tr><td>${h.epoch}</td><td>${h.loss.toFixed(4)}</td><td>${h.accuracy === null ? '' : `${(100 * h.accuracy).toFixed(2)}%`}</td><td>${h.testLoss === null ? '' : h.testLoss.toFixed(4)}</td><td>${h.testAccuracy === null ? '' : `${(100 * h.testAccuracy).toFixed(2)}%`}</td></tr>`).join('');
  return `<section id="training"><h2>Training</h2><p class="meta">${escape(t.title)}</p><div class="charts">${loss}${acc}</div>
<table class="program"><tr><th>epoch</th><th>loss</th><th>accuracy</th><th>test loss</th><th>test accuracy</th></tr>${rows}</table></section>`;
}

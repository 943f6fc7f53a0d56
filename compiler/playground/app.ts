// The playground page: gradc in the browser. An editor for the model (CodeMirror), checked as one types
// (mistakes underlined with the command line's own message), the backward program typeset next to its text,
// `check`'s summary, the graphs, a claim box that answers as `gradc verify` does, and `explain` at a point.
// All of it is compiler/playground/engine.ts — the command line's own code — bundled with this file.

import { EditorView, basicSetup } from 'codemirror';
import { linter, lintGutter, type Diagnostic } from '@codemirror/lint';
import { StreamLanguage } from '@codemirror/language';
import katex from 'katex';
import { analyze, analyzeMore, explainAt, verifyClaim, type Analysis } from './engine.js';
import { toSvg } from '../cli/graph.js';

declare const GRADC_EXAMPLES: Record<string, string>;

const KEYWORDS = /^(model|dim|input|param|fn|const|output|loss|class|scalar)\b/;
/** The .nn language for highlighting: comments, keywords, numbers, calls, names. */
const nnLanguage = StreamLanguage.define<object>({
  token(stream) {
    if (stream.eatSpace()) return null;
    if (stream.match('#')) { stream.skipToEnd(); return 'comment'; }
    if (stream.match(KEYWORDS)) return 'keyword';
    if (stream.match(/^\d+(\.\d+)?([eE][-+]?\d+)?/)) return 'number';
    if (stream.match(/^[A-Za-z_][A-Za-z0-9_]*(?=\s*\()/)) return 'function';
    if (stream.match(/^d[A-Za-z_][A-Za-z0-9_]*\/d[A-Za-z_][A-Za-z0-9_]*/)) return 'variableName.special';
    if (stream.match(/^[A-Za-z_][A-Za-z0-9_]*/)) return 'variableName';
    if (stream.match(/^(\.\*|\.\/|\.\^|[-+*/^'=~:,])/)) return 'operator';
    stream.next();
    return null;
  },
});

const $ = (id: string) => document.getElementById(id)!;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

let latest: Analysis = { problems: [] };
let renderTimer: number | undefined;

/** The model in the URL: #model=… (the text, URI-encoded), so a link shows what its sender saw. */
function modelFromHash(): string | undefined {
  const m = /[#&]model=([^&]*)/.exec(location.hash);
  if (!m) return undefined;
  try { return decodeURIComponent(m[1]); } catch { return undefined; }
}
const hashFor = (text: string) => `#model=${encodeURIComponent(text)}`;

let analyzedText: string | undefined;
/** The first derivation is typeset at once (later ones wait for a pause in typing). */
let firstShown = false;

/** Checks the text; the status, the problems, the address and (after a pause in typing) the panels follow. */
function analyzeText(text: string): void {
  const t0 = performance.now();
  if (text !== analyzedText) {
    latest = analyze(text);
    analyzedText = text;
    performance.mark('gradc-analyzed');
    $('status').textContent = latest.problems.length ? `${latest.problems.length} mistake${latest.problems.length === 1 ? '' : 's'}` : `OK, derived in ${Math.round(performance.now() - t0)} ms`;
  }
  $('status').className = latest.problems.length ? 'bad' : 'good';
  $('problems').textContent = latest.problems.map((p) => p.printed).join('\n');
  $('right').classList.toggle('stale', latest.problems.length > 0); // the last good derivation, greyed
  if (modelFromHash() !== text) history.replaceState(null, '', hashFor(text));
  window.clearTimeout(renderTimer);
  if (!firstShown) { firstShown = true; renderPanels(); } else renderTimer = window.setTimeout(renderPanels, 60);
}

/** The editor's linter: the same check, its problems underlined. */
function check(view: EditorView): Diagnostic[] {
  analyzeText(view.state.doc.toString());
  const size = view.state.doc.length;
  return latest.problems.map((p) => ({ from: Math.min(p.from, size), to: Math.min(Math.max(p.to, p.from + 1), size), severity: 'error', message: p.message }));
}

function renderPanels(): void {
  const a = latest;
  if (!a.program) return; // the last good derivation stays on show while the model has a mistake
  const rows = a.program.text.map((line, i) => `<tr><td class="tex">${katex.renderToString((a.program!.latex[i] ?? '').replace(' &= ', ' = '), { displayMode: true, throwOnError: false })}</td><td><code>${esc(line)}</code></td></tr>`);
  $('program').innerHTML = `<table>${rows.join('')}</table>`;
  performance.mark('gradc-program');
  window.setTimeout(() => renderMore(a), 0); // the program first, then the rest
}

function renderMore(shown: Analysis): void {
  if (latest !== shown) return;
  const a = latest = analyzeMore(shown);
  $('inline').textContent = a.inline ?? '';
  $('check').textContent = a.check ?? '';
  const dot = a.dot!;
  void Promise.all([toSvg(dot.forward), toSvg(dot.backward)]).then(([f, b]) => {
    if (latest.dot !== dot) return; // a newer edit is being drawn
    $('forward-graph').innerHTML = f;
    $('backward-graph').innerHTML = b;
    document.body.dataset.rendered = String(Number(document.body.dataset.rendered ?? 0) + 1);
  });
}

function copy(text: string, button: HTMLElement): void {
  void navigator.clipboard?.writeText(text).catch(() => undefined);
  const was = button.textContent;
  button.textContent = 'copied';
  window.setTimeout(() => { button.textContent = was; }, 900);
}

function start(): void {
  performance.mark('gradc-start');
  const menu = $('examples') as HTMLSelectElement;
  for (const name of Object.keys(GRADC_EXAMPLES)) menu.add(new Option(name, name));
  const initial = modelFromHash() ?? GRADC_EXAMPLES['two-layer MLP'] ?? Object.values(GRADC_EXAMPLES)[0];
  // The backward program first, painted; the editor (the slowest part to build) right after.
  analyzeText(initial);
  requestAnimationFrame(() => window.setTimeout(() => { performance.mark('gradc-first-render'); startEditor(initial); }, 0));
}

function startEditor(initial: string): void {
  const menu = $('examples') as HTMLSelectElement;
  const view = new EditorView({
    doc: initial,
    extensions: [basicSetup, nnLanguage, lintGutter(), linter(check, { delay: 30 })],
    parent: $('editor'),
  });
  (window as unknown as { gradcEditor: EditorView }).gradcEditor = view;
  check(view); // at once: the linter would wait for the editor to settle first
  document.body.dataset.editor = 'ready';
  menu.addEventListener('change', () => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: GRADC_EXAMPLES[menu.value] } }));
  window.addEventListener('hashchange', () => {
    const text = modelFromHash();
    if (text !== undefined && text !== view.state.doc.toString()) view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
  });
  $('copy-inline').addEventListener('click', (e) => copy(analyzeMore(latest).inline ?? '', e.currentTarget as HTMLElement));
  $('copy-latex').addEventListener('click', (e) => copy(analyzeMore(latest).latex ?? '', e.currentTarget as HTMLElement));
  $('copy-link').addEventListener('click', (e) => copy(location.href, e.currentTarget as HTMLElement));
  const runVerify = () => {
    const r = verifyClaim(view.state.doc.toString(), ($('claim') as HTMLInputElement).value);
    $('verdict').textContent = r.text;
    $('verdict').className = r.status === 0 ? 'good' : 'bad';
  };
  $('verify').addEventListener('click', runVerify);
  // A link may carry a claim to check (the grades page links each answer this way).
  const claim = /[#&]claim=([^&]*)/.exec(location.hash);
  if (claim) { try { ($('claim') as HTMLInputElement).value = decodeURIComponent(claim[1]); runVerify(); } catch { /* a malformed link: the model alone */ } }
  $('claim').addEventListener('keydown', (e) => { if ((e as KeyboardEvent).key === 'Enter') runVerify(); });
  let seed = 1;
  $('explain-random').addEventListener('click', () => { $('explained').textContent = explainAt(view.state.doc.toString(), undefined, seed++); });
  $('explain-point').addEventListener('click', () => { $('explained').textContent = explainAt(view.state.doc.toString(), ($('point') as HTMLTextAreaElement).value); });
}

start();

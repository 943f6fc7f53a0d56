// `gradc playground -o DIR`: the playground as a static site — DIR/index.html and DIR/playground.js, the
// compiler bundled for the browser by esbuild (mathjs, KaTeX, CodeMirror and Graphviz's WebAssembly inside;
// ts-morph, binaryen and the trainers are never imported by it). It opens from file:// or any static host
// and makes no network request. `npm run build` keeps a copy in dist/playground/.

import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as Esbuild from 'esbuild';
import { PACKAGE_ROOT } from '../source/package-root.js';
import { katexCss } from '../cli/report.js';
import { PlainError } from '../source/diagnostics.js';

export const PREBUILT_PLAYGROUND = join(PACKAGE_ROOT, 'dist', 'playground');
const FILES = ['index.html', 'playground.js', 'graphviz.js'];

/** The lecture's models, as the page's menu offers them. */
const EXAMPLES: [string, string][] = [
  ['logistic regression', 'logreg'], ['softmax regression', 'softmax-regression'], ['two-layer MLP', 'mlp'],
  ['two-layer MLP with tanh', 'tanh-mlp'], ['LeNet-300-100', 'mnist-mlp'], ['LeNet-5', 'lenet5'], ['universal approximator', 'universal-approximation'],
];

/**
 * Node's modules, for the browser: the playground never calls them (files are the CLI's business), but
 * modules it shares with the CLI import them. Any use throws, saying so.
 */
const NODE_SHIM = `module.exports = new Proxy({}, { get: (_, k) => k === '__esModule' ? false : function () { throw new Error('node:' + String(k) + ' is not available in the browser'); } });`;

/** Bundles the page's script; returns its size in bytes. */
export async function buildPlayground(dir: string): Promise<{ bytes: number }> {
  const esbuild = createRequire(import.meta.url)('esbuild') as typeof Esbuild;
  const examples = Object.fromEntries(EXAMPLES.map(([label, file]) => [label, readFileSync(join(PACKAGE_ROOT, 'examples', `${file}.nn`), 'utf8')]));
  const r = await esbuild.build({
    entryPoints: [join(PACKAGE_ROOT, 'compiler', 'playground', 'app.ts')],
    bundle: true, format: 'iife', platform: 'browser', target: 'es2022', minify: process.env.GRADC_PLAYGROUND_DEBUG !== '1', write: false, legalComments: 'none',
    define: { GRADC_EXAMPLES: JSON.stringify(examples), 'process.env.NODE_ENV': '"production"' },
    plugins: [{
      name: 'node-shim',
      setup(b) {
        b.onResolve({ filter: /^(node:|fs$|path$|module$|url$|os$|child_process$|worker_threads$|crypto$)/ }, (a) => ({ path: a.path, namespace: 'node-shim' }));
        b.onLoad({ filter: /.*/, namespace: 'node-shim' }, () => ({ contents: NODE_SHIM, loader: 'js' }));
        // Graphviz (800 KiB of WebAssembly) comes in a script of its own, loaded once the program is on screen.
        b.onResolve({ filter: /^@hpcc-js\/wasm-graphviz$/ }, (a) => ({ path: a.path, namespace: 'graphviz-later' }));
        b.onLoad({ filter: /.*/, namespace: 'graphviz-later' }, () => ({ contents: GRAPHVIZ_LATER, loader: 'js' }));
      },
    }],
    logLevel: 'silent',
  });
  const graphviz = await esbuild.build({
    stdin: { contents: "import { Graphviz } from '@hpcc-js/wasm-graphviz'; globalThis.GradcGraphviz = Graphviz;", resolveDir: PACKAGE_ROOT, loader: 'js' },
    bundle: true, format: 'iife', platform: 'browser', target: 'es2022', minify: true, write: false, legalComments: 'none', logLevel: 'silent',
  });
  const js = r.outputFiles[0].contents, gv = graphviz.outputFiles[0].contents;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'playground.js'), js);
  writeFileSync(join(dir, 'graphviz.js'), gv);
  writeFileSync(join(dir, 'index.html'), pageHtml());
  return { bytes: js.length + gv.length };
}

/** What the page's code gets for '@hpcc-js/wasm-graphviz': the same API, its script fetched on first use. */
const GRAPHVIZ_LATER = `let loading;
export const Graphviz = { load() {
  loading ??= new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = 'graphviz.js';
    s.onload = () => resolve(globalThis.GradcGraphviz.load());
    s.onerror = () => reject(new Error('graphviz.js could not be loaded: keep it beside index.html'));
    document.head.appendChild(s);
  });
  return loading;
} };`;

/** Writes the playground to DIR: the prebuilt copy when it is current, else a fresh bundle. */
export async function writePlayground(dir: string): Promise<{ bytes: number }> {
  const built = join(PREBUILT_PLAYGROUND, 'playground.js');
  if (existsSync(built) && statSync(built).mtimeMs >= newestSource()) {
    mkdirSync(dir, { recursive: true });
    for (const f of FILES) copyFileSync(join(PREBUILT_PLAYGROUND, f), join(dir, f));
    return { bytes: FILES.filter((f) => f.endsWith('.js')).reduce((n, f) => n + statSync(join(PREBUILT_PLAYGROUND, f)).size, 0) };
  }
  try {
    return await buildPlayground(dir);
  } catch (e) {
    throw new PlainError(`${dir}: cannot write the playground (${(e as Error).message})`);
  }
}

function newestSource(): number {
  let newest = 0;
  for (const d of ['compiler', 'runtime', 'examples']) {
    for (const f of readdirSync(join(PACKAGE_ROOT, d), { recursive: true }) as string[]) newest = Math.max(newest, statSync(join(PACKAGE_ROOT, d, f)).mtimeMs);
  }
  return newest;
}

function pageHtml(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>gradc playground</title>
<style>${katexCss()}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1b1f24;background:#fff}
header{display:flex;gap:1em;align-items:center;padding:.5em 1em;border-bottom:1px solid #d0d7de;background:#f6f8fa}header h1{font-size:1.15em;margin:0}
header .sub{color:#57606a}button,select{font:inherit;padding:.2em .6em;border:1px solid #d0d7de;border-radius:6px;background:#fff;cursor:pointer}
main{display:grid;grid-template-columns:minmax(360px,5fr) 7fr;gap:0;height:calc(100vh - 44px)}
#left{display:flex;flex-direction:column;border-right:1px solid #d0d7de;min-height:0}#editor{flex:1;min-height:0;overflow:auto}
#editor .cm-editor{height:100%}#editor .cm-scroller{font:13px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
#status{padding:.3em 1em;font-weight:600}#status.good{color:#1a7f37}#status.bad{color:#cf222e}
#problems{margin:0;padding:0 1em .5em;max-height:30%;overflow:auto;color:#cf222e;white-space:pre-wrap}
#right{overflow:auto;padding:0 1.2em 2em}h2{font-size:1.05em;margin:1.2em 0 .4em;border-bottom:1px solid #d0d7de;padding-bottom:.2em;display:flex;gap:.6em;align-items:center}
h2 button{font-size:.8em;font-weight:400}pre,code{font:12.5px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}pre{background:#f6f8fa;padding:.7em;border-radius:6px;overflow:auto;white-space:pre-wrap}
#program table{border-collapse:collapse;width:100%}#program td{border-bottom:1px solid #eaeef2;padding:.05em .5em;vertical-align:middle}
td.tex{width:55%}td.tex .katex-display{margin:.3em 0;text-align:left}td.tex .katex-display>.katex{text-align:left}
.graph{overflow:auto;border:1px solid #eaeef2;border-radius:6px;padding:.4em;margin:.4em 0}.graph svg{max-width:100%;height:auto}
#claim{width:100%;font:13px ui-monospace,monospace;padding:.35em}.row{display:flex;gap:.5em;margin:.3em 0}#point{width:100%;height:4.5em;font:12px ui-monospace,monospace}
#right.stale #program,#right.stale .graph,#right.stale #check{opacity:.45}pre.good{border-left:4px solid #2da44e}pre.bad{border-left:4px solid #cf222e}
</style></head><body>
<header><h1>gradc playground</h1><span class="sub">a model in, its backward pass out — derived symbolically in your browser</span>
<select id="examples" aria-label="the lecture's models"><option value="" disabled selected>the lecture's models…</option></select>
<button id="copy-link" title="a link that opens this model">copy link</button></header>
<main><section id="left"><div id="editor"></div><div id="status"></div><pre id="problems"></pre></section>
<section id="right">
<h2>Backward program <button id="copy-inline">copy --inline</button><button id="copy-latex">copy LaTeX</button></h2><div id="program"></div>
<details><summary>closed forms (--inline)</summary><pre id="inline"></pre></details>
<h2>Check a claim</h2><div class="row"><input id="claim" placeholder="dL/dW1 = outer(dL/dz1, x)   or   \\frac{\\partial L}{\\partial W^{(1)}} = \\delta^{(1)} x^\\top" spellcheck="false"><button id="verify">verify</button></div><pre id="verdict"></pre>
<h2>Shapes and counts</h2><pre id="check"></pre>
<h2>Graph</h2><h3>forward</h3><div class="graph" id="forward-graph"></div><h3>forward and backward</h3><div class="graph" id="backward-graph"></div>
<h2>Backpropagation with numbers</h2><div class="row"><button id="explain-random">at a random point</button><button id="explain-point">at this point:</button></div>
<textarea id="point" spellcheck="false" placeholder='{ "params": { … }, "inputs": { … } }   (the eval --point format; "params" may be left out)'></textarea><pre id="explained"></pre>
</section></main>
<script src="playground.js"></script>
</body></html>
`;
}

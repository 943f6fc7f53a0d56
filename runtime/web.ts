// The trainer page (`gradc compile --target web`): the model's gpu.js kernels run by gpu.js in the browser
// (WebGL2, WebGL or its CPU mode, whichever it picks), trained by the same loop as the node trainers
// (runtime/train.ts, one epoch per animation frame so the chart is drawn between epochs), on data embedded
// at compile time or from a CSV file the user picks. `?selftest` instead checks every kernel of the plan,
// on random inputs, against the same kernel run in float64 JavaScript, and writes the verdict into the page.
// Bundled for the browser by esbuild at compile time (node: imports are stubbed, compiler/codegen/web.ts).

import type { Dataset } from './data.js';
import { parseCsv } from './data.js';
import { createGpuModel, type GpuCtor, type GpuProgram } from './gpu.js';
import { gpuMode, GPU_TOLERANCE, selftest } from './web-selftest.js';
import { trainEpochs, type EpochStats, type Schedule } from './train.js';
import type { OptimizerName } from './optim.js';

/** A dataset as the page carries it: per input, bytes (pixels, labels) or float32 values, base64. */
export interface EncodedDataset { readonly n: number; readonly source: string; readonly inputs: readonly { readonly kind: 'u8' | 'f32'; readonly scale: number; readonly base64: string }[] }
export interface PageSettings { readonly epochs: number; readonly batch: number; readonly lr: number; readonly optimizer: OptimizerName; readonly schedule?: Schedule; readonly seed: number; readonly l2: number }
export interface PageConfig { readonly program: GpuProgram; readonly settings: PageSettings; readonly data?: { readonly train: EncodedDataset; readonly test?: EncodedDataset } }

interface GpuModule { GPU?: GpuCtor }
const page = globalThis as unknown as { GRADC: PageConfig; GPU: GpuModule & GpuCtor; document: Doc; location: { search: string }; requestAnimationFrame(f: () => void): void };
interface El { textContent: string | null; innerHTML: string; setAttribute(k: string, v: string): void; addEventListener(e: string, f: (ev: { target: { files: { text(): Promise<string> }[] } }) => void): void; style: Record<string, string> }
interface Doc { getElementById(id: string): El }

const GPU: GpuCtor = page.GPU.GPU ?? page.GPU;
const $ = (id: string) => page.document.getElementById(id);
const log = (line: string) => { const el = $('log'); el.textContent = `${el.textContent ?? ''}${line}\n`; };

function decode(d: EncodedDataset): Dataset {
  const inputs = d.inputs.map((inp) => {
    const bin = atob(inp.base64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    const values = inp.kind === 'u8' ? bytes : new Float32Array(bytes.buffer);
    return Float64Array.from(values, (v) => v * inp.scale);
  });
  return { n: d.n, inputs, source: d.source };
}

// ---- the chart --------------------------------------------------------------------------------------
function drawChart(history: readonly EpochStats[], epochs: number): void {
  const W = 560, H = 260, L = 48, T = 20, Bm = 30;
  const x = (e: number) => L + ((W - L - 50) * (e - 1)) / Math.max(1, epochs - 1);
  const maxLoss = Math.max(...history.map((h) => Math.max(h.loss, h.testLoss ?? 0)), 1e-9);
  const yl = (v: number) => T + (H - T - Bm) * (1 - v / maxLoss);
  const ya = (v: number) => T + (H - T - Bm) * (1 - v);
  const line = (pts: (number | null)[], y: (v: number) => number, color: string, dash = '') => {
    const p = pts.map((v, i) => (v === null ? null : `${x(history[i].epoch).toFixed(1)},${y(v).toFixed(1)}`)).filter(Boolean);
    return p.length ? `<polyline fill="none" stroke="${color}" stroke-width="2" ${dash} points="${p.join(' ')}"/>` : '';
  };
  $('chart').innerHTML = `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}">
<line x1="${L}" y1="${H - Bm}" x2="${W - 50}" y2="${H - Bm}" stroke="#999"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - Bm}" stroke="#999"/>
<text x="${L - 6}" y="${T + 4}" text-anchor="end" font-size="11">${maxLoss.toPrecision(2)}</text><text x="${W - 46}" y="${T + 4}" font-size="11">100%</text>
<text x="${(W + L) / 2}" y="${H - 6}" text-anchor="middle" font-size="11">epoch (1–${epochs})</text>
${line(history.map((h) => h.loss), yl, '#0969da')}${line(history.map((h) => h.testLoss), yl, '#cf222e')}
${line(history.map((h) => h.accuracy), ya, '#0969da', 'stroke-dasharray="5 3"')}${line(history.map((h) => h.testAccuracy), ya, '#cf222e', 'stroke-dasharray="5 3"')}
<text x="${L + 8}" y="${T + 12}" font-size="11" fill="#0969da">train loss ― accuracy - -</text><text x="${L + 170}" y="${T + 12}" font-size="11" fill="#cf222e">test loss ― accuracy - -</text></svg>`;
}

// ---- training ---------------------------------------------------------------------------------------
function trainInPage(train: Dataset, test: Dataset | undefined): void {
  const { program, settings } = page.GRADC;
  const model = createGpuModel(program, GPU);
  $('status').textContent = `training on ${train.source}: ${train.n} examples${test ? `, testing on ${test.n}` : ''}`;
  const epochs = trainEpochs(model, { ...settings, train, test, precision: 'f32', log });
  const history: EpochStats[] = [];
  const step = () => {
    const r = epochs.next();
    if (r.done) {
      const last = history[history.length - 1];
      const done = $('done');
      done.setAttribute('data-epochs', String(history.length));
      if (last?.testAccuracy !== null && last?.testAccuracy !== undefined) done.setAttribute('data-test-accuracy', String(last.testAccuracy));
      done.textContent = `done: ${history.length} epochs in ${r.value.seconds.toFixed(1)} s`;
      return;
    }
    history.push(r.value);
    drawChart(history, settings.epochs);
    $('speed').textContent = `${Math.round(r.value.examplesPerSecond)} examples/s`;
    page.requestAnimationFrame(step);
  };
  page.requestAnimationFrame(step);
}

function runSelftest(): void {
  const { program } = page.GRADC;
  const checks = selftest(program, GPU);
  const lines = checks.map((c) => `${c.ok ? 'ok      ' : 'MISMATCH'} ${c.maxAbs.toExponential(1).padStart(8)} ${c.maxRel.toExponential(1).padStart(8)}  ${c.formula}`);
  const failed = checks.filter((c) => !c.ok);
  const verdict = failed.length === 0 ? 'PASS' : 'FAIL';
  $('selftest').textContent = [`${checks.length} kernels in ${gpuMode(GPU)} against float64 JavaScript (tolerance ${GPU_TOLERANCE} of each result's largest value)`, 'verdict  max abs  max rel  kernel', ...lines].join('\n');
  const v = $('verdict');
  v.setAttribute('data-verdict', verdict);
  v.setAttribute('data-mode', gpuMode(GPU));
  v.textContent = verdict === 'PASS' ? `PASS: all ${checks.length} kernels agree` : `FAIL: ${failed.map((c) => c.formula).join('; ')}`;
}

export function main(): void {
  $('mode').textContent = `gpu.js mode: ${gpuMode(GPU)}`;
  if (page.location.search.includes('selftest')) { runSelftest(); return; }
  const { data } = page.GRADC;
  if (data) { trainInPage(decode(data.train), data.test && decode(data.test)); return; }
  $('status').textContent = 'choose a CSV file to train on (one row per example: the inputs in the order the model declares them)';
  $('file').style.display = 'inline';
  $('file').addEventListener('change', (ev) => {
    void ev.target.files[0].text().then((text) => {
      try { trainInPage(parseCsv('data.csv', text, page.GRADC.program.spec.inputs), undefined); } catch (e) { $('status').textContent = (e as Error).message; }
    });
  });
}

main();

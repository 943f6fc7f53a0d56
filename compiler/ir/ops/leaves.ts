// Leaves of the graph: inputs, parameters, dims, constants, and the `var` placeholders of a fn body.

import { registerOp, sizeOf } from '../node.js';
import type { Node } from '../node.js';
import type { OpDef, PrintCtx, Printed } from '../op.js';
import { PREC } from '../op.js';
import { tensor } from '../tensor.js';
import { printed } from './common.js';

/** `W1` → `W^{(1)}`, `z_out` → `z_{\mathrm{out}}`, `theta` → `\theta`: the lecture's notation for names. */
export function latexName(name: string): string {
  const greek = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'eta', 'theta', 'lambda', 'mu', 'sigma', 'tau', 'phi', 'omega'];
  const m = /^([A-Za-z]+?)(\d+)$/.exec(name);
  const base = (s: string) => (greek.includes(s) ? `\\${s}` : s.length === 1 ? s : `\\mathrm{${s.replace(/_/g, '\\_')}}`);
  if (m) return `${base(m[1])}^{(${m[2]})}`;
  const u = /^([A-Za-z]+)_([A-Za-z0-9]+)$/.exec(name);
  if (u) return `${base(u[1])}_{${u[2].length > 1 ? `\\mathrm{${u[2]}}` : u[2]}}`;
  return base(name);
}

/** v as p/q with a small denominator, when it is one (and not an integer or a short decimal). */
export function asFraction(v: number): [number, number] | undefined {
  if (!Number.isFinite(v) || Number.isInteger(v) || String(v).length <= 8) return undefined;
  for (let q = 2; q <= 1000; q++) {
    const p = Math.round(v * q);
    if (Math.abs(p / q - v) <= 1e-12 * Math.abs(v)) return [p, q];
  }
  return undefined;
}

export function formatNumber(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  const s = String(Number(v.toPrecision(15)));
  return s.replace('e+', 'e');
}

/** 𝟏 with its size, 𝟏_{m×n}, so that a LaTeX formula reads back as the tensor it is. */
export const latexOnes = (p: PrintCtx, shape: readonly number[]): string => `\\mathbf{1}_{${p.sizes(shape).split(', ').join(' \\times ')}}`;

const named = (p: PrintCtx): Printed => {
  const name = p.node.attr.name as string;
  return printed(p.style === 'latex' ? latexName(name) : name);
};

const leaf = (name: string, extra: Partial<OpDef> = {}): OpDef => ({
  name,
  arity: 0,
  shape: (_, attr) => (attr.shape as number[] | undefined) ?? [],
  eval: () => { throw new Error(`${name} leaves are read from the environment`); },
  vjp: () => [],
  print: named,
  flops: () => 0,
  ...extra,
});

export const leafOps: OpDef[] = [
  leaf('input'),
  leaf('param'),
  leaf('var'),
  leaf('dim', { shape: () => [], eval: (_, n: Node) => tensor([], [n.attr.value as number]) }),
  leaf('const', {
    eval: (_, n: Node) => tensor(n.shape, new Array<number>(sizeOf(n.shape)).fill(n.attr.value as number)),
    print: (p) => {
      const v = p.node.attr.value as number;
      const shape = p.node.shape;
      // A named hyperparameter prints by name, except in mathjs output, which is over inputs, params and dims only.
      const name = p.node.attr.name as string | undefined;
      if (name !== undefined && p.style !== 'mathjs') return printed(p.style === 'latex' ? latexName(name) : name);
      // 2/3 rather than 0.666666666666667: a mean over 3 elements shows up in gradients as such fractions.
      const frac = asFraction(v);
      if (frac && shape.length > 0) {
        const [num, den] = frac;
        const ones = p.style === 'latex' ? latexOnes(p, shape) : `ones(${p.sizes(shape)})`;
        return p.style === 'latex' ? printed(`${num < 0 ? '-' : ''}\\frac{${Math.abs(num)}}{${den}} ${ones}`, PREC.mul) : printed(`${num} / ${den} * ${ones}`, PREC.mul);
      }
      if (frac) {
        const [num, den] = frac;
        return p.style === 'latex' ? printed(`${num < 0 ? '-' : ''}\\frac{${Math.abs(num)}}{${den}}`, num < 0 ? PREC.unary : PREC.atom) : printed(`${num} / ${den}`, PREC.mul);
      }
      let s = Number.isFinite(v) ? formatNumber(v) : v > 0 ? 'Infinity' : v < 0 ? '-Infinity' : 'NaN';
      if (p.style === 'latex') s = v === Math.PI ? '\\pi' : s.replace(/e(-?\d+)$/, ' \\cdot 10^{$1}');
      else if (v === Math.PI) s = 'pi';
      if (shape.length === 0) return printed(s, v < 0 ? PREC.unary : PREC.atom);
      // A constant tensor: mathjs builds it as a constant times ones(…).
      const ones = p.style === 'latex' ? latexOnes(p, shape) : `ones(${p.sizes(shape)})`;
      if (v === 1) return printed(ones);
      if (v === 0 && p.style !== 'latex') return printed(`zeros(${p.sizes(shape)})`);
      return printed(p.style === 'latex' ? `${s} \\cdot ${ones}` : `${s} * ${ones}`, PREC.mul);
    },
  }),
];

for (const op of leafOps) registerOp(op);

// Elementwise ops: each has a scalar function (used by the interpreter and by code generation), a derivative
// rule written in terms of the forward value where that is the usual form (σ′ = a ⊙ (1 − a), tanh′ = 1 − a²),
// and a printed form.

import type { Node } from '../node.js';
import { registerOp } from '../node.js';
import type { OpDef, PrintCtx, Printed, ScalarEmitter } from '../op.js';
import { PREC } from '../op.js';
import * as B from '../build.js';
import { broadcastAll, elementwise, printed, size, callOf } from './common.js';
import { latexParens } from '../print.js';

export interface ElementwiseOp extends OpDef {
  /** The scalar function, also the JavaScript expression code generation emits (see `js`). */
  readonly fn: (...xs: number[]) => number;
  /** How code generation writes the scalar function, in any target (see ScalarEmitter). */
  readonly emit: <E>(e: ScalarEmitter<E>, ...xs: E[]) => E;
}

export const sigmoid = (t: number): number => (t >= 0 ? 1 / (1 + Math.exp(-t)) : Math.exp(t) / (1 + Math.exp(t)));
export const softplus = (t: number): number => (t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t)));

interface UnarySpec {
  fn: (x: number) => number;
  emit: <E>(e: ScalarEmitter<E>, x: E) => E;
  vjp: (g: Node, n: Node, x: Node) => Node | null;
  latex?: (x: string) => string;
  flops?: number;
  kink?: boolean;
}

function unary(name: string, spec: UnarySpec): ElementwiseOp {
  return {
    name, arity: 1, fn: spec.fn, emit: spec.emit, kink: spec.kink,
    shape: ([a]) => a,
    eval: (args) => elementwise(args, spec.fn),
    vjp: (g, n) => [spec.vjp(g, n, n.args[0])],
    print: (p: PrintCtx): Printed =>
      p.style === 'latex' && spec.latex ? printed(spec.latex(p.arg(0, 0))) : callOf(p, name, `\\operatorname{${name.replace(/_/g, '\\_')}}`),
    flops: (n) => size(n) * (spec.flops ?? 1),
  };
}

const latexFn = (cmd: string) => (x: string) => `${cmd}${latexParens(x)}`;

export const unaryOps: ElementwiseOp[] = [
  {
    name: 'neg', arity: 1, fn: (x) => -x, emit: (e, x) => e.neg(x),
    shape: ([a]) => a,
    eval: (args) => elementwise(args, (x) => -x),
    vjp: (g) => [B.neg(g)],
    print: (p) => {
      const a = p.raw(0);
      // -(a*b) = (-a)*b, so `-a * b` is exact; a leading minus inside gets parentheses.
      if (a.prec === PREC.mul && !a.s.startsWith('-')) return printed(`-${a.s}`, PREC.mul);
      return printed(`-${a.prec > PREC.unary && !a.s.startsWith('-') ? a.s : p.style === 'latex' ? `\\left(${a.s}\\right)` : `(${a.s})`}`, PREC.unary);
    },
    flops: size,
  },
  unary('exp', { fn: Math.exp, emit: (e, x) => e.math('exp', [x]), vjp: (g, n) => B.mul(g, n), latex: latexFn('\\exp') }),
  unary('log', { fn: Math.log, emit: (e, x) => e.math('log', [x]), vjp: (g, _, x) => B.div(g, x), latex: latexFn('\\log') }),
  unary('sqrt', { fn: Math.sqrt, emit: (e, x) => e.math('sqrt', [x]), vjp: (g, n) => B.div(g, B.mul(B.constant(2), n)), latex: (x) => `\\sqrt{${x}}` }),
  unary('abs', { fn: Math.abs, emit: (e, x) => e.math('abs', [x]), vjp: (g, _, x) => B.mul(g, B.sign(x)), latex: (x) => `\\left|${x}\\right|`, kink: true }),
  unary('sin', { fn: Math.sin, emit: (e, x) => e.math('sin', [x]), vjp: (g, _, x) => B.mul(g, B.cos(x)), latex: latexFn('\\sin') }),
  unary('cos', { fn: Math.cos, emit: (e, x) => e.math('cos', [x]), vjp: (g, _, x) => B.neg(B.mul(g, B.sin(x))), latex: latexFn('\\cos') }),
  unary('tanh', { fn: Math.tanh, emit: (e, x) => e.math('tanh', [x]), vjp: (g, n) => B.mul(g, B.sub(B.constant(1), B.pow(n, B.constant(2)))), latex: latexFn('\\tanh') }),
  unary('sign', { fn: Math.sign, emit: (e, x) => e.math('sign', [x]), vjp: () => null, kink: true }),
  unary('step', { fn: (x) => (x > 0 ? 1 : 0), emit: (e, x) => e.ifPositive(x, e.num(1), e.num(0)), vjp: () => null, kink: true }),
  unary('sigmoid', {
    fn: sigmoid, emit: (e, x) => e.helper('sigmoid', [x]), flops: 4,
    vjp: (g, n) => B.mul(B.mul(g, n), B.sub(B.constant(1), n)), // σ′ = a ⊙ (1 − a)
    latex: latexFn('\\sigma'),
  }),
  unary('relu', { fn: (x) => (x > 0 ? x : 0), emit: (e, x) => e.math('max', [x, e.num(0)]), vjp: (g, _, x) => B.mul(g, B.step(x)), kink: true }),
  unary('softplus', { fn: softplus, emit: (e, x) => e.helper('softplus', [x]), flops: 4, vjp: (g, _, x) => B.mul(g, B.sigmoid(x)) }),
  unary('log_sigmoid', {
    fn: (t) => -softplus(-t), emit: (e, x) => e.neg(e.helper('softplus', [e.neg(x)])), flops: 4,
    vjp: (g, _, x) => B.mul(g, B.sigmoid(B.neg(x))), // d log σ(t) = σ(−t) = 1 − σ(t)
    latex: (x) => `\\log\\sigma${latexParens(x)}`,
  }),
];

/** `*` between a scalar and anything; `.*` between two tensors (SPEC §1). */
const elementwiseSymbol = (n: Node, plain: string, dotted: string) =>
  n.args[0].isScalar || n.args[1].isScalar ? plain : dotted;

interface BinarySpec {
  fn: (a: number, b: number) => number;
  emit: <E>(e: ScalarEmitter<E>, a: E, b: E) => E;
  vjp: (g: Node, n: Node, a: Node, b: Node) => (Node | null)[];
  print: (p: PrintCtx) => Printed;
}

function binary(name: string, spec: BinarySpec & { kink?: boolean }): ElementwiseOp {
  return {
    name, arity: 2, fn: spec.fn, emit: spec.emit, kink: spec.kink,
    shape: (shapes) => broadcastAll(shapes, name),
    eval: (args) => elementwise(args, spec.fn),
    vjp: (g, n) => spec.vjp(g, n, n.args[0], n.args[1]),
    print: spec.print,
    flops: size,
  };
}

export const binaryOps: ElementwiseOp[] = [
  binary('add', {
    fn: (a, b) => a + b, emit: (e, a, b) => e.bin('+', a, b),
    vjp: (g) => [g, g],
    print: (p) => {
      const b = p.node.args[1];
      const left = p.arg(0, PREC.add);
      // a + (−c) prints as a − c; the right side of a minus needs at least a product to stay unambiguous.
      if (b.op === 'neg') {
        const inner = p.print(b.args[0], PREC.mul);
        return printed(`${left} - ${inner.startsWith('-') ? (p.style === 'latex' ? `\\left(${inner}\\right)` : `(${inner})`) : inner}`, PREC.add);
      }
      if (b.op === 'const' && (b.attr.value as number) < 0 && b.isScalar) return printed(`${left} - ${String(-(b.attr.value as number))}`, PREC.add);
      return printed(`${left} + ${p.arg(1, PREC.add + 1)}`, PREC.add);
    },
  }),
  binary('mul', {
    fn: (a, b) => a * b, emit: (e, a, b) => e.bin('*', a, b),
    vjp: (g, _, a, b) => [B.mul(g, b), B.mul(a, g)],
    print: (p) => {
      const right = p.node.args[1];
      // Only a product of scalars associates freely. mathjs reads `u .* A * x .* w` left to right, as
      // ((u .* A) * x) .* w, so any other product on the right keeps its parentheses: u .* (A * x .* w).
      // A scalar on the left associates with any product on the right too: c * (A * x) = (c * A) * x, so
      // `2 * A' * d` needs no parentheses (mathjs reads it left to right, to the same value).
      const rmin = (p.node.isScalar && right.op === 'mul') || (p.node.args[0].isScalar && ['mul', 'matmul', 'div', 'dot', 'outer'].includes(right.op)) ? PREC.mul : PREC.unary;
      if (p.style === 'latex') {
        const sym = elementwiseSymbol(p.node, ' \\cdot ', ' \\odot ');
        return printed(`${p.arg(0, PREC.mul)}${sym}${p.arg(1, rmin)}`, PREC.mul);
      }
      return printed(`${p.arg(0, PREC.mul)} ${elementwiseSymbol(p.node, '*', '.*')} ${p.arg(1, rmin)}`, PREC.mul);
    },
  }),
  binary('div', {
    fn: (a, b) => a / b, emit: (e, a, b) => e.bin('/', a, b),
    vjp: (g, n, _, b) => [B.div(g, b), B.neg(B.div(B.mul(g, n), b))], // ∂(a/b)/∂b = −(a/b)/b
    print: (p) => p.style === 'latex'
      ? printed(`\\frac{${p.arg(0, 0)}}{${p.arg(1, 0)}}`)
      : printed(`${p.arg(0, PREC.mul)} ${p.node.args[1].isScalar ? '/' : './'} ${p.arg(1, PREC.unary)}`, PREC.mul),
  }),
  binary('pow', {
    fn: (a, b) => a ** b, emit: (e, a, b) => e.pow(a, b),
    vjp: (g, n, a, b) => [
      B.mul(g, B.mul(b, B.pow(a, B.add(b, B.constant(-1))))), // ∂ aᵇ/∂a = b aᵇ⁻¹
      B.mul(g, B.mul(B.log(a), n)),                             // ∂ aᵇ/∂b = log(a) aᵇ
    ],
    print: (p) => p.style === 'latex'
      ? printed(`{${p.arg(0, PREC.postfix)}}^{${p.arg(1, 0)}}`, PREC.pow)
      : printed(`${p.arg(0, PREC.postfix)} ${p.node.args[0].isScalar ? '^' : '.^'} ${p.arg(1, PREC.pow)}`, PREC.pow),
  }),
  // max and min of two tensors, elementwise; a tie sends the gradient to the first argument (as PyTorch's
  // maximum splits it, any choice is a subgradient; this one keeps the printed rule a single step()).
  binary('max', {
    fn: (a, b) => (a >= b ? a : b), emit: (e, a, b) => e.math('max', [a, b]), kink: true,
    vjp: (g, _, a, b) => [B.mul(g, B.sub(B.constant(1), B.step(B.sub(b, a)))), B.mul(g, B.step(B.sub(b, a)))],
    print: (p) => callOf(p, 'max', '\\max'),
  }),
  binary('min', {
    fn: (a, b) => (a <= b ? a : b), emit: (e, a, b) => e.math('min', [a, b]), kink: true,
    vjp: (g, _, a, b) => [B.mul(g, B.sub(B.constant(1), B.step(B.sub(a, b)))), B.mul(g, B.step(B.sub(a, b)))],
    print: (p) => callOf(p, 'min', '\\min'),
  }),
  // leaky_relu(t, a) = t where t > 0, else a·t. Its derivative is written with step() so that the printed
  // formula stays in the language: ∂/∂t = step(t) + a·step(−t), ∂/∂a = min(t, 0) (a learnable slope: PReLU).
  binary('leaky_relu', {
    fn: (t, a) => (t > 0 ? t : a * t), emit: (e, t, a) => e.ifPositive(t, t, e.bin('*', a, t)), kink: true,
    vjp: (g, _, t, a) => [B.mul(g, B.add(B.step(t), B.mul(a, B.step(B.neg(t))))), B.mul(g, B.min(t, B.constant(0)))],
    print: (p) => callOf(p, 'leaky_relu', '\\operatorname{leaky\\_relu}'),
  }),
];

for (const op of [...unaryOps, ...binaryOps]) registerOp(op);

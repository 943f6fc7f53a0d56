// The mistakes students make most in a backward pass, found by correcting the claim: each candidate is the
// claim with one classic mistake undone (an activation's derivative put back, the right derivative in
// place of another activation's, a matrix transposed, a factor that does not belong taken out). A
// diagnosis is given only when the corrected claim equals the derived gradient at every test point, so it
// names a correction that works, never a guess.

import type { Node } from '../ir/node.js';
import { topo, substitute } from '../ir/node.js';
import * as B from '../ir/build.js';
import { printExpr } from '../ir/print.js';
import { PREC } from '../ir/op.js';
import type { Target } from './target.js';

/** What the search needs from verify: the claim as written, and whether a corrected claim is the gradient. */
export interface Correcting {
  /** The claim as written, with its `dL/dz` placeholders (so corrections print in the student's terms). */
  readonly claim: Node;
  readonly t: Target;
  /** True when the candidate (placeholders resolved) equals ∂L/∂X at every test point. */
  equalsGradient(candidate: Node): boolean;
  /** Forward values by the model's names (a1, z2). */
  readonly names: (n: Node) => string | undefined;
}

/** An activation a = f(z) on the way from X to the loss, with its derivative written as the lecture writes it. */
interface Activation { readonly a: Node; readonly z: Node; readonly label: string; readonly derivative: Node }

/** f′ in terms of the activation's output where that is the textbook form (σ(1 − σ), 1 − tanh²), else of z. */
const tanhPrime = (a: Node) => B.sub(B.constant(1), B.pow(a, B.constant(2)));
const sigmoidPrime = (a: Node) => B.mul(a, B.sub(B.constant(1), a));
const DERIVATIVES: Record<string, { label: string; of: (a: Node, z: Node) => Node }> = {
  tanh: { label: 'tanh', of: tanhPrime },
  sigmoid: { label: 'sigmoid', of: sigmoidPrime },
  relu: { label: 'ReLU', of: (_a, z) => B.step(z) },
  softplus: { label: 'softplus', of: (_a, z) => B.sigmoid(z) },
};
/** Other activations' derivatives, written over this activation's output: what a student copies by mistake. */
const WRONG_FORMS: { label: string; of: (a: Node) => Node }[] = [{ label: 'sigmoid', of: sigmoidPrime }, { label: 'tanh', of: tanhPrime }];

function activations(t: Target): Activation[] {
  const order = topo([t.g.loss]);
  const downstream = new Set<Node>([t.node]);
  for (const n of order) if (n.args.some((x) => downstream.has(x))) downstream.add(n);
  return order.filter((n) => Object.hasOwn(DERIVATIVES, n.op) && downstream.has(n.args[0]) && n.rank > 0)
    .map((a) => ({ a, z: a.args[0], label: DERIVATIVES[a.op].label, derivative: DERIVATIVES[a.op].of(a, a.args[0]) }));
}

/** The claim's subexpressions worth correcting: tensors of the given shape that are not bare constants. */
function spots(claim: Node, shape: readonly number[]): Node[] {
  return topo([claim]).filter((n) => n.op !== 'const' && n.op !== 'dim' && n.shape.length === shape.length && n.shape.every((d, i) => d === shape[i]));
}

const show = (c: Correcting, n: Node, min = 0): string => {
  const s = c.names(n) ?? printExpr(n, 'text', c.names);
  return min > PREC.add && (n.op === 'add' || n.op === 'neg') ? `(${s})` : s;
};

/** The first classic mistake whose correction makes the claim right, as a sentence; undefined if none does. */
export function classicMistake(c: Correcting): string | undefined {
  return missingDerivative(c) ?? wrongDerivative(c) ?? missingTranspose(c) ?? extraFactor(c);
}

/** An activation's derivative left out: the claim with f′(z) multiplied in at one place is the gradient. */
function missingDerivative(c: Correcting): string | undefined {
  for (const act of activations(c.t)) {
    for (const s of spots(c.claim, act.z.shape)) {
      if (!c.equalsGradient(substitute(c.claim, (n) => (n === s ? B.mul(s, act.derivative) : undefined)))) continue;
      const factor = show(c, act.derivative, PREC.mul);
      const where = s === c.claim ? '' : `, as in ${show(c, B.mul(s, act.derivative))}`;
      if (act.label === 'ReLU') return `the ReLU mask ${factor} is missing: ${show(c, B.mul(s, act.derivative))}`;
      return `the derivative of ${act.label} is missing: multiply by ${factor}${where}`;
    }
  }
  return undefined;
}

/** Another activation's derivative used: dividing it out and multiplying the right one in gives the gradient. */
function wrongDerivative(c: Correcting): string | undefined {
  for (const act of activations(c.t)) {
    for (const wrong of WRONG_FORMS) {
      if (wrong.label === act.label) continue;
      const w = wrong.of(act.a);
      for (const s of spots(c.claim, act.z.shape)) {
        const fixed = B.div(B.mul(s, act.derivative), w);
        if (!c.equalsGradient(substitute(c.claim, (n) => (n === s ? fixed : undefined)))) continue;
        const name = c.names(act.a);
        const what = name ? `${name} = ${act.a.op}(${show(c, act.z)})` : show(c, act.a);
        return `this is ${wrong.label}'s derivative ${show(c, w)}; ${what} needs ${show(c, act.derivative)}`;
      }
    }
  }
  return undefined;
}

/** A square matrix used untransposed where its transpose belongs (W2 * δ for W2ᵀ δ), or the other way round. */
function missingTranspose(c: Correcting): string | undefined {
  const all = topo([c.claim]);
  for (const m of all) {
    if (m.rank !== 2 || m.shape[0] !== m.shape[1] || m.op === 'const') continue;
    const flipped = m.op === 'transpose' ? m.args[0] : B.transpose(m);
    const fixed = substitute(c.claim, (n) => (n === m ? flipped : undefined));
    if (!c.equalsGradient(fixed)) continue;
    const parent = all.find((p) => p.args.includes(m));
    const inContext = parent ? `: ${show(c, substitute(parent, (n) => (n === m ? flipped : undefined)))}` : '';
    return m.op === 'transpose'
      ? `${show(c, m.args[0])} should not be transposed${inContext}`
      : `${show(c, m, PREC.postfix)} should be transposed${inContext}`;
  }
  return undefined;
}

/** A factor that does not belong: the claim with one operand of a product taken out is the gradient. */
function extraFactor(c: Correcting): string | undefined {
  for (const m of topo([c.claim])) {
    if (m.op !== 'mul' && m.op !== 'matmul') continue;
    for (const [keep, drop] of [[0, 1], [1, 0]]) {
      const kept = m.args[keep];
      if (kept.shape.length !== m.shape.length || !kept.shape.every((d, i) => d === m.shape[i])) continue;
      if (!c.equalsGradient(substitute(c.claim, (n) => (n === m ? kept : undefined)))) continue;
      return `the factor ${show(c, m.args[drop], PREC.mul)} does not belong: without it, ${show(c, substitute(c.claim, (n) => (n === m ? kept : undefined)))} is the gradient`;
    }
  }
  return undefined;
}

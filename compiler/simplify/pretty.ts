// Rules that make a closed-form gradient read like The Matrix Cookbook: transposes pushed to the leaves,
// vector–matrix products written matrix-first (column vectors, as the lecture), numeric factors collected
// in front and cancelled across a quotient, like terms merged, shared operands factored out.
//
// They run only on what is printed as one closed expression (`grad --inline`, `--format mathjs`, JSON
// formulas): code generation keeps the cheaper simplified form, so a rewrite here that trades cost for
// readability (factoring (B + B')·x adds a matrix sum) never slows a trainer down. The backward program
// keeps the lecture's step-by-step form. Each rule is one line of algebra; the test of this module checks
// every one on random models by evaluating before and after.

import type { Node } from '../ir/node.js';
import { sameShape } from '../ir/node.js';
import * as B from '../ir/build.js';
import type { Rule } from './engine.js';
import { Simplifier } from './engine.js';

const rule = (name: string, op: string, apply: (n: Node) => Node | undefined): Rule => ({ name, op, apply });

const isNumber = (n: Node): boolean => n.op === 'const' && n.attr.name === undefined && n.isScalar;
const val = (n: Node): number => n.attr.value as number;
const one = (n: Node): boolean => isNumber(n) && val(n) === 1;

/** n = c · core with c a plain number: the coefficient and what it multiplies. */
function coefOf(n: Node): [number, Node] {
  if (isNumber(n)) return [val(n), B.constant(1)];
  if (n.op === 'const' && n.attr.name === undefined && val(n) !== 0 && val(n) !== 1) return [val(n), B.constant(1, n.shape)]; // c · ones
  if (n.op === 'neg') { const [c, r] = coefOf(n.args[0]); return [-c, r]; }
  if (n.op === 'mul' && isNumber(n.args[0])) { const [c, r] = coefOf(n.args[1]); return [val(n.args[0]) * c, r]; }
  if (n.op === 'div' && isNumber(n.args[1]) && val(n.args[1]) !== 0) { const [c, r] = coefOf(n.args[0]); return [c / val(n.args[1]), r]; }
  return [1, n];
}

/** c · core, written plainly: core, −core, core / k when c = 1/k, or c * core. */
function scaled(c: number, core: Node, like: Node): Node {
  const k = 1 / Math.abs(c);
  const body = one(core) ? B.constant(c)
    : c === 1 ? core : c === -1 ? B.neg(core)
    : Number.isInteger(k) && k > 1 && k < 1e6 ? (c > 0 ? B.div(core, B.constant(k)) : B.neg(B.div(core, B.constant(k))))
    : B.mul(B.constant(c), core);
  return sameShape(body.shape, like.shape) ? body : B.fill(body, like.shape);
}

/** A product's numeric factors collected in front: A' * (2 * d) → 2 * (A' * d); 1 / (2 s) · (2 u) → u / s. */
function collectCoefficients(n: Node, build: (a: Node, b: Node) => Node): Node | undefined {
  const [a, b] = n.args;
  const [ca, ra] = coefOf(a), [cb, rb] = coefOf(b);
  if (ca === 1 && cb === 1) return undefined;
  if (n.op === 'mul' && isNumber(a) && cb === 1) return undefined; // already c * x
  const core = one(ra) ? rb : one(rb) ? ra : build(ra, rb);
  return scaled(ca * cb, core, n);
}

const transposeRules: Rule[] = [
  rule('pretty-transpose-transpose', 'transpose', (n) => (n.args[0].op === 'transpose' ? n.args[0].args[0] : undefined)),
  rule('pretty-transpose-product', 'transpose', (n) => {          // (A B)ᵀ = Bᵀ Aᵀ
    const m = n.args[0];
    return m.op === 'matmul' && m.args[0].rank === 2 && m.args[1].rank === 2 ? B.matmul(B.transpose(m.args[1]), B.transpose(m.args[0])) : undefined;
  }),
  rule('pretty-transpose-outer', 'transpose', (n) => (n.args[0].op === 'outer' ? B.outer(n.args[0].args[1], n.args[0].args[0]) : undefined)), // (a bᵀ)ᵀ = b aᵀ
  rule('pretty-transpose-sum', 'transpose', (n) => (n.args[0].op === 'add' && n.args[0].args.every((x) => x.rank === 2) ? B.add(B.transpose(n.args[0].args[0]), B.transpose(n.args[0].args[1])) : undefined)),
  rule('pretty-transpose-neg', 'transpose', (n) => (n.args[0].op === 'neg' ? B.neg(B.transpose(n.args[0].args[0])) : undefined)),
  rule('pretty-transpose-scaled', 'transpose', (n) => (n.args[0].op === 'mul' && n.args[0].args[0].isScalar ? B.mul(n.args[0].args[0], B.transpose(n.args[0].args[1])) : undefined)),
];

const productRules: Rule[] = [
  // xᵀB for a column x is the column Bᵀx: a gradient reads as a column vector, as the lecture writes it.
  rule('pretty-vector-matrix', 'matmul', (n) => (n.args[0].rank === 1 && n.args[1].rank === 2 ? B.matmul(B.transpose(n.args[1]), n.args[0]) : undefined)),
  rule('pretty-matmul-coefficients', 'matmul', (n) => collectCoefficients(n, B.matmul)),
  rule('pretty-mul-coefficients', 'mul', (n) => collectCoefficients(n, B.mul)),
  rule('pretty-outer-coefficients', 'outer', (n) => collectCoefficients(n, B.outer)),
  rule('pretty-dot-coefficients', 'dot', (n) => collectCoefficients(n, B.dot)),
  // A scalar factor comes out of a product: dot(y w, x) = y dot(w, x), outer(s u, v) = s outer(u, v).
  rule('pretty-dot-scalar', 'dot', (n) => {
    for (const k of [0, 1]) {
      const m = n.args[k];
      if (m.op === 'mul' && m.args[0].isScalar && !isNumber(m.args[0])) return B.mul(m.args[0], k === 0 ? B.dot(m.args[1], n.args[1]) : B.dot(n.args[0], m.args[1]));
    }
    return undefined;
  }),
  rule('pretty-outer-scalar', 'outer', (n) => {
    for (const k of [0, 1]) {
      const m = n.args[k];
      if (m.op === 'mul' && m.args[0].isScalar && !isNumber(m.args[0]) && m.args[1].rank === 1) return B.mul(m.args[0], k === 0 ? B.outer(m.args[1], n.args[1]) : B.outer(n.args[0], m.args[1]));
    }
    return undefined;
  }),
  // u (Mᵀv)ᵀ = u vᵀ M: outer(a, X' * a) is outer(a, a) * X.
  rule('pretty-outer-product-right', 'outer', (n) => {
    const [u, m] = n.args;
    return m.op === 'matmul' && m.args[0].op === 'transpose' && m.args[1].rank === 1 ? B.matmul(B.outer(u, m.args[1]), m.args[0].args[0]) : undefined;
  }),
  // Mᵀ 1 is the column sums of M: sum(M, 1), not A' * ones(n).
  rule('pretty-column-sums', 'matmul', (n) => {
    const [m, v] = n.args;
    return m.op === 'transpose' && v.op === 'const' && val(v) === 1 && v.rank === 1 ? B.sumRows(m.args[0]) : undefined;
  }),
  rule('pretty-matmul-scalar', 'matmul', (n) => {
    const m = n.args[1];
    return m.op === 'mul' && m.args[0].isScalar && !isNumber(m.args[0]) ? B.mul(m.args[0], B.matmul(n.args[0], m.args[1])) : undefined;
  }),
  // (1 / q) · r = r / q for a scalar q.
  rule('pretty-reciprocal', 'mul', (n) => {
    const [a, b] = n.args;
    // (A plain number stays in front: 0.5 * (1 / q), not 0.5 / q, which the coefficient rule would undo.)
    if (a.op === 'div' && one(a.args[0]) && a.args[1].isScalar && !isNumber(b)) return B.div(b, a.args[1]);
    if (b.op === 'div' && one(b.args[0]) && b.args[1].isScalar && !isNumber(a)) return B.div(a, b.args[1]);
    return undefined;
  }),
  rule('pretty-div-coefficients', 'div', (n) => {                 // (c₁ u) / (c₂ q) = (c₁/c₂) · u / q
    const [ca, ra] = coefOf(n.args[0]), [cb, rb] = coefOf(n.args[1]);
    if (ca === 1 && cb === 1) return undefined;
    if (one(rb) && ca === 1) return undefined; // already u / k
    if (one(rb)) return scaled(ca / cb, ra, n);
    return scaled(ca / cb, B.div(one(ra) ? B.constant(1) : ra, rb), n);
  }),
];

const sumRules: Rule[] = [
  // Like terms: c₁ t + c₂ t = (c₁ + c₂) t, with a − b read as a + (−1) b.
  rule('pretty-like-terms', 'add', (n) => {
    const [ca, ra] = coefOf(n.args[0]), [cb, rb] = coefOf(n.args[1]);
    if (ra !== rb || one(ra)) return undefined;
    const c = ca + cb;
    return c === 0 ? B.constant(0, n.shape) : scaled(c, ra, n);
  }),
  // outer(M u, v) + outer(M w, z) = M (u vᵀ + w zᵀ): the shared factor of two outer products, out in front.
  rule('pretty-factor-outer', 'add', (n) => {
    const [a, b] = n.args;
    if (a.op !== 'outer' || b.op !== 'outer' || a.args[0].op !== 'matmul' || b.args[0].op !== 'matmul') return undefined;
    const [m, u] = a.args[0].args, [m2, w] = b.args[0].args;
    return m === m2 && m.rank === 2 ? B.matmul(m, B.add(B.outer(u, a.args[1]), B.outer(w, b.args[1]))) : undefined;
  }),
  // Shared operands factored out: B x + C x = (B + C) x and X P + X Q = X (P + Q).
  rule('pretty-factor', 'add', (n) => {
    const [a, b0] = n.args;
    const negated = b0.op === 'neg';
    const b = negated ? b0.args[0] : b0;
    if (a.op !== 'matmul' || b.op !== 'matmul') return undefined;
    const join = (x: Node, y: Node) => (negated ? B.sub(x, y) : B.add(x, y));
    if (a.args[1] === b.args[1] && sameShape(a.args[0].shape, b.args[0].shape)) return B.matmul(join(a.args[0], b.args[0]), a.args[1]);
    if (a.args[0] === b.args[0] && sameShape(a.args[1].shape, b.args[1].shape)) return B.matmul(a.args[0], join(a.args[1], b.args[1]));
    return undefined;
  }),
];

// A + Aᵀ, not Aᵀ + A: the Cookbook writes the matrix before its transpose.
const orderRules: Rule[] = [
  rule('pretty-transpose-second', 'add', (n) => (n.args[0].op === 'transpose' && n.args[0].args[0] === n.args[1] ? B.add(n.args[1], n.args[0]) : undefined)),
  rule('pretty-scalar-factors', 'mul', scalarFactors),
];

/**
 * A product of scalar factors (times one tensor) with its repeated factors as powers, and 1 − s after s:
 * y · (1 − σ) · σ · y · x xᵀ → y² · σ · (1 − σ) · x xᵀ, as the logistic-regression Hessian is written.
 */
function scalarFactors(n: Node): Node | undefined {
  const factors: Node[] = [];
  const walk = (m: Node, last: boolean): void => {
    if (m.op === 'mul' && m.args[0].isScalar && (m.args[1].isScalar || last)) { walk(m.args[0], false); walk(m.args[1], last); } else factors.push(m);
  };
  walk(n, true);
  if (factors.length < 3) return undefined;
  const tail = factors[factors.length - 1].isScalar ? undefined : factors.pop()!;
  const counts = new Map<Node, number>();
  for (const f of factors) counts.set(f, (counts.get(f) ?? 0) + 1);
  const ordered = [...counts.keys()];
  let moved = false;
  for (const f of [...ordered]) {
    const s = oneMinusOf(f);
    if (!s || ordered.indexOf(s) < ordered.indexOf(f)) continue;
    ordered.splice(ordered.indexOf(f), 1);
    ordered.splice(ordered.indexOf(s) + 1, 0, f);
    moved = true;
  }
  // Only a repeated factor or a 1 − s before its s is rewritten: the order of the rest is the other rules' business.
  if (!moved && ordered.length === factors.length) return undefined;
  const powered = ordered.map((f) => (counts.get(f)! > 1 ? B.pow(f, B.constant(counts.get(f)!)) : f));
  let out = powered.reduce((acc, f) => B.mul(acc, f));
  if (tail) out = B.mul(out, tail);
  return out === n ? undefined : out;
}

const oneMinusOf = (n: Node): Node | undefined => (n.op === 'add' && one(n.args[0]) && n.args[1].op === 'neg' ? n.args[1].args[0] : undefined);

export const prettyRules: Rule[] = [...transposeRules, ...productRules, ...sumRules, ...orderRules];

/** The readable form of a closed-form gradient (for printing only; see the top of this file). */
export function prettify(n: Node): Node {
  return new Simplifier(prettyRules).simplify(n);
}

/** The same, with the rules that fired (for the tests that check every rule). */
export function prettifyTraced(n: Node): { node: Node; fired: string[] } {
  const s = new Simplifier(prettyRules);
  const node = s.simplify(n);
  return { node, fired: s.firings.map((f) => f.rule.name) };
}

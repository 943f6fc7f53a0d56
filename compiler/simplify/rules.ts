// The rewrite rules, one line of algebra each, grouped by the op at the root. Canonical forms first
// (constants on the left of a product, negation pulled outward, a − b written as a + (−b)), so each rule
// is written once. Patterns are kept shallow: ts-pattern matches the arguments of the root.

import { match, P } from 'ts-pattern';
import type { Node } from '../ir/node.js';
import { sameShape } from '../ir/node.js';
import * as B from '../ir/build.js';
import { opOf } from '../ir/node.js';
import type { Rule, StableInfo } from './engine.js';

/** The arguments as a tuple, the shape ts-pattern matches best. */
const args = (n: Node): Node[] => n.args as Node[];

const rule = (name: string, op: string, apply: (n: Node) => Node | undefined, stable?: StableInfo): Rule => ({ name, op, apply, stable });

// Shallow patterns over nodes.
// A named constant (`const lambda = 0.01`) is a symbol here: folding it into a number would hide the name.
const isNumber = (n: Node): boolean => n.op === 'const' && n.attr.name === undefined;
const cnst = (value?: number) => P.when((n: Node): n is Node => isNumber(n) && (value === undefined || n.attr.value === value));
const anyConst = { op: 'const' } as const;
const anyNumber = P.when((n: Node): n is Node => isNumber(n));
const negOf = { op: 'neg' } as const;
const isConstNode = (n: Node): boolean => n.op === 'const' || n.op === 'dim';
const val = (n: Node): number => n.attr.value as number;
/** `x` may stand in for a node of shape `shape` only if it already has that shape. */
const fits = (x: Node, like: Node): Node | undefined => (sameShape(x.shape, like.shape) ? x : undefined);

/** A constant tensor beside an argument of the full shape can be a scalar constant: broadcasting repeats it. */
function scalarizeConst(n: Node, build: (a: Node, b: Node) => Node): Node | undefined {
  const [a, b] = n.args;
  if (a.op === 'const' && !a.isScalar && sameShape(b.shape, n.shape)) return build(B.constant(val(a)), b);
  if (b.op === 'const' && !b.isScalar && sameShape(a.shape, n.shape)) return build(a, B.constant(val(b)));
  return undefined;
}

/** Evaluate an op whose arguments are all constants (scalars repeated over a shape). */
function fold(n: Node): Node | undefined {
  if (!n.args.every(isNumber) || (n.args.length === 0 && n.op !== 'call')) return undefined;
  if (!['call', 'neg', 'add', 'mul', 'div', 'pow', 'exp', 'log', 'sqrt', 'abs', 'sin', 'cos', 'tanh', 'sign', 'step', 'sigmoid', 'relu', 'softplus', 'log_sigmoid'].includes(n.op)) return undefined;
  const scalarArgs = n.args.map((a) => B.constant(val(a)));
  const v = opOf(n.op).eval(scalarArgs.map((a) => ({ shape: [], data: Float64Array.of(val(a)) })), n).data[0];
  return Number.isFinite(v) ? B.constant(v, n.shape) : undefined;
}

/** x when n is 1 − x. */
const oneMinus = (n: Node): Node | undefined => (n.op === 'add' && isNumber(n.args[0]) && val(n.args[0]) === 1 && n.args[1].op === 'neg' ? n.args[1].args[0] : undefined);

/**
 * (1 − y)·p − y·(1 − p) = p − y: the gradient of the binary cross-entropy written out,
 * −(y log p + (1 − y) log(1 − p)) with p = σ(z), is the textbook p − y.
 */
function bceGradient(n: Node): Node | undefined {
  const [l, r] = n.args;
  if (l.op !== 'mul' || r.op !== 'neg' || r.args[0].op !== 'mul') return undefined;
  for (const [a, p] of [l.args, [l.args[1], l.args[0]]]) {
    const y = oneMinus(a);
    if (!y) continue;
    const [c, d] = r.args[0].args;
    if ((c === y && oneMinus(d) === p) || (d === y && oneMinus(c) === p)) return fits(B.sub(p, y), n);
  }
  return undefined;
}

export const algebraRules: Rule[] = [
  // ---- add ----
  rule('fold-add', 'add', fold),
  rule('add-zero', 'add', (n) => match(args(n))
    .with([P._, cnst(0)], ([x]) => fits(x, n))
    .with([cnst(0), P._], ([, x]) => fits(x, n))
    .otherwise(() => undefined)),
  rule('add-const-tensor', 'add', (n) => scalarizeConst(n, B.add)),   // x + c·1ₙ → x + c
  rule('add-neg-neg', 'add', (n) => match(args(n))                       // (−a) + (−b) → −(a + b)
    .with([negOf, negOf], ([a, b]) => B.neg(B.add(a.args[0], b.args[0])))
    .otherwise(() => undefined)),
  rule('add-neg-first', 'add', (n) => match(args(n))                     // (−a) + b → b − a
    .with([negOf, P.when((b: Node) => b.op !== 'neg')], ([a, b]) => B.sub(b, a.args[0]))
    .otherwise(() => undefined)),
  rule('add-cancel', 'add', (n) => match(args(n))                        // x − x → 0
    .with([P._, negOf], ([x, y]) => (y.args[0] === x ? B.constant(0, n.shape) : undefined))
    .otherwise(() => undefined)),
  rule('sub-sub', 'add', (n) => match(args(n))                           // a − (a − b) → b
    .with([P._, { op: 'neg', args: [{ op: 'add', args: [P._, negOf] }] }], ([a, nb]) => {
      const [a2, negB] = nb.args[0].args;
      return a2 === a ? fits(negB.args[0], n) : undefined;
    })
    .otherwise(() => undefined)),
  rule('add-bce', 'add', bceGradient),                                   // (1 − y)·p − y·(1 − p) → p − y
  rule('add-same', 'add', (n) => (n.args[0] === n.args[1] ? B.mul(B.constant(2), n.args[0]) : undefined)), // x + x → 2x

  // ---- neg ----
  rule('fold-neg', 'neg', fold),
  rule('neg-neg', 'neg', (n) => match(args(n)).with([negOf], ([a]) => a.args[0]).otherwise(() => undefined)), // −(−x) → x
  rule('neg-zero', 'neg', (n) => match(args(n)).with([cnst(0)], ([z]) => z).otherwise(() => undefined)),

  // ---- mul ----
  rule('fold-mul', 'mul', fold),
  rule('mul-const-tensor', 'mul', (n) => scalarizeConst(n, B.mul)),   // (c·1ₙ) ⊙ x → c·x
  rule('mul-one', 'mul', (n) => match(args(n))
    .with([cnst(1), P._], ([, x]) => fits(x, n))
    .with([P._, cnst(1)], ([x]) => fits(x, n))
    .otherwise(() => undefined)),
  rule('mul-zero', 'mul', (n) => match(args(n))
    .with(P.union([cnst(0), P._], [P._, cnst(0)]), () => B.constant(0, n.shape))
    .otherwise(() => undefined)),
  rule('mul-const-left', 'mul', (n) => match(args(n))                   // x·c → c·x
    .with([P.when((x: Node) => !isConstNode(x)), anyConst], ([x, c]) => (c.isScalar ? B.mul(c, x) : undefined))
    .otherwise(() => undefined)),
  rule('mul-const-const', 'mul', (n) => match(args(n))                  // c₁·(c₂·x) → (c₁c₂)·x
    .with([anyNumber, { op: 'mul', args: [anyNumber, P._] }], ([c1, m]) =>
      c1.isScalar && m.args[0].isScalar ? B.mul(B.constant(val(c1) * val(m.args[0])), m.args[1]) : undefined)
    .otherwise(() => undefined)),
  rule('mul-named-const', 'mul', (n) => match(args(n))                 // λ·(c·x) → (c·λ)·x: 2 * lambda * W
    .with([P.when((c: Node) => c.op === 'const' && c.attr.name !== undefined && c.isScalar), { op: 'mul', args: [anyNumber, P._] }], ([l, m]) =>
      m.args[0].isScalar ? B.mul(B.mul(m.args[0], l), m.args[1]) : undefined)
    .otherwise(() => undefined)),
  rule('mul-neg-const', 'mul', (n) => match(args(n))                    // (−c)·x → −(c·x)
    .with([P.when((c: Node) => isNumber(c) && val(c) < 0 && c.isScalar), P._], ([c, x]) =>
      val(c) === -1 ? fits(B.neg(x), n) ?? B.neg(B.mul(B.constant(1), x)) : B.neg(B.mul(B.constant(-val(c)), x)))
    .otherwise(() => undefined)),
  rule('mul-neg', 'mul', (n) => match(args(n))                          // (−a)·b → −(a·b), a·(−b) → −(a·b)
    .with([negOf, P._], ([a, b]) => B.neg(B.mul(a.args[0], b)))
    .with([P._, negOf], ([a, b]) => B.neg(B.mul(a, b.args[0])))
    .otherwise(() => undefined)),
  rule('mul-fill', 'mul', (n) => match(args(n))                          // (s·1)⊙x → s·x
    .with([{ op: 'fill' }, P._], ([f, x]) => (sameShape(x.shape, n.shape) && f.args[0].isScalar ? B.mul(f.args[0], x) : undefined))
    .with([P._, { op: 'fill' }], ([x, f]) => (sameShape(x.shape, n.shape) && f.args[0].isScalar ? B.mul(x, f.args[0]) : undefined))
    .otherwise(() => undefined)),
  rule('mul-reciprocal', 'mul', (n) => match(args(n))                   // a·(1/b) → a/b
    .with([P._, { op: 'div', args: [cnst(1), P._] }], ([a, d]) => fits(B.div(a, d.args[1]), n))
    .otherwise(() => undefined)),

  // ---- div ----
  rule('fold-div', 'div', fold),
  rule('div-one', 'div', (n) => match(args(n)).with([P._, cnst(1)], ([x]) => fits(x, n)).otherwise(() => undefined)),
  rule('div-zero', 'div', (n) => match(args(n)).with([cnst(0), P._], () => B.constant(0, n.shape)).otherwise(() => undefined)),
  rule('div-neg', 'div', (n) => match(args(n)).with([negOf, P._], ([a, b]) => B.neg(B.div(a.args[0], b))).otherwise(() => undefined)),
  rule('div-self', 'div', (n) => (n.args[0] === n.args[1] ? B.constant(1, n.shape) : undefined)),

  // ---- pow ----
  rule('fold-pow', 'pow', fold),
  rule('pow-one', 'pow', (n) => match(args(n)).with([P._, cnst(1)], ([x]) => fits(x, n)).otherwise(() => undefined)),
  rule('pow-zero', 'pow', (n) => match(args(n)).with([P._, cnst(0)], () => B.constant(1, n.shape)).otherwise(() => undefined)),
  rule('pow-sqrt-2', 'pow', (n) => match(args(n))                     // (√u)² → u (norm(x)^2 is the sum of squares)
    .with([{ op: 'sqrt' }, cnst(2)], ([r]) => fits(r.args[0], n))
    .otherwise(() => undefined)),

  // ---- elementwise functions ----
  rule('fold-call', 'call', fold), // a fn of constants is a constant
  ...['exp', 'log', 'sqrt', 'abs', 'sin', 'cos', 'tanh', 'sign', 'step', 'sigmoid', 'relu', 'softplus', 'log_sigmoid'].map((op) => rule(`fold-${op}`, op, fold)),
  rule('log-exp', 'log', (n) => match(args(n)).with([{ op: 'exp' }], ([e]) => e.args[0]).otherwise(() => undefined)), // log eˣ → x
  rule('exp-log', 'exp', (n) => match(args(n)).with([{ op: 'log' }], ([l]) => l.args[0]).otherwise(() => undefined)), // e^{log x} → x
  rule('sigmoid-neg', 'sigmoid', (n) => match(args(n))                   // σ(−t) → 1 − σ(t)
    .with([negOf], ([t]) => B.sub(B.constant(1), B.sigmoid(t.args[0])))
    .otherwise(() => undefined)),
  rule('neg-log-sigmoid', 'neg', (n) => match(args(n))                    // −log σ(t) → softplus(−t)
    .with([{ op: 'log_sigmoid' }], ([l]) => B.unary('softplus', B.neg(l.args[0])))
    .otherwise(() => undefined), { witness: 'scalar:-800' }),

  // ---- linear algebra and reductions ----
  rule('transpose-transpose', 'transpose', (n) => match(args(n)).with([{ op: 'transpose' }], ([t]) => t.args[0]).otherwise(() => undefined)),
  rule('fill-const', 'fill', (n) => match(args(n))                      // c repeated is a constant tensor
    .with([cnst()], ([c]) => (c.isScalar ? B.constant(val(c), n.shape) : undefined))
    .otherwise(() => undefined)),
  rule('sum-fill', 'sum', (n) => match(args(n))                           // Σ (s·1ₙ) → n·s
    .with([{ op: 'fill' }], ([f]) => (f.args[0].isScalar ? B.mul(B.constant(f.size), f.args[0]) : undefined))
    .otherwise(() => undefined)),
  rule('sum-rows-fill', 'sum_rows', (n) => match(args(n))
    .with([{ op: 'fill' }], ([f]) => (sameShape(f.args[0].shape, n.shape) ? B.mul(B.constant(f.shape[0]), f.args[0]) : undefined))
    .otherwise(() => undefined)),
  rule('dot-neg', 'dot', (n) => match(args(n))
    .with([negOf, P._], ([a, b]) => B.neg(B.dot(a.args[0], b)))
    .with([P._, negOf], ([a, b]) => B.neg(B.dot(a, b.args[0])))
    .otherwise(() => undefined)),
  rule('matmul-neg', 'matmul', (n) => match(args(n))
    .with([negOf, P._], ([a, b]) => B.neg(B.matmul(a.args[0], b)))
    .with([P._, negOf], ([a, b]) => B.neg(B.matmul(a, b.args[0])))
    .otherwise(() => undefined)),
  // ---- diag, the identity diag(1ₙ), and what second derivatives are read off as (autodiff/linear-form.ts) ----
  rule('matmul-identity', 'matmul', (n) => match(args(n))               // I·X → X, X·I → X
    .with([{ op: 'diag', args: [cnst(1)] }, P._], ([, x]) => fits(x, n))
    .with([P._, { op: 'diag', args: [cnst(1)] }], ([x]) => fits(x, n))
    .otherwise(() => undefined)),
  rule('transpose-diag', 'transpose', (n) => match(args(n))             // diag(u)ᵀ → diag(u)
    .with([{ op: 'diag' }], ([d]) => (d.args[0].rank === 1 ? d : undefined))
    .otherwise(() => undefined)),
  rule('transpose-outer', 'transpose', (n) => match(args(n)).with([{ op: 'outer' }], ([o]) => B.outer(o.args[1], o.args[0])).otherwise(() => undefined)),
  rule('diag-times', 'matmul', (n) => match(args(n))
    .with([{ op: 'diag' }, { op: 'diag' }], ([a, b]) => (a.args[0].rank === 1 && b.args[0].rank === 1 ? B.diag(B.mul(a.args[0], b.args[0])) : undefined)) // diag(u)·diag(v) → diag(u ⊙ v)
    .with([{ op: 'diag' }, { op: 'outer' }], ([d, o]) => (d.args[0].rank === 1 ? B.outer(B.mul(d.args[0], o.args[0]), o.args[1]) : undefined)) // diag(u)·a bᵀ → (u ⊙ a) bᵀ
    .with([{ op: 'diag' }, { op: 'add' }], ([d, s]) => (d.args[0].rank === 1 ? B.add(B.matmul(d, s.args[0]), B.matmul(d, s.args[1])) : undefined)) // diag(u)·(X + Y)
    .with([{ op: 'diag' }, P._], ([d, v]) => (d.args[0].rank === 1 && v.rank === 1 ? B.mul(d.args[0], v) : undefined)) // diag(u)·v → u ⊙ v
    .otherwise(() => undefined)),
  rule('outer-times', 'matmul', (n) => match(args(n))                   // a bᵀ·M → a (Mᵀb)ᵀ, so a product of outers folds
    .with([{ op: 'outer' }, P._], ([o, m]) => (m.rank === 2 ? B.outer(o.args[0], B.matmul(B.transpose(m), o.args[1])) : undefined))
    .otherwise(() => undefined)),
  rule('sum-rows-of', 'sum_rows', (n) => match(args(n))
    .with([{ op: 'diag' }], ([d]) => (d.args[0].rank === 1 ? d.args[0] : undefined))   // 1ᵀ diag(u) → u
    .with([negOf], ([x]) => B.neg(B.sumRows(x.args[0])))
    .with([{ op: 'outer' }], ([o]) => B.mul(B.sum(o.args[0]), o.args[1]))           // 1ᵀ a bᵀ → (Σa) b
    .otherwise(() => undefined)),
  rule('outer-scalar', 'outer', (n) => match(args(n))                   // (s a) bᵀ → s (a bᵀ)
    .with([{ op: 'mul' }, P._], ([m, b]) => (m.args[0].isScalar && m.args[1].rank === 1 ? B.mul(m.args[0], B.outer(m.args[1], b)) : m.args[1].isScalar && m.args[0].rank === 1 ? B.mul(m.args[1], B.outer(m.args[0], b)) : undefined))
    .with([P._, { op: 'mul' }], ([a, m]) => (m.args[0].isScalar && m.args[1].rank === 1 ? B.mul(m.args[0], B.outer(a, m.args[1])) : m.args[1].isScalar && m.args[0].rank === 1 ? B.mul(m.args[1], B.outer(a, m.args[0])) : undefined))
    .otherwise(() => undefined)),
  rule('outer-neg', 'outer', (n) => match(args(n))
    .with([negOf, P._], ([a, b]) => B.neg(B.outer(a.args[0], b)))
    .with([P._, negOf], ([a, b]) => B.neg(B.outer(a, b.args[0])))
    .otherwise(() => undefined)),
];

/**
 * Numerically stable forms. Each names the naive form and an input where it overflows, which
 * `gradc check` evaluates and reports.
 */
export const stableRules: Rule[] = [
  rule('stable-log-sigmoid', 'log', (n) => match(args(n))                 // log σ(t) → log_sigmoid(t)
    .with([{ op: 'sigmoid' }], ([s]) => B.unary('log_sigmoid', s.args[0]))
    .otherwise(() => undefined), { witness: 'scalar:-800' }),
  rule('stable-log-one-minus-sigmoid', 'log', (n) => match(args(n))       // log(1 − σ(t)) → log_sigmoid(−t)
    .with([{ op: 'add', args: [cnst(1), { op: 'neg', args: [{ op: 'sigmoid' }] }] }], ([a]) => B.unary('log_sigmoid', B.neg(a.args[1].args[0].args[0])))
    .otherwise(() => undefined), { witness: 'scalar:800' }),
  rule('stable-softplus', 'log', (n) => match(args(n))                    // log(1 + eᵗ) → softplus(t)
    .with([{ op: 'add', args: [cnst(1), { op: 'exp' }] }], ([a]) => B.unary('softplus', a.args[1].args[0]))
    .with([{ op: 'add', args: [{ op: 'exp' }, cnst(1)] }], ([a]) => B.unary('softplus', a.args[0].args[0]))
    .otherwise(() => undefined), { witness: 'scalar:800' }),
  rule('stable-log-softmax', 'log', (n) => match(args(n))                 // log softmax(z) → log_softmax(z)
    .with([{ op: 'softmax' }], ([s]) => B.logSoftmax(s.args[0]))
    .otherwise(() => undefined), { witness: 'vector:1000,0' }),
  rule('stable-logsumexp', 'log', (n) => match(args(n))                   // log Σ eᶻ → logsumexp(z)
    .with([{ op: 'sum', args: [{ op: 'exp' }] }], ([s]) => (s.args[0].args[0].rank === 1 ? B.logsumexp(s.args[0].args[0]) : undefined))
    .otherwise(() => undefined), { witness: 'vector:1000,0' }),
  rule('stable-softmax', 'div', (n) => match(args(n))                     // eᶻ / Σ eᶻ → softmax(z)
    .with([{ op: 'exp' }, { op: 'sum', args: [{ op: 'exp' }] }], ([e, s]) => (s.args[0] === e && e.rank === 1 ? B.softmax(e.args[0]) : undefined))
    .otherwise(() => undefined), { witness: 'vector:1000,0' }),
  rule('cross-entropy', 'neg', (n) => match(args(n))                      // −onehot(y)ᵀ log_softmax(z) → CE(z, y)
    .with([{ op: 'dot', args: [{ op: 'onehot' }, { op: 'log_softmax' }] }], ([d]) => B.crossEntropy(d.args[1].args[0], d.args[0].args[0]))
    .with([{ op: 'dot', args: [{ op: 'log_softmax' }, { op: 'onehot' }] }], ([d]) => B.crossEntropy(d.args[0].args[0], d.args[1].args[0]))
    .otherwise(() => undefined)),
];

export const allRules: Rule[] = [...stableRules, ...algebraRules];

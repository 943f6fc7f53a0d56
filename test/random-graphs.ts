// Random expression graphs for property tests: a list of random choices is read as a program that
// composes the SPEC's ops over leaves of compatible shapes. Kinked ops (relu, abs, step, sign) are left
// out here; their derivatives are checked per op, away from the kink, in ops.test.ts.

import fc from 'fast-check';
import * as B from '../compiler/ir/build.js';
import type { Node } from '../compiler/ir/node.js';
import { sameShape } from '../compiler/ir/node.js';
import { A, M, pos, s, u, v, y } from './op-samples.js';

type Builder = (pick: (pred: (n: Node) => boolean) => Node | undefined) => Node | undefined;

const scalarOrVector = (n: Node) => n.rank <= 1;
const vector = (n: Node) => n.rank === 1 && n.shape[0] === 3;
const BUILDERS: Builder[] = [
  (pick) => { const a = pick(() => true); const b = a && pick((n) => sameShape(n.shape, a.shape) || n.isScalar); return a && b && B.add(a, b); },
  (pick) => { const a = pick(() => true); const b = a && pick((n) => sameShape(n.shape, a.shape) || n.isScalar); return a && b && B.sub(a, b); },
  (pick) => { const a = pick(() => true); const b = a && pick((n) => sameShape(n.shape, a.shape) || n.isScalar); return a && b && B.mul(a, b); },
  (pick) => { const a = pick(() => true); return a && B.div(a, B.add(B.constant(2), B.sigmoid(pick((n) => n.isScalar) ?? s))); },
  (pick) => { const a = pick(() => true); return a && B.neg(a); },
  (pick) => { const a = pick(() => true); return a && B.sigmoid(a); },
  (pick) => { const a = pick(() => true); return a && B.unary('tanh', a); },
  (pick) => { const a = pick(() => true); return a && B.sin(a); },
  (pick) => { const a = pick(() => true); return a && B.unary('softplus', a); },
  (pick) => { const a = pick(() => true); return a && B.log(B.add(B.constant(1.5), B.sigmoid(a))); },
  (pick) => { const a = pick(() => true); return a && B.exp(B.mul(B.constant(0.3), B.unary('tanh', a))); },
  (pick) => { const a = pick(() => true); return a && B.pow(B.add(B.constant(1.2), B.sigmoid(a)), B.constant(3)); },
  (pick) => { const a = pick(() => true); return a && B.mul(B.constant(2), a); },
  (pick) => { const a = pick(vector); const b = a && pick(vector); return a && b && B.dot(a, b); },
  (pick) => { const a = pick(vector); return a && B.matmul(A, a); },
  (pick) => { const a = pick((n) => n.rank === 1 && n.shape[0] === 2); return a && B.matmul(M, a); },
  (pick) => { const a = pick(vector); const b = a && pick((n) => n.rank === 1 && n.shape[0] === 2); return a && b && B.outer(b, a); },
  (pick) => { const a = pick((n) => n.rank === 2 && n.shape[1] === 3); return a && B.add(a, pick(vector) ?? u); },
  (pick) => { const a = pick((n) => n.rank === 2); return a && B.transpose(a); },
  (pick) => { const a = pick((n) => n.rank === 2 && n.shape[0] === 2 && n.shape[1] === 3); return a && B.matmul(a, M); },
  (pick) => { const a = pick(() => true); return a && B.sum(a); },
  (pick) => { const a = pick(() => true); return a && B.mean(a); },
  (pick) => { const a = pick(vector); return a && B.softmax(a); },
  (pick) => { const a = pick(vector); return a && B.logSoftmax(a); },
  (pick) => { const a = pick(vector); return a && B.logsumexp(a); },
  (pick) => { const a = pick(vector); return a && B.crossEntropy(a, y); },
  (pick) => { const a = pick(vector); return a && B.mul(B.onehot(y, 3, 'K'), a); },
  (pick) => { const a = pick(() => true); return a && B.add(a, B.constant(0)); },
  (pick) => { const a = pick(() => true); return a && B.mul(B.constant(1), a); },
  (pick) => { const a = pick(() => true); return a && B.neg(B.neg(a)); },
  (pick) => { const a = pick(() => true); return a && B.sub(a, a); },
  (pick) => { const a = pick(scalarOrVector); return a && B.sigmoid(B.neg(a)); },
];

/** A random graph built from `choices`; the last node built is the result. */
export function buildGraph(choices: number[]): Node {
  const pool: Node[] = [u, v, A, M, s, pos];
  let k = 0;
  const next = () => choices[k++ % choices.length];
  const pick = (pred: (n: Node) => boolean) => {
    const ok = pool.filter(pred);
    return ok.length ? ok[next() % ok.length] : undefined;
  };
  let last: Node = u;
  for (let step = 0; step < 6; step++) {
    const b = BUILDERS[next() % BUILDERS.length];
    const n = b(pick);
    if (n) { pool.push(n); last = n; }
  }
  return last;
}

export const graphArb = fc.array(fc.nat({ max: 10_000 }), { minLength: 8, maxLength: 30 }).map(buildGraph);

// The built-in functions of SPEC §1: argument counts, shape rules with located messages, and the IR each builds.

import type { Node } from '../ir/node.js';
import { allOps, showShape } from '../ir/node.js';
import * as B from '../ir/build.js';
import { broadcastShape } from '../ir/ops/common.js';
import { IMAGE_BUILTINS } from './images.js';

/** What a builtin receives: argument nodes and their source text (for messages). */
export interface BuiltinArgs { nodes: Node[]; texts: string[] }
/** A node, or an error message (with the index of the argument to point at, if any). */
export type BuiltinResult = Node | { error: string; arg?: number };

/** `arity` is a count, or the counts accepted (max(t) and max(a, b)). */
export interface Builtin { arity: number | readonly number[]; build(a: BuiltinArgs): BuiltinResult; signature: string }

/** Every unary elementwise op of the op table is a built-in function of the same name. */
const ELEMENTWISE = allOps().filter((op) => 'emit' in op && op.arity === 1 && op.name !== 'neg').map((op) => op.name);

const vectorArg = (name: string, a: BuiltinArgs, i: number): string | undefined =>
  a.nodes[i].rank === 1 ? undefined : `${name} needs a vector, but ${a.texts[i]} is ${showShape(a.nodes[i].shape)}`;

// Maps, not object literals: a model may name a value `toString` or `__proto__` (see test/trainer.test.ts).
const BUILTIN_TABLE: Record<string, Builtin> = {
  ...Object.fromEntries(ELEMENTWISE.map((name) => [name, { arity: 1, signature: `${name}(t)`, build: (a: BuiltinArgs) => B.unary(name, a.nodes[0]) }])),
  // ones(m, n, …) and zeros(…): constant tensors of the given sizes, as mathjs has them (lowered in lower.ts).
  ones: { arity: [1, 2, 3, 4], signature: 'ones(m, n, …)', build: () => { throw new Error('ones is lowered specially'); } },
  zeros: { arity: [1, 2, 3, 4], signature: 'zeros(m, n, …)', build: () => { throw new Error('zeros is lowered specially'); } },
  // sum(A, k) and sum(G, [2, 3]) are lowered in lower.ts (their second argument is a literal axis or list).
  sum: { arity: [1, 2], signature: 'sum(t), sum(A, k) or sum(G, [2, 3])', build: (a) => B.sum(a.nodes[0]) },
  // expand(G, k, n): the adjoint of sum(A, k), lowered in lower.ts (its axis and size are integers).
  expand: { arity: 3, signature: 'expand(G, k, n)', build: () => { throw new Error('expand is lowered specially'); } },
  mean: { arity: 1, signature: 'mean(t)', build: (a) => B.mean(a.nodes[0]) },
  dot: {
    arity: 2, signature: 'dot(u, v)',
    build: (a) => {
      const [u, v] = a.nodes;
      for (const i of [0, 1]) { const e = vectorArg('dot', a, i); if (e) return { error: e, arg: i }; }
      if (u.shape[0] !== v.shape[0]) return { error: `dot needs vectors of one length: ${a.texts[0]} is ${showShape(u.shape)} and ${a.texts[1]} is ${showShape(v.shape)}` };
      return B.dot(u, v);
    },
  },
  outer: {
    arity: 2, signature: 'outer(u, v)',
    build: (a) => {
      for (const i of [0, 1]) { const e = vectorArg('outer', a, i); if (e) return { error: e, arg: i }; }
      return B.outer(a.nodes[0], a.nodes[1]);
    },
  },
  diag: {
    arity: 1, signature: 'diag(v) or diag(A)',
    build: (a) => {
      const [t] = a.nodes;
      if (t.rank === 1 || (t.rank === 2 && t.shape[0] === t.shape[1])) return B.diag(t);
      return { error: `diag needs a vector (giving the matrix with it on the diagonal) or a square matrix (giving its diagonal), but ${a.texts[0]} is ${showShape(t.shape)}`, arg: 0 };
    },
  },
  kron: {
    arity: 2, signature: 'kron(A, B)',
    build: (a) => {
      const [l, r] = a.nodes;
      if (l.rank === r.rank && (l.rank === 1 || l.rank === 2)) return B.kron(l, r);
      return { error: `kron needs two matrices or two vectors: ${a.texts[0]} is ${showShape(l.shape)} and ${a.texts[1]} is ${showShape(r.shape)}` };
    },
  },
  softmax: { arity: 1, signature: 'softmax(v)', build: (a) => vectorArg('softmax', a, 0) ? { error: vectorArg('softmax', a, 0)!, arg: 0 } : B.softmax(a.nodes[0]) },
  log_softmax: { arity: 1, signature: 'log_softmax(v)', build: (a) => vectorArg('log_softmax', a, 0) ? { error: vectorArg('log_softmax', a, 0)!, arg: 0 } : B.logSoftmax(a.nodes[0]) },
  logsumexp: { arity: 1, signature: 'logsumexp(v)', build: (a) => vectorArg('logsumexp', a, 0) ? { error: vectorArg('logsumexp', a, 0)!, arg: 0 } : B.logsumexp(a.nodes[0]) },
  // With one argument a reduction over all elements, with two elementwise (SPEC: as mathjs's max and min).
  max: { arity: [1, 2], signature: 'max(t) or max(a, b)', build: (a) => pairwise('max', a, B.maxAll, B.max) },
  min: { arity: [1, 2], signature: 'min(t) or min(a, b)', build: (a) => pairwise('min', a, B.minAll, B.min) },
  // The 2-norm of a vector, the Frobenius norm of a matrix: written out, so its gradient x / norm(x) follows.
  norm: { arity: 1, signature: 'norm(v)', build: (a) => a.nodes[0].isScalar ? B.unary('abs', a.nodes[0]) : B.sqrt(B.sum(B.pow(a.nodes[0], B.constant(2)))) },
  leaky_relu: {
    arity: 2, signature: 'leaky_relu(t, a)',
    build: (a) => broadcastShape(a.nodes[0].shape, a.nodes[1].shape)
      ? B.leakyRelu(a.nodes[0], a.nodes[1])
      : { error: `the slope of leaky_relu must be a scalar or have the shape of its argument: ${a.texts[0]} is ${showShape(a.nodes[0].shape)} and ${a.texts[1]} is ${showShape(a.nodes[1].shape)}`, arg: 1 },
  },
  // transpose(A) is A'; lower.ts handles it with the postfix form (a vector's ' makes it a row).
  transpose: { arity: 1, signature: 'transpose(A)', build: () => { throw new Error('transpose is lowered specially'); } },
  // onehot and cross_entropy need to know the class label's K; lower.ts checks their arguments.
  onehot: { arity: 2, signature: 'onehot(y, K)', build: () => { throw new Error('onehot is lowered specially'); } },
  cross_entropy: { arity: 2, signature: 'cross_entropy(z, y)', build: () => { throw new Error('cross_entropy is lowered specially'); } },
  // Images take integer options and shapes; frontend/images.ts checks and lowers them.
  ...Object.fromEntries(Object.entries(IMAGE_BUILTINS).map(([name, b]) => [name, { arity: b.arity, signature: b.signature, build: () => { throw new Error(`${name} is lowered specially`); } }])),
};

function pairwise(name: string, a: BuiltinArgs, all: (t: Node) => Node, two: (x: Node, y: Node) => Node): BuiltinResult {
  if (a.nodes.length === 1) return all(a.nodes[0]);
  const [x, y] = a.nodes;
  if (!broadcastShape(x.shape, y.shape)) return { error: `${name}(a, b) is elementwise: ${a.texts[0]} is ${showShape(x.shape)} and ${a.texts[1]} is ${showShape(y.shape)}, which do not broadcast` };
  return two(x, y);
}

export const BUILTINS: ReadonlyMap<string, Builtin> = new Map(Object.entries(BUILTIN_TABLE));
/** Builtins that apply elementwise (or keep their argument's shape): a row vector stays a row through them. */
export const ELEMENTWISE_BUILTINS: ReadonlySet<string> = new Set([...ELEMENTWISE, 'max', 'min', 'leaky_relu', 'softmax', 'log_softmax']);
export const CONSTANTS: ReadonlyMap<string, number> = new Map([['pi', Math.PI], ['e', Math.E]]);

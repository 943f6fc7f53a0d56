// The built-in functions of SPEC §1: argument counts, shape rules with located messages, and the IR each builds.

import type { Node } from '../ir/node.js';
import { allOps, showShape } from '../ir/node.js';
import * as B from '../ir/build.js';

/** What a builtin receives: argument nodes and their source text (for messages). */
export interface BuiltinArgs { nodes: Node[]; texts: string[] }
/** A node, or an error message (with the index of the argument to point at, if any). */
export type BuiltinResult = Node | { error: string; arg?: number };

export interface Builtin { arity: number; build(a: BuiltinArgs): BuiltinResult; signature: string }

/** Every unary elementwise op of the op table is a built-in function of the same name. */
const ELEMENTWISE = allOps().filter((op) => 'emit' in op && op.arity === 1 && op.name !== 'neg').map((op) => op.name);

const vectorArg = (name: string, a: BuiltinArgs, i: number): string | undefined =>
  a.nodes[i].rank === 1 ? undefined : `${name} needs a vector, but ${a.texts[i]} is ${showShape(a.nodes[i].shape)}`;

// Maps, not object literals: a model may name a value `toString` or `__proto__` (see test/trainer.test.ts).
const BUILTIN_TABLE: Record<string, Builtin> = {
  ...Object.fromEntries(ELEMENTWISE.map((name) => [name, { arity: 1, signature: `${name}(t)`, build: (a: BuiltinArgs) => B.unary(name, a.nodes[0]) }])),
  sum: { arity: 1, signature: 'sum(t)', build: (a) => B.sum(a.nodes[0]) },
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
  softmax: { arity: 1, signature: 'softmax(v)', build: (a) => vectorArg('softmax', a, 0) ? { error: vectorArg('softmax', a, 0)!, arg: 0 } : B.softmax(a.nodes[0]) },
  log_softmax: { arity: 1, signature: 'log_softmax(v)', build: (a) => vectorArg('log_softmax', a, 0) ? { error: vectorArg('log_softmax', a, 0)!, arg: 0 } : B.logSoftmax(a.nodes[0]) },
  logsumexp: { arity: 1, signature: 'logsumexp(v)', build: (a) => vectorArg('logsumexp', a, 0) ? { error: vectorArg('logsumexp', a, 0)!, arg: 0 } : B.logsumexp(a.nodes[0]) },
  // onehot and cross_entropy need to know the class label's K; lower.ts checks their arguments.
  onehot: { arity: 2, signature: 'onehot(y, K)', build: () => { throw new Error('onehot is lowered specially'); } },
  cross_entropy: { arity: 2, signature: 'cross_entropy(z, y)', build: () => { throw new Error('cross_entropy is lowered specially'); } },
};

export const BUILTINS: ReadonlyMap<string, Builtin> = new Map(Object.entries(BUILTIN_TABLE));
export const CONSTANTS: ReadonlyMap<string, number> = new Map([['pi', Math.PI], ['e', Math.E]]);

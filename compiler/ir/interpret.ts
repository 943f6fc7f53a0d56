// The float64 reference interpreter: evaluates IR nodes from an environment of leaf values. Gradient checks,
// `verify` and the tests use it as the ground truth that generated code is compared against.

import type { Node } from './node.js';
import { opOf, topo } from './node.js';
import type { Tensor } from './tensor.js';
import { tensor } from './tensor.js';

/** Leaf values by name: inputs, params and fn `var`s. */
export type Env = ReadonlyMap<string, Tensor>;

export function evaluate(roots: readonly Node[], env: Env, cache = new Map<Node, Tensor>()): Map<Node, Tensor> {
  for (const n of topo(roots)) {
    if (cache.has(n)) continue;
    if (n.op === 'input' || n.op === 'param' || n.op === 'var') {
      const v = env.get(n.attr.name as string);
      if (!v) throw new Error(`no value for ${n.op} ${n.attr.name as string}`);
      if (v.data.length !== n.size) throw new Error(`${n.attr.name as string} has ${v.data.length} values, expected shape [${n.shape.join(', ')}]`);
      cache.set(n, v.shape.length === n.shape.length ? v : tensor(n.shape, v.data));
      continue;
    }
    cache.set(n, opOf(n.op).eval(n.args.map((a) => cache.get(a)!), n));
  }
  return cache;
}

export function evaluateOne(root: Node, env: Env): Tensor {
  return evaluate([root], env).get(root)!;
}

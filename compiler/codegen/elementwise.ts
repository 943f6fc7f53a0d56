// Which ops a fused loop can compute element by element: the elementwise ops of the op table (those with
// an `emit` rule), fn calls, onehot (element i is 1 where i is the label) and v[y] (one element, read at the label).

import type { Node } from '../ir/node.js';
import { opOf } from '../ir/node.js';

export function isElementwise(n: Node): boolean {
  if (n.op === 'call' || n.op === 'onehot' || n.op === 'index' || n.op === 'const' || n.op === 'dim') return true;
  return 'emit' in opOf(n.op);
}

// The one place that undoes broadcasting: a contribution computed at the broadcast shape is summed over
// the axes along which the argument was repeated (a scalar over everything, a row vector over the rows,
// a per-channel vector over the positions of an image).

import type { Node, Shape } from '../ir/node.js';
import { sameShape, showShape } from '../ir/node.js';
import * as B from '../ir/build.js';

export function unbroadcast(c: Node, shape: Shape): Node {
  if (sameShape(c.shape, shape)) return c;
  if (shape.length === 0) return B.sum(c);
  if (shape.length === 1 && c.rank === 2 && c.shape[1] === shape[0]) return B.sumRows(c);
  if (shape.length === 1 && c.rank === 3 && c.shape[0] === shape[0]) return B.sumPositions(c); // a per-channel bias
  if (c.isScalar) return B.fill(c, shape);
  throw new Error(`cannot reduce a contribution of shape ${showShape(c.shape)} to ${showShape(shape)}`);
}

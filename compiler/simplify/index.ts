// The simplify stage: one Simplifier per derivation, so its memo and its record of fired rules are shared
// by the forward graph and every gradient.

import type { Node } from '../ir/node.js';
import { Simplifier } from './engine.js';
import { allRules } from './rules.js';

export function newSimplifier(): Simplifier { return new Simplifier(allRules); }
export function simplify(n: Node): Node { return newSimplifier().simplify(n); }
export { Simplifier };

// Derivatives of user `fn`s: the scalar body is differentiated by the same reverse-mode driver and
// simplified, giving a new fn (softsign′) that the call op's derivative rule applies elementwise.

import type { FnDef } from '../ir/node.js';
import * as B from '../ir/build.js';
import { installFnDifferentiator } from '../ir/ops/call.js';
import { simplify } from '../simplify/index.js';
import { reverse } from './reverse.js';

const cache = new Map<FnDef, (FnDef | null)[]>();
let nextId = 1_000_000;

export function differentiateFn(fn: FnDef, arg: number): FnDef | null {
  let row = cache.get(fn);
  if (!row) {
    const vars = fn.params.map((p) => B.variable(p));
    const adj = reverse(fn.body, vars);
    row = vars.map((v, i) => {
      const d = adj.get(v);
      const body = d && simplify(d);
      if (!body || B.isConst(body, 0)) return null;
      return Object.freeze({ id: nextId++, name: fn.name, params: fn.params, body, derivedFrom: { fn, arg: i } });
    });
    cache.set(fn, row);
  }
  return row[arg];
}

installFnDifferentiator(differentiateFn);

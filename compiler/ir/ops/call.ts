// A user `fn`, applied elementwise. Its body is scalar IR over `var` leaves; its derivative with respect to
// each argument is another fn, derived symbolically once and cached (the autodiff stage installs the
// differentiator, so the IR does not depend on the stages after it).

import type { FnDef, Node } from '../node.js';
import { registerOp } from '../node.js';
import type { OpDef } from '../op.js';
import * as B from '../build.js';
import { evaluateOne } from '../interpret.js';
import { scalar } from '../tensor.js';
import { broadcastAll, elementwise, size } from './common.js';

type Differentiator = (fn: FnDef, arg: number) => FnDef | null;
let differentiate: Differentiator | undefined;
export function installFnDifferentiator(d: Differentiator): void { differentiate = d; }

export function scalarFn(fn: FnDef): (...xs: number[]) => number {
  return (...xs) => evaluateOne(fn.body, new Map(fn.params.map((p, i) => [p, scalar(xs[i])]))).data[0];
}

export function fnOf(n: Node): FnDef { return n.attr.fn as FnDef; }

/** The name a fn prints with: a derived fn is `f'` (one argument) or `f'_b` (∂f/∂b). */
export function fnDisplayName(fn: FnDef): string {
  if (!fn.derivedFrom) return fn.name;
  const base = fnDisplayName(fn.derivedFrom.fn);
  return fn.derivedFrom.fn.params.length === 1 ? `${base}'` : `${base}'_${fn.derivedFrom.fn.params[fn.derivedFrom.arg]}`;
}

/** softsign′ as \operatorname{softsign}', ∂blend/∂a as \operatorname{blend}'_{a}. */
function fnLatexName(fn: FnDef): string {
  const esc = (s: string) => s.replace(/_/g, '\\_');
  if (!fn.derivedFrom) return `\\operatorname{${esc(fn.name)}}`;
  const base = fnLatexName(fn.derivedFrom.fn);
  return fn.derivedFrom.fn.params.length === 1 ? `${base}'` : `${base}'_{${esc(fn.derivedFrom.fn.params[fn.derivedFrom.arg])}}`;
}

const call: OpDef = {
  name: 'call', arity: 'any',
  shape: (shapes) => broadcastAll(shapes, 'fn call'),
  eval: (args, n) => elementwise(args, scalarFn(fnOf(n))),
  vjp: (g, n) => n.args.map((_, i) => {
    if (!differentiate) throw new Error('no fn differentiator installed');
    const d = differentiate(fnOf(n), i);
    return d ? B.mul(g, B.call(d, n.args)) : null;
  }),
  print: (p) => p.call(fnDisplayName(fnOf(p.node)), p.node.args.map((_, i) => p.arg(i, 0)), fnLatexName(fnOf(p.node))),
  flops: (n) => size(n) * 4,
};

registerOp(call);

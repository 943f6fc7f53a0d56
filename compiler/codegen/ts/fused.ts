// Runs of plan steps that the wasm target does in one pass over the data, each with the steps themselves
// as its fallback (`if (!fused(…)) { the steps }`, as a fused loop falls back to TypeScript):
//  - a convolution, its per-channel bias and a ReLU — z = conv2d(X, K) + c, a = relu(z) — in the direct
//    convolution's epilogue (convfwdbr): the product's result is not written, read for the bias and read
//    again for the ReLU;
//  - a max-pooling's backward route and ReLU's mask — dL/da = route_to_max(G, a), dL/dz = dL/da .* step(z)
//    — as one pass (maxroutemask): the gradient is masked where it lands.
// The TypeScript target runs the steps as they are; the fused kernels give the steps' own bits.

import type { Node } from '../../ir/node.js';
import { opOf, sameShape } from '../../ir/node.js';
import type { Step } from '../plan.js';
import * as A from './ast.js';
import type { Expr, Stmt } from './ast.js';
import type { Emitter } from './emitter.js';
import { stepStmts } from './steps.js';

const id = A.ident;

interface Fusion { readonly length: number; readonly call: Expr; readonly label: string }

/** Every step of a program, runs of steps that fuse as one call with the steps as its fallback. */
export function programStmts(em: Emitter, steps: readonly Step[]): Stmt[] {
  const out: Stmt[] = [];
  for (let i = 0; i < steps.length;) {
    const f = em.opts.wasmLoops ? fusionAt(em, steps, i) : undefined;
    if (!f) { out.push(...stepStmts(em, steps[i])); i++; continue; }
    const fallback = steps.slice(i, i + f.length).flatMap((s) => stepStmts(em, s));
    const [first] = em.wasmOr(f.call, fallback);
    out.push(A.comment(first, `${f.label}   (one pass in WebAssembly)`));
    i += f.length;
  }
  return out;
}

function fusionAt(em: Emitter, steps: readonly Step[], i: number): Fusion | undefined {
  return convBiasRelu(em, steps, i) ?? routeMask(em, steps, i);
}

const buf = (em: Emitter, n: Node) => em.bufName.get(n);

/** z = conv2d(X, K) + c written over the product's buffer, then a = relu(z) in a buffer of its own. */
function convBiasRelu(em: Emitter, steps: readonly Step[], i: number): Fusion | undefined {
  const [s0, s1, s2] = steps.slice(i, i + 3);
  if (!s0 || !s1 || !s2 || s0.kind !== 'generic' || s1.kind !== 'loop' || s2.kind !== 'loop') return undefined;
  const conv = s0.node, z = s1.node, a = s2.node;
  if (conv.op !== 'conv2d' || z.op !== 'add' || z.args[0] !== conv || em.plan.alias.get(z) !== conv) return undefined;
  const c = z.args[1];
  if (c.rank !== 1 || c.size !== conv.shape[0] || em.batched(c) || !buf(em, c)) return undefined;
  if (a.op !== 'relu' || a.args[0] !== z || em.plan.alias.has(a)) return undefined;
  const [x, k] = conv.args;
  const call = A.call('conv2dBiasRelu', [em.exampleCount(conv), id(em.sizesName(opOf(conv.op).kernel!.sizes(conv))),
    id(buf(em, x)!), em.exampleStride(x), id(buf(em, k)!), em.exampleStride(k), id(buf(em, c)!), id(buf(em, z)!), id(buf(em, a)!), em.exampleStride(z)]);
  return { length: 3, call, label: `${em.display.get(z) ?? 'z'} = ${em.formula(z)}, ${em.display.get(a) ?? 'a'} = ${em.formula(a)}` };
}

/** dL/da = route_to_max(G, a), then dL/dz = dL/da .* step(z) written over it. */
function routeMask(em: Emitter, steps: readonly Step[], i: number): Fusion | undefined {
  const [s0, s1] = steps.slice(i, i + 2);
  if (!s0 || !s1 || s0.kind !== 'generic' || s1.kind !== 'loop') return undefined;
  const route = s0.node, masked = s1.node;
  if (route.op !== 'maxpool_route' || masked.op !== 'mul' || em.plan.alias.get(masked) !== route) return undefined;
  const step = masked.args[0] === route ? masked.args[1] : masked.args[1] === route ? masked.args[0] : undefined;
  const z = step?.op === 'step' ? step.args[0] : undefined;
  // z is read with the output's layout: the same shape, and per example exactly when the route is.
  if (!z || !buf(em, z) || em.batched(z) !== em.batched(route) || !sameShape(z.shape, route.shape)) return undefined;
  const [x, g] = route.args;
  const call = A.call('maxpoolRouteMask', [em.exampleCount(route), id(em.sizesName(opOf(route.op).kernel!.sizes(route))),
    id(buf(em, x)!), em.exampleStride(x), id(buf(em, g)!), em.exampleStride(g), id(buf(em, z)!), id(buf(em, masked)!), em.exampleStride(masked)]);
  return { length: 2, call, label: `${em.display.get(masked) ?? 'dL/dz'} = ${em.formula(masked)}` };
}

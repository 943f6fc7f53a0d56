// Which image layers a model's wasm module specialises data movement for (wasm/image-builder.mjs): the
// geometry of every convolution (forward, and its adjoints), every max-pooling, and every per-channel sum
// (a convolution bias's gradient) in the plan.

import type { Node } from '../../ir/node.js';
import { opOf, topo } from '../../ir/node.js';
import type { Plan } from '../plan.js';
import type { ImageKernels } from './gemm.js';

const CONV_OPS = new Set(['conv2d', 'conv2d_grad_input', 'conv2d_grad_kernel']);
const POOL_OPS = new Set(['maxpool', 'maxpool_route']);

export function wasmImageKernels(plan: Plan): ImageKernels {
  const roots: Node[] = [...plan.train.steps, ...plan.forward.steps].map((s) => s.node);
  for (const terms of plan.terms.values()) for (const t of terms) roots.push(...(t.kind === 'outer' ? [t.u, t.v] : [t.node]));
  const convs = new Map<string, number[]>(), pools = new Map<string, number[]>(), sums = new Map<string, number[]>();
  for (const n of topo(roots)) {
    const sizes = opOf(n.op).kernel?.sizes(n);
    if (!sizes) continue;
    if (CONV_OPS.has(n.op)) convs.set(sizes.join('_'), sizes);
    if (POOL_OPS.has(n.op)) pools.set(sizes.join('_'), sizes);
    if (n.op === 'sum_positions') sums.set(sizes.join('_'), sizes);
  }
  return { convs: [...convs.values()], pools: [...pools.values()], ...(sums.size ? { sums: [...sums.values()] } : {}) };
}

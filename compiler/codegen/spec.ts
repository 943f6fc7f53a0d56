// The model's description for the runtime (inputs, params with initializers, outputs, which input is the
// label for accuracy, whether any derivative has a kink), shared by the TypeScript and gpu.js targets.

import type { Node } from '../ir/node.js';
import { opOf, topo } from '../ir/node.js';
import type { ModelSpec } from '../../runtime/model.js';
import type { Plan } from './plan.js';
import type { Model } from '../frontend/model.js';
import type { InputSpec } from '../../runtime/data.js';

/** The model's inputs as the runtime's data loaders see them. */
export function inputSpecs(m: Model): InputSpec[] {
  return m.inputs.map((i) => (i.classes !== undefined ? { name: i.name, shape: [...i.shape], classes: i.classes } : { name: i.name, shape: [...i.shape] }));
}

export function specObject(plan: Plan): ModelSpec {
  const m = plan.g.model;
  const acc = plan.accuracy;
  const accuracyLabel = acc ? m.inputs.findIndex((i) => i.node === acc.label) : -1;
  const kinked = topo([plan.g.loss, ...[...plan.g.grads.values()].filter((x): x is Node => !!x)]).some((n) => opOf(n.op).kink);
  return {
    name: m.name,
    source: m.file.path,
    inputs: inputSpecs(m),
    params: m.params.map((p) => ({ name: p.name, shape: [...p.shape], init: { ...p.init }, isWeight: p.shape.length >= 2 })),
    outputs: m.outputs.map((o) => ({ name: o.name, shape: [...o.node.shape] })),
    loss: m.loss.name,
    accuracyLabel: accuracyLabel >= 0 ? accuracyLabel : null,
    ...(acc?.kind === 'binary' ? { binary: { output: acc.output, threshold: acc.threshold } } : {}),
    kinked,
    buffers: bufferElements(plan),
  };
}

/** Elements the kernels allocate (an upper bound: buffers shared in place are counted once each). */
function bufferElements(plan: Plan): ModelSpec['buffers'] {
  let fixed = 0, perExample = 0, largest = 0;
  for (const n of plan.materialized) {
    if (plan.alias.has(n)) continue;
    if (plan.batched.has(n)) { perExample += n.size; largest = Math.max(largest, n.size); } else fixed += n.size;
  }
  return { fixed, perExample, largest };
}

// The independent evaluation `gradc train` checks generated code against before training: the float64
// interpreter evaluating the symbolic loss and gradients one example at a time (runtime/safety.ts).

import type { Gradients } from '../autodiff/gradients.js';
import { evaluate } from '../ir/interpret.js';
import type { Node } from '../ir/node.js';
import { tensor, type Tensor } from '../ir/tensor.js';
import type { GradientReference } from '../../runtime/safety.js';

export function interpreterReference(g: Gradients): GradientReference {
  const model = g.model;
  const gradNodes = model.params.map((p) => g.grads.get(p.name) ?? null);
  const roots: Node[] = [g.loss, ...gradNodes.filter((x): x is Node => !!x)];
  return (params, inputs, n) => {
    let loss = 0;
    const grads = model.params.map((p) => new Float64Array(p.node.size));
    for (let b = 0; b < n; b++) {
      const env = new Map<string, Tensor>();
      model.params.forEach((p, k) => env.set(p.name, tensor(p.shape, params[k])));
      model.inputs.forEach((inp, k) => {
        const w = inp.classes !== undefined ? 1 : inp.node.size;
        env.set(inp.name, tensor(inp.shape, inputs[k].subarray(b * w, b * w + w)));
      });
      const vals = evaluate(roots, env);
      loss += vals.get(g.loss)!.data[0];
      gradNodes.forEach((gn, k) => { if (gn) vals.get(gn)!.data.forEach((v, i) => { grads[k][i] += v; }); });
    }
    return { loss, grads };
  };
}

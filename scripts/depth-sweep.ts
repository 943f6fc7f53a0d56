// Prints the depth sweep of issue 3: forward/backward node counts, FLOPs and derivation time for MLPs of
// depth 1…64. Run: npx tsx scripts/depth-sweep.ts
import { parseModel } from '../compiler/frontend/index.js';
import { checkReport } from '../compiler/cli/check.js';
import { deepMlp } from '../test/deep-mlp.js';

console.log('depth  fwd nodes  bwd nodes  fwd flops  bwd flops  ratio  derive ms');
for (const depth of [1, 2, 4, 8, 16, 32, 64]) {
  const t0 = performance.now();
  const r = checkReport(parseModel(`deep${depth}.nn`, deepMlp(depth)));
  const ms = performance.now() - t0;
  console.log([depth, r.forwardNodes, r.backwardNodes, r.forwardFlops, r.backwardFlops, (r.backwardFlops / r.forwardFlops).toFixed(2), ms.toFixed(0)].map(String).map((s, i) => s.padStart(i ? 10 : 5)).join(' '));
}

// No expression swell: for MLPs of depth 1, 2, 4, …, 64 the backward graph grows linearly with depth and
// its arithmetic stays within 3× the forward pass (the cheap-gradient principle). Growth, not time.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseModel } from '../compiler/frontend/index.js';
import { checkReport } from '../compiler/cli/check.js';
import { deepMlp } from './deep-mlp.js';

test('depth sweep: backward nodes grow linearly, FLOP ratio ≤ 3', () => {
  const rows: { depth: number; bwd: number; ratio: number }[] = [];
  for (const depth of [1, 2, 4, 8, 16, 32, 64]) {
    const r = checkReport(parseModel(`deep${depth}.nn`, deepMlp(depth)));
    rows.push({ depth, bwd: r.backwardNodes, ratio: r.backwardFlops / r.forwardFlops });
  }
  for (const row of rows) assert.ok(row.ratio <= 3, `depth ${row.depth}: ratio ${row.ratio}`);
  // Linear growth: the nodes added per layer stay constant between depth 8 and 64.
  const per = (a: (typeof rows)[number], b: (typeof rows)[number]) => (b.bwd - a.bwd) / (b.depth - a.depth);
  const [d8, d16, d32, d64] = rows.slice(3);
  assert.equal(per(d8, d16), per(d32, d64), JSON.stringify(rows));
  assert.ok(d64.bwd <= 64 * per(d32, d64) + 20, JSON.stringify(rows));
});

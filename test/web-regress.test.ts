// Every named regression fixture's kernels in WebGL2 (one of them was found here: a negative base's power in
// GLSL), in a file of its own so that it runs beside test/web.test.ts.

import { test } from 'node:test';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers.js';
import { checkKernels, skip } from './web-helpers.js';

test('every kernel of every regression fixture in WebGL2 agrees with float64 JavaScript', { skip }, async () => {
  const dir = join(ROOT, 'test', 'fixtures', 'regress');
  await checkKernels(readdirSync(dir).filter((f) => f.endsWith('.nn')).map((f) => ({ name: `regress ${f}`, src: readFileSync(join(dir, f), 'utf8') })));
});

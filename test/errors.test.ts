// Every mistake of SPEC §1 gets a located message: golden files hold the whole output for broken models.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseModel } from '../compiler/frontend/index.js';
import { formatDiagnostic, UserError } from '../compiler/source/diagnostics.js';
import { GOLDEN, golden } from './helpers.js';

const dir = join(GOLDEN, 'errors');
const cases = readdirSync(dir).filter((f) => f.endsWith('.nn')).sort();

test('at least 30 broken models are covered', () => assert.ok(cases.length >= 30, `${cases.length} cases`));

for (const file of cases) {
  test(`error: ${file}`, () => {
    const text = readFileSync(join(dir, file), 'utf8');
    let out: string;
    try {
      parseModel(`errors/${file}`, text);
      assert.fail(`${file} should not check`);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      out = e.diagnostics.map(formatDiagnostic).join('\n') + '\n';
    }
    // Every message is located: FILE:LINE:COL: error: …
    for (const line of out.split('\n').filter((l) => l.startsWith('errors/'))) assert.match(line, /^errors\/[\w.-]+:\d+:\d+: error: .+/);
    golden(`errors/${file.replace(/\.nn$/, '.expected')}`, out);
  });
}

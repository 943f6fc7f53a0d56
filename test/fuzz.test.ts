// Fuzzing the checker: random insertions, deletions and truncations of the example files. The front end
// must always return a model or diagnostics — never throw anything else, never hang.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { parseModel } from '../compiler/frontend/index.js';
import { deriveGradients } from '../compiler/autodiff/gradients.js';
import { formatDiagnostic, UserError } from '../compiler/source/diagnostics.js';
import { EXAMPLES, examplePath } from './helpers.js';

const sources = EXAMPLES.map((n) => readFileSync(examplePath(n), 'utf8'));
const snippets = ['(', ')', '[', ']', '*', "'", ',', '=', '~', ':', '\n', ' ', '-', '.*', '^', 'x', 'W1', 'loss', 'param', 'fn', 'dim', '0', '1e-3', '#', 'class(', 'sum(', 'sigmoid', '×', 'é', '\t', '..', '2x'];

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...snippets), fc.string({ maxLength: 4 })) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

test('fuzz: mutated examples give a model or located diagnostics (1,000 cases)', () => {
  let ok = 0, diagnosed = 0;
  fc.assert(fc.property(fc.nat({ max: sources.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), (which, muts) => {
    let text = sources[which];
    for (const m of muts) {
      const at = m.at % (text.length + 1);
      if (m.kind === 'insert') text = text.slice(0, at) + m.text + text.slice(at);
      else if (m.kind === 'delete') text = text.slice(0, at) + text.slice(at + m.len);
      else text = text.slice(0, at);
    }
    try {
      const model = parseModel('fuzz.nn', text);
      deriveGradients(model);
      ok++;
    } catch (e) {
      if (!(e instanceof UserError)) throw new Error(`unexpected ${String(e)} for:\n${text}`);
      for (const d of e.diagnostics) assert.match(formatDiagnostic(d), /^fuzz\.nn:\d+:\d+: error: /);
      diagnosed++;
    }
  }), { numRuns: 1000, seed: 2024 });
  assert.ok(ok > 0 && diagnosed > 0, `${ok} ok, ${diagnosed} diagnosed`);
});

// The kinds of mistake a grade sheet counts, read from verify's verdicts: what the per-question summary
// ranks ("the derivative of tanh forgotten: 12 students") and what earns partial credit.

import type { Verdict } from '../verify/verify.js';

export type Mistake =
  | 'wrong sign' | 'constant factor' | 'transposed' | 'missing transpose' | 'missing activation derivative'
  | 'wrong activation derivative' | 'missing term' | 'wrong factor in a term' | 'missing factor' | 'extra factor'
  | 'wrong shape' | 'unreadable' | 'not allowed' | 'other';

/** Near misses: the right formula up to a sign, a constant or a transpose, worth partial credit. */
export const NEAR_MISSES: ReadonlySet<Mistake> = new Set(['wrong sign', 'constant factor', 'transposed', 'missing transpose']);

const PATTERNS: [RegExp, Mistake][] = [
  [/^sign flipped/, 'wrong sign'],
  [/^off by a constant factor/, 'constant factor'],
  [/^transposed:/, 'transposed'],
  [/should (not )?be transposed/, 'missing transpose'],
  [/^the derivative of \S+ is missing|^the ReLU mask .* is missing/, 'missing activation derivative'],
  [/^this is \S+ derivative|^σ′ written as σ·σ/, 'wrong activation derivative'],
  [/^a missing term/, 'missing term'],
  [/^one term has the wrong factor/, 'wrong factor in a term'],
  [/^a factor .* is missing/, 'missing factor'],
  [/^an extra factor|does not belong/, 'extra factor'],
];

export function mistakeOf(v: Verdict): Mistake {
  if (v.method === 'shape') return /transpose/.test(v.message) ? 'transposed' : 'wrong shape';
  if (v.method === 'error') return 'unreadable';
  const d = v.diagnosis ?? '';
  return PATTERNS.find(([re]) => re.test(d))?.[1] ?? 'other';
}

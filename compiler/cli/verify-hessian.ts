// `gradc verify --hessian --wrt w [--wrt b] --claim "EXPR"`: a hand-derived Hessian, in gradc's notation or
// LaTeX, with or without its left side (d2L/dw2 = …, \frac{\partial^2 L}{\partial w \partial w^\top} = …).

import { parseModel } from '../frontend/index.js';
import { SourceFile, UserError } from '../source/diagnostics.js';
import { UsageError } from './args.js';
import { claimAt, ClaimReadError, latexNames, topLevelEquals, type ClaimSource } from '../verify/claim-source.js';
import type { LatexNames } from '../frontend/latex.js';
import { numericHessianVerdict, quickHessianVerdict } from '../verify/hessian.js';
import type { Verdict } from '../verify/verify.js';
import { details, parseClaims, smallSizes } from './verify.js';

export interface HessianVerifyInput {
  readonly model: { readonly path: string; readonly text: string };
  readonly claim: string;
  /** One name (the Hessian) or two (the cross block ∂²L/∂x∂yᵀ). */
  readonly wrt: readonly string[];
  readonly dims?: ReadonlyMap<string, number>;
  readonly consts?: ReadonlyMap<string, number>;
  readonly seed: number;
  readonly runs: number;
  readonly json?: boolean;
}

/** A left side that names a second derivative: d2L/dw2, d2L/dw db, ∂²L/∂w², \frac{\partial^2 L}{…}, \nabla^2 L, H. */
const SECOND_DERIVATIVE = /^\s*(d2\w*\/|∂²|\\frac\s*\{\s*\\partial\s*\^\s*\{?\s*2|\\nabla\s*\^\s*\{?\s*2|\\nabla_\{?\w+\}?\s*\^\s*\{?\s*2|H\s*$|H_)/;

function hessianClaim(text: string, wrt: string, names: LatexNames): ClaimSource {
  const file = new SourceFile('<claim>', text);
  const eq = topLevelEquals(text);
  let start = 0;
  if (eq >= 0) {
    const lhs = text.slice(0, eq).replace(/&\s*$/, '');
    if (!SECOND_DERIVATIVE.test(lhs)) throw new UsageError(`the claim's left side, ${lhs.trim()}, is not a second derivative: write d2L/d${wrt}2 = … (or ∂²L/∂${wrt}², or \\frac{\\partial^2 L}{\\partial ${wrt} \\partial ${wrt}^\\top} in LaTeX), or the right side alone`);
    start = eq + 1;
  }
  try {
    return claimAt(file, start, text.length, wrt, names);
  } catch (e) {
    if (e instanceof ClaimReadError) throw new UserError([e.diagnostic]);
    throw e;
  }
}

/** What `gradc verify --hessian` prints, and its exit status (0 on PASS, 1 on FAIL). */
export function hessianVerifyReport(input: HessianVerifyInput): { text: string; status: number; verdict: Verdict } {
  const { path, text } = input.model;
  const opts = { dimOverrides: new Map(input.dims ?? []), constOverrides: new Map(input.consts ?? []) };
  const model = parseModel(path, text, opts);
  const claim = hessianClaim(input.claim, input.wrt[0], latexNames(model));
  const full = parseClaims(path, text, [claim], opts);
  let verdict = quickHessianVerdict(full.model, input.wrt, full.claims[0], claim.text);
  let sizes: string | undefined;
  if (!verdict) {
    // At small sizes, as for a gradient: a counterexample a person can read (a Hessian has n² entries).
    const smallDims = smallSizes(full.model.dims, opts.dimOverrides);
    sizes = [...smallDims].map(([k, v]) => `${k} = ${v}`).join(', ');
    const small = parseClaims(path, text, [claim], { ...opts, dimOverrides: smallDims });
    verdict = numericHessianVerdict(small.model, input.wrt, small.claims[0], claim.text, { seed: input.seed, runs: input.runs });
  }
  const status = verdict.verdict === 'PASS' ? 0 : 1;
  if (input.json) return { text: JSON.stringify(verdict, null, 2), status, verdict };
  return { text: details(verdict, full.model.loss.name, sizes), status, verdict };
}

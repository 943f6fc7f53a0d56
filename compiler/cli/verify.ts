// `gradc verify`: the command line around compiler/verify — one claim (--claim) or a file of them
// (--claims, one `NAME: EXPR` per line), text or --json, exit 0 when every claim passes.

import { parseModel, parseModelWithClaims, readSource } from '../frontend/index.js';
import type { LowerOptions } from '../frontend/lower.js';
import { formatDiagnostic, PlainError, SourceFile, UserError } from '../source/diagnostics.js';
import type { ParsedArgs } from './args.js';
import { UsageError, numberOption } from './args.js';
import { numericVerdict, quickVerdict, type Verdict } from '../verify/verify.js';
import { fmt } from '../verify/diagnose.js';
import { resolveAdjoints } from '../verify/target.js';
import { claimAt, ClaimReadError, latexNames, splitClaimLine, type ClaimSource } from '../verify/claim-source.js';
import type { LatexNames } from '../frontend/latex.js';
import type { Diagnostic } from '../source/diagnostics.js';
import { hessianVerifyReport } from './verify-hessian.js';

/** A claim to judge, or a line that could not be read as one (its located message). */
type Entry = ClaimSource | { wrt: string; text: string; unreadable: Diagnostic };

/**
 * Claims from a file, one per line: `NAME: EXPR`, or a line of a backward program as `gradc grad` prints it,
 * `dL/dNAME = EXPR` (whose EXPR may use the adjoints of earlier lines, dL/dz2), either side in gradc's
 * notation or in LaTeX. Each claim keeps its real line and column for messages.
 */
export function readClaims(path: string, text: string, names: LatexNames): Entry[] {
  const file = new SourceFile(path, text);
  const out: Entry[] = [];
  let offset = 0;
  for (const line of text.split('\n')) {
    const here = offset;
    offset += line.length + 1;
    if (line.trim() === '' || line.trimStart().startsWith('#') || line.trimStart().startsWith('%')) continue;
    const split = splitClaimLine(line, names);
    const unreadable = (message: string, at = 0) => out.push({ wrt: '?', text: line.trim(), unreadable: { span: { file, start: here + at, end: here + Math.max(at + 1, line.length) }, message } });
    if (!split) { unreadable('expected NAME: EXPR or dL/dNAME = EXPR (a parameter, input or named value, then the claimed gradient)'); continue; }
    if ('error' in split) { unreadable(split.error, Math.max(0, split.at)); continue; }
    try {
      out.push(claimAt(file, here + split.rhsStart, here + line.length, split.wrt, names));
    } catch (e) {
      if (!(e instanceof ClaimReadError)) throw e;
      out.push({ wrt: split.wrt, text: line.slice(split.rhsStart).trim(), unreadable: e.diagnostic });
    }
  }
  if (out.length === 0) throw new PlainError(`${path}: no claims (expected lines NAME: EXPR)`);
  return out;
}

/** One --claim: gradc's notation or LaTeX, with or without its left side (∂L/∂W = …). */
function singleClaim(text: string, wrt: string | undefined, names: LatexNames): ClaimSource {
  if (!text.trim()) throw new UsageError('verify needs --wrt NAME --claim "EXPR" (or --claims FILE)');
  const file = new SourceFile('<claim>', text);
  const split = text.includes('=') ? splitClaimLine(text, names) : undefined;
  const sided = split && !('error' in split) ? split : undefined;
  const name = wrt ?? sided?.wrt;
  if (!name) throw new UsageError('verify needs --wrt NAME --claim "EXPR" (or a claim with its left side, ∂L/∂W = …, or --claims FILE)');
  if (wrt && sided && sided.wrt !== wrt) throw new UsageError(`--wrt ${wrt}, but the claim is about ${sided.wrt}`);
  try {
    return claimAt(file, sided?.rhsStart ?? 0, text.length, name, names);
  } catch (e) {
    if (e instanceof ClaimReadError) throw new UserError([e.diagnostic]);
    throw e;
  }
}

export function runVerify(args: ParsedArgs, modelPath: string, dims: Map<string, number>, consts: Map<string, number> = new Map()): number {
  if (args.options.has('--hessian')) return runVerifyHessian(args, modelPath, dims, consts);
  const claimsFile = args.options.get('--claims')?.[0];
  const claimText = args.options.get('--claim')?.[0];
  if (claimsFile && claimText) throw new UsageError('give either --claim (with --wrt) or --claims FILE, not both');
  if (!claimsFile && !claimText) throw new UsageError('verify needs --wrt NAME --claim "EXPR" (or --claims FILE)');
  const r = verifyReport({
    model: { path: modelPath, text: readSource(modelPath) },
    claims: claimsFile ? { path: claimsFile, text: readSource(claimsFile) } : undefined,
    claim: claimText, wrt: args.options.get('--wrt')?.[0], dims, consts,
    seed: numberOption(args, '--seed', 1, { integer: true, min: 0 }),
    runs: numberOption(args, '--runs', 200, { integer: true, min: 1 }),
    json: args.options.has('--json'),
  });
  console.log(r.text);
  return r.status;
}

function runVerifyHessian(args: ParsedArgs, modelPath: string, dims: Map<string, number>, consts: Map<string, number>): number {
  if (args.options.has('--claims')) throw new UsageError('verify --hessian checks one --claim at a time (--claims FILE is for gradients)');
  const claim = args.options.get('--claim')?.[0];
  const wrt = args.options.get('--wrt') ?? [];
  if (!claim?.trim() || wrt.length < 1 || wrt.length > 2) throw new UsageError('verify --hessian needs --wrt NAME (twice for a cross block) and --claim "EXPR"');
  const r = hessianVerifyReport({
    model: { path: modelPath, text: readSource(modelPath) }, claim, wrt, dims, consts,
    seed: numberOption(args, '--seed', 1, { integer: true, min: 0 }),
    runs: numberOption(args, '--runs', 200, { integer: true, min: 1 }),
    json: args.options.has('--json'),
  });
  console.log(r.text);
  return r.status;
}

export interface VerifyInput {
  readonly model: { readonly path: string; readonly text: string };
  /** A claims file, or one claim (with `wrt`, unless it has its left side). */
  readonly claims?: { readonly path: string; readonly text: string };
  readonly claim?: string;
  readonly wrt?: string;
  readonly dims?: ReadonlyMap<string, number>;
  readonly consts?: ReadonlyMap<string, number>;
  readonly seed: number;
  readonly runs: number;
  readonly json?: boolean;
}

/**
 * What `gradc verify` prints, and its exit status: the one implementation behind the command line and the
 * playground. A mistake in the model, or one --claim that cannot be read, throws as the CLI reports it.
 */
export function verifyReport(input: VerifyInput): { text: string; status: number; verdicts: Verdict[] } {
  const { path: modelPath, text: modelText } = input.model;
  const dims = new Map(input.dims ?? []);
  const opts = { dimOverrides: dims, constOverrides: new Map(input.consts ?? []) };
  const names = latexNames(parseModel(modelPath, modelText, opts)); // a mistake in the model is reported first
  const entries: Entry[] = input.claims ? readClaims(input.claims.path, input.claims.text, names) : [singleClaim(input.claim ?? '', input.wrt, names)];
  // A claim that does not parse or type-check gets its own located verdict; the others are judged as usual.
  // (One --claim that cannot be read is an error of the command, reported as such.)
  const claims = entries.filter((c): c is ClaimSource => !('unreadable' in c));
  const broken = input.claims ? brokenClaims(modelPath, modelText, claims, opts) : new Map<number, string>();
  const verdicts: (Verdict | undefined)[] = entries.map((e) => ('unreadable' in e ? errorVerdict(e, formatDiagnostic(e.unreadable)) : undefined));
  const goodIndex: number[] = [];
  let k = 0;
  entries.forEach((e, i) => {
    if ('unreadable' in e) return;
    if (broken.has(k)) verdicts[i] = errorVerdict(e, broken.get(k)!); else goodIndex.push(i);
    k++;
  });
  const good = goodIndex.map((i) => entries[i] as ClaimSource);
  const full = parseClaims(modelPath, modelText, good, opts);
  goodIndex.forEach((i, k) => { verdicts[i] = quickVerdict(full.model, good[k].wrt, resolveAdjoints(full.model, full.claims[k]), good[k].text, full.claims[k]); });
  let sizes: string | undefined;
  if (verdicts.some((v) => !v)) {
    // Formulas do not depend on the sizes: check at small ones, so counterexamples can be read. Dims of one
    // size stay of one size, so a square matrix stays square (W2 * δ is then still a claim about W2ᵀ).
    const smallDims = smallSizes(full.model.dims, dims);
    sizes = [...smallDims].map(([k, v]) => `${k} = ${v}`).join(', ');
    const small = parseClaims(modelPath, modelText, good, { ...opts, dimOverrides: smallDims });
    goodIndex.forEach((i, k) => {
      verdicts[i] ??= numericVerdict(small.model, good[k].wrt, resolveAdjoints(small.model, small.claims[k]), good[k].text, { seed: input.seed, runs: input.runs }, small.claims[k]);
    });
  }
  const done = verdicts as Verdict[];
  const status = done.every((v) => v.verdict === 'PASS') ? 0 : 1;
  if (input.json) return { text: JSON.stringify(input.claims ? done : done[0], null, 2), status, verdicts: done };
  if (!input.claims) return { text: details(done[0], full.model.loss.name, sizes), status, verdicts: done };
  const lines: string[] = [];
  for (const v of done) {
    lines.push(oneLine(v));
    // The line says the diagnosis; below it, what the single-claim form shows.
    if (v.verdict === 'FAIL') lines.push(details(v, full.model.loss.name, sizes).split('\n').slice(1).filter((l) => !l.startsWith('  diagnosis: ')).join('\n'));
  }
  lines.push(`${done.filter((v) => v.verdict === 'PASS').length} of ${done.length} claims pass`);
  return { text: lines.join('\n'), status, verdicts: done };
}

/** The model with the claims in its scope; a message about a LaTeX claim is moved back into its LaTeX. */
export function parseClaims(modelPath: string, modelText: string, claims: readonly ClaimSource[], opts: LowerOptions): ReturnType<typeof parseModelWithClaims> {
  try {
    return parseModelWithClaims(modelPath, modelText, claims.map((c) => c.source), opts);
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    throw new UserError(e.diagnostics.map((d) => claims.reduce((m, c) => c.remap(m), d)));
  }
}

/** The claims that cannot be read in the model's scope, each with its located messages (by index in `claims`). */
function brokenClaims(modelPath: string, modelText: string, claims: readonly ClaimSource[], opts: LowerOptions): Map<number, string> {
  const broken = new Map<number, string>();
  try {
    parseModelWithClaims(modelPath, modelText, claims.map((c) => c.source), opts);
    return broken;
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
  }
  claims.forEach((c, i) => {
    try {
      parseClaims(modelPath, modelText, [c], opts);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      broken.set(i, e.diagnostics.map(formatDiagnostic).join('\n'));
    }
  });
  return broken;
}

function errorVerdict(c: { wrt: string; text: string }, message: string): Verdict {
  const first = message.split('\n')[0].replace(/^.*?error: /, '');
  return { wrt: c.wrt, claim: c.text, verdict: 'FAIL', method: 'error', message: first, located: message, derived: '' };
}

/**
 * Small distinct sizes for the dims not set on the command line, so that counterexamples can be read; dims
 * of equal size get one small size, so a square matrix stays square. `gradc grade` checks at these too.
 */
export function smallSizes(modelDims: ReadonlyMap<string, { value: number }>, fixed: ReadonlyMap<string, number>): Map<string, number> {
  const out = new Map(fixed);
  const byValue = new Map<number, number>();
  let next = 2;
  for (const [name, d] of modelDims) {
    if (fixed.has(name)) continue;
    if (!byValue.has(d.value)) byValue.set(d.value, Math.min(d.value, next++));
    out.set(name, byValue.get(d.value)!);
  }
  return out;
}

function oneLine(v: Verdict): string {
  const why = v.verdict === 'PASS' ? v.message : v.diagnosis ?? v.message;
  return `${v.verdict} ${v.wrt}: ${v.claim} — ${why}`;
}

export function details(v: Verdict, loss: string, sizes: string | undefined): string {
  const lines = [`${v.verdict}: ${v.message}`];
  if (v.located) return [...lines, ...v.located.split('\n').map((l) => `  ${l}`)].join('\n');
  if (v.diagnosis) lines.push(`  diagnosis: ${v.diagnosis}`);
  if (v.counterexample) {
    const c = v.counterexample;
    lines.push(`  counterexample${sizes ? ` (sizes ${sizes})` : ''}:`);
    for (const [k, val] of Object.entries(c.point)) lines.push(`    ${k} = ${show(val)}`);
    if (c.forward) {
      lines.push('  forward values there:');
      for (const [k, val] of Object.entries(c.forward)) lines.push(`    ${k} = ${show(val)}`);
    }
    lines.push(`  claimed value:      ${show(c.claimed)}`, `  derived value:      ${show(c.derived)}`, `  finite differences: ${show(c.finiteDifference)}`);
  }
  if (v.verdict === 'FAIL' && v.derived) lines.push(`  derived: ${v.derivedName ?? `d${loss}/d${v.wrt}`} = ${v.derived}`);
  return lines.join('\n');
}

function show(v: unknown): string {
  if (typeof v === 'number') return fmt(v);
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  return String(v);
}

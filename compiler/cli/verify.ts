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

interface ClaimSource { wrt: string; text: string; source: SourceFile }

/**
 * Claims from a file, one per line: `NAME: EXPR`, or a line of a backward program as `gradc grad` prints it,
 * `dL/dNAME = EXPR` (whose EXPR may use the adjoints of earlier lines, dL/dz2). Each claim's source keeps
 * its real line and column.
 */
export function readClaims(path: string, text: string): ClaimSource[] {
  const lines = text.split('\n');
  const out: ClaimSource[] = [];
  lines.forEach((line, li) => {
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:(.*)$/.exec(line) ?? /^\s*d[A-Za-z_][A-Za-z0-9_]*\/d([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/.exec(line);
    if (!m) throw new PlainError(`${path}:${li + 1}:1: error: expected NAME: EXPR or dL/dNAME = EXPR (a parameter, input or named value, then the claimed gradient)`);
    // Blank everything but this claim's expression, so positions in messages are the file's own.
    const blanked = lines.map((l, k) => (k === li ? ' '.repeat(line.length - m[2].length) + m[2] : ' '.repeat(l.length))).join('\n');
    out.push({ wrt: m[1], text: m[2].trim(), source: new SourceFile(path, blanked, lines.join('\n')) });
  });
  if (out.length === 0) throw new PlainError(`${path}: no claims (expected lines NAME: EXPR)`);
  return out;
}

export function runVerify(args: ParsedArgs, modelPath: string, dims: Map<string, number>, consts: Map<string, number> = new Map()): number {
  const seed = numberOption(args, '--seed', 1, { integer: true, min: 0 });
  const runs = numberOption(args, '--runs', 200, { integer: true, min: 1 });
  const json = args.options.has('--json');
  const claimsFile = args.options.get('--claims')?.[0];
  const claimText = args.options.get('--claim')?.[0];
  const wrt = args.options.get('--wrt')?.[0];
  let claims: ClaimSource[];
  if (claimsFile) {
    if (claimText) throw new UsageError('give either --claim (with --wrt) or --claims FILE, not both');
    claims = readClaims(claimsFile, readSource(claimsFile));
  } else {
    if (!claimText || !wrt) throw new UsageError('verify needs --wrt NAME --claim "EXPR" (or --claims FILE)');
    claims = [{ wrt, text: claimText, source: new SourceFile('<claim>', claimText) }];
  }
  const modelText = readSource(modelPath);
  const opts = { dimOverrides: dims, constOverrides: consts };
  // A claim that does not parse or type-check gets its own located verdict; the others are judged as usual.
  // (One --claim that cannot be read is an error of the command, reported as such.)
  const broken = claimsFile ? brokenClaims(modelPath, modelText, claims, opts) : new Map<number, string>();
  const good = claims.filter((_, i) => !broken.has(i));
  const verdicts: (Verdict | undefined)[] = claims.map((c, i) => (broken.has(i) ? errorVerdict(c, broken.get(i)!) : undefined));
  const goodIndex = claims.map((_, i) => i).filter((i) => !broken.has(i));
  const full = parseModelWithClaims(modelPath, modelText, good.map((c) => c.source), opts);
  goodIndex.forEach((i, k) => { verdicts[i] = quickVerdict(full.model, claims[i].wrt, resolveAdjoints(full.model, full.claims[k]), claims[i].text, full.claims[k]); });
  let sizes: string | undefined;
  if (verdicts.some((v) => !v)) {
    // Formulas do not depend on the sizes: check at small ones, so counterexamples can be read. Dims of one
    // size stay of one size, so a square matrix stays square (W2 * δ is then still a claim about W2ᵀ).
    const smallDims = smallSizes(full.model.dims, dims);
    sizes = [...smallDims].map(([k, v]) => `${k} = ${v}`).join(', ');
    const small = parseModelWithClaims(modelPath, modelText, good.map((c) => c.source), { ...opts, dimOverrides: smallDims });
    goodIndex.forEach((i, k) => {
      verdicts[i] ??= numericVerdict(small.model, claims[i].wrt, resolveAdjoints(small.model, small.claims[k]), claims[i].text, { seed, runs }, small.claims[k]);
    });
  }
  const done = verdicts as Verdict[];
  if (json) console.log(JSON.stringify(claimsFile ? done : done[0], null, 2));
  else if (claimsFile) {
    for (const v of done) {
      console.log(oneLine(v));
      // The line says the diagnosis; below it, what the single-claim form shows.
      if (v.verdict === 'FAIL') console.log(details(v, full.model.loss.name, sizes).split('\n').slice(1).filter((l) => !l.startsWith('  diagnosis: ')).join('\n'));
    }
    const passed = done.filter((v) => v.verdict === 'PASS').length;
    console.log(`${passed} of ${done.length} claims pass`);
  } else console.log(details(done[0], full.model.loss.name, sizes));
  return done.every((v) => v.verdict === 'PASS') ? 0 : 1;
}

/** The claims that cannot be read in the model's scope, each with its located messages. */
function brokenClaims(modelPath: string, modelText: string, claims: readonly ClaimSource[], opts: LowerOptions): Map<number, string> {
  const broken = new Map<number, string>();
  try {
    parseModelWithClaims(modelPath, modelText, claims.map((c) => c.source), opts);
    return broken;
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
  }
  parseModel(modelPath, modelText, opts); // a mistake in the model itself is reported as such
  claims.forEach((c, i) => {
    try {
      parseModelWithClaims(modelPath, modelText, [c.source], opts);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      broken.set(i, e.diagnostics.map(formatDiagnostic).join('\n'));
    }
  });
  return broken;
}

function errorVerdict(c: ClaimSource, message: string): Verdict {
  const first = message.split('\n')[0].replace(/^.*?error: /, '');
  return { wrt: c.wrt, claim: c.text, verdict: 'FAIL', method: 'error', message: first, located: message, derived: '' };
}

/** Small distinct sizes for the dims not set on the command line; dims of equal size get one small size. */
function smallSizes(modelDims: ReadonlyMap<string, { value: number }>, fixed: ReadonlyMap<string, number>): Map<string, number> {
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

function details(v: Verdict, loss: string, sizes: string | undefined): string {
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
  if (v.verdict === 'FAIL' && v.derived) lines.push(`  derived: d${loss}/d${v.wrt} = ${v.derived}`);
  return lines.join('\n');
}

function show(v: unknown): string {
  if (typeof v === 'number') return fmt(v);
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  return String(v);
}

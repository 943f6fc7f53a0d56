// `gradc verify`: the command line around compiler/verify — one claim (--claim) or a file of them
// (--claims, one `NAME: EXPR` per line), text or --json, exit 0 when every claim passes.

import { parseModelWithClaims, readSource } from '../frontend/index.js';
import { PlainError, SourceFile } from '../source/diagnostics.js';
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
    out.push({ wrt: m[1], text: m[2].trim(), source: new SourceFile(path, blanked) });
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
  const full = parseModelWithClaims(modelPath, modelText, claims.map((c) => c.source), { dimOverrides: dims, constOverrides: consts });
  const verdicts: (Verdict | undefined)[] = claims.map((c, i) => quickVerdict(full.model, c.wrt, resolveAdjoints(full.model, full.claims[i]), c.text));
  let smallDims: Map<string, number> | undefined;
  if (verdicts.some((v) => !v)) {
    // Formulas do not depend on the sizes: check at small, distinct ones, so counterexamples can be read.
    smallDims = new Map(dims);
    let next = 2;
    for (const name of full.model.dims.keys()) if (!dims.has(name)) smallDims.set(name, Math.min(full.model.dims.get(name)!.value, next++));
    const small = parseModelWithClaims(modelPath, modelText, claims.map((c) => c.source), { dimOverrides: smallDims, constOverrides: consts });
    claims.forEach((c, i) => { verdicts[i] ??= numericVerdict(small.model, c.wrt, resolveAdjoints(small.model, small.claims[i]), c.text, { seed, runs }); });
  }
  const done = verdicts as Verdict[];
  const sizes = smallDims && smallDims.size ? [...smallDims].map(([k, v]) => `${k} = ${v}`).join(', ') : undefined;
  if (json) console.log(JSON.stringify(claimsFile ? done : done[0], null, 2));
  else if (claimsFile) for (const v of done) console.log(oneLine(v));
  else console.log(details(done[0], full.model.loss.name, sizes));
  return done.every((v) => v.verdict === 'PASS') ? 0 : 1;
}

function oneLine(v: Verdict): string {
  const why = v.verdict === 'PASS' ? v.message : v.diagnosis ?? v.message;
  return `${v.verdict} ${v.wrt}: ${v.claim} — ${why}`;
}

function details(v: Verdict, loss: string, sizes: string | undefined): string {
  const lines = [`${v.verdict}: ${v.message}`];
  if (v.diagnosis) lines.push(`  diagnosis: ${v.diagnosis}`);
  if (v.counterexample) {
    const c = v.counterexample;
    lines.push(`  counterexample (shrunk by fast-check${sizes ? `; sizes ${sizes}` : ''}):`);
    for (const [k, val] of Object.entries(c.point)) lines.push(`    ${k} = ${show(val)}`);
    lines.push(`  claimed value:      ${show(c.claimed)}`, `  derived value:      ${show(c.derived)}`, `  finite differences: ${show(c.finiteDifference)}`);
  }
  if (v.verdict === 'FAIL') lines.push(`  derived: d${loss}/d${v.wrt} = ${v.derived}`);
  return lines.join('\n');
}

function show(v: unknown): string {
  if (typeof v === 'number') return fmt(v);
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  return String(v);
}

// Command-line parsing: `gradc COMMAND MODEL.nn [options]`. Wrong usage exits with status 2.

import { parseArgs as nodeParseArgs } from 'node:util';
import { nearest } from '../source/diagnostics.js';

/** Wrong usage (exit 2). `help`: what to print after the message instead of the list of commands. */
export class UsageError extends Error {
  constructor(message: string, readonly help?: string) { super(message); }
}

export interface OptionSpec { readonly flag: boolean; readonly repeat?: boolean }

export interface ParsedArgs {
  command: string;
  positional: string[];
  options: Map<string, string[]>;
}

/**
 * Node's own parser (util.parseArgs) over the command's option table, with gradc's messages: an unknown
 * option gets the nearest known one as a suggestion, an option given twice that cannot repeat is refused.
 * `--name value`, `--name=value` and `-o value` all work.
 */
export function parseArgs(argv: readonly string[], specs: Readonly<Record<string, OptionSpec>>): ParsedArgs {
  const [command, ...rest] = argv;
  if (!command) throw new UsageError('missing command');
  const key = (flag: string) => flag.replace(/^-+/, '');
  const options = Object.fromEntries(Object.entries(specs).map(([flag, spec]) => [key(flag), {
    type: spec.flag ? 'boolean' as const : 'string' as const, multiple: true,
    ...(/^-[A-Za-z]$/.test(flag) ? { short: flag[1] } : {}),
  }]));
  // An option that takes a value takes the next argument, whatever it starts with: a claim is often
  // "-y * x * …", a learning rate may be negative. Joined as --name=value, Node's parser reads it so.
  const args: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const spec = specs[rest[i]];
    if (spec && !spec.flag && i + 1 < rest.length && rest[i + 1].startsWith('-')) args.push(`--${key(rest[i])}=${rest[++i]}`);
    else args.push(rest[i]);
  }
  let parsed: ReturnType<typeof nodeParseArgs>;
  try {
    parsed = nodeParseArgs({ args, options, strict: true, allowPositionals: true, tokens: true });
  } catch (e) {
    throw usageOf(e as Error & { code?: string }, command, specs);
  }
  const flagOf = new Map(Object.keys(specs).map((flag) => [key(flag), flag]));
  const out = new Map<string, string[]>();
  for (const t of parsed.tokens ?? []) {
    if (t.kind !== 'option') continue;
    const flag = flagOf.get(t.name)!;
    const list = out.get(flag) ?? [];
    if (list.length && !specs[flag].repeat) throw new UsageError(`${flag} given twice`, `gradc ${command} --help lists its options; the reference is docs/cli.md`);
    list.push(t.value ?? 'true');
    out.set(flag, list);
  }
  return { command, positional: parsed.positionals, options: out };
}

/** Node's parse errors, said as gradc says them. */
function usageOf(e: Error & { code?: string }, command: string, specs: Readonly<Record<string, OptionSpec>>): Error {
  const help = `gradc ${command} --help lists its options; the reference is docs/cli.md`;
  // Node names the option as written, sometimes with its short form or a placeholder: '-o, --o <value>'.
  const named = /'(-[^',= ]*)/.exec(e.message)?.[1];
  const flag = named && (Object.keys(specs).find((f) => f === named || `-${f}` === named || f === `-${named.replace(/^-+/, '')}`) ?? named);
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && named) {
    const guess = nearest(named, Object.keys(specs));
    return new UsageError(`unknown option ${named} for '${command}'${guess ? `: did you mean ${guess}?` : ''}`, help);
  }
  if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag) {
    if (/argument missing/.test(e.message)) return new UsageError(`${flag} needs a value`, help);
    if (/ambiguous/.test(e.message)) return new UsageError(`${flag} is followed by something that looks like an option; for a value that starts with a dash write ${flag}=VALUE`, help);
    return new UsageError(`${flag} ${specs[flag]?.flag ? 'takes no value' : 'needs a value'}`, help);
  }
  return e.code?.startsWith('ERR_PARSE_ARGS') ? new UsageError(e.message.split('\n')[0], help) : e;
}

/** --dim d=2 (repeatable), or several at once: --dim d=2,n=3. */
export function dimOverrides(args: ParsedArgs): Map<string, number> {
  const out = new Map<string, number>();
  for (const d of (args.options.get('--dim') ?? []).flatMap((v) => v.split(','))) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(\d+)\s*$/.exec(d);
    if (!m || Number(m[2]) <= 0) throw new UsageError(`--dim ${d}: expected NAME=VALUE with a positive integer VALUE (several: --dim d=2,n=3)`);
    out.set(m[1], Number(m[2]));
  }
  return out;
}

/** --const lambda=0.1 (repeatable, or several at once): a new value for a `const` of the model. */
export function constOverrides(args: ParsedArgs): Map<string, number> {
  const out = new Map<string, number>();
  for (const d of (args.options.get('--const') ?? []).flatMap((v) => v.split(','))) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=([^=]+)$/.exec(d);
    const v = m ? Number(m[2]) : NaN;
    if (!m || m[2].trim() === '' || !Number.isFinite(v)) throw new UsageError(`--const ${d}: expected NAME=NUMBER (several: --const lambda=0.1,margin=1)`);
    out.set(m[1], v);
  }
  return out;
}

export function choice<T extends string>(args: ParsedArgs, name: string, allowed: readonly T[], fallback: T): T {
  const v = args.options.get(name)?.[0] ?? fallback;
  if (!allowed.includes(v as T)) throw new UsageError(`${name} must be one of ${allowed.join(', ')}, got '${v}'`);
  return v as T;
}

export function numberOption(args: ParsedArgs, name: string, fallback: number, opts: { integer?: boolean; min?: number } = {}): number {
  const raw = args.options.get(name)?.[0];
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || (opts.integer && !Number.isInteger(v)) || (opts.min !== undefined && v < opts.min)) {
    throw new UsageError(`${name} must be ${opts.integer ? 'an integer' : 'a number'}${opts.min !== undefined ? ` ≥ ${opts.min}` : ''}, got '${raw}'`);
  }
  return v;
}

/** The flags `gradc train` passes on to the trainer's own command line (runtime/cli.ts). */
export const TRAIN_OPTIONS = ['--data', '--test', '--split', '--epochs', '--batch', '--lr', '--optimizer', '--schedule', '--seed', '--save', '--resume', '--predict', '--l2', '--precision', '--threads'];

/**
 * A command's options, read from its help: one line `  --name VALUE   what it does` per option (`-o FILE`,
 * `--flag` with no VALUE for a flag, "repeatable" in the text for an option given several times). The help
 * a person reads is then the table the parser uses, so the two cannot disagree.
 */
export function optionsFromHelp(help: readonly string[]): Record<string, OptionSpec> {
  const out: Record<string, OptionSpec> = {};
  for (const line of help) {
    const m = /^ {2}(-{1,2}[A-Za-z][\w-]*)( ["A-Z][^\s]*)?(?:\s{2,}(.*))?$/.exec(line);
    if (!m) continue;
    out[m[1]] = { flag: m[2] === undefined, ...(/repeatable/.test(m[3] ?? '') ? { repeat: true } : {}) };
  }
  return out;
}

// Command-line parsing: `gradc COMMAND MODEL.nn [options]`. Wrong usage exits with status 2.

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

export function parseArgs(argv: readonly string[], specs: Readonly<Record<string, OptionSpec>>): ParsedArgs {
  const [command, ...rest] = argv;
  if (!command) throw new UsageError('missing command');
  const positional: string[] = [];
  const options = new Map<string, string[]>();
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (!a.startsWith('-') || a === '-') { positional.push(a); continue; }
    const [name, inline] = a.includes('=') && a.startsWith('--') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const spec = specs[name];
    if (!spec) {
      const guess = nearest(name, Object.keys(specs));
      throw new UsageError(`unknown option ${name} for '${command}'${guess ? `: did you mean ${guess}?` : ''}`, `gradc ${command} --help lists its options; the reference is docs/cli.md`);
    }
    let value = 'true';
    if (!spec.flag) {
      value = inline ?? rest[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`);
    }
    const list = options.get(name) ?? [];
    if (list.length && !spec.repeat) throw new UsageError(`${name} given twice`);
    list.push(value);
    options.set(name, list);
  }
  return { command, positional, options };
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

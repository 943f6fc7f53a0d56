// The front end in one call: text → tokens → statements → a lowered, shape-checked Model, or UserError.

import { readFileSync } from 'node:fs';
import { DiagnosticBag, PlainError, SourceFile, UserError } from '../source/diagnostics.js';
import { lex } from './lexer.js';
import { lower, LowerOptions } from './lower.js';
import type { Model } from './model.js';
import { parse, parseExpression } from './parser.js';
import type { Node } from '../ir/node.js';

/**
 * The text of a model file as the lexer should see it: without a UTF-8 byte-order mark (editors on Windows
 * write one), and refused in one line if it is not text at all (a binary file would print a screen of noise).
 */
export function modelText(path: string, text: string): string {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const sample = text.slice(0, 4096);
  const binary = [...sample].filter((c) => c === '\0' || c === '\ufffd' || (c < ' ' && c !== '\n' && c !== '\r' && c !== '\t')).length;
  if (sample.includes('\0') || binary > sample.length / 20) throw new PlainError(`${path}: not a text model file (it contains binary data); a model is a .nn text file`);
  return text;
}

export function parseModel(path: string, rawText: string, opts: LowerOptions = {}): Model {
  const text = modelText(path, rawText);
  const file = new SourceFile(path, text);
  const diags = new DiagnosticBag();
  const tokens = lex(file, diags);
  const statements = parse(tokens, diags);
  const model = lower(file, statements, diags, opts);
  diags.throwIfAny();
  if (!model) throw new UserError(diags.sorted());
  checkDimOverrides(model, opts);
  return model;
}

function checkDimOverrides(model: Model, opts: LowerOptions): void {
  for (const name of opts.dimOverrides?.keys() ?? []) {
    if (!model.dims.has(name)) throw new PlainError(`--dim ${name}: the model has no dim '${name}' (its dims: ${[...model.dims.keys()].join(', ') || 'none'})`);
  }
  for (const name of opts.constOverrides?.keys() ?? []) {
    if (!model.consts.has(name)) throw new PlainError(`--const ${name}: the model has no const '${name}' (its consts: ${[...model.consts.keys()].join(', ') || 'none'}; declare one with const ${name} = 0.01)`);
  }
}

/** A model plus extra expressions in its scope (the claims of `gradc verify`), each from its own source. */
export function parseModelWithClaims(path: string, rawText: string, claims: readonly SourceFile[], opts: LowerOptions = {}): { model: Model; claims: Node[] } {
  const file = new SourceFile(path, modelText(path, rawText));
  const diags = new DiagnosticBag();
  const statements = parse(lex(file, diags), diags);
  const exprs = claims.map((c) => parseExpression(lex(c, diags, { adjointNames: true }), diags));
  let nodes: (Node | null)[] = [];
  const present = exprs.filter((e): e is NonNullable<typeof e> => e !== undefined);
  const model = lower(file, statements, diags, { ...opts, extraExpressions: present, onExtra: (n) => { nodes = n; } });
  diags.throwIfAny();
  if (!model || nodes.some((n) => !n)) throw new UserError(diags.sorted());
  checkDimOverrides(model, opts);
  return { model, claims: nodes as Node[] };
}

export function readSource(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new PlainError(`${path}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

export function loadModel(path: string, opts: LowerOptions = {}): Model {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new PlainError(`${path}: cannot read the model file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return parseModel(path, text, opts);
}

export type { Model } from './model.js';

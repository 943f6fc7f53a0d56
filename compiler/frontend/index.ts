// The front end in one call: text → tokens → statements → a lowered, shape-checked Model, or UserError.

import { readFileSync } from 'node:fs';
import { DiagnosticBag, PlainError, SourceFile, UserError } from '../source/diagnostics.js';
import { lex } from './lexer.js';
import { lower, LowerOptions } from './lower.js';
import type { Model } from './model.js';
import { parse } from './parser.js';

export function parseModel(path: string, text: string, opts: LowerOptions = {}): Model {
  const file = new SourceFile(path, text);
  const diags = new DiagnosticBag();
  const tokens = lex(file, diags);
  const statements = parse(tokens, diags);
  const model = lower(file, statements, diags, opts);
  diags.throwIfAny();
  if (!model) throw new UserError(diags.sorted());
  for (const name of opts.dimOverrides?.keys() ?? []) {
    if (!model.dims.has(name)) throw new PlainError(`--dim ${name}: the model has no dim '${name}' (its dims: ${[...model.dims.keys()].join(', ') || 'none'})`);
  }
  return model;
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

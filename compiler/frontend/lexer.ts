// Lexer: .nn text → tokens with exact offsets. Newlines end statements, except inside ( or [ and after a
// trailing binary operator, where the expression continues on the next line (SPEC §1).

import { DiagnosticBag, SourceFile, Span, span } from '../source/diagnostics.js';

export type TokenKind = 'ident' | 'number' | 'op' | 'newline' | 'eof';
export interface Token { readonly kind: TokenKind; readonly text: string; readonly span: Span; readonly value?: number }

const OPERATORS = ['.*', './', '.^', '+', '-', '*', '/', '^', "'", '(', ')', '[', ']', ',', '=', '~', ':'];
/** After one of these at the end of a line, the statement continues on the next line. */
const CONTINUES = new Set(['+', '-', '*', '/', '^', '.*', './', '.^', ',', '=', '~', ':', '(', '[']);

/**
 * Brackets open at once, at most. Deeper nesting is refused where it starts, the same on every stack size
 * (a parser that recursed until the stack ran out would accept it in one process and not in another).
 */
export const MAX_NESTING = 200;

/** `adjointNames`: in a claim, `dL/dz2` (no spaces) is one name, the adjoint the backward program prints. */
export function lex(file: SourceFile, diags: DiagnosticBag, opts: { adjointNames?: boolean } = {}): Token[] {
  const text = file.text;
  const tokens: Token[] = [];
  let depth = 0;
  let i = 0;
  const push = (kind: TokenKind, start: number, end: number, value?: number) =>
    tokens.push({ kind, text: text.slice(start, end), span: span(file, start, end), value });

  while (i < text.length) {
    const c = text[i];
    if (c === '#') { while (i < text.length && text[i] !== '\n') i++; continue; }
    if (c === '\n') {
      const last = tokens[tokens.length - 1];
      const continues = depth > 0 || (last !== undefined && last.kind === 'op' && CONTINUES.has(last.text));
      if (!continues && last !== undefined && last.kind !== 'newline') push('newline', i, i + 1);
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') { i++; continue; }
    if (/[A-Za-z_]/.test(c)) {
      const start = i;
      while (i < text.length && /[A-Za-z0-9_]/.test(text[i])) i++;
      const m = opts.adjointNames && text[start] === 'd' ? /^\/d[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i)) : null;
      if (m) i += m[0].length;
      push('ident', start, i);
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const start = i;
      while (/[0-9]/.test(text[i] ?? '')) i++;
      // `2.*x` is 2 .* x, as in mathjs: a dot followed by an operator belongs to the operator.
      if (text[i] === '.' && !/[*/^]/.test(text[i + 1] ?? '')) { i++; while (/[0-9]/.test(text[i] ?? '')) i++; }
      if (/[eE]/.test(text[i] ?? '') && /[0-9]/.test(text[i + 1] ?? '') || (/[eE]/.test(text[i] ?? '') && /[+-]/.test(text[i + 1] ?? '') && /[0-9]/.test(text[i + 2] ?? ''))) {
        i += 2;
        while (/[0-9]/.test(text[i] ?? '')) i++;
      }
      if (/[A-Za-z_]/.test(text[i] ?? '')) {
        const end = i; while (/[A-Za-z0-9_]/.test(text[i] ?? '')) i++;
        diags.error(span(file, start, i), `'${text.slice(start, i)}' is not a number or a name: write ${text.slice(start, end)} * ${text.slice(end, i)} for a product, or start a name with a letter`);
        push('number', start, i, NaN); // keeps the parse going without a second, confusing error
        continue;
      }
      push('number', start, i, Number(text.slice(start, i)));
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op !== undefined) {
      if ((op === '(' || op === '[') && ++depth === MAX_NESTING + 1) {
        diags.error(span(file, i, i + 1), `nested too deeply: more than ${MAX_NESTING} brackets open at once; write the inner parts as values of their own`);
      }
      if ((op === ')' || op === ']') && depth > 0) depth--;
      push('op', i, i + op.length);
      i += op.length;
      continue;
    }
    const ch = String.fromCodePoint(text.codePointAt(i)!);
    diags.error(span(file, i, i + ch.length), `unexpected character '${ch}'${hintFor(ch)}`);
    i += ch.length;
  }
  const last = tokens[tokens.length - 1];
  if (last !== undefined && last.kind !== 'newline') push('newline', text.length, text.length);
  push('eof', text.length, text.length);
  return tokens;
}

function hintFor(ch: string): string {
  const hints: Record<string, string> = {
    '×': ": write * for a product", '·': ': write * for a product', '−': ': write - (ASCII minus)',
    'ᵀ': ": write A' for a transpose", ';': ': one statement per line', '{': ': use ( ) for grouping', '}': ': use ( ) for grouping',
    '"': ': the language has no strings', '%': ': there is no % operator', '!': ': there is no ! operator',
  };
  return hints[ch] ?? '';
}

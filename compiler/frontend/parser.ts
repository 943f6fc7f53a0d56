// Parser: tokens → statements. Expressions follow mathjs precedence (low to high):
// + -  <  * / .* ./  <  unary - +  <  ^ .^ (right-associative)  <  postfix '  <  call, ( ).
// A syntax error is reported once per statement; parsing resumes at the next line.

import { DiagnosticBag, join, nearest, Span } from '../source/diagnostics.js';
import type { NamedArg, BinaryOp, Expr, Ident, Init, ShapeAst, SizeRef, Statement } from './ast.js';
export type { Expr };
import type { Token } from './lexer.js';

class SyntaxError_ extends Error { constructor(readonly span: Span, message: string) { super(message); } }

export function parse(tokens: Token[], diags: DiagnosticBag): Statement[] {
  const p = new Parser(tokens);
  const out: Statement[] = [];
  while (!p.at('eof')) {
    if (p.at('newline')) { p.next(); continue; }
    const start = p.mark();
    try {
      out.push(p.statement());
    } catch (e) {
      if (!(e instanceof SyntaxError_)) throw e;
      diags.error(e.span, e.message);
      out.push(p.broken(start));
      p.skipLine();
    }
  }
  return out;
}

/** One expression filling the whole token list (a claim for `gradc verify`), or undefined after a diagnostic. */
export function parseExpression(tokens: Token[], diags: DiagnosticBag): Expr | undefined {
  const p = new Parser(tokens);
  while (p.at('newline')) p.next();
  try {
    if (p.at('eof')) p.fail(p.peek(), 'expected an expression, found nothing');
    const e = p.expr();
    while (p.at('newline')) p.next();
    if (!p.at('eof')) p.fail(p.peek(), `unexpected ${p.describe(p.peek())} after the expression`);
    return e;
  } catch (e) {
    if (!(e instanceof SyntaxError_)) throw e;
    diags.error(e.span, e.message);
    return undefined;
  }
}

const KEYWORDS = new Set(['model', 'dim', 'const', 'input', 'param', 'fn', 'output', 'loss']);

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  peek(k = 0): Token { return this.tokens[Math.min(this.i + k, this.tokens.length - 1)]; }
  at(kind: Token['kind'], text?: string): boolean {
    const t = this.peek();
    return t.kind === kind && (text === undefined || t.text === text);
  }
  next(): Token { const t = this.peek(); if (this.i < this.tokens.length - 1) this.i++; return t; }
  skipLine(): void { while (!this.at('eof') && !this.at('newline')) this.next(); }
  mark(): number { return this.i; }
  /** What a statement that failed to parse meant to define: `param W: …` → W, `z = …` → z. */
  broken(start: number): Statement {
    const [a, b, c] = [this.tokens[start], this.tokens[start + 1], this.tokens[start + 2]];
    const names: Ident[] = [];
    let role: string | undefined;
    if (a.kind === 'ident' && KEYWORDS.has(a.text) && b?.kind === 'ident') {
      role = a.text;
      if (a.text === 'dim') {
        for (let k = start + 1; k < this.tokens.length && this.tokens[k].kind !== 'newline' && this.tokens[k].kind !== 'eof'; k++) {
          if (this.tokens[k].kind === 'ident' && this.tokens[k + 1]?.text === '=') names.push({ name: this.tokens[k].text, span: this.tokens[k].span });
        }
      } else if (a.text !== 'model') names.push({ name: b.text, span: b.span });
    } else if (a.kind === 'ident' && b?.kind === 'op' && b.text === '=') names.push({ name: a.text, span: a.span });
    else if (a.kind === 'ident' && b?.kind === 'ident' && (c?.text === ':' || c?.text === '=')) {
      names.push({ name: b.text, span: b.span });
      role = nearest(a.text, KEYWORDS); // `los L = …` meant a loss: no second "model has no loss" error
    }
    return { kind: 'broken', names, role, span: a.span };
  }
  fail(t: Token, message: string): never {
    // At the end of a line or file, point just after the last token, where something is missing.
    if ((t.kind === 'newline' || t.kind === 'eof') && this.i > 0) {
      const prev = this.tokens[this.tokens.indexOf(t) - 1];
      if (prev && prev.kind !== 'newline') throw new SyntaxError_({ file: prev.span.file, start: prev.span.end, end: prev.span.end + 1 }, message);
    }
    throw new SyntaxError_(t.span, message);
  }
  describe(t: Token): string {
    return t.kind === 'newline' ? 'the end of the line' : t.kind === 'eof' ? 'the end of the file' : `'${t.text}'`;
  }
  expectOp(text: string, what: string): Token {
    if (!this.at('op', text)) this.fail(this.peek(), `expected '${text}' ${what}, found ${this.describe(this.peek())}`);
    return this.next();
  }
  ident(what: string): Ident {
    const t = this.peek();
    if (t.kind !== 'ident') this.fail(t, `expected ${what}, found ${this.describe(t)}`);
    this.next();
    return { name: t.text, span: t.span };
  }
  endOfStatement(): Span {
    const t = this.peek();
    if (t.kind !== 'newline' && t.kind !== 'eof') {
      const hint = t.kind === 'ident' || t.kind === 'number' || t.text === '('
        ? ': an operator is missing (implicit multiplication is not allowed; write *)' : '';
      this.fail(t, `unexpected ${this.describe(t)} after the end of the statement${hint}`);
    }
    return this.tokens[this.i - 1].span;
  }

  statement(): Statement {
    const first = this.peek();
    // A keyword is a keyword only when a name follows it, so `loss = …` still defines an intermediate.
    const kw = first.kind === 'ident' && KEYWORDS.has(first.text) && this.peek(1).kind === 'ident' ? first.text : undefined;
    if (kw !== undefined) this.next();
    let stmt: Statement;
    switch (kw) {
      case 'model': { const name = this.ident('a model name'); stmt = { kind: 'model', name, span: first.span }; break; }
      case 'dim': stmt = this.dim(first); break;
      case 'const': {
        const name = this.ident('a constant name');
        this.expectOp('=', `after the constant name (const ${name.name} = 0.01)`);
        const v = this.signedNumber(`a number (const ${name.name} = 0.01)`);
        stmt = { kind: 'const', name, value: v.value, valueSpan: v.span, span: first.span };
        break;
      }
      case 'input': {
        const name = this.ident('an input name');
        this.expectOp(':', `after the input name (input ${name.name}: [d])`);
        const shape = this.shape();
        stmt = { kind: 'input', name, shape, span: first.span };
        break;
      }
      case 'param': stmt = this.param(first); break;
      case 'fn': stmt = this.fn(first); break;
      case 'output': case 'loss': {
        const name = this.ident(`a ${kw} name`);
        this.expectOp('=', `after the ${kw} name`);
        stmt = { kind: 'let', role: kw, name, expr: this.expr(), span: first.span };
        break;
      }
      default: {
        if (first.kind !== 'ident') this.fail(first, `expected a statement (model, dim, const, input, param, fn, output, loss or NAME = EXPR), found ${this.describe(first)}`);
        const name = this.ident('a name');
        if (this.peek().kind === 'ident') {
          const guess = nearest(name.name, KEYWORDS);
          this.fail(first, `unknown statement '${name.name}'${guess ? `: did you mean ${guess}?` : ': statements are model, dim, const, input, param, fn, output, loss or NAME = EXPR (docs/language.md)'}`);
        }
        if (!this.at('op', '=')) {
          if (this.at('op', ':')) this.fail(this.peek(), `'${name.name}: …' declares nothing: write 'input ${name.name}: …' or 'param ${name.name}: …'`);
          this.fail(this.peek(), `expected '=' after '${name.name}' (NAME = EXPR), found ${this.describe(this.peek())}`);
        }
        this.next();
        stmt = { kind: 'let', role: 'intermediate', name, expr: this.expr(), span: first.span };
      }
    }
    const end = this.endOfStatement();
    return { ...stmt, span: join(stmt.span, end) };
  }

  dim(first: Token): Statement {
    const entries: { name: Ident; value: number; valueSpan: Span }[] = [];
    do {
      const name = this.ident('a dim name');
      this.expectOp('=', `after the dim name (dim ${name.name} = 10)`);
      const neg = this.at('op', '-') ? this.next() : undefined;
      const t = this.peek();
      if (t.kind !== 'number') this.fail(t, `a dim must be a positive integer, found ${this.describe(t)}`);
      this.next();
      const valueSpan = neg ? join(neg.span, t.span) : t.span;
      entries.push({ name, value: neg ? -t.value! : t.value!, valueSpan });
    } while (this.at('op', ',') && this.next());
    return { kind: 'dim', entries, span: first.span };
  }

  param(first: Token): Statement {
    const name = this.ident('a parameter name');
    this.expectOp(':', `after the parameter name (param ${name.name}: [n, d] ~ xavier)`);
    const shape = this.shape();
    let init: Init | undefined, initSpan: Span | undefined;
    if (this.at('op', '=')) {
      const eq = this.next();
      const v = this.signedNumber('a constant initial value (param b: [n] = 0)');
      init = { kind: 'const', value: v.value };
      initSpan = join(eq.span, v.span);
    } else if (this.at('op', '~')) {
      const tilde = this.next();
      const kind = this.ident('an initializer (xavier, he, normal(mean, std), uniform(lo, hi))');
      if (kind.name === 'xavier' || kind.name === 'he') init = { kind: kind.name };
      else if (kind.name === 'normal' || kind.name === 'uniform') {
        this.expectOp('(', `after ${kind.name}`);
        const a = this.signedNumber('a number');
        this.expectOp(',', `between the two arguments of ${kind.name}`);
        const b = this.signedNumber('a number');
        const close = this.expectOp(')', `to close ${kind.name}(…)`);
        if (kind.name === 'normal') {
          if (!(b.value > 0)) this.fail(b.tok, `the standard deviation of normal(mean, std) must be positive, found ${b.value}`);
          init = { kind: 'normal', mean: a.value, std: b.value };
        } else {
          if (!(b.value > a.value)) throw new SyntaxError_(join(a.span, b.span), `uniform(lo, hi) needs lo < hi, found uniform(${a.value}, ${b.value})`);
          init = { kind: 'uniform', lo: a.value, hi: b.value };
        }
        initSpan = join(tilde.span, close.span);
      } else this.fail({ ...this.tokens[this.i - 1] }, `unknown initializer '${kind.name}': use xavier, he, normal(mean, std) or uniform(lo, hi)`);
      initSpan ??= join(tilde.span, kind.span);
    }
    return { kind: 'param', name, shape, init, initSpan, span: first.span };
  }

  signedNumber(what: string): { value: number; span: Span; tok: Token } {
    const neg = this.at('op', '-') ? this.next() : undefined;
    const t = this.peek();
    if (t.kind !== 'number') this.fail(t, `expected ${what}, found ${this.describe(t)}`);
    this.next();
    return { value: neg ? -t.value! : t.value!, span: neg ? join(neg.span, t.span) : t.span, tok: t };
  }

  fn(first: Token): Statement {
    const name = this.ident('a function name');
    this.expectOp('(', `after the function name (fn ${name.name}(t) = …)`);
    const params: Ident[] = [];
    if (!this.at('op', ')')) {
      do params.push(this.ident('a parameter name')); while (this.at('op', ',') && this.next());
    }
    this.expectOp(')', 'to close the parameter list');
    this.expectOp('=', `before the body of fn ${name.name}`);
    return { kind: 'fn', name, params, body: this.expr(), span: first.span };
  }

  shape(): ShapeAst {
    const t = this.peek();
    if (t.kind === 'ident' && t.text === 'scalar') { this.next(); return { kind: 'tensor', sizes: [], span: t.span }; }
    if (t.kind === 'ident' && t.text === 'class') {
      this.next();
      this.expectOp('(', 'after class (class(K))');
      const k = this.size();
      const close = this.expectOp(')', 'to close class(…)');
      return { kind: 'class', k, span: join(t.span, close.span) };
    }
    if (!this.at('op', '[')) this.fail(t, `expected a shape ([d], [n, d], [] or scalar, or class(K)), found ${this.describe(t)}`);
    this.next();
    const sizes: SizeRef[] = [];
    if (!this.at('op', ']')) {
      do sizes.push(this.size()); while (this.at('op', ',') && this.next());
    }
    const close = this.expectOp(']', 'to close the shape');
    return { kind: 'tensor', sizes, span: join(t.span, close.span) };
  }

  size(): SizeRef {
    const t = this.peek();
    if (t.kind === 'ident') { this.next(); return { text: t.text, span: t.span }; }
    if (t.kind === 'number') { this.next(); return { text: t.text, span: t.span, literal: t.value }; }
    if (t.kind === 'op' && t.text === '-' && this.peek(1).kind === 'number') {
      this.next(); const n = this.next();
      return { text: '-' + n.text, span: join(t.span, n.span), literal: -n.value! };
    }
    this.fail(t, `expected a size (a dim name or a positive integer), found ${this.describe(t)}`);
  }

  // ---- expressions -------------------------------------------------------------------------------
  expr(): Expr { return this.additive(); }

  additive(): Expr {
    let left = this.multiplicative();
    while (this.at('op', '+') || this.at('op', '-')) {
      const op = this.next();
      const right = this.multiplicative();
      left = { kind: 'binary', op: op.text as BinaryOp, left, right, span: join(left.span, right.span), opSpan: op.span };
    }
    return left;
  }

  multiplicative(): Expr {
    let left = this.unary();
    while (['*', '/', '.*', './'].some((o) => this.at('op', o))) {
      const op = this.next();
      const right = this.unary();
      left = { kind: 'binary', op: op.text as BinaryOp, left, right, span: join(left.span, right.span), opSpan: op.span };
    }
    return left;
  }

  unary(): Expr {
    if (this.at('op', '-') || this.at('op', '+')) {
      const op = this.next();
      const arg = this.unary();
      return { kind: 'unary', op: op.text as '-' | '+', arg, span: join(op.span, arg.span) };
    }
    return this.power();
  }

  power(): Expr {
    const base = this.postfix();
    if (this.at('op', '^') || this.at('op', '.^')) {
      const op = this.next();
      const exponent = this.unary(); // right-associative, and `2 ^ -1` is allowed as in mathjs
      return { kind: 'binary', op: op.text as BinaryOp, left: base, right: exponent, span: join(base.span, exponent.span), opSpan: op.span };
    }
    return base;
  }

  postfix(): Expr {
    let e = this.primary();
    for (;;) {
      if (this.at('op', "'")) {
        const q = this.next();
        e = { kind: 'transpose', arg: e, span: join(e.span, q.span) };
      } else if (this.at('op', '[')) {
        this.next();
        if (this.at('op', ']')) this.fail(this.peek(), 'expected an index inside [ ] (a class label or an integer, 0-based)');
        const index = this.expr();
        const close = this.expectOp(']', 'to close the index');
        e = { kind: 'index', arg: e, index, span: join(e.span, close.span) };
      } else return e;
    }
  }

  primary(): Expr {
    const t = this.peek();
    if (t.kind === 'number') { this.next(); return { kind: 'num', value: t.value!, span: t.span }; }
    if (t.kind === 'ident') {
      this.next();
      if (this.at('op', '(')) {
        this.next();
        const args: Expr[] = [];
        const named: NamedArg[] = [];
        if (!this.at('op', ')')) {
          do {
            if (this.peek().kind === 'ident' && this.peek(1).kind === 'op' && this.peek(1).text === '=') {
              const key = this.next();
              this.next();
              named.push({ name: key.text, nameSpan: key.span, value: this.expr() });
            } else {
              if (named.length) this.fail(this.peek(), `a positional argument cannot follow ${named[named.length - 1].name}=…: write the named arguments last`);
              args.push(this.expr());
            }
          } while (this.at('op', ',') && this.next());
        }
        const close = this.expectOp(')', `to close the call of ${t.text}(…)`);
        return { kind: 'call', name: t.text, nameSpan: t.span, args, named, span: join(t.span, close.span) };
      }
      return { kind: 'name', name: t.text, span: t.span };
    }
    if (this.at('op', '(')) {
      const open = this.next();
      if (this.at('op', ')')) this.fail(this.peek(), 'empty parentheses: expected an expression');
      const e = this.expr();
      const close = this.expectOp(')', 'to close the parenthesis');
      return { ...e, span: join(open.span, close.span) } as Expr;
    }
    if (this.at('op', '[')) {
      // A list of sizes (reshape's shape); lowering says where a list is not allowed.
      const open = this.next();
      const items: Expr[] = [];
      if (!this.at('op', ']')) {
        do items.push(this.expr()); while (this.at('op', ',') && this.next());
      }
      const close = this.expectOp(']', 'to close the list');
      return { kind: 'list', items, span: join(open.span, close.span) };
    }
    this.fail(t, `expected an expression, found ${this.describe(t)}`);
  }
}

// Claims written in LaTeX, as students write them (`\frac{\partial L}{\partial W^{(1)}} = \delta^{(1)} x^\top`,
// `-y x (1 - \sigma(y w^T x))`), read into gradc's own claim language: the translation is text in that
// language, with every character mapped back to the LaTeX it came from, so that the claim parser and the
// shape checker report their messages at the right place in the LaTeX. Nothing here evaluates anything.
//
// Names follow the lecture: W^{(1)}, W^1, W_1 and W_{1} are the model's W1; x^\top, x^T and x' transpose;
// juxtaposition, \cdot and * multiply, \odot and \circ multiply elementwise, A \otimes B is kron(A, B); e_y, \mathbf{e}_y and
// \mathbb{1}[y] are onehot(y, K); \delta^{(k)} is dL/dz_k; a run of letters that is not a name is split into
// names (the lecture's `yw^T x` is y · wᵀ · x).

import type { Span } from '../source/diagnostics.js';
import { SourceFile } from '../source/diagnostics.js';

/** What the translation needs to know of the model: its names, its loss, and its class labels' sizes. */
export interface LatexNames {
  readonly names: ReadonlySet<string>;
  readonly loss: string;
  /** Class-label inputs and the dim (or size) of their class count, for e_y → onehot(y, K). */
  readonly labels: ReadonlyMap<string, string>;
}

/** Is this claim LaTeX rather than gradc's notation? A backslash or a braced/T superscript says so. */
export function looksLikeLatex(text: string): boolean {
  return /\\[A-Za-z]|[\^_]\{|\^T\b|\^\\top/.test(text);
}

export class LatexError extends Error {
  constructor(readonly start: number, readonly end: number, message: string) { super(message); }
}

/** The claim in gradc's language, and for each of its characters the LaTeX offset it came from. */
export interface Translation { readonly text: string; readonly origin: readonly number[] }

type Tok = { kind: 'cmd' | 'word' | 'num' | 'sym'; text: string; start: number; end: number };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) { i++; continue; }
    const at = (kind: Tok['kind'], len: number) => { out.push({ kind, text: src.slice(i, i + len), start: i, end: i + len }); i += len; };
    if (c === '\\') {
      const m = /^\\([A-Za-z]+|.)/.exec(src.slice(i));
      if (!m) throw new LatexError(i, i + 1, 'a lone backslash at the end');
      at('cmd', m[0].length);
      continue;
    }
    const num = /^\d+(\.\d+)?([eE][-+]?\d+)?|^\.\d+/.exec(src.slice(i));
    if (num) { at('num', num[0].length); continue; }
    const word = /^[A-Za-z][A-Za-z0-9]*/.exec(src.slice(i));
    if (word) { at('word', word[0].length); continue; }
    at('sym', 1);
  }
  return out;
}

const IGNORED = new Set(['\\,', '\\;', '\\!', '\\:', '\\ ', '\\quad', '\\qquad', '\\left', '\\right', '\\bigl', '\\bigr', '\\Bigl', '\\Bigr', '\\big', '\\Big',
  '\\biggl', '\\biggr', '\\textstyle', '\\displaystyle', '\\mathopen', '\\mathclose', '\\limits']);
/** Functions written with a command of their own. */
const FUNCTIONS: Record<string, string> = {
  '\\sigma': 'sigmoid', '\\exp': 'exp', '\\log': 'log', '\\ln': 'log', '\\tanh': 'tanh', '\\sin': 'sin', '\\cos': 'cos',
  '\\max': 'max', '\\min': 'min', '\\sqrt': 'sqrt',
};
/** \operatorname{…} names that differ from gradc's: the textbook's CE, corr, conv, rot_180, vec. */
const OPERATORS: Record<string, string> = {
  CE: 'cross_entropy', corr: 'correlate', conv: 'conv2d', 'conv_full': 'full_conv2d', 'rot_180': 'flip', 'route_max': 'route_to_max',
  'gather_max': 'gather_max', vec: 'flatten', ReLU: 'relu', relu: 'relu', diag: 'diag',
};
const GREEK = ['alpha', 'beta', 'gamma', 'epsilon', 'eta', 'theta', 'lambda', 'mu', 'tau', 'phi', 'omega', 'sigma', 'delta'];

/** Translates one claim's LaTeX; throws LatexError at the offending place. */
export function translateLatex(src: string, model: LatexNames): Translation {
  return new Translator(src, tokenize(src), model).claim();
}

class Translator {
  private i = 0;
  /** Inside |…|: a `|` closes it rather than opening another. */
  private absDepth = 0;
  private text = '';
  private origin: number[] = [];
  constructor(private readonly src: string, private readonly toks: Tok[], private readonly model: LatexNames) {}

  claim(): Translation {
    this.expr();
    this.skipIgnored();
    if (this.i < this.toks.length) this.fail(this.peek()!, `cannot read ${this.show(this.peek()!)} here: an operator or a closing bracket is missing before it`);
    return { text: this.text, origin: this.origin };
  }

  // ---- output -------------------------------------------------------------------------------------
  private emit(s: string, from: number): void { this.text += s; for (let k = 0; k < s.length; k++) this.origin.push(from); }
  private fail(t: Tok | undefined, message: string): never {
    const start = t?.start ?? this.src.length;
    throw new LatexError(start, t?.end ?? start + 1, message);
  }
  private show(t: Tok): string { return `'${t.text}'`; }

  // ---- tokens -------------------------------------------------------------------------------------
  private skipIgnored(): void {
    for (;;) {
      const t = this.toks[this.i];
      if (!t) return;
      if (t.kind === 'cmd' && IGNORED.has(t.text)) {
        this.i++;
        // \mathopen{} and \mathclose{} take an empty group.
        if ((t.text === '\\mathopen' || t.text === '\\mathclose') && this.toks[this.i]?.text === '{' && this.toks[this.i + 1]?.text === '}') this.i += 2;
        continue;
      }
      return;
    }
  }
  private peek(): Tok | undefined { this.skipIgnored(); return this.toks[this.i]; }
  private next(): Tok { const t = this.peek(); if (!t) this.fail(undefined, 'the claim ends too early'); this.i++; return t; }
  private accept(text: string): Tok | undefined { const t = this.peek(); if (t && t.text === text) { this.i++; return t; } return undefined; }
  private expect(text: string, what: string): Tok { const t = this.peek(); if (!t || t.text !== text) this.fail(t, `expected ${what}`); this.i++; return t; }
  /** The raw text of a braced group (for \operatorname{…}, \mathrm{…}), its braces consumed. */
  private rawGroup(): { text: string; start: number } {
    const open = this.expect('{', "'{'");
    let depth = 1, end = open.end;
    while (depth > 0) {
      const t = this.toks[this.i++];
      if (!t) this.fail(undefined, "a '{' is not closed");
      if (t.text === '{') depth++;
      if (t.text === '}') depth--;
      end = t.start;
    }
    return { text: this.src.slice(open.end, end).replace(/\\_/g, '_').replace(/\s+/g, ''), start: open.end };
  }

  // ---- expressions --------------------------------------------------------------------------------
  private expr(): void {
    this.term();
    for (let t = this.peek(); t && (t.text === '+' || t.text === '-'); t = this.peek()) {
      this.i++;
      this.emit(` ${t.text} `, t.start);
      this.term();
    }
  }

  private term(): void {
    const neg = this.accept('-');
    if (neg) this.emit('-', neg.start);
    let factorStart = this.text.length;
    this.factor();
    for (;;) {
      const t = this.peek();
      if (!t) return;
      if (t.text === '\\otimes') {
        // A ⊗ B is kron(A, B); ⊗ binds as a product and its operands are single factors (as gradc prints it).
        this.i++;
        this.text = `${this.text.slice(0, factorStart)}kron(${this.text.slice(factorStart)}`;
        this.origin.splice(factorStart, 0, ...Array(5).fill(t.start));
        this.emit(', ', t.start);
        this.factor();
        this.emit(')', t.start);
        continue;
      }
      const op = t.text === '\\cdot' || t.text === '*' || t.text === '\\times' ? ' * ' : t.text === '\\odot' || t.text === '\\circ' ? ' .* ' : t.text === '/' ? ' / ' : undefined;
      if (op) { this.i++; this.emit(op, t.start); factorStart = this.text.length; this.factor(); continue; }
      if (!this.startsFactor(t)) return;
      this.emit(' * ', t.start); // juxtaposition is a product
      factorStart = this.text.length;
      this.factor();
    }
  }

  private startsFactor(t: Tok): boolean {
    if (t.kind === 'word' || t.kind === 'num') return true;
    if (t.kind === 'sym') return t.text === '(' || t.text === '{' || (t.text === '|' && this.absDepth === 0);
    return !['\\cdot', '\\odot', '\\otimes', '\\circ', '\\times', '\\right', '\\end'].includes(t.text) && t.text !== '\\\\' && t.text !== '\\}';
  }

  /** A primary with its superscripts and subscripts (power, transpose, a layer number, an index). */
  private factor(): void {
    const start = this.text.length;
    const base = this.primary();
    for (;;) {
      const t = this.peek();
      if (t?.text === "'") { this.i++; this.emit("'", t.start); continue; }
      if (t?.text !== '^' && t?.text !== '_') return;
      this.i++;
      this.script(t, base, start);
    }
  }

  /** After `^` or `_`: the layer of a name (W^{(1)} → W1), a transpose, a power, or an index (z_y). */
  private script(op: Tok, base: { name?: string }, start: number): void {
    const items = this.scriptItems();
    const rename = (suffix: string) => {
      if (!base.name) return false;
      const renamed = `${base.name}${suffix}`;
      if (!this.model.names.has(renamed)) return false;
      this.text = this.text.slice(0, start);
      this.origin = this.origin.slice(0, start);
      this.emit(renamed, op.start);
      base.name = renamed;
      return true;
    };
    for (const it of items) {
      if (it.kind === 'top') { this.emit("'", it.start); continue; }
      if (op.text === '_' && it.kind === 'word' && this.model.labels.has(it.text)) { this.emit(`[${it.text}]`, it.start); continue; }
      if (it.kind === 'layer' || (it.kind === 'num' && /^\d+$/.test(it.text))) {
        if (rename(it.text) || (op.text === '_' && rename(`_${it.text}`))) continue;
        if (op.text === '_') { this.emit(`[${it.text}]`, it.start); continue; }
        if (it.kind === 'layer') throw new LatexError(it.start, it.end, `there is no ${base.name ?? 'name'}${it.text} in the model: ${base.name ?? 'it'}^{(${it.text})} names a layer's value`);
        this.wrapLast(start, `.^ ${it.text}`, it.start);
        continue;
      }
      if (op.text === '_' && it.kind === 'word' && rename(`_${it.text}`)) continue;
      if (op.text === '^' && it.kind === 'expr') { this.wrapLast(start, `.^ (${it.text})`, it.start); continue; }
      throw new LatexError(it.start, it.end, op.text === '^' ? 'cannot read this superscript: gradc reads ^\\top, ^T, a layer ^{(1)} and a power' : 'cannot read this subscript: gradc reads a layer (W_1), a label index (z_y) and e_y');
    }
  }

  /** `(base) .^ k`: the power applies to everything written since `start`. */
  private wrapLast(start: number, power: string, from: number): void {
    const inner = this.text.slice(start), origin = this.origin.slice(start);
    this.text = this.text.slice(0, start);
    this.origin = this.origin.slice(0, start);
    this.emit('(', from);
    this.text += inner;
    this.origin.push(...origin);
    this.emit(`) ${power}`, from);
  }

  private scriptItems(): { kind: 'top' | 'layer' | 'num' | 'word' | 'expr'; text: string; start: number; end: number }[] {
    const t = this.next();
    if (t.text === '\\top' || t.text === 'T' || t.text === '\\intercal') return [{ kind: 'top', text: '', start: t.start, end: t.end }];
    if (t.kind === 'num' || t.kind === 'word') return [{ kind: t.kind, text: t.text, start: t.start, end: t.end }];
    if (t.text !== '{') throw new LatexError(t.start, t.end, 'cannot read this script');
    // A braced script: (1), \top, T, a number, a name, or an expression (a power such as {-1} or {n}).
    const items: ReturnType<Translator['scriptItems']> = [];
    for (;;) {
      const u = this.peek();
      if (!u) this.fail(undefined, "a '{' is not closed");
      if (u.text === '}') { this.i++; return items; }
      if (u.text === '\\top' || u.text === '\\intercal' || (u.text === 'T' && this.toks[this.i + 1]?.text === '}')) { this.i++; items.push({ kind: 'top', text: '', start: u.start, end: u.end }); continue; }
      if (u.text === '(' && this.toks[this.i + 1]?.kind === 'num' && this.toks[this.i + 2]?.text === ')') {
        items.push({ kind: 'layer', text: this.toks[this.i + 1].text, start: u.start, end: this.toks[this.i + 2].end });
        this.i += 3;
        continue;
      }
      const after = this.toks[this.i + 1]?.text;
      const alone = after === '}' || after === '\\top' || after === '\\intercal';
      if (u.kind === 'num' && alone) { this.i++; items.push({ kind: 'num', text: u.text, start: u.start, end: u.end }); continue; }
      if (u.kind === 'word' && alone) { this.i++; items.push({ kind: 'word', text: u.text, start: u.start, end: u.end }); continue; }
      if (u.text === '\\mathrm' || u.text === '\\text') { this.i++; const g = this.rawGroup(); items.push({ kind: 'word', text: g.text, start: g.start, end: g.start + g.text.length }); continue; }
      // Anything else: an expression, translated on its own (a power).
      const sub = new Translator(this.src, this.toks, this.model);
      sub.i = this.i;
      sub.expr();
      this.i = sub.i;
      items.push({ kind: 'expr', text: sub.text, start: u.start, end: this.toks[this.i - 1].end });
    }
  }

  /** A number, a name, a bracketed expression, a function, a derivative, or a notation of the lecture's. */
  private primary(): { name?: string } {
    const t = this.next();
    if (t.kind === 'num') { this.emit(t.text, t.start); return {}; }
    if (t.kind === 'word') return this.word(t);
    if (t.text === '(' || t.text === '[') {
      this.emit(t.text, t.start);
      this.args(t.text === '(' ? ')' : ']');
      return {};
    }
    if (t.text === '{') {
      this.emit('(', t.start);
      this.expr();
      const close = this.expect('}', "'}'");
      this.emit(')', close.start);
      return {};
    }
    if (t.text === '|' || t.text === '\\|' || t.text === '\\lvert') {
      this.emit('abs(', t.start);
      this.absDepth++;
      this.expr();
      this.absDepth--;
      const close = this.next();
      if (close.text !== '|' && close.text !== '\\rvert' && close.text !== '\\|') this.fail(close, "expected the closing '|'");
      this.emit(')', close.start);
      return {};
    }
    if (t.kind === 'cmd') return this.command(t);
    return this.fail(t, `cannot read ${this.show(t)} here`);
  }

  /** Comma-separated arguments up to `close` (named ones as pad=1), the opening bracket already written. */
  private args(close: string): void {
    if (this.peek()?.text === close) { const c = this.next(); this.emit(close, c.start); return; }
    for (;;) {
      const t = this.peek();
      if (t?.kind === 'word' && this.toks[this.i + 1]?.text === '=') { this.i += 2; this.emit(`${t.text}=`, t.start); }
      this.expr();
      const sep = this.next();
      if (sep.text === ',') { this.emit(', ', sep.start); continue; }
      if (sep.text === close || (close === ')' && sep.text === '\\rangle')) { this.emit(close, sep.start); return; }
      this.fail(sep, `expected ',' or '${close}'`);
    }
  }

  /** A name of the model, or letters that split into names (yx → y x), or a constant. */
  private word(t: Tok): { name?: string } {
    const w = t.text;
    if (this.model.names.has(w)) { this.emit(w, t.start); return { name: w }; }
    if (w === 'e' && (this.peek()?.text === '_')) return this.onehot(t);
    if (w === 'pi' || w === 'e') { this.emit(w, t.start); return {}; }
    const parts = this.split(w);
    if (!parts) { this.emit(w, t.start); return { name: w }; } // unknown: the claim parser names it
    let at = t.start;
    parts.forEach((p, k) => { if (k > 0) this.emit(' * ', at); this.emit(p, at); at += p.length; });
    return { name: parts[parts.length - 1] };
  }

  /** Letters as a product of the model's names, longest first; undefined if they do not split. */
  private split(w: string): string[] | undefined {
    if (w === '') return [];
    for (let k = w.length; k > 0; k--) {
      const head = w.slice(0, k);
      if (!this.model.names.has(head)) continue;
      const rest = this.split(w.slice(k));
      if (rest) return [head, ...rest];
    }
    return undefined;
  }

  private command(t: Tok): { name?: string } {
    const c = t.text;
    if (c === '\\frac' || c === '\\dfrac' || c === '\\tfrac') return this.fraction(t);
    if (c === '\\partial' || c === '\\nabla') return this.derivative(t);
    if (c === '\\delta') return this.delta(t);
    if (c === '\\sum') return this.sum(t);
    if (c === '\\mathbf' || c === '\\boldsymbol' || c === '\\bm' || c === '\\vec') {
      const g = this.rawGroup();
      if (g.text === 'e' && this.peek()?.text === '_') return this.onehot(t);
      if (g.text === '1') return this.ones(t);
      return this.word({ kind: 'word', text: g.text, start: g.start, end: g.start + g.text.length });
    }
    if (c === '\\mathbb' || c === '\\mathds' || c === '\\one') {
      if (c !== '\\one') { const g = this.rawGroup(); if (g.text !== '1') this.fail(t, `cannot read \\mathbb{${g.text}}: gradc reads \\mathbb{1}[y] (onehot)`); }
      return this.indicator(t);
    }
    if (c === '\\mathcal' || c === '\\mathrm' || c === '\\text' || c === '\\textrm' || c === '\\mathit') {
      const g = this.rawGroup();
      if (c === '\\mathcal' && g.text === 'L') { this.emit(this.model.loss, t.start); return { name: this.model.loss }; }
      if (this.peek()?.text === '(' && !this.model.names.has(g.text)) return this.call(t, g.text);
      return this.word({ kind: 'word', text: g.text, start: g.start, end: g.start + g.text.length });
    }
    if (c === '\\operatorname') {
      const g = this.rawGroup();
      let name = g.text;
      if (this.peek()?.text === '_') { // conv_{\mathrm{full}}, rot_{180}, route_{\max}
        this.i++;
        const sub = this.peek()?.text === '{' ? this.rawGroup().text : this.next().text;
        name = `${name}_${sub.replace(/^\\mathrm\{(.*)\}$/, '$1').replace(/^\\/, '')}`;
      }
      if (this.peek()?.text === "'") this.fail(this.peek(), 'the derivative of a fn cannot be written in a claim: write it out');
      return this.call(t, OPERATORS[name] ?? name);
    }
    if (c === '\\pi') { this.emit('pi', t.start); return {}; }
    if (Object.hasOwn(FUNCTIONS, c)) {
      const name = c.slice(1);
      if (this.model.names.has(name) && c !== '\\sqrt') return this.word({ ...t, kind: 'word', text: name });
      if (c === '\\log' && this.peek()?.text === '\\sigma') { this.i++; return this.call(t, 'log_sigmoid'); }
      return this.call(t, FUNCTIONS[c]);
    }
    const greek = c.slice(1);
    if (GREEK.includes(greek) || this.model.names.has(greek)) return this.word({ ...t, kind: 'word', text: greek });
    return this.fail(t, `cannot read ${c}: gradc reads the commands listed in docs/grading.md (\\frac, \\partial, \\sigma, \\odot, \\cdot, ^\\top, \\operatorname, …)`);
  }

  /** f(…), f{…} or f x: a function of one bracketed argument list or of the next factor. */
  private call(t: Tok, name: string): { name?: string } {
    this.emit(`${name}(`, t.start);
    const open = this.peek();
    if (name === 'sqrt' && open?.text === '{') { this.i++; this.expr(); this.emit(')', this.expect('}', "'}'").start); return {}; }
    if (open?.text === '(') { this.i++; this.args(')'); return {}; }
    if (open?.text === '{') { this.i++; this.expr(); this.emit(')', this.expect('}', "'}'").start); return {}; }
    this.factor(); // \sigma z, \log p
    this.emit(')', t.start);
    return {};
  }

  /** \frac{a}{b}, or \frac{\partial L}{\partial X}: the adjoint dL/dX. */
  private fraction(t: Tok): { name?: string } {
    const save = this.i;
    const first = this.peek();
    if (first?.text === '{' && this.toks[this.i + 1]?.text === '\\partial') {
      this.i += 2;
      this.lossName();
      this.expect('}', "'}' after ∂L");
      this.expect('{', "'{' before ∂X");
      this.expect('\\partial', "'\\partial'");
      const name = this.targetName();
      this.expect('}', "'}' after ∂X");
      this.emit(`d${this.model.loss}/d${name}`, t.start);
      return {};
    }
    this.i = save;
    this.expect('{', "'{' after \\frac");
    this.emit('(', t.start);
    this.expr();
    this.expect('}', "'}'");
    this.emit(') ./ (', t.start);
    this.expect('{', "'{' for the denominator of \\frac");
    this.expr();
    this.emit(')', this.expect('}', "'}'").start);
    return {};
  }

  /** ∂L/∂X written with a slash, or ∇_X L. */
  private derivative(t: Tok): { name?: string } {
    if (t.text === '\\nabla') {
      this.expect('_', "'_' after \\nabla (∇_W L)");
      const name = this.peek()?.text === '{' ? (this.i++, this.targetName(true)) : this.targetName();
      this.lossName();
      this.emit(`d${this.model.loss}/d${name}`, t.start);
      return {};
    }
    this.lossName();
    this.expect('/', "'/' (∂L / ∂X)");
    this.expect('\\partial', "'\\partial'");
    this.emit(`d${this.model.loss}/d${this.targetName()}`, t.start);
    return {};
  }

  /** The L of ∂L: the loss by any name (L, \mathcal{L}, L^{(1)}, the model's own). */
  private lossName(): void {
    const t = this.next();
    if (t.text === '\\mathcal' || t.text === '\\mathrm') this.rawGroup();
    else if (t.kind !== 'word' && t.text !== '\\ell') this.fail(t, 'expected the loss (L) after \\partial');
    while (this.peek()?.text === '^' || this.peek()?.text === '_') { this.i++; this.scriptItems(); }
  }

  /** The X of ∂X: a name with its layer (W^{(1)}, W_1, W^1, z^{(2)}), as the model spells it. */
  private targetName(closeBrace = false): string {
    const t = this.next();
    let base: string;
    if (t.kind === 'word') base = t.text;
    else if (t.kind === 'cmd' && (t.text === '\\mathrm' || t.text === '\\mathbf' || t.text === '\\text')) base = this.rawGroup().text;
    else if (t.kind === 'cmd') base = t.text.slice(1);
    else return this.fail(t, 'expected the name of a parameter or value after \\partial');
    let name = base;
    for (let s = this.peek(); s && (s.text === '^' || s.text === '_'); s = this.peek()) {
      this.i++;
      const items = this.scriptItems();
      for (const it of items) {
        const cands = it.kind === 'layer' || it.kind === 'num' ? [`${name}${it.text}`, `${name}_${it.text}`] : it.kind === 'word' ? [`${name}_${it.text}`, `${name}${it.text}`] : [];
        const hit = cands.find((c) => this.model.names.has(c));
        if (!hit) throw new LatexError(it.start, it.end, `there is no ${cands[0] ?? name} in the model`);
        name = hit;
      }
    }
    if (closeBrace) this.expect('}', "'}'");
    if (!this.model.names.has(name)) throw new LatexError(t.start, t.end, `∂L/∂${name}: the model has no ${name}`);
    return name;
  }

  /** \delta^{(k)}, \delta^k, \delta_k: the adjoint of z_k (the lecture's δ = ∂L/∂z). */
  private delta(t: Tok): { name?: string } {
    if (this.model.names.has('delta')) return this.word({ ...t, kind: 'word', text: 'delta' });
    let layer = '';
    const s = this.peek();
    if (s && (s.text === '^' || s.text === '_')) {
      this.i++;
      const items = this.scriptItems();
      const it = items[0];
      if (!it || (it.kind !== 'layer' && it.kind !== 'num')) throw new LatexError(s.start, s.end, 'expected a layer number: \\delta^{(1)}');
      layer = it.text;
    }
    const z = `z${layer}`;
    if (!this.model.names.has(z)) this.fail(t, `\\delta${layer ? `^{(${layer})}` : ''} stands for ∂L/∂${z}, and the model has no ${z}`);
    this.emit(`d${this.model.loss}/d${z}`, t.start);
    return {};
  }

  /** e_y, \mathbf{e}_y: the one-hot vector of the label y. */
  private onehot(t: Tok): { name?: string } {
    this.expect('_', "'_'");
    const label = this.peek()?.text === '{' ? (this.i++, this.targetName(true)) : this.targetName();
    const k = this.model.labels.get(label);
    if (k === undefined) this.fail(t, `e_${label}: ${label} is not a class label of the model`);
    this.emit(`onehot(${label}, ${k})`, t.start);
    return {};
  }

  /** \mathbb{1}[y] (or \mathbb{1}_y): the one-hot vector of the label. */
  private indicator(t: Tok): { name?: string } {
    let label: string;
    if (this.accept('[')) { label = this.next().text; this.expect(']', "']'"); } else if (this.accept('_')) label = this.peek()?.text === '{' ? this.rawGroup().text : this.next().text;
    else return this.fail(t, 'expected \\mathbb{1}[y]');
    const k = this.model.labels.get(label);
    if (k === undefined) this.fail(t, `\\mathbb{1}[${label}]: ${label} is not a class label of the model`);
    this.emit(`onehot(${label}, ${k})`, t.start);
    return {};
  }

  /** \mathbf{1}_{m \times n}: ones of those sizes. */
  private ones(t: Tok): { name?: string } {
    if (!this.accept('_')) this.fail(t, '\\mathbf{1} needs its size: \\mathbf{1}_{n} or \\mathbf{1}_{m \\times n}');
    const sizes: string[] = [];
    const one = () => { const u = this.next(); if (u.kind !== 'num' && u.kind !== 'word') this.fail(u, 'expected a size'); sizes.push(u.text); };
    if (this.accept('{')) { one(); while (this.accept('\\times')) one(); this.expect('}', "'}'"); } else one();
    this.emit(`ones(${sizes.join(', ')})`, t.start);
    return {};
  }

  /** \sum(A) over every element; \sum_{i} A (axis 1), \sum_{i_{k}} A (axis k), \sum_{i,j} G (the positions). */
  private sum(t: Tok): { name?: string } {
    if (this.peek()?.text === '(') { this.i++; this.emit('sum(', t.start); this.args(')'); return {}; }
    if (!this.accept('_')) { this.emit('sum(', t.start); this.factor(); this.emit(')', t.start); return {}; }
    const g = this.peek()?.text === '{' ? this.rawGroup().text : this.next().text;
    const axis = g === 'i' ? '1' : g === 'i,j' ? '[2, 3]' : /^i_\{?(\d)\}?$/.exec(g)?.[1];
    if (!axis) this.fail(t, `cannot read \\sum_{${g}}: gradc reads \\sum_{i} (axis 1), \\sum_{i_{k}} (axis k) and \\sum_{i,j} (over positions)`);
    this.emit('sum(', t.start);
    const neg = this.accept('-'); // \sum_{i} -A: the sum of −A
    if (neg) this.emit('-', neg.start);
    this.factor();
    for (let u = this.peek(); u && (u.text === '\\cdot' || u.text === '\\odot' || (this.startsFactor(u) && u.text !== '|')); u = this.peek()) {
      if (u.text === '\\cdot' || u.text === '\\odot') { this.i++; this.emit(u.text === '\\cdot' ? ' * ' : ' .* ', u.start); } else this.emit(' * ', u.start);
      this.factor();
    }
    this.emit(`, ${axis})`, t.start);
    return {};
  }
}

/** Where a span of the translated text came from in the LaTeX: a span of `latex`, for messages. */
export function spanInLatex(tr: Translation, latex: SourceFile, start: number, end: number): Span {
  const at = (k: number) => tr.origin[Math.min(Math.max(k, 0), tr.origin.length - 1)] ?? latex.text.length;
  const s = at(start);
  return { file: latex, start: s, end: Math.max(s + 1, at(end - 1) + 1) };
}

export { SourceFile };

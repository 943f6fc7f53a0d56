// Source files, spans and diagnostics: the first stage of the pipeline and the last thing a user sees.
// Diagnostics are data ({span, message, notes}); line and column are computed only when printed,
// in the form `FILE:LINE:COL: error: MESSAGE`, then the source line and a caret.

export class SourceFile {
  private readonly lineStarts: number[];
  /**
   * `shown`: the text that messages quote, when the parsed text is a blanked copy of it (a claims file parses
   * one line's expression at a time, but an error should echo the line as the person wrote it).
   */
  constructor(readonly path: string, readonly text: string, private readonly shown: string = text) {
    this.lineStarts = [0];
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') this.lineStarts.push(i + 1);
  }
  /** 1-based line and column of a character offset. */
  position(offset: number): { line: number; col: number } {
    let lo = 0, hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= offset) lo = mid; else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - this.lineStarts[lo] + 1 };
  }
  lineText(line: number): string {
    const start = this.lineStarts[line - 1] ?? this.text.length;
    const end = this.lineStarts[line] ?? this.text.length + 1;
    return this.shown.slice(start, end - 1).replace(/\r$/, '');
  }
  slice(span: Span): string { return this.text.slice(span.start, span.end); }
}

/** A half-open range of character offsets in one file. */
export interface Span { readonly file: SourceFile; readonly start: number; readonly end: number }

export function span(file: SourceFile, start: number, end: number): Span { return { file, start, end }; }
export function join(a: Span, b: Span): Span { return { file: a.file, start: Math.min(a.start, b.start), end: Math.max(a.end, b.end) }; }

export interface Diagnostic {
  readonly span: Span;
  readonly message: string;
  readonly notes?: readonly string[];
}

/** Thrown to stop a command with diagnostics already collected (exit status 1). */
export class UserError extends Error {
  constructor(readonly diagnostics: readonly Diagnostic[], message?: string) {
    super(message ?? diagnostics.map((d) => d.message).join('\n'));
  }
}

/** An error about input that is not a source file (a data file, a flag value): printed as it is, exit 1. */
export class PlainError extends Error {}

export function formatDiagnostic(d: Diagnostic): string {
  const { line, col } = d.span.file.position(d.span.start);
  const src = d.span.file.lineText(line);
  const width = Math.max(1, Math.min(d.span.end, d.span.start + src.length - col + 1) - d.span.start);
  const caret = ' '.repeat(col - 1) + '^' + (width > 1 ? '~'.repeat(width - 1) : '');
  const lines = [`${d.span.file.path}:${line}:${col}: error: ${d.message}`, `  ${src.replace(/\t/g, ' ')}`, `  ${caret}`];
  for (const n of d.notes ?? []) lines.push(`  note: ${n}`);
  return lines.join('\n');
}

/** Collects diagnostics in source order; a stage reports as many independent errors as it can. */
export class DiagnosticBag {
  readonly items: Diagnostic[] = [];
  error(span: Span, message: string, notes?: string[]): void {
    this.items.push({ span, message, notes });
  }
  get hasErrors(): boolean { return this.items.length > 0; }
  sorted(): Diagnostic[] { return [...this.items].sort((a, b) => a.span.start - b.span.start); }
  throwIfAny(): void { if (this.hasErrors) throw new UserError(this.sorted()); }
}

/** The closest candidate by edit distance, if it is close enough to be a plausible typo. */
export function nearest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined, bestD = Infinity;
  // Letters that look like digits (al for a1, zO for z0) are the same name misread, whatever its length.
  const looks = (s: string) => s.replace(/[lI]/g, '1').replace(/[oO]/g, '0');
  const list = [...candidates];
  const lookalike = list.find((c) => c !== name && looks(c) === looks(name));
  if (lookalike) return lookalike;
  for (const c of list) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestD) { best = c; bestD = d; }
  }
  if (best === undefined) return undefined;
  // A one- or two-letter name with another letter is a different name, not a typo ('q' for d is noise);
  // a doubled or dropped letter (xx for x) still is one.
  if (name.length <= 2) return bestD === 0 || (bestD === 1 && best.length !== name.length) ? best : undefined;
  return bestD <= (name.length <= 5 ? 1 : 2) ? best : undefined;
}

/** Edit distance where swapping two neighbouring letters is one edit (chekc → check), as typos go. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

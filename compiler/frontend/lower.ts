// Lowering: the statements of a file, parsed, become a shape-checked Model over the IR — scope, dims and
// consts, row and column orientation, the built-ins' argument rules — with every mistake reported at its
// place. The parts live in lower/: the state (context.ts), statements, expressions, calls and operators.

import type { DiagnosticBag, SourceFile } from '../source/diagnostics.js';
import type { Statement } from './ast.js';
import type { Model } from './model.js';
import { Lowering, type LowerOptions } from './lower/context.js';
import { lowerStatements } from './lower/statements.js';
import { lowerExpr } from './lower/expressions.js';

export type { LowerOptions } from './lower/context.js';
export { newFnId } from './lower/statements.js';

export function lower(file: SourceFile, statements: Statement[], diags: DiagnosticBag, opts: LowerOptions = {}): Model | undefined {
  const cx = new Lowering(file, diags, opts);
  lowerStatements(cx, statements);
  // A claim of `gradc verify` is lowered in the model's full scope, where dL/dz2 names an adjoint.
  cx.claimMode = true;
  if (opts.extraExpressions) opts.onExtra?.(opts.extraExpressions.map((e) => lowerExpr(cx, e, {})));
  if (!cx.lossSeen) {
    const trimmed = file.text.trimEnd();
    const at = Math.max(0, trimmed.lastIndexOf('\n') + 1);
    diags.error({ file, start: at, end: trimmed.length }, 'the model has no loss: add one line `loss L = …` with a scalar loss per example');
  }
  if (diags.hasErrors || !cx.loss) return undefined;
  return {
    name: cx.modelName, file, dims: cx.dims, consts: cx.consts, inputs: cx.inputs, params: cx.params, fns: cx.fns, values: cx.values, spans: cx.spans,
    outputs: cx.values.filter((v) => v.role === 'output'), loss: cx.loss,
  };
}

// The lowered model: what every later stage (autodiff, printing, code generation, verify) works from.

import type { FnDef, Node, Shape } from '../ir/node.js';
import type { SourceFile, Span } from '../source/diagnostics.js';
import type { Init } from './ast.js';

export interface InputDecl { name: string; node: Node; shape: Shape; classes?: number; span: Span }
export interface ParamDecl { name: string; node: Node; shape: Shape; init: Init; span: Span }
export interface ValueDecl { name: string; node: Node; role: 'intermediate' | 'output' | 'loss'; span: Span }

export interface Model {
  readonly name: string;
  readonly file: SourceFile;
  readonly dims: ReadonlyMap<string, { value: number; span: Span }>;
  /** Named constants (`const lambda = 0.01`), after any `--const` override. */
  readonly consts: ReadonlyMap<string, number>;
  readonly inputs: readonly InputDecl[];
  readonly params: readonly ParamDecl[];
  readonly fns: ReadonlyMap<string, FnDef>;
  /** Intermediates, outputs and the loss, in source order. */
  readonly values: readonly ValueDecl[];
  readonly outputs: readonly ValueDecl[];
  readonly loss: ValueDecl;
  /** Where each node was first written (a side table, so spans do not stop nodes from merging). */
  readonly spans: ReadonlyMap<Node, Span>;
}

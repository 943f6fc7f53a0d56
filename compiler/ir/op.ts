// What an operation is: one record with every concern as a required field — shape rule, float64 evaluation,
// derivative rule (vector–Jacobian product), printing in every style, cost. A half-made op fails to type-check.

import type { Attr, Node, Shape } from './node.js';
import type { Tensor } from './tensor.js';

export type Style = 'text' | 'mathjs' | 'latex';

/** Printing precedence, loosest first; an argument looser than its slot gets parentheses. */
export const PREC = { add: 1, mul: 2, unary: 3, pow: 4, postfix: 5, atom: 6 } as const;

export interface Printed { readonly s: string; readonly prec: number }

export interface PrintCtx {
  readonly style: Style;
  /** Text only: u * v' for outer(u, v) and u' * v for dot(u, v), the way Hessians are written (hessian command). */
  readonly matrixNotation: boolean;
  readonly node: Node;
  /** Argument i printed, parenthesized if it binds looser than `min`. */
  arg(i: number, min?: number): string;
  /** Any node (a grandchild, say), parenthesized if it binds looser than `min`. */
  print(n: Node, min: number): string;
  /** Argument i as printed, with its precedence, for ops that decide themselves. */
  raw(i: number): Printed;
  /** A tensor's sizes as printed in ones(…)/zeros(…): a model's dim name where one dim has that value. */
  sizes(shape: readonly number[]): string;
  /** A function call in the current style (`f(a, b)` or `\operatorname{f}\left(a, b\right)`). */
  call(name: string, args: string[], latexName?: string): Printed;
}

/**
 * Builds scalar expressions in some target language (TypeScript AST, a GPU kernel): the one vocabulary
 * elementwise ops use to say how they are emitted, so the op table does not depend on any backend.
 */
export interface ScalarEmitter<E> {
  num(v: number): E;
  neg(x: E): E;
  bin(op: '+' | '-' | '*' | '/', a: E, b: E): E;
  pow(a: E, b: E): E;
  /** Math.exp, Math.log, …; `helper` names the runtime's stable sigmoid and softplus. */
  math(fn: 'exp' | 'log' | 'sqrt' | 'abs' | 'sin' | 'cos' | 'tanh' | 'sign' | 'max' | 'min', args: E[]): E;
  helper(fn: 'sigmoid' | 'softplus', args: E[]): E;
  /** x > 0 ? then : otherwise */
  ifPositive(x: E, then: E, otherwise: E): E;
}

export interface OpDef {
  readonly name: string;
  readonly arity: number | 'any';
  /** Result shape from argument shapes; throws Error on a mismatch (the front end checks first, with located messages). */
  shape(args: readonly Shape[], attr: Attr): Shape;
  /** float64 reference semantics. Leaves are evaluated by the interpreter from its environment instead. */
  eval(args: readonly Tensor[], node: Node): Tensor;
  /**
   * Vector–Jacobian product: given g = ∂L/∂node (same shape as the node), the contribution to ∂L/∂arg[i]
   * for each argument, or null for a symbolic zero. Contributions may have a broadcast shape; the driver
   * reduces them back to the argument's shape (autodiff/unbroadcast.ts).
   */
  vjp(g: Node, node: Node): readonly (Node | null)[];
  print(p: PrintCtx): Printed;
  /** Floating-point operations to compute the node once, per example. */
  flops(node: Node): number;
  /** Where the derivative jumps (relu, abs, step, sign at 0): gradient checks keep away from it. */
  readonly kink?: boolean;
  /**
   * Ops that a runtime kernel computes over the whole batch (runtime/conv.ts): its name, and the sizes it is
   * specialised to. It is called as fn(count, sizes, arg0, stride0, …, out, outStride), where a stride is
   * the distance between two examples' values (0 for a value every example shares).
   */
  readonly kernel?: {
    readonly fn: string;
    sizes(node: Node): number[];
    /** Scratch per example the kernel's batch products use (runtime/conv.ts ConvScratch), passed last. */
    scratch?(node: Node): { patches: number; rows: number };
  };
}

// The state of emitting one model's kernels: the plan, a buffer name for every materialized value (and the
// names that comments use), the scratch the convolutions share, the sizes the runtime kernels are
// specialised to — and the small pieces every step is built from: where an element lives, loops, the
// WebAssembly-or-TypeScript choice.

import type { Node } from '../../ir/node.js';
import { topo } from '../../ir/node.js';
import { convScratch, convSizes } from '../../ir/ops/image.js';
import { printExpr } from '../../ir/print.js';
import { stepNames, valueNames } from '../../autodiff/names.js';
import type { Plan } from '../plan.js';
import { NameTable } from '../names.js';
import { scalarExpr, type ScalarContext } from '../scalar.js';
import * as A from './ast.js';
import type { Expr, Stmt } from './ast.js';
import { ts } from './ast.js';

export interface EmitOptions {
  /** Loops that run in WebAssembly when their buffers are in its memory (the wasm target), by node. */
  readonly wasmLoops?: ReadonlyMap<Node, { name: string; inputs: readonly Node[] }>;
  /** A bias's gradient as a WebAssembly SIMD column sum (the wasm target). */
  readonly wasmColumnSums?: boolean;
  /** The declared constant's name (default `model`; a trainer's Hessian-vector program is `hvpModel`). */
  readonly constName?: string;
}

const id = A.ident;
const isZero = (e: Expr): boolean => ts.isNumericLiteral(e) && e.text === '0';

export class Emitter {
  readonly g: Plan['g'];
  readonly model: Plan['g']['model'];
  readonly names = new NameTable();
  readonly bufName = new Map<Node, string>();
  /** For comments: dL/dz2, z1, … */
  readonly display = new Map<Node, string>();
  readonly allNodes: Node[];
  readonly gradLocal: Map<string, string>;
  // Scratch for the image kernels' batch products, sized for the largest and shared by all of them.
  // A convolution's patches have a buffer per layer (its input and window): the kernel's gradient reads the
  // patches the forward pass gathered instead of gathering them again. The channel-last rows, and the patch
  // gradients of ∂L/∂X, are shared.
  readonly scratchSize = { patches: 0, rows: 0 };
  readonly sharedScratch: string;
  readonly layerScratch = new Map<string, { name: string; size: number }>();
  /** The sizes each runtime kernel is specialised to, declared once in create() (nothing allocates per step). */
  readonly sizesNames = new Map<string, string>();
  private readonly scalarCtx: ScalarContext;

  constructor(readonly plan: Plan, readonly opts: EmitOptions) {
    this.g = plan.g;
    this.model = plan.g.model;
    this.allNodes = topo([...plan.train.steps, ...plan.forward.steps].map((s) => s.node));
    this.nameBuffers();
    this.gradLocal = new Map(this.model.params.map((p) => [p.name, this.names.fresh(`grad_${p.name}`)]));
    this.sharedScratch = this.names.fresh('convScratch');
    this.scalarCtx = { materialized: plan.materialized, load: (n, offset) => this.at(n, offset) };
  }

  /** Params and inputs by their own names; a buffer shared in place after the last value written into it. */
  private nameBuffers(): void {
    const { plan, model, names, bufName, display } = this;
    for (const p of model.params) bufName.set(p.node, names.fresh(p.name));
    for (const i of model.inputs) bufName.set(i.node, names.fresh(i.name));
    for (const [n, v] of [...valueNames(this.g), ...stepNames(this.g, 'text')]) if (!display.has(n)) display.set(n, v);
    // A buffer shared in place is named after the last value written into it (z2 rather than W2 * a1).
    const occupant = new Map<Node, Node>();
    for (const n of this.allNodes) if (plan.materialized.has(n)) occupant.set(this.root(n), display.has(n) || !occupant.has(this.root(n)) ? n : occupant.get(this.root(n))!);
    for (const n of this.allNodes) {
      if (!plan.materialized.has(n) || bufName.has(n)) continue;
      if (this.root(n) !== n) continue;
      const shown = display.get(occupant.get(n) ?? n);
      // Unnamed temporaries are named after their formula when it is short (W1 * x → W1_x).
      const short = printExpr(n, 'text').replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
      bufName.set(n, names.fresh(shown ? shown.replace('/', '_') : short.length > 0 && short.length <= 12 ? short : `t_${n.op}`));
    }
    for (const n of this.allNodes) if (plan.materialized.has(n) && !bufName.has(n)) bufName.set(n, bufName.get(this.root(n)) ?? names.fresh(`t_${n.op}`));
  }

  /** The node whose buffer a node writes into (itself, unless it runs in place). */
  root(n: Node): Node { let r = n; while (this.plan.alias.has(r)) r = this.plan.alias.get(r)!; return r; }
  batched(n: Node): boolean { return this.plan.batched.has(n); }
  /** if (!call) { loops }: the WebAssembly function when it ran (its buffers are in its memory), else the TypeScript. */
  /** A runtime kernel's count argument: the batch, or 1 for a value every example shares. */
  exampleCount(n: Node): Expr { return this.batched(n) ? id('n') : A.num(1); }
  /** A runtime kernel's stride for a buffer: from one example's values to the next (0 when shared). */
  exampleStride(n: Node): Expr { return A.num(this.batched(n) ? n.size : 0); }

  wasmOr(call: Expr, loops: Stmt[]): Stmt[] { return [A.ifThen(ts.factory.createPrefixUnaryExpression(ts.SyntaxKind.ExclamationToken, call), loops)]; }

  layerKey(x: Node, n: Node): string { const [C, H, W, , kh, kw, s, p, Ho, Wo] = convSizes(n); return `${x.id}:${[C, H, W, kh, kw, s, p, Ho, Wo].join(',')}`; }
  scratchFor(n: Node): Expr {
    const need = convScratch(n);
    this.scratchSize.rows = Math.max(this.scratchSize.rows, need.rows);
    if (n.op === 'conv2d_grad_input') { this.scratchSize.patches = Math.max(this.scratchSize.patches, need.patches); return id(this.sharedScratch); }
    const key = this.layerKey(n.args[0], n);
    if (!this.layerScratch.has(key)) this.layerScratch.set(key, { name: this.names.fresh(`patches_${this.bufName.get(n.args[0]) ?? 'x'}`), size: need.patches });
    return id(this.layerScratch.get(key)!.name);
  }
  /**
   * Whether the train program gathers these patches in a forward convolution before the kernel's gradient is
   * summed. Only a batched convolution gathers every example's patches: one of parameters alone gathers them
   * once (random models 110235 and 110590: an image param convolved, then scaled by an input).
   */
  gatheredInForward(t: Node): boolean {
    return this.plan.train.steps.some((s) => s.node.op === 'conv2d' && this.batched(s.node) && this.batched(s.node.args[0]) && this.layerKey(s.node.args[0], s.node) === this.layerKey(t.args[0], t));
  }
  sizesName(sizes: readonly number[]): string {
    const key = sizes.join(',');
    if (!this.sizesNames.has(key)) this.sizesNames.set(key, this.names.fresh(`sizes${this.sizesNames.size + 1}`));
    return this.sizesNames.get(key)!;
  }

  /** Where element `offset` of node `n` lives, for the current example b. */
  at(n: Node, offset: Expr): Expr {
    if ((n.op === 'const' && !this.plan.materialized.has(n)) || n.op === 'dim') return A.num(n.attr.value as number);
    const buf = this.bufName.get(n);
    if (!buf) throw new Error(`internal error: no buffer for ${n.op}`);
    const base = this.batched(n) ? (n.size === 1 ? id('b') : A.bin('*', id('b'), A.num(n.size))) : undefined;
    const idx = base ? (isZero(offset) ? base : A.bin('+', base, offset)) : offset;
    return A.index(id(buf), idx);
  }
  scalar(n: Node, outShape: readonly number[], i: Expr, isRoot = false): Expr { return scalarExpr(this.scalarCtx, n, outShape, i, isRoot); }
  formula(n: Node): string { return printExpr(n, 'text', (m) => this.display.get(m)); }
  /** for (b < n) around `body` when the node is batched. */
  overBatch(n: Node, body: Stmt[]): Stmt[] { return this.batched(n) ? [A.forRange('b', A.num(0), id('n'), body)] : body; }
  loopElems(count: number, v: string, body: (i: Expr) => Stmt[]): Stmt[] {
    return count === 1 ? body(A.num(0)) : [A.forRange(v, A.num(0), A.num(count), body(id(v)))];
  }
}

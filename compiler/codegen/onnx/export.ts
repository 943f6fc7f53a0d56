// `gradc compile --target onnx`: two ONNX models. model.onnx is inference — the forward graph from the
// inputs to every output, weights as initializers, a symbolic batch N. train_step.onnx is one step of
// gradc's trainer (SGD with momentum 0.9, L2 on weight matrices, the loss's mean over the minibatch), its
// backward part gradc's own derived backward program written as plain ONNX operators.

import type { Gradients } from '../../autodiff/gradients.js';
import { gradName, valueNames } from '../../autodiff/names.js';
import type { Node } from '../../ir/node.js';
import { topo } from '../../ir/node.js';
import { printExpr } from '../../ir/print.js';
import { UserError } from '../../source/diagnostics.js';
import { FLOAT, INT64, OnnxGraph, OPSET } from './graph.js';
import { convGradKernel, lowerNode, type LowerCx } from './ops.js';
import { Values, type Val } from './values.js';

/** The per-example tensors of a lowering, memoised: hash-consing makes a shared subexpression one ONNX value. */
class Lowering implements LowerCx {
  readonly v: Values;
  private readonly memo = new Map<Node, Val>();
  private readonly batched = new Map<Node, boolean>();
  private readonly names: Map<Node, string>;

  constructor(readonly g: OnnxGraph, readonly grads: Gradients, leaves: Map<Node, Val>) {
    this.v = new Values(g);
    for (const [n, val] of leaves) this.memo.set(n, val);
    this.names = valueNames(grads);
  }

  isBatched(n: Node): boolean {
    let b = this.batched.get(n);
    if (b === undefined) { b = n.op === 'input' || n.args.some((a) => this.isBatched(a)); this.batched.set(n, b); }
    return b;
  }

  value(n: Node): Val {
    const known = this.memo.get(n);
    if (known) return known;
    if (n.op === 'input' || n.op === 'param') throw new Error(`${String(n.attr.name)} is not an input of this ONNX graph`);
    const args = n.args.map((a) => this.value(a));
    let val: Val;
    try {
      val = lowerNode(this, n, args, this.isBatched(n));
    } catch (e) {
      // Where the model wrote it, when it did (a forward node); else the message alone.
      const span = this.grads.model.spans.get(n);
      if (!span || e instanceof UserError) throw e;
      throw new UserError([{ span, message: `this cannot be exported to ONNX: ${(e as Error).message}` }]);
    }
    // A named value keeps its name (z1, a1, p) in the graph, with its formula, as Netron shows it.
    const name = this.names.get(n);
    if (name !== undefined) val = { ...val, name: this.g.node('Identity', [val.name], {}, { names: [this.g.fresh(name)], doc: this.formula(n) })[0] };
    this.memo.set(n, val);
    return val;
  }

  formula(n: Node): string {
    const text = printExpr(n, 'text', (m) => (m === n ? undefined : this.names.get(m)));
    return text.length > 400 ? `${text.slice(0, 400)}…` : text;
  }

  /**
   * Σ over the batch of a per-example value: a parameter's gradient. Pushed into sums, negations and scalings
   * so that outer(u, v) becomes one MatMul uᵀv and a kernel's gradient one convolution, never a tensor per
   * example; an unbatched term (a regulariser's) is counted once per example.
   */
  sumBatch(n: Node, count: () => string): string {
    if (!this.isBatched(n)) return this.g.op('Mul', [this.v.float(this.value(n)).name, count()]);
    const same = (a: Node) => a.shape.length === n.shape.length && a.shape.every((d, i) => d === n.shape[i]);
    const [a, b] = n.args;
    if (n.op === 'add' && same(a) && same(b)) return this.g.op('Add', [this.sumBatch(a, count), this.sumBatch(b, count)]);
    if (n.op === 'neg') return this.g.op('Neg', [this.sumBatch(a, count)]);
    if (n.op === 'mul') {
      for (const [c, x] of [[a, b], [b, a]]) {
        if (!this.isBatched(c) && same(x) && (c.isScalar || same(c))) return this.g.op('Mul', [this.value(c).name, this.sumBatch(x, count)]);
      }
    }
    if (n.op === 'outer' && this.isBatched(a) && this.isBatched(b)) {
      return this.g.op('MatMul', [this.g.op('Transpose', [this.value(a).name], { perm: [1, 0] }), this.value(b).name]);
    }
    if (n.op === 'conv2d_grad_kernel') return convGradKernel(this, n, n.args.map((x) => this.value(x)), true);
    return this.g.op('ReduceSum', [this.value(n).name, this.g.ints([0])], { keepdims: 0 });
  }
}

export interface OnnxOptions {
  /** The params' values (float32, row-major): trained weights or the initialisation. */
  readonly weights: ReadonlyMap<string, ArrayLike<number>>;
  /** model.onnx computes the loss too (the labels then become inputs). */
  readonly withLoss?: boolean;
  /** λ of the L2 penalty λ‖W‖² on weight matrices (gradc train's --l2). */
  readonly l2: number;
  readonly momentum: number;
}

const dims = (shape: readonly number[]) => ['N', ...shape];

function declareInputs(g: OnnxGraph, grads: Gradients, roots: readonly Node[], leaves: Map<Node, Val>): void {
  const used = new Set(topo(roots));
  for (const i of grads.model.inputs) {
    if (!used.has(i.node)) continue;
    const int = i.classes !== undefined;
    g.input(i.name, int ? INT64 : FLOAT, dims(i.shape), int ? `class label 0..${i.classes! - 1}` : `input [${i.shape.join(', ')}] per example`);
    leaves.set(i.node, { name: i.name, batched: true, shape: i.shape, int });
  }
}

/** model.onnx: inputs → outputs (and the per-example loss with `withLoss`), weights as initializers. */
export function inferenceModel(grads: Gradients, opts: OnnxOptions): Uint8Array {
  const m = grads.model;
  const g = new OnnxGraph(m.name, new Set([...m.inputs, ...m.params, ...m.values].map((x) => x.name)));
  const outputs = m.values.filter((v) => v.role === 'output');
  const wanted = [...outputs, ...(opts.withLoss || outputs.length === 0 ? [m.loss] : [])];
  const roots = wanted.map((v) => grads.forward.get(v.name)!);
  const leaves = new Map<Node, Val>();
  declareInputs(g, grads, roots, leaves);
  const used = new Set(topo(roots));
  for (const p of m.params) if (used.has(p.node)) leaves.set(p.node, { name: g.constant(opts.weights.get(p.name)!, p.shape, FLOAT, p.name), batched: false, shape: p.shape });
  const lw = new Lowering(g, grads, leaves);
  wanted.forEach((v, k) => {
    const val = lw.value(roots[k]);
    g.output(v.name === val.name ? v.name : `${v.name}`, val.name, FLOAT, val.batched ? dims(val.shape) : [...val.shape], lw.formula(roots[k]));
  });
  return g.encode(`${m.name}: inference (gradc, ONNX opset ${OPSET}); N is the batch`);
}

/** The names train_step.onnx gives a parameter's momentum and the updated values. */
export function trainStepNames(param: string): { velocity: string; next: string; nextVelocity: string } {
  return { velocity: `velocity_${param}`, next: `${param}_next`, nextVelocity: `velocity_${param}_next` };
}

/**
 * train_step.onnx: (minibatch, params, velocities, lr) → (loss, params', velocities'), as gradc's trainer
 * steps with momentum: v ← μ v + (1/N) Σ ∂L/∂θ + 2λθ, θ ← θ − lr v.
 */
export function trainStepModel(grads: Gradients, opts: OnnxOptions): Uint8Array {
  const m = grads.model;
  const own = [...m.inputs.map((i) => i.name), ...m.params.flatMap((p) => [p.name, ...Object.values(trainStepNames(p.name))]), 'lr', 'loss'];
  const g = new OnnxGraph(`${m.name}_train_step`, new Set(own));
  const gradNodes = m.params.map((p) => grads.grads.get(p.name));
  const leaves = new Map<Node, Val>();
  declareInputs(g, grads, [grads.loss, ...gradNodes.filter((x): x is Node => !!x)], leaves);
  for (const p of m.params) leaves.set(p.node, { name: g.input(p.name, FLOAT, p.shape, 'parameter'), batched: false, shape: p.shape });
  const velocities = m.params.map((p) => g.input(trainStepNames(p.name).velocity, FLOAT, p.shape, `momentum of ${p.name}`));
  const lr = g.input('lr', FLOAT, [], 'learning rate');
  const lw = new Lowering(g, grads, leaves);
  const loss = lw.value(grads.loss);
  const batchedLeaf = [...leaves.values()].find((v) => v.batched);
  let n: string | undefined;
  const count = () => (n ??= batchedLeaf ? lw.v.batchSize(batchedLeaf) : g.scalar(1));
  const meanLoss = loss.batched ? g.op('ReduceMean', [loss.name], { axes: { ints: [0] }, keepdims: 0 }) : loss.name;
  g.output('loss', meanLoss, FLOAT, [], `the mean of ${m.loss.name} over the minibatch`);
  m.params.forEach((p, k) => {
    const node = gradNodes[k];
    const names = trainStepNames(p.name);
    const total = node ? lw.sumBatch(node, count) : g.op('Mul', [p.name, g.scalar(0)]);
    const mean = g.op('Div', [total, count()], {}, `${gradName(m.loss.name, p.name, 'text')}, the mean over the minibatch`);
    const decay = p.shape.length >= 2 && opts.l2 > 0 ? g.op('Mul', [p.name, g.scalar(2 * opts.l2)]) : undefined;
    const step = decay ? g.op('Add', [mean, decay]) : mean;
    const v2 = g.op('Add', [g.op('Mul', [velocities[k], g.scalar(opts.momentum)]), step]);
    g.output(names.nextVelocity, v2, FLOAT, p.shape);
    g.output(names.next, g.op('Sub', [p.name, g.op('Mul', [v2, lr])]), FLOAT, p.shape);
  });
  return g.encode(`${m.name}: one training step (gradc's derived backward program; momentum ${opts.momentum}, L2 ${opts.l2} on weight matrices; ONNX opset ${OPSET})`);
}

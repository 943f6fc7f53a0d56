// The plan: *how* the model's forward and backward graphs run on a minibatch, decided before any code is
// written (what is computed is the IR's business; Halide keeps the two apart the same way).
//  - Every node that depends on an input is batched: it holds [B, …shape]; parameter-only nodes are not.
//  - Matrix–vector products become matrix–matrix products over the batch (gemmNT: X Wᵀ, gemmNN: G W), so
//    the inner loop is always the plain untransposed form over contiguous rows.
//  - Chains of elementwise ops are fused into one loop; a loop whose argument has no other use writes in
//    place into that argument's buffer (the bias and activation become the product's epilogue).
//  - ∂L/∂param is summed over the batch: outer(g, x) terms become one gemmTN (Gᵀ X), others a column sum.

import type { Gradients } from '../autodiff/gradients.js';
import type { Node } from '../ir/node.js';
import { sameShape, topo } from '../ir/node.js';
import * as B from '../ir/build.js';
import { isElementwise } from './elementwise.js';
import { convSizes } from '../ir/ops/image.js';
import type { Gradients as G } from '../autodiff/gradients.js';

export type Step =
  | { kind: 'loop'; node: Node }                                            // fused elementwise loop
  | { kind: 'gemm'; node: Node; variant: 'NT' | 'NN'; x: Node; w: Node; m: number; k: number }
  | { kind: 'rows'; node: Node; fn: 'softmaxRows' | 'logSoftmaxRows' | 'logsumexpRows' | 'crossEntropyRows' }
  | { kind: 'generic'; node: Node };                                        // a small per-example loop nest

export type Term =
  | { kind: 'outer'; u: Node; v: Node; sign: 1 | -1 }   // Σ_b u_b v_bᵀ
  | { kind: 'kernelSum'; node: Node; sign: 1 }          // Σ_b correlate(x_b, g_b): a convolution kernel's gradient, one product
  | { kind: 'batched'; node: Node; sign: 1 | -1 }       // Σ_b x_b
  | { kind: 'invariant'; node: Node; sign: 1 | -1 };    // n · x

export interface Program { readonly steps: readonly Step[] }

export interface Plan {
  readonly g: Gradients;
  readonly batched: ReadonlySet<Node>;
  /** Nodes computed in a buffer of their own (or shared in place); the rest are inlined into loops. */
  readonly materialized: ReadonlySet<Node>;
  /** In-place loops: the node writes into the buffer of this argument. */
  readonly alias: ReadonlyMap<Node, Node>;
  readonly train: Program;
  readonly forward: Program;
  readonly terms: ReadonlyMap<string, readonly Term[]>;
  /** The loss, the outputs and the logits as the programs compute them: one value per example. */
  readonly loss: Node;
  readonly outputs: readonly Node[];
  readonly logits: Node | null;
  /** How accuracy is measured, if it applies (the runtime compares `logits` with the label input). */
  readonly accuracy: Accuracy | null;
}

/**
 * Accuracy applies to a classifier: argmax of the logits of cross_entropy(z, y) against the class label y;
 * or a binary one — a scalar output the label does not feed (p = σ(wᵀx)), thresholded (0.5 for a
 * probability, made by sigmoid; 0 for a score) against a scalar input the loss reads (y ∈ {0, 1} or {−1, +1}).
 */
export type Accuracy =
  | { readonly kind: 'class'; readonly label: Node; readonly logits: Node }
  | { readonly kind: 'binary'; readonly label: Node; readonly logits: Node; readonly output: string; readonly threshold: number };

export function accuracyOf(g: G): Accuracy | null {
  const lossNodes = topo([g.loss]);
  const ce = lossNodes.find((n) => n.op === 'cross_entropy' && n.args[1].op === 'input');
  if (ce) return { kind: 'class', label: ce.args[1], logits: ce.args[0] };
  const scalarInputs = g.model.inputs.filter((i) => i.shape.length === 0 && i.classes === undefined && lossNodes.includes(i.node));
  for (const o of g.model.outputs) {
    const out = g.outputs.get(o.name)!;
    if (!out.isScalar) continue;
    const reads = new Set(topo([out]));
    if (!g.model.inputs.some((i) => reads.has(i.node))) continue; // a constant is no prediction
    const label = scalarInputs.find((i) => !reads.has(i.node));
    if (label) return { kind: 'binary', label: label.node, logits: out, output: o.name, threshold: out.op === 'sigmoid' ? 0.5 : 0 };
  }
  return null;
}

/**
 * `fuseKernelGradients`: a convolution kernel's gradient is summed over the batch by one product
 * (runtime/conv.ts) instead of being computed per example and then summed; the gpu.js target, which runs
 * one kernel per element, computes it per example.
 */
export function makePlan(g: Gradients, opts: { fuseKernelGradients?: boolean } = {}): Plan {
  const fuse = opts.fuseKernelGradients ?? true;
  // A value every example reads (a loss, output or logits that depends on no input) is copied per example,
  // so that runtimes can always index it by example.
  const inputDependence = new Map<Node, boolean>();
  const dependsOnInput = (n: Node): boolean => {
    let d = inputDependence.get(n);
    if (d === undefined) { d = n.op === 'input' || n.args.some(dependsOnInput); inputDependence.set(n, d); }
    return d;
  };
  const forced = new Set<Node>();
  // An input itself is copied too: the runtime reads these from buffers the kernels own.
  const perExample = (n: Node): Node => {
    if (dependsOnInput(n) && n.op !== 'input') return n;
    const copy = B.add(n, B.constant(0, n.shape));
    forced.add(copy);
    return copy;
  };
  const lossNode = perExample(g.loss);
  const outputs = [...g.outputs.values()].map(perExample);
  const accuracy = accuracyOf(g);
  const logits = accuracy ? perExample(accuracy.logits) : null;

  // Decompose each gradient into batch-summable terms.
  const terms = new Map<string, Term[]>();
  const decompose = (n: Node, sign: 1 | -1, out: Term[]): void => {
    if (!dependsOnInput(n)) { out.push({ kind: 'invariant', node: n, sign }); return; }
    if (n.op === 'add') { decompose(n.args[0], sign, out); decompose(n.args[1], sign, out); return; }
    if (n.op === 'neg') { decompose(n.args[0], sign === 1 ? -1 : 1, out); return; }
    if (n.op === 'outer' && dependsOnInput(n.args[0]) && dependsOnInput(n.args[1])) { out.push({ kind: 'outer', u: n.args[0], v: n.args[1], sign }); return; }
    if (fuse && n.op === 'conv2d_grad_kernel' && sign === 1) { out.push({ kind: 'kernelSum', node: n, sign }); return; }
    out.push({ kind: 'batched', node: n, sign });
  };
  for (const [name, grad] of g.grads) {
    const t: Term[] = [];
    if (grad) decompose(grad, 1, t);
    // Splitting a sum only pays when it exposes an outer product (one gemm) or a batch-independent part.
    const useful = t.some((x) => x.kind !== 'batched');
    terms.set(name, grad && !useful ? [{ kind: 'batched', node: grad, sign: 1 }] : t);
  }
  const termRoots = [...terms.values()].flat().flatMap((t) => (t.kind === 'outer' ? [t.u, t.v] : t.kind === 'kernelSum' ? [...t.node.args] : [t.node]));

  const trainRoots = [lossNode, ...termRoots, ...(logits ? [logits] : [])]; // running accuracy reads the logits
  const forwardRoots = [lossNode, ...outputs, ...(logits ? [logits] : [])];
  const all = topo([...trainRoots, ...forwardRoots]);
  const roots = new Set([...trainRoots, ...forwardRoots]);

  const batched = new Set<Node>();
  for (const n of all) if (n.op === 'input' || forced.has(n) || n.args.some((a) => batched.has(a))) batched.add(n);

  const consumers = new Map<Node, Node[]>();
  for (const n of all) for (const a of n.args) consumers.set(a, [...(consumers.get(a) ?? []), n]);

  // A transpose feeding only gemms is never built: the gemm reads the matrix in the right order.
  const gemmOf = (n: Node): { variant: 'NT' | 'NN'; x: Node; w: Node; m: number; k: number } | undefined => {
    if (n.op !== 'matmul' || !batched.has(n)) return undefined;
    const [a, b] = n.args;
    const inv = (x: Node) => !batched.has(x);
    if (a.rank === 2 && b.rank === 1 && inv(a) && batched.has(b)) {
      if (a.op === 'transpose') return { variant: 'NN', x: b, w: a.args[0], m: a.args[0].shape[0], k: a.args[0].shape[1] }; // Wᵀg = G W
      return { variant: 'NT', x: b, w: a, m: a.shape[0], k: a.shape[1] };                                                     // W x = X Wᵀ
    }
    if (a.rank === 1 && b.rank === 2 && batched.has(a) && inv(b)) {
      if (b.op === 'transpose') return { variant: 'NT', x: a, w: b.args[0], m: b.args[0].shape[0], k: b.args[0].shape[1] }; // v Wᵀ
      return { variant: 'NN', x: a, w: b, m: b.shape[0], k: b.shape[1] };                                                     // vᵀA = V A
    }
    return undefined;
  };
  const virtual = new Set<Node>();
  for (const n of all) {
    if (n.op === 'transpose' && !roots.has(n) && (consumers.get(n) ?? []).every((c) => gemmOf(c)?.w === n.args[0] && c.args.includes(n))) virtual.add(n);
  }

  // A constant tensor is a number wherever it is read element by element, but a product or a row kernel
  // reads whole buffers: there it is materialized (filled once per call, it depends on nothing).
  const readAsBuffer = (n: Node): boolean => roots.has(n) || (consumers.get(n) ?? []).some((c) => !isElementwise(c) || virtual.has(c));
  const materialized = new Set<Node>();
  for (const n of all) {
    if (n.op === 'const' && n.rank > 0 && readAsBuffer(n)) { materialized.add(n); continue; }
    if ((n.args.length === 0 && n.op !== 'call') || virtual.has(n)) continue;
    const uses = consumers.get(n) ?? [];
    const inlinable = isElementwise(n) && !roots.has(n) && uses.length === 1 && isElementwise(uses[0])
      && batched.has(uses[0]) === batched.has(n) && sameShape(uses[0].shape, n.shape) && uses[0].op !== 'onehot';
    if (!inlinable) materialized.add(n);
  }

  // In place: a fused loop may overwrite an argument that nobody else reads (z = Wx + b writes over Wx).
  const alias = new Map<Node, Node>();
  const aliased = new Set<Node>();
  for (const n of all) {
    if (!materialized.has(n) || !isElementwise(n) || n.op === 'onehot') continue;
    const cand = n.args.find((a) => materialized.has(a) && !roots.has(a) && !aliased.has(a) && (consumers.get(a) ?? []).length === 1
      && sameShape(a.shape, n.shape) && batched.has(a) === batched.has(n) && !alias.has(a));
    if (cand) { alias.set(n, cand); aliased.add(cand); }
  }

  const stepFor = (n: Node): Step => {
    const gm = gemmOf(n);
    if (gm) return { kind: 'gemm', node: n, ...gm };
    if (isElementwise(n)) return { kind: 'loop', node: n };
    const rows: Record<string, Extract<Step, { kind: 'rows' }>['fn']> = { softmax: 'softmaxRows', log_softmax: 'logSoftmaxRows', logsumexp: 'logsumexpRows', cross_entropy: 'crossEntropyRows' };
    if (Object.hasOwn(rows, n.op) && batched.has(n.args[0])) return { kind: 'rows', node: n, fn: rows[n.op] };
    return { kind: 'generic', node: n };
  };
  const program = (rs: Node[]): Program => ({ steps: topo(rs).filter((n) => materialized.has(n)).map(stepFor) });
  return { g, batched, materialized, alias, train: program(trainRoots), forward: program(forwardRoots), terms, loss: lossNode, outputs, logits, accuracy };
}

/** The products the plan runs as gemm kernels, by variant and the two sizes the model fixes (for the wasm target). */
export function gemmShapes(plan: Plan): { variant: 'NT' | 'NN' | 'TN'; m: number; k: number }[] {
  const out: { variant: 'NT' | 'NN' | 'TN'; m: number; k: number }[] = [];
  for (const s of [...plan.train.steps, ...plan.forward.steps]) if (s.kind === 'gemm') out.push({ variant: s.variant, m: s.m, k: s.k });
  for (const ts of plan.terms.values()) for (const t of ts) if (t.kind === 'outer' && t.sign === 1) out.push({ variant: 'TN', m: t.u.size, k: t.v.size });
  // The image kernels' batch products (runtime/conv.ts): [positions, F] rows against [F, C·kh·kw] kernels.
  const conv = (n: Node) => { const [C, , , F, kh, kw] = convSizes(n); return { m: F, k: C * kh * kw }; };
  for (const s of [...plan.train.steps, ...plan.forward.steps]) {
    if (s.node.op === 'conv2d') out.push({ variant: 'NT', ...conv(s.node) });
    if (s.node.op === 'conv2d_grad_input') out.push({ variant: 'NN', ...conv(s.node) });
  }
  for (const ts of plan.terms.values()) for (const t of ts) if (t.kind === 'kernelSum') out.push({ variant: 'TN', ...conv(t.node) });
  return out;
}

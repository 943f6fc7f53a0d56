// Second derivatives by differentiating the derived gradient again (reverse over reverse), never by finite
// differences. The Hessian–vector product ∂/∂x ⟨∂L/∂y, v⟩ = H_xy v is built for any model (Pearlmutter's
// R-operator, written as one more backward pass over the backward program); where it is linear in v by
// rules the reader knows, the Hessian itself is read off it as a matrix expression (linear-form.ts):
// A + Aᵀ for xᵀAx, 2AᵀA for ‖Ax − b‖², diag(p) − p pᵀ for the cross-entropy in the logits, and
// kron(diag(p) − p pᵀ, x xᵀ) for softmax regression's weight matrix.

import type { Model } from '../frontend/model.js';
import type { Node } from '../ir/node.js';
import { substitute, topo } from '../ir/node.js';
import * as B from '../ir/build.js';
import { PlainError } from '../source/diagnostics.js';
import { newSimplifier } from '../simplify/index.js';
import { deriveGradients, type Gradients } from './gradients.js';
import { kronCoefficients, vectorCoefficient } from './linear-form.js';
import { reverse } from './reverse.js';
import { inner } from './jvp.js';

/** A variable the loss is differentiated in: a param, or an input or named value made a leaf of its own. */
export interface HessianVar {
  readonly name: string;
  readonly kind: 'param' | 'input' | 'value';
  /** The leaf the derivation uses: the param itself, or a `var` of the value's name and shape. */
  readonly leaf: Node;
  /** Its forward value over params and inputs (what the leaf stands for when evaluating). */
  readonly forward: Node;
}

export type HessianForm = 'scalar' | 'matrix' | 'kron' | 'hvp';

export interface Hessian {
  readonly g: Gradients;
  /** ∂²L/∂rows ∂colsᵀ: rows and cols are one variable for a Hessian, two for a cross block. */
  readonly rows: HessianVar;
  readonly cols: HessianVar;
  /** The direction v (a `var` of the cols' shape) the Hessian–vector product is taken along. */
  readonly direction: Node;
  /** H v = ∂/∂rows ⟨∂L/∂cols, v⟩, simplified; a zero constant when L is linear in the variables. */
  readonly hvp: Node;
  /** The Hessian (block) as one expression, when it could be read off the product; else null. */
  readonly matrix: Node | null;
  readonly form: HessianForm;
  /** The loss over the leaves (with values replaced by their `var`), for finite differences. */
  readonly loss: Node;
}

/** The name of the direction: `v` (or `V` for a matrix), unless the model already uses it. */
export function directionName(model: Model, shape: readonly number[], wanted?: string): string {
  const taken = new Set([...model.params.map((p) => p.name), ...model.inputs.map((i) => i.name), ...model.values.map((v) => v.name), ...model.dims.keys(), ...model.consts.keys()]);
  if (wanted !== undefined) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(wanted)) throw new PlainError(`--direction ${wanted}: a direction is named like a model value (letters, digits, _)`);
    if (taken.has(wanted)) throw new PlainError(`--direction ${wanted}: ${model.name} already has a value named ${wanted}; choose another name`);
    return wanted;
  }
  let name = shape.length === 2 ? 'V' : 'v';
  while (taken.has(name)) name += '_';
  return name;
}

function variableOf(g: Gradients, name: string): HessianVar {
  const m = g.model;
  const param = m.params.find((p) => p.name === name);
  if (param) return { name, kind: 'param', leaf: param.node, forward: param.node };
  const input = m.inputs.find((i) => i.name === name);
  if (input?.classes !== undefined) throw new PlainError(`--wrt ${name}: '${name}' is a class label, an integer: the loss has no derivative with respect to it`);
  const value = m.values.find((v) => v.name === name && v.role !== 'loss');
  if (!input && !value) {
    const known = [...m.params.map((p) => p.name), ...m.inputs.filter((i) => i.classes === undefined).map((i) => i.name), ...m.values.filter((v) => v.role !== 'loss').map((v) => v.name)];
    throw new PlainError(`--wrt ${name}: '${name}' is not a parameter, input or named value of ${m.name}; choose from ${known.join(', ')}`);
  }
  const forward = input ? input.node : g.forward.get(name)!;
  return { name, kind: input ? 'input' : 'value', leaf: B.variable(name, forward.shape), forward };
}

/** ∂²L/∂x², or the cross block ∂²L/∂x∂yᵀ for `wrt` = [x, y]; `direction` names v in H v. */
export function deriveHessian(model: Model, wrt: readonly string[], direction?: string): Hessian {
  if (wrt.length < 1 || wrt.length > 2) throw new PlainError(`hessian takes one --wrt NAME (the Hessian) or two (a cross block ∂²L/∂x∂y), got ${wrt.length}`);
  const g = deriveGradients(model);
  const rows = variableOf(g, wrt[0]);
  const cols = wrt.length === 2 ? variableOf(g, wrt[1]) : rows;
  // The loss over the leaves: a named value (or input) becomes a variable of its own, as in ∂²L/∂z².
  const vars = [rows, cols].filter((v) => v.kind !== 'param');
  const loss = substitute(g.loss, (n) => vars.find((v) => v.forward === n)?.leaf);
  const simp = newSimplifier();
  const dirLeaf = B.variable(directionName(model, cols.leaf.shape, direction), cols.leaf.shape);
  const zero = B.constant(0, rows.leaf.shape);
  const gradCols = reverse(loss, [cols.leaf]).get(cols.leaf);
  const hvpRaw = gradCols ? reverse(inner(simp.simplify(gradCols), dirLeaf), [rows.leaf]).get(rows.leaf) : undefined;
  const hvp = hvpRaw ? simp.simplify(hvpRaw) : zero;
  const { matrix, form } = readMatrix(hvp, rows.leaf, dirLeaf, rows === cols);
  return { g, rows, cols, direction: dirLeaf, hvp, matrix: matrix && simp.simplify(matrix), form, loss };
}

/** The Hessian as an expression, read off the product where it is linear in the direction by known rules. */
function readMatrix(hvp: Node, rows: Node, v: Node, square: boolean): { matrix: Node | null; form: HessianForm } {
  if (!topo([hvp]).includes(v)) {
    // No direction left: a zero Hessian, or one that does not depend on the direction's entries (a scalar v).
    if (v.isScalar) return { matrix: hvp, form: rows.isScalar ? 'scalar' : 'matrix' };
    const shape = rows.isScalar ? v.shape : v.rank === 1 && rows.rank <= 1 ? [...rows.shape, ...v.shape] : null;
    return shape ? { matrix: B.constant(0, shape), form: 'matrix' } : { matrix: null, form: 'hvp' };
  }
  if (v.isScalar) {
    const m = substitute(hvp, (n) => (n === v ? B.constant(1) : undefined));
    return { matrix: m, form: rows.isScalar ? 'scalar' : 'matrix' };
  }
  if (v.rank === 1 && rows.rank <= 1) {
    const m = vectorCoefficient(hvp, v);
    return m ? { matrix: m, form: 'matrix' } : { matrix: null, form: 'hvp' };
  }
  if (square && v.rank === 2) {
    const k = kronCoefficients(hvp, v);
    return k ? { matrix: B.kron(k.left, B.transpose(k.right)), form: 'kron' } : { matrix: null, form: 'hvp' };
  }
  return { matrix: null, form: 'hvp' };
}

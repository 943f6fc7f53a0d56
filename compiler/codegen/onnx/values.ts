// gradc's IR describes one example; an ONNX graph runs a batch. A value is *batched* when it depends on an
// input — then its ONNX tensor has a leading batch axis N before the example's shape — and unbatched (a
// parameter, a constant, anything computed from them alone) otherwise. These helpers line values up for
// ONNX's numpy broadcasting, which gradc's own rules (SPEC §1: a vector along a matrix's rows, a vector
// per channel of an image) do not always match.

import { sizeOf } from '../../ir/node.js';
import type { OnnxGraph } from './graph.js';

export interface Val {
  /** The ONNX value's name. */
  readonly name: string;
  /** Whether it has the leading batch axis. */
  readonly batched: boolean;
  /** The shape of one example's value (the IR node's shape). */
  readonly shape: readonly number[];
  /** An int64 tensor (class labels); everything else is float32. */
  readonly int?: boolean;
}

/** The ONNX shape of a value, -1 standing for the batch (for Reshape). */
export const fullShape = (v: { batched: boolean; shape: readonly number[] }, shape = v.shape): number[] => (v.batched ? [-1, ...shape] : [...shape]);

/** An axis of the example's shape as an axis of the ONNX tensor. */
export const axisOf = (v: { batched: boolean }, axis: number): number => (v.batched ? axis + 1 : axis);

/** The axes of one example's value: all but the batch axis. */
export const exampleAxes = (v: { batched: boolean; shape: readonly number[] }): number[] => v.shape.map((_, i) => axisOf(v, i));

export class Values {
  constructor(readonly g: OnnxGraph) {}

  reshape(v: Val, shape: readonly number[], doc?: string): Val {
    if (shape.length === v.shape.length && shape.every((d, i) => d === v.shape[i])) return v;
    return { ...v, name: this.g.op('Reshape', [v.name, this.g.ints(fullShape(v, shape))], {}, doc), shape: [...shape] };
  }

  /** Float32, whatever it was (a class label used as a number). */
  float(v: Val): Val {
    return v.int ? { ...v, int: false, name: this.g.op('Cast', [v.name], { to: 1 }) } : v;
  }

  /** Int64 (a class label, or a constant index given as a number). */
  int64(v: Val): Val {
    return v.int ? v : { ...v, int: true, name: this.g.op('Cast', [v.name], { to: 7 }) };
  }

  /**
   * `v` shaped to broadcast, the numpy way, against a result of the example shape `out`: a scalar as ones,
   * a vector along a matrix's rows as [1, n], a vector per channel of an image as [C, 1, 1].
   */
  align(v: Val, out: readonly number[]): Val {
    const s = v.shape;
    let aligned: number[];
    if (s.length === out.length) aligned = [...s];
    else if (s.length === 0) aligned = out.map(() => 1);
    else if (s.length === 1 && out.length === 2) aligned = [1, s[0]];
    else if (s.length === 1 && out.length === 3) aligned = [s[0], 1, 1];
    else throw new Error(`ONNX export: cannot broadcast [${s.join(', ')}] to [${out.join(', ')}]`);
    // An unbatched value whose shape is the aligned one without leading ones broadcasts as it is.
    if (!v.batched) {
      const lead = aligned.length - s.length;
      if (aligned.slice(0, lead).every((d) => d === 1) && aligned.slice(lead).every((d, i) => d === s[i])) return v;
    }
    if (sizeOf(aligned) !== sizeOf(s)) throw new Error('ONNX export: internal broadcast mismatch');
    return this.reshape(v, aligned); // its shape is now the aligned one (what the ONNX tensor has)
  }

  /** The batch size N as a float32 scalar, from a batched value. */
  batchSize(batched: Val): string {
    const shape = this.g.op('Shape', [batched.name]);
    const n = this.g.op('Gather', [shape, this.g.constant([0], [], 7)], { axis: 0 });
    return this.g.op('Cast', [n], { to: 1 });
  }
}

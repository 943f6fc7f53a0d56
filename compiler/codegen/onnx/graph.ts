// An ONNX graph under construction: nodes, initializers, inputs and outputs, with fresh value names and
// shared constants (one initializer per distinct axes list or scalar). Serialised through onnx-proto (the
// ONNX schema compiled for protobufjs), never by hand.

import { createRequire } from 'node:module';
import type { onnx as OnnxNs } from 'onnx-proto';

const { onnx } = createRequire(import.meta.url)('onnx-proto') as { onnx: typeof OnnxNs };

/** The operator set the exporter writes (ONNX 1.12; every ONNX Runtime since 1.12 runs it). */
export const OPSET = 17;
const IR_VERSION = 8;

export const FLOAT = onnx.TensorProto.DataType.FLOAT;
export const INT64 = onnx.TensorProto.DataType.INT64;
export type ElemType = typeof FLOAT | typeof INT64;

export type AttrValue = number | readonly number[] | string | { ints: readonly number[] } | { float: number };

/** A dimension: a size, or the name of a symbolic one (N, the batch). */
export type Dim = number | string;

export class OnnxGraph {
  private readonly nodes: OnnxNs.INodeProto[] = [];
  private readonly initializers: OnnxNs.ITensorProto[] = [];
  private readonly inputs: OnnxNs.IValueInfoProto[] = [];
  private readonly outputs: OnnxNs.IValueInfoProto[] = [];
  private readonly taken = new Set<string>();
  private readonly shared = new Map<string, string>();
  private counter = 0;

  /** `own`: the names of the graph's inputs, outputs and named initializers, which no intermediate may take. */
  constructor(readonly name: string, private readonly own: ReadonlySet<string>) {}

  /** A value name not used yet: `base`, or base_2, base_3, … */
  fresh(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_./]/g, '_') || 'v';
    let name = clean;
    for (let k = 2; this.taken.has(name) || this.own.has(name); k++) name = `${clean}_${k}`;
    this.taken.add(name);
    return name;
  }

  /** Takes one of the graph's own names (a model input, parameter or output). */
  reserve(name: string): string {
    if (this.taken.has(name)) throw new Error(`ONNX value name ${name} is used twice`);
    this.taken.add(name);
    return name;
  }

  /** One node; returns its output names (`outputs` of them, named after the op unless given). */
  node(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, opts: { outputs?: number; names?: readonly string[]; doc?: string } = {}): string[] {
    const count = opts.names?.length ?? opts.outputs ?? 1;
    const outs = opts.names ? [...opts.names] : Array.from({ length: count }, () => this.fresh(`${opType.toLowerCase()}${this.counter++}`));
    this.nodes.push(onnx.NodeProto.create({
      opType, input: [...inputs], output: outs, name: `${opType}_${this.nodes.length}`,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
      ...(opts.doc ? { docString: opts.doc } : {}),
    }));
    return outs;
  }

  /** A node with one output. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, doc?: string): string {
    return this.node(opType, inputs, attrs, { doc })[0];
  }

  /** An initializer holding `values` (float32 or int64), shared when the same small constant is asked again. */
  constant(values: ArrayLike<number>, dims: readonly number[], type: ElemType = FLOAT, name?: string): string {
    const key = values.length <= 16 && !name ? `${type}:${dims.join('x')}:${Array.from(values).join(',')}` : undefined;
    const known = key && this.shared.get(key);
    if (known) return known;
    const n = name ? this.reserve(name) : this.fresh(type === INT64 ? 'i' : 'c');
    this.initializers.push(tensorProto(n, values, dims, type));
    if (key) this.shared.set(key, n);
    return n;
  }

  /** A 1-D int64 constant: axes, shapes, pads. */
  ints(values: readonly number[]): string {
    return this.constant(values, [values.length], INT64);
  }

  /** A float32 scalar constant. */
  scalar(v: number): string {
    return this.constant([v], []);
  }

  input(name: string, type: ElemType, dims: readonly Dim[], doc?: string): string {
    this.inputs.push(valueInfo(this.reserve(name), type, dims, doc));
    return name;
  }

  /** Declares `value` an output under `name` (an Identity renames it when the two differ). */
  output(name: string, value: string, type: ElemType, dims: readonly Dim[], doc?: string): void {
    if (value !== name) this.node('Identity', [value], {}, { names: [this.reserve(name)] });
    this.outputs.push(valueInfo(name, type, dims, doc));
  }

  /** The serialised model, with its producer and a docstring. */
  encode(doc: string): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION, producerName: 'gradc', producerVersion: '0.1.0', docString: doc,
      opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: OPSET })],
      graph: onnx.GraphProto.create({ name: this.name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs }),
    });
    return onnx.ModelProto.encode(model).finish();
  }

  get nodeCount(): number { return this.nodes.length; }
}

function attribute(name: string, v: AttrValue): OnnxNs.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') return Number.isInteger(v) ? { name, type: T.INT, i: v } : { name, type: T.FLOAT, f: v };
  if ('float' in v) return { name, type: T.FLOAT, f: v.float };
  const ints = 'ints' in v ? v.ints : v;
  return { name, type: T.INTS, ints: [...ints] };
}

function tensorProto(name: string, values: ArrayLike<number>, dims: readonly number[], type: ElemType): OnnxNs.ITensorProto {
  // Raw little-endian bytes: compact for a model's weights, and what every reader accepts.
  const raw = type === FLOAT ? new Uint8Array(Float32Array.from(values).buffer) : new Uint8Array(BigInt64Array.from(Array.from(values, (x) => BigInt(x))).buffer);
  return onnx.TensorProto.create({ name, dims: [...dims], dataType: type, rawData: raw });
}

function valueInfo(name: string, type: ElemType, dims: readonly Dim[], doc?: string): OnnxNs.IValueInfoProto {
  return onnx.ValueInfoProto.create({
    name, ...(doc ? { docString: doc } : {}),
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: type,
        shape: onnx.TensorShapeProto.create({ dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) }),
      }),
    }),
  });
}

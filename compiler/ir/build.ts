// Typed constructors over `make`: the vocabulary that the front end, the derivative rules and the
// simplifier build IR with. They do no algebra; simplification is a separate stage.

import { make, Node, Shape, FnDef } from './node.js';
import './ops/index.js';

/** An input; a class label `class(K)` is a scalar with `classes` = K (and the dim's name, for printing). */
export const input = (name: string, shape: Shape, classes?: number, classDim?: string) =>
  make('input', [], classes === undefined ? { name, shape: [...shape] }
    : classDim === undefined ? { name, shape: [...shape], classes } : { name, shape: [...shape], classes, classDim });
export const param = (name: string, shape: Shape) => make('param', [], { name, shape: [...shape] });
/** A placeholder leaf: a fn argument, or (with `adjointOf`) the adjoint dL/dz a claim refers to. */
export const variable = (name: string, shape: Shape = [], adjointOf?: string) =>
  make('var', [], { name, ...(shape.length ? { shape: [...shape] } : {}), ...(adjointOf === undefined ? {} : { adjointOf }) });
export const dim = (name: string, value: number) => make('dim', [], { name, value });
export const constant = (value: number, shape: Shape = []) => make('const', [], { value: Object.is(value, -0) ? 0 : value, shape: [...shape] });
/** A hyperparameter (`const lambda = 0.01`): a constant that prints by its name (its value in mathjs output). */
export const namedConstant = (name: string, value: number) => make('const', [], { value: Object.is(value, -0) ? 0 : value, shape: [], name });
export const isConst = (n: Node, v?: number): boolean => n.op === 'const' && (v === undefined || n.attr.value === v);
export const constValue = (n: Node): number | undefined => (n.op === 'const' ? (n.attr.value as number) : undefined);

export const add = (a: Node, b: Node) => make('add', [a, b]);
export const neg = (a: Node) => make('neg', [a]);
export const sub = (a: Node, b: Node) => add(a, neg(b));
export const mul = (a: Node, b: Node) => make('mul', [a, b]);
export const div = (a: Node, b: Node) => make('div', [a, b]);
export const pow = (a: Node, b: Node) => make('pow', [a, b]);
export const unary = (op: string, a: Node) => make(op, [a]);
export const exp = (a: Node) => make('exp', [a]);
export const log = (a: Node) => make('log', [a]);
export const sigmoid = (a: Node) => make('sigmoid', [a]);
export const sign = (a: Node) => make('sign', [a]);
export const step = (a: Node) => make('step', [a]);
export const cos = (a: Node) => make('cos', [a]);
export const sin = (a: Node) => make('sin', [a]);
export const sqrt = (a: Node) => make('sqrt', [a]);
export const max = (a: Node, b: Node) => make('max', [a, b]);
export const min = (a: Node, b: Node) => make('min', [a, b]);
export const leakyRelu = (t: Node, a: Node) => make('leaky_relu', [t, a]);

export const matmul = (a: Node, b: Node) => make('matmul', [a, b]);
export const transpose = (a: Node) => (a.rank < 2 ? a : make('transpose', [a]));
export const dot = (a: Node, b: Node) => make('dot', [a, b]);
export const outer = (a: Node, b: Node) => make('outer', [a, b]);
export const diag = (a: Node) => make('diag', [a]);
export const kron = (a: Node, b: Node) => make('kron', [a, b]);
/** G (the shape of a Kronecker product) contracted with its factor F, giving the other factor (`shape`). */
export const kronContract = (g: Node, f: Node, side: 'left' | 'right', shape: Shape) => make('kron_contract', [g, f], { side, shape: [...shape] });

export const sum = (a: Node) => make('sum', [a]);
export const mean = (a: Node) => make('mean', [a]);
export const sumRows = (a: Node) => make('sum_rows', [a]);
/** Σ along axis k (0-based) of any tensor: the whole sum of a vector, sum_rows for a matrix's first axis. */
export const sumAxis = (a: Node, axis: number): Node =>
  (a.rank === 1 ? sum(a) : a.rank === 2 && axis === 0 ? sumRows(a) : make('sum_axis', [a], { axis }));
/** `a` repeated along a new axis k of `size`: the adjoint of sumAxis (a row repeated down a matrix is `fill`). */
export const spreadAxis = (a: Node, axis: number, size: number): Node => {
  const shape = [...a.shape.slice(0, axis), size, ...a.shape.slice(axis)];
  return a.isScalar || (shape.length === 2 && axis === 0) ? fill(a, shape) : make('spread_axis', [a], { axis, size });
};
export const maxAll = (a: Node) => make('max_all', [a]);
export const minAll = (a: Node) => make('min_all', [a]);
/** 1 at the first position where `a` takes its max (or min), 0 elsewhere: the adjoint of max(t), min(t). */
export const argMask = (a: Node, which: 'max' | 'min') => make('arg_mask', [a], { which });
/** v[y]: the element of a vector at a class label (or an integer constant). */
export const index = (v: Node, i: Node) => make('index', [v, i]);
export const fill = (a: Node, shape: Shape) => make('fill', [a], { shape: [...shape] });

export const softmax = (a: Node) => make('softmax', [a]);
export const logSoftmax = (a: Node) => make('log_softmax', [a]);
export const logsumexp = (a: Node) => make('logsumexp', [a]);
export const onehot = (y: Node, k: number, kName?: string) => make('onehot', [y], kName === undefined ? { k } : { k, kName });
export const crossEntropy = (z: Node, y: Node) => make('cross_entropy', [z, y]);
export const call = (fn: FnDef, args: readonly Node[]) => make('call', args, { fn });

/** conv2d(X, K, stride=s, pad=p) and its two adjoints (ops/image.ts); `image` and `window` are the shapes they give back. */
export interface ConvAttr { stride: number; pad: number }
export const conv2d = (x: Node, k: Node, a: ConvAttr) => make('conv2d', [x, k], { ...a });
export const conv2dGradInput = (g: Node, k: Node, image: Shape, a: ConvAttr) => make('conv2d_grad_input', [g, k], { ...a, image: [...image] });
export const conv2dGradKernel = (x: Node, g: Node, kernel: Shape, a: ConvAttr) => make('conv2d_grad_kernel', [x, g], { ...a, window: [kernel[2], kernel[3]] });
export const maxpool = (x: Node, size: number) => make('maxpool', [x], { size });
export const maxpoolRoute = (x: Node, g: Node, size: number) => make('maxpool_route', [x, g], { size });
export const maxpoolGather = (x: Node, h: Node, size: number) => make('maxpool_gather', [x, h], { size });
export const avgpool = (x: Node, size: number) => make('avgpool', [x], { size });
export const upsample = (g: Node, size: number, image: Shape) => make('upsample', [g], { size, image: [...image] });
/** The same elements in another shape; `flatten(X)` is reshape to one axis, printed as flatten. */
export const reshape = (x: Node, shape: Shape, flat = false) =>
  (x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i]) ? x : make('reshape', [x], flat ? { shape: [...shape], flat } : { shape: [...shape] }));
export const sumPositions = (x: Node) => make('sum_positions', [x]);

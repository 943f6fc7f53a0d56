// gpu.js kernels for the image ops (ir/ops/image.ts): one output element per thread, as the other gpu.js
// kernels are. They compute what runtime/conv.ts computes over a batch, written element by element: each
// thread finds its own taps (a convolution) or its own window (pooling) with loops of constant bounds.
// Locals end in `_`, which no buffer name does (NameTable's glsl names drop trailing underscores).

import type { Node } from '../../ir/node.js';
import { convSizes, poolSizes } from '../../ir/ops/image.js';
import { opOf } from '../../ir/node.js';
import * as A from '../ts/ast.js';
import type { Expr, Stmt } from '../ts/ast.js';

/** Element `offset` of argument k of the node, for the current example (the caller adds the batch offset). */
export type Load = (k: number, offset: Expr) => Expr;

const id = A.ident, num = A.num;
const add = (...xs: Expr[]) => xs.reduce((a, b) => A.bin('+', a, b));
const mul = (a: Expr, b: Expr | number) => A.bin('*', a, typeof b === 'number' ? num(b) : b);
const sub = (a: Expr, b: Expr | number) => A.bin('-', a, typeof b === 'number' ? num(b) : b);
const floorDiv = (a: Expr, d: Expr | number) => A.call('Math.floor', [A.bin('/', a, typeof d === 'number' ? num(d) : d)]);
const inRange = (v: Expr, hi: number) => A.bin('&&', A.bin('>=', v, num(0)), A.bin('<', v, num(hi)));
const all = (...cs: Expr[]) => cs.reduce((a, b) => A.bin('&&', a, b));

/** const a = ⌊i / (s1·s2)⌋, b = …: the coordinates of flat index `i` in a tensor of `sizes`. */
function coords(i: string, names: string[], sizes: number[]): Stmt[] {
  const out: Stmt[] = [];
  let rest: Expr = id(i);
  names.forEach((name, k) => {
    const stride = sizes.slice(k + 1).reduce((a, b) => a * b, 1);
    if (k === names.length - 1) { out.push(A.constDecl(name, rest)); return; }
    out.push(A.constDecl(name, floorDiv(rest, stride)));
    out.push(A.constDecl(`${name}r_`, sub(rest, mul(id(name), stride))));
    rest = id(`${name}r_`);
  });
  return out;
}
const loops = (vars: [string, number][], body: Stmt[]): Stmt[] =>
  vars.reduceRight<Stmt[]>((inner, [v, n]) => [A.forRange(v, num(0), num(n), inner)], body);

/** The statements that compute element `i` of node n and return it; undefined for an op that is not an image op. */
export function imageElement(n: Node, load: Load): Stmt[] | undefined {
  switch (n.op) {
    case 'conv2d': case 'conv2d_grad_input': case 'conv2d_grad_kernel': return convElement(n, load);
    case 'maxpool': case 'avgpool': case 'maxpool_gather': return poolElement(n, load);
    case 'maxpool_route': case 'upsample': return unpoolElement(n, load);
    case 'reshape': return [A.ret(load(0, id('i')))];
    case 'sum_positions': {
      const hw = n.args[0].size / n.shape[0];
      return [A.letDecl('sum_', num(0)), A.forRange('q', num(0), num(hw), [A.assign(id('sum_'), load(0, add(mul(id('i'), hw), id('q'))), '+=')]), A.ret(id('sum_'))];
    }
    case 'sum_axis': case 'spread_axis': return axisElement(n, load);
    default: return undefined;
  }
}

/** sum_axis: element (p, q) sums its K values along the axis; spread_axis: element (p, j, q) reads G[p, q]. */
function axisElement(n: Node, load: Load): Stmt[] {
  const [P, K, Q] = opOf(n.op).kernel!.sizes(n);
  if (n.op === 'spread_axis') return [...coords('i', ['p_', 'j_', 'q_'], [P, K, Q]), A.ret(load(0, add(mul(id('p_'), Q), id('q_'))))];
  return [...coords('i', ['p_', 'q_'], [P, Q]), A.letDecl('sum_', num(0)),
    A.forRange('j_', num(0), num(K), [A.assign(id('sum_'), load(0, add(mul(add(mul(id('p_'), K), id('j_')), Q), id('q_'))), '+=')]), A.ret(id('sum_'))];
}

function convElement(n: Node, load: Load): Stmt[] {
  const [C, H, W, F, kh, kw, s, p, Ho, Wo] = convSizes(n);
  const x = (c: Expr, y: Expr, xx: Expr) => add(mul(add(mul(c, H), y), W), xx);
  const k = (f: Expr, c: Expr, ki: Expr, kj: Expr) => add(mul(add(mul(add(mul(f, C), c), kh), ki), kw), kj);
  const o = (f: Expr, oy: Expr, ox: Expr) => add(mul(add(mul(f, Ho), oy), Wo), ox);
  const acc = (term: Expr) => A.assign(id('sum_'), term, '+=');
  const pixel = [A.constDecl('y_', sub(add(mul(id('oy_'), s), id('ki_')), p)), A.constDecl('x_', sub(add(mul(id('ox_'), s), id('kj_')), p))];
  if (n.op === 'conv2d') {
    // out[f, oy, ox] = Σ_{c, ki, kj} X[c, y, x] K[f, c, ki, kj] over the taps inside the image.
    return [...coords('i', ['f_', 'oy_', 'ox_'], [F, Ho, Wo]), A.letDecl('sum_', num(0)),
      ...loops([['c_', C], ['ki_', kh], ['kj_', kw]], [...pixel,
        A.ifThen(all(inRange(id('y_'), H), inRange(id('x_'), W)), [acc(mul(load(0, x(id('c_'), id('y_'), id('x_'))), load(1, k(id('f_'), id('c_'), id('ki_'), id('kj_')))))])]),
      A.ret(id('sum_'))];
  }
  if (n.op === 'conv2d_grad_kernel') {
    // dK[f, c, ki, kj] = Σ_{oy, ox} G[f, oy, ox] X[c, y, x]
    return [...coords('i', ['f_', 'c_', 'ki_', 'kj_'], [F, C, kh, kw]), A.letDecl('sum_', num(0)),
      ...loops([['oy_', Ho], ['ox_', Wo]], [...pixel,
        A.ifThen(all(inRange(id('y_'), H), inRange(id('x_'), W)), [acc(mul(load(1, o(id('f_'), id('oy_'), id('ox_'))), load(0, x(id('c_'), id('y_'), id('x_')))))])]),
      A.ret(id('sum_'))];
  }
  // dX[c, y, x] = Σ G[f, oy, ox] K[f, c, ki, kj] over the taps that read (y, x): oy·s = y + p − ki.
  const tap = (v: string, pos: string, kk: string) => A.constDecl(v, sub(add(id(pos), num(p)), id(kk)));
  return [...coords('i', ['c_', 'y_', 'x_'], [C, H, W]), A.letDecl('sum_', num(0)),
    ...loops([['f_', F], ['ki_', kh], ['kj_', kw]], [tap('ty_', 'y_', 'ki_'), tap('tx_', 'x_', 'kj_'),
      A.constDecl('oy_', floorDiv(id('ty_'), s)), A.constDecl('ox_', floorDiv(id('tx_'), s)),
      A.ifThen(all(A.bin('===', mul(id('oy_'), s), id('ty_')), A.bin('===', mul(id('ox_'), s), id('tx_')), inRange(id('oy_'), Ho), inRange(id('ox_'), Wo)),
        [acc(mul(load(0, o(id('f_'), id('oy_'), id('ox_'))), load(1, k(id('f_'), id('c_'), id('ki_'), id('kj_')))))])]),
    A.ret(id('sum_'))];
}

/** The window of pooled element (c, py, px): `best` is the flat index of its first largest cell in argument 0. */
function argmaxStmts(H: number, W: number, s: number, load: Load): Stmt[] {
  const cell = (i: Expr, j: Expr) => add(mul(add(mul(id('c_'), H), add(mul(id('py_'), s), i)), W), mul(id('px_'), s), j);
  return [A.letDecl('best_', cell(num(0), num(0))), A.letDecl('m_', load(0, cell(num(0), num(0)))),
    ...loops([['wi_', s], ['wj_', s]], [A.constDecl('at_', cell(id('wi_'), id('wj_'))),
      A.ifThen(A.bin('>', load(0, id('at_')), id('m_')), [A.assign(id('m_'), load(0, id('at_'))), A.assign(id('best_'), id('at_'))])])];
}

function poolElement(n: Node, load: Load): Stmt[] {
  const image = n.args[0].shape;
  const [C, H, W, s, Ho, Wo] = poolSizes(image, n.attr.size as number);
  const head = coords('i', ['c_', 'py_', 'px_'], [C, Ho, Wo]);
  if (n.op === 'avgpool') {
    return [...head, A.letDecl('sum_', num(0)),
      ...loops([['wi_', s], ['wj_', s]], [A.assign(id('sum_'), load(0, add(mul(add(mul(id('c_'), H), add(mul(id('py_'), s), id('wi_'))), W), mul(id('px_'), s), id('wj_'))), '+=')]),
      A.ret(A.bin('/', id('sum_'), num(s * s)))];
  }
  return [...head, ...argmaxStmts(H, W, s, load), A.ret(n.op === 'maxpool' ? id('m_') : load(1, id('best_')))];
}

function unpoolElement(n: Node, load: Load): Stmt[] {
  const [C, H, W, s, Ho, Wo] = poolSizes(n.shape, n.attr.size as number);
  const g = n.op === 'upsample' ? 0 : 1; // the pooled gradient's argument
  const gAt = load(g, add(mul(add(mul(id('c_'), Ho), id('py_')), Wo), id('px_')));
  const body = n.op === 'upsample' ? [A.ret(gAt)]
    : [...argmaxStmts(H, W, s, load), A.ifThen(A.bin('===', id('best_'), id('i')), [A.ret(gAt)])];
  return [...coords('i', ['c_', 'y_', 'x_'], [C, H, W]), A.constDecl('py_', floorDiv(id('y_'), s)), A.constDecl('px_', floorDiv(id('x_'), s)),
    A.ifThen(all(A.bin('<', id('py_'), num(Ho)), A.bin('<', id('px_'), num(Wo))), body), A.ret(num(0))];
}

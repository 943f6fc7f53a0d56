// The TypeScript emitter: follows the plan and builds the model's kernels as a TypeScript AST (ts.factory),
// one loop nest per step, each with a comment giving the formula it computes in the model's own names.

import type { Node } from '../../ir/node.js';
import { opOf, topo } from '../../ir/node.js';
import { convScratch, convSizes } from '../../ir/ops/image.js';
import { columnSumOf } from '../wasm/loops.js';
import { printExpr } from '../../ir/print.js';
import { gradName, stepNames, valueNames } from '../../autodiff/names.js';
import type { Plan, Step, Term } from '../plan.js';
import { NameTable } from '../names.js';
import { scalarExpr, within, type ScalarContext } from '../scalar.js';
import { specObject } from '../spec.js';
import * as A from './ast.js';
import type { Expr, Stmt } from './ast.js';
import { ts } from './ast.js';

const f = ts.factory;

/** `wasmLoops`: loops that run in WebAssembly when their buffers are in its memory (the wasm target), by node. */
export function emitModel(plan: Plan, opts: { wasmLoops?: ReadonlyMap<Node, { name: string; inputs: readonly Node[] }>; wasmColumnSums?: boolean } = {}): Stmt {
  const { g } = plan;
  const model = g.model;
  const names = new NameTable();
  const bufName = new Map<Node, string>();
  const display = new Map<Node, string>(); // for comments: dL/dz2, z1, …

  for (const p of model.params) bufName.set(p.node, names.fresh(p.name));
  for (const i of model.inputs) bufName.set(i.node, names.fresh(i.name));
  for (const [n, v] of [...valueNames(g), ...stepNames(g, 'text')]) if (!display.has(n)) display.set(n, v);
  const root = (n: Node): Node => { let r = n; while (plan.alias.has(r)) r = plan.alias.get(r)!; return r; };
  const allNodes = topo([...plan.train.steps, ...plan.forward.steps].map((s) => s.node));
  // A buffer shared in place is named after the last value written into it (z2 rather than W2 * a1).
  const occupant = new Map<Node, Node>();
  for (const n of allNodes) if (plan.materialized.has(n)) occupant.set(root(n), display.has(n) || !occupant.has(root(n)) ? n : occupant.get(root(n))!);
  for (const n of allNodes) {
    if (!plan.materialized.has(n) || bufName.has(n)) continue;
    const r = root(n);
    if (r !== n) continue;
    const shown = display.get(occupant.get(n) ?? n);
    // Unnamed temporaries are named after their formula when it is short (W1 * x → W1_x).
    const short = printExpr(n, 'text').replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
    bufName.set(n, names.fresh(shown ? shown.replace('/', '_') : short.length > 0 && short.length <= 12 ? short : `t_${n.op}`));
  }
  for (const n of allNodes) if (plan.materialized.has(n) && !bufName.has(n)) bufName.set(n, bufName.get(root(n)) ?? names.fresh(`t_${n.op}`));
  const gradLocal = new Map(model.params.map((p) => [p.name, names.fresh(`grad_${p.name}`)]));

  const batched = (n: Node) => plan.batched.has(n);
  /** if (!call) { loops }: the WebAssembly function when it ran (its buffers are in its memory), else the TypeScript. */
  const wasmOr = (call: Expr, loops: Stmt[]): Stmt[] => [A.ifThen(f.createPrefixUnaryExpression(ts.SyntaxKind.ExclamationToken, call), loops)];
  // Scratch for the image kernels' batch products, sized for the largest and shared by all of them.
  // A convolution's patches have a buffer per layer (its input and window): the kernel's gradient reads the
  // patches the forward pass gathered instead of gathering them again. The channel-last rows, and the patch
  // gradients of ∂L/∂X, are shared.
  const scratchSize = { patches: 0, rows: 0 };
  const sharedScratch = names.fresh('convScratch');
  const layerScratch = new Map<string, { name: string; size: number }>();
  const layerKey = (x: Node, n: Node) => { const [C, H, W, , kh, kw, s, p, Ho, Wo] = convSizes(n); return `${x.id}:${[C, H, W, kh, kw, s, p, Ho, Wo].join(',')}`; };
  const scratchFor = (n: Node): Expr => {
    const need = convScratch(n);
    scratchSize.rows = Math.max(scratchSize.rows, need.rows);
    if (n.op === 'conv2d_grad_input') { scratchSize.patches = Math.max(scratchSize.patches, need.patches); return id(sharedScratch); }
    const key = layerKey(n.args[0], n);
    if (!layerScratch.has(key)) layerScratch.set(key, { name: names.fresh(`patches_${bufName.get(n.args[0]) ?? 'x'}`), size: need.patches });
    return id(layerScratch.get(key)!.name);
  };
  /** Whether the train program gathers these patches in a forward convolution before the kernel's gradient is summed. */
  // Only a batched convolution gathers every example's patches: one of parameters alone gathers them once
  // (random models 110235 and 110590: an image param convolved, then scaled by an input).
  const gatheredInForward = (t: Node): boolean => plan.train.steps.some((s) => s.node.op === 'conv2d' && batched(s.node) && batched(s.node.args[0]) && layerKey(s.node.args[0], s.node) === layerKey(t.args[0], t));
  // The sizes each runtime kernel is specialised to, declared once in create() (nothing allocates per step).
  const sizesNames = new Map<string, string>();
  const sizesName = (sizes: readonly number[]): string => {
    const key = sizes.join(',');
    if (!sizesNames.has(key)) sizesNames.set(key, names.fresh(`sizes${sizesNames.size + 1}`));
    return sizesNames.get(key)!;
  };
  const id = A.ident;
  const B = () => id('b');
  const size = (n: Node) => n.size;

  /** Where element `offset` of node `n` lives, for the current example b. */
  const at = (n: Node, offset: Expr): Expr => {
    if ((n.op === 'const' && !plan.materialized.has(n)) || n.op === 'dim') return A.num(n.attr.value as number);
    const buf = bufName.get(n);
    if (!buf) throw new Error(`internal error: no buffer for ${n.op}`);
    const base = batched(n) ? (size(n) === 1 ? B() : A.bin('*', B(), A.num(size(n)))) : undefined;
    const idx = base ? (isZero(offset) ? base : A.bin('+', base, offset)) : offset;
    return A.index(id(buf), idx);
  };
  const scalarCtx: ScalarContext = { materialized: plan.materialized, load: (n, offset) => at(n, offset) };
  const scalar = (n: Node, outShape: readonly number[], i: Expr, isRoot = false): Expr => scalarExpr(scalarCtx, n, outShape, i, isRoot);

  const formula = (n: Node): string => printExpr(n, 'text', (m) => display.get(m));
  /** for (b < n) around `body` when the node is batched. */
  const overBatch = (n: Node, body: Stmt[]): Stmt[] => (batched(n) ? [A.forRange('b', A.num(0), id('n'), body)] : body);
  const loopElems = (count: number, v: string, body: (i: Expr) => Stmt[]): Stmt[] =>
    count === 1 ? body(A.num(0)) : [A.forRange(v, A.num(0), A.num(count), body(id(v)))];

  const stepStmts = (s: Step): Stmt[] => {
    const n = s.node;
    const out = (offset: Expr) => at(n, offset);
    const label = display.has(n) ? `${display.get(n)} = ${formula(n)}` : `${formula(n)} → ${bufName.get(n)}`;
    let body: Stmt[];
    switch (s.kind) {
      case 'loop': {
        if (n.op === 'const') { body = loopElems(size(n), 'i', (i) => [A.assign(out(i), A.num(n.attr.value as number))]); break; }
        body = overBatch(n, loopElems(size(n), 'i', (i) => [A.assign(out(i), scalar(n, n.shape, i, true))]));
        const wasm = opts.wasmLoops?.get(n);
        // The same loop as a WebAssembly SIMD function, when the buffers live in its memory.
        if (wasm) body = wasmOr(A.call('wasmLoop', [A.str(wasm.name), id('n'), id(bufName.get(n)!), ...wasm.inputs.map((x) => id(bufName.get(x)!))]), body);
        break;
      }
      case 'gemm':
        body = [A.exprStmt(A.call(s.variant === 'NT' ? 'gemmNT' : 'gemmNN', [id('n'), A.num(s.m), A.num(s.k), id(bufName.get(s.x)!), id(bufName.get(s.w)!), id(bufName.get(n)!)]))];
        return [A.comment(body[0], `${label}   (${s.variant === 'NT' ? 'X Wᵀ' : 'G W'} over the batch)`)];
      case 'rows': {
        const z = n.args[0];
        const count = batched(n) ? id('n') : A.num(1);
        const args = [count, A.num(z.shape[0]), id(bufName.get(z)!), ...(s.fn === 'crossEntropyRows' ? [id(bufName.get(n.args[1])!)] : []), id(bufName.get(n)!)];
        body = [A.exprStmt(A.call(s.fn, args))];
        break;
      }
      case 'generic': {
        const kernel = opOf(n.op).kernel;
        if (kernel) {
          // A runtime kernel over the whole batch: per buffer, the distance from one example's values to the next.
          const stride = (m: Node) => A.num(batched(m) ? m.size : 0);
          body = [A.exprStmt(A.call(kernel.fn, [batched(n) ? id('n') : A.num(1), id(sizesName(kernel.sizes(n))),
            ...n.args.flatMap((a) => [id(bufName.get(a)!), stride(a)]), id(bufName.get(n)!), stride(n), ...(kernel.scratch ? [scratchFor(n)] : [])]))];
          break;
        }
        // A block of its own when not batched, so that two reductions can both declare their accumulator.
        body = batched(n) ? overBatch(n, genericBody(n, out)) : [A.block(genericBody(n, out))];
        break;
      }
    }
    return body.length ? [A.comment(body[0], label), ...body.slice(1)] : body;
  };

  const genericBody = (n: Node, out: (o: Expr) => Expr): Stmt[] => {
    const [a, c] = n.args;
    const acc = (count: number, term: (i: Expr) => Expr, finish: (s: Expr) => Expr): Stmt[] => [
      A.letDecl('sum_', A.num(0)),
      ...loopElems(count, 'i', (i) => [A.assign(id('sum_'), term(i), '+=')]),
      A.assign(out(A.num(0)), finish(id('sum_'))),
    ];
    switch (n.op) {
      case 'dot': return acc(a.size, (i) => A.bin('*', at(a, i), at(c, i)), (s) => s);
      case 'sum': return acc(a.size, (i) => at(a, i), (s) => s);
      case 'mean': return acc(a.size, (i) => at(a, i), (s) => A.bin('/', s, A.num(a.size)));
      case 'outer': return loopElems(a.size, 'i', (i) => loopElems(c.size, 'j', (j) => [A.assign(out(A.bin('+', A.bin('*', i, A.num(c.size)), j)), A.bin('*', at(a, i), at(c, j)))]));
      case 'sum_rows': {
        const [m, k] = a.shape;
        return loopElems(k, 'j', (j) => [A.letDecl('sum_', A.num(0)), ...loopElems(m, 'i', (i) => [A.assign(id('sum_'), at(a, A.bin('+', A.bin('*', i, A.num(k)), j)), '+=')]), A.assign(out(j), id('sum_'))]);
      }
      case 'fill': return loopElems(n.size, 'i', (i) => [A.assign(out(i), at(a, within(a, n.shape, i)))]);
      case 'transpose': {
        const [m, k] = a.shape;
        return loopElems(m, 'i', (i) => loopElems(k, 'j', (j) => [A.assign(out(A.bin('+', A.bin('*', j, A.num(m)), i)), at(a, A.bin('+', A.bin('*', i, A.num(k)), j)))]));
      }
      case 'matmul': {
        // General product, per example: [m, k] × [k, q] with vectors as a row or a column.
        const m = a.rank === 2 ? a.shape[0] : 1, k = c.shape[0], q = c.rank === 2 ? c.shape[1] : 1;
        const aAt = (i: Expr, p: Expr) => at(a, a.rank === 2 ? A.bin('+', A.bin('*', i, A.num(k)), p) : p);
        const cAt = (p: Expr, j: Expr) => at(c, c.rank === 2 ? A.bin('+', A.bin('*', p, A.num(q)), j) : p);
        return loopElems(m, 'i', (i) => loopElems(q, 'j', (j) => [
          A.letDecl('sum_', A.num(0)),
          ...loopElems(k, 'kk', (p) => [A.assign(id('sum_'), A.bin('*', aAt(i, p), cAt(p, j)), '+=')]),
          A.assign(out(A.bin('+', A.bin('*', i, A.num(q)), j)), id('sum_')),
        ]));
      }
      case 'cross_entropy':
        // Logits shared by every example (they depend on no input) with a label per example.
        if (!batched(a)) return [A.assign(out(A.num(0)), A.bin('-', A.call('logsumexpRow', [id(bufName.get(a)!), A.num(0), A.num(a.shape[0])]), at(a, at(c, A.num(0)))))];
        return [A.exprStmt(A.call('crossEntropyRows', [A.num(1), A.num(a.shape[0]), id(bufName.get(a)!), id(bufName.get(c)!), id(bufName.get(n)!)]))];
      case 'softmax': case 'log_softmax': case 'logsumexp': {
        const fn = { softmax: 'softmaxRows', log_softmax: 'logSoftmaxRows', logsumexp: 'logsumexpRows' }[n.op]!;
        return [A.exprStmt(A.call(fn, [A.num(1), A.num(a.shape[0]), id(bufName.get(a)!), id(bufName.get(n)!)]))];
      }
      case 'max_all': case 'min_all': {
        const fn = n.op === 'max_all' ? 'Math.max' : 'Math.min';
        return [A.letDecl('m_', at(a, A.num(0))),
          A.forRange('i', A.num(1), A.num(a.size), [A.assign(id('m_'), A.call(fn, [id('m_'), at(a, id('i'))]))]),
          A.assign(out(A.num(0)), id('m_'))];
      }
      case 'arg_mask': {
        // 1 / (how many elements attain the extreme) at each of them, as the interpreter computes it.
        const fn = n.attr.which === 'max' ? 'Math.max' : 'Math.min';
        return [A.letDecl('m_', at(a, A.num(0))),
          A.forRange('i', A.num(1), A.num(a.size), [A.assign(id('m_'), A.call(fn, [id('m_'), at(a, id('i'))]))]),
          A.letDecl('count_', A.num(0)),
          A.forRange('i', A.num(0), A.num(a.size), [ts.factory.createIfStatement(A.bin('===', at(a, id('i')), id('m_')), A.assign(id('count_'), A.num(1), '+='))]),
          ...loopElems(n.size, 'i', (i) => [A.assign(out(i), A.cond(A.bin('===', at(a, i), id('m_')), A.bin('/', A.num(1), id('count_')), A.num(0)))])];
      }
      default: throw new Error(`internal error: no code for ${n.op}`);
    }
  };

  /** The statements adding term t into the gradient buffer; the first term of a gradient overwrites it. */
  const termStmts = (pname: string, shape: readonly number[], t: Term, first: boolean): Stmt[] => {
    const acc = id(gradLocal.get(pname)!);
    const signed = (e: Expr) => (t.sign === 1 ? e : A.tsScalar.neg(e));
    if (t.kind === 'kernelSum') {
      const [x, gr] = t.node.args;
      const stride = (m: Node) => A.num(batched(m) ? m.size : 0);
      return [A.exprStmt(A.call('conv2dGradKernelSum', [id('n'), id(sizesName(convSizes(t.node))), id(bufName.get(x)!), stride(x), id(bufName.get(gr)!), stride(gr),
        acc, A.num(first ? 0 : 1), scratchFor(t.node), A.num(gatheredInForward(t.node) ? 1 : 0)]))];
    }
    if (t.kind === 'outer' && t.sign === 1) {
      return [A.exprStmt(A.call('gemmTN', [id('n'), A.num(t.u.size), A.num(t.v.size), id(bufName.get(t.u)!), id(bufName.get(t.v)!), acc, A.num(first ? 0 : 1)]))];
    }
    const zero = first ? [A.exprStmt(A.call(A.prop(acc, 'fill'), [A.num(0)]))] : [];
    const loops = [...zero, ...accumulate(t, shape, acc, signed)];
    const m = opts.wasmColumnSums ? columnSumOf(plan, t) : undefined;
    // A bias's gradient, Σ over the batch, as a WebAssembly SIMD column sum when the buffers live in its memory.
    if (m !== undefined && t.kind === 'batched') return wasmOr(A.call('wasmColumnSum', [A.str(`colsum_${m}`), id('n'), id(bufName.get(t.node)!), acc, A.num(first ? 0 : 1), A.num(t.sign)]), loops);
    return loops;
  };
  /** acc += Σ_b term; a term may be broadcast (a scalar, or a row repeated over a matrix) to the gradient's shape. */
  const accumulate = (t: Term, shape: readonly number[], acc: Expr, signed: (e: Expr) => Expr): Stmt[] => {
    const count = shape.reduce((a, c) => a * c, 1);
    if (t.kind === 'outer') {
      return overBatch(t.u, loopElems(t.u.size, 'i', (i) => loopElems(t.v.size, 'j', (j) => [A.assign(A.index(acc, A.bin('+', A.bin('*', i, A.num(t.v.size)), j)), signed(A.bin('*', at(t.u, i), at(t.v, j))), '+=')])));
    }
    if (t.kind === 'batched') return overBatch(t.node, loopElems(count, 'j', (j) => [A.assign(A.index(acc, j), signed(at(t.node, within(t.node, shape, j))), '+=')]));
    return loopElems(count, 'j', (j) => [A.assign(A.index(acc, j), signed(A.bin('*', id('n'), at(t.node, within(t.node, shape, j)))), '+=')]);
  };

  // ---- assemble -----------------------------------------------------------------------------------
  const bufType = A.typeRef('Buf');
  const unpack = (withGrads: boolean): Stmt[] => [
    ...model.params.map((p, k) => A.constDecl(bufName.get(p.node)!, A.index(id('params'), A.num(k)))),
    ...model.inputs.map((inp, k) => A.constDecl(bufName.get(inp.node)!, A.index(id('inputs'), A.num(k)))),
    ...(withGrads ? model.params.map((p, k) => A.constDecl(gradLocal.get(p.name)!, A.index(id('grads'), A.num(k)))) : []),
  ];
  const lossBuf = id(bufName.get(plan.loss)!);
  const trainBody: Stmt[] = [...unpack(true), ...plan.train.steps.flatMap(stepStmts)];
  for (const p of model.params) {
    const terms = plan.terms.get(p.name) ?? [];
    const stmts = terms.length ? terms.flatMap((t, k) => termStmts(p.name, p.shape, t, k === 0)) : [A.exprStmt(A.call(A.prop(id(gradLocal.get(p.name)!), 'fill'), [A.num(0)]))];
    const gnode = g.grads.get(p.name);
    const own = gradName(model.loss.name, p.name, 'text');
    const rhs = !gnode ? '0' : display.has(gnode) && display.get(gnode) !== own ? display.get(gnode)! : printExpr(gnode, 'text', (m) => display.get(m));
    if (stmts.length) trainBody.push(A.comment(stmts[0], `${own} = ${rhs}, summed over the batch`), ...stmts.slice(1));
  }
  trainBody.push(
    A.comment(A.letDecl('loss', A.num(0)), `${model.loss.name}, summed over the batch`),
    A.forRange('b', A.num(0), id('n'), [A.assign(id('loss'), A.index(lossBuf, id('b')), '+=')]),
    A.ret(id('loss')));

  const forwardBody: Stmt[] = [...unpack(false), ...plan.forward.steps.flatMap(stepStmts),
    A.ret(A.obj([['loss', lossBuf], ['outputs', A.arr(plan.outputs.map((o) => id(bufName.get(o)!)))], ['logits', plan.logits ? id(bufName.get(plan.logits)!) : f.createNull()]]))];

  const param = (name: string, type: ts.TypeNode) => f.createParameterDeclaration(undefined, undefined, A.ident(name), undefined, type);
  const readonlyBufs = f.createTypeOperatorNode(ts.SyntaxKind.ReadonlyKeyword, f.createArrayTypeNode(bufType));
  const numberType = f.createKeywordTypeNode(ts.SyntaxKind.NumberKeyword);
  const method = (name: string, params: ts.ParameterDeclaration[], ret: ts.TypeNode, body: Stmt[]) =>
    f.createMethodDeclaration(undefined, undefined, A.ident(name), undefined, undefined, params, ret, A.block(body));

  const allocations = [...new Set([...bufName.entries()].filter(([n]) => plan.materialized.has(n) && root(n) === n).map(([n]) => n))]
    .map((n) => A.comment(A.constDecl(bufName.get(n)!, f.createNewExpression(id('Arr'), undefined, [batched(n) ? A.bin('*', id('batch'), A.num(n.size)) : A.num(n.size)])), `${[...new Set(allNodes.filter((m) => plan.materialized.has(m) && root(m) === n).map((m) => display.get(m) ?? printExpr(m, 'text', (q) => (q === m ? undefined : display.get(q)))))].join(', then ')}: [${[...(batched(n) ? ['batch'] : []), ...n.shape].join(', ')}]`));

  const kernels = A.obj([], true) as ts.ObjectLiteralExpression;
  const kernelsObj = f.updateObjectLiteralExpression(kernels, [
    f.createPropertyAssignment('logits', plan.logits ? id(bufName.get(plan.logits)!) : f.createNull()),
    method('lossAndGrad', [param('params', readonlyBufs), param('inputs', readonlyBufs), param('n', numberType), param('grads', readonlyBufs)], numberType, trainBody),
    method('forward', [param('params', readonlyBufs), param('inputs', readonlyBufs), param('n', numberType)], A.typeRef('ForwardResult'), forwardBody),
  ]);
  const sizeDecls = [...sizesNames].map(([key, name], k) => {
    const d = A.constDecl(name, f.createAsExpression(A.arr(key.split(',').map(Number).map(A.num)), f.createTypeReferenceNode('const')));
    return k === 0 ? A.comment(d, 'the sizes the image kernels are specialised to') : d;
  });
  if (scratchSize.rows > 0) {
    const arr = (size: number) => f.createNewExpression(id('Arr'), undefined, [A.bin('*', id('batch'), A.num(size))]);
    sizeDecls.push(A.comment(A.constDecl(sharedScratch, A.obj([['patches', arr(scratchSize.patches)], ['rows', arr(scratchSize.rows)]])),
      'for the convolutions, one product over the whole batch: the patch gradients of ∂L/∂X, and images with the channel last'));
    for (const { name, size } of layerScratch.values()) {
      sizeDecls.push(A.comment(A.constDecl(name, A.obj([['patches', arr(size)], ['rows', f.createPropertyAccessExpression(id(sharedScratch), 'rows')]])),
        'one layer\'s image patches, gathered by the forward convolution and read again for its kernel\'s gradient'));
    }
  }
  const create = method('create', [param('batch', numberType), param('Arr', A.typeRef('ArrayCtor'))], A.typeRef('Kernels'), [
    ...allocations,
    ...sizeDecls,
    A.comment(A.ret(kernelsObj), 'nothing below allocates: every buffer above is reused by every step'),
  ]);
  const modelObj = f.createObjectLiteralExpression([f.createPropertyAssignment('spec', A.literal(specObject(plan), true)), create], true);
  return A.comment(A.constDecl('model', modelObj, A.typeRef('CompiledModel')), `model ${model.name}: its forward pass, backward pass and batched kernels`);
}

function isZero(e: Expr): boolean { return ts.isNumericLiteral(e) && e.text === '0'; }

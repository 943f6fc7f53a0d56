// The TypeScript emitter: follows the plan and builds the model's kernels as a TypeScript AST (ts.factory),
// one loop nest per step, each with a comment giving the formula it computes in the model's own names.
// emitter.ts holds the state and the pieces; steps.ts emits a step, terms.ts a parameter's gradient; here
// the two programs (training: loss and gradients; forward: loss and outputs) and create() are put together.

import { gradName } from '../../autodiff/names.js';
import { printExpr } from '../../ir/print.js';
import type { Plan } from '../plan.js';
import { specObject } from '../spec.js';
import * as A from './ast.js';
import type { Stmt } from './ast.js';
import { ts } from './ast.js';
import { Emitter, type EmitOptions } from './emitter.js';
import { programStmts } from './fused.js';
import { termStmts } from './terms.js';

const f = ts.factory;
const id = A.ident;

/** The model's `const model: CompiledModel = { spec, create(batch, Arr) { …buffers…; return { lossAndGrad, forward } } }`. */
export function emitModel(plan: Plan, opts: EmitOptions = {}): Stmt {
  const em = new Emitter(plan, opts);
  const train = trainBody(em), forward = forwardBody(em); // first: they decide the scratch and the sizes
  const param = (name: string, type: ts.TypeNode) => f.createParameterDeclaration(undefined, undefined, A.ident(name), undefined, type);
  const readonlyBufs = f.createTypeOperatorNode(ts.SyntaxKind.ReadonlyKeyword, f.createArrayTypeNode(A.typeRef('Buf')));
  const numberType = f.createKeywordTypeNode(ts.SyntaxKind.NumberKeyword);
  const method = (name: string, params: ts.ParameterDeclaration[], ret: ts.TypeNode, body: Stmt[]) =>
    f.createMethodDeclaration(undefined, undefined, A.ident(name), undefined, undefined, params, ret, A.block(body));
  const kernelsObj = f.updateObjectLiteralExpression(A.obj([], true) as ts.ObjectLiteralExpression, [
    f.createPropertyAssignment('logits', em.plan.logits ? id(em.bufName.get(em.plan.logits)!) : f.createNull()),
    method('lossAndGrad', [param('params', readonlyBufs), param('inputs', readonlyBufs), param('n', numberType), param('grads', readonlyBufs)], numberType, train),
    method('forward', [param('params', readonlyBufs), param('inputs', readonlyBufs), param('n', numberType)], A.typeRef('ForwardResult'), forward),
  ]);
  const create = method('create', [param('batch', numberType), param('Arr', A.typeRef('ArrayCtor'))], A.typeRef('Kernels'), [
    ...allocations(em),
    ...sizeDeclarations(em),
    A.comment(A.ret(kernelsObj), 'nothing below allocates: every buffer above is reused by every step'),
  ]);
  const modelObj = f.createObjectLiteralExpression([f.createPropertyAssignment('spec', A.literal(specObject(em.plan), true)), create], true);
  return A.comment(A.constDecl(opts.constName ?? 'model', modelObj, A.typeRef('CompiledModel')), opts.constName ? `model ${em.model.name}: ${opts.constName}` : `model ${em.model.name}: its forward pass, backward pass and batched kernels`);
}

/** The params, inputs (and gradients) of a call, by their buffers' names. */
function unpack(em: Emitter, withGrads: boolean): Stmt[] {
  return [
      ...em.model.params.map((p, k) => A.constDecl(em.bufName.get(p.node)!, A.index(id('params'), A.num(k)))),
      ...em.model.inputs.map((inp, k) => A.constDecl(em.bufName.get(inp.node)!, A.index(id('inputs'), A.num(k)))),
      ...(withGrads ? em.model.params.map((p, k) => A.constDecl(em.gradLocal.get(p.name)!, A.index(id('grads'), A.num(k)))) : []),
  ];
}

/** lossAndGrad: the training program's steps, each gradient summed over the batch, the loss summed. */
function trainBody(em: Emitter): Stmt[] {
  const lossBuf = id(em.bufName.get(em.plan.loss)!);
  const trainBody: Stmt[] = [...unpack(em, true), ...programStmts(em, em.plan.train.steps)];
  for (const p of em.model.params) {
    const terms = em.plan.terms.get(p.name) ?? [];
    const stmts = terms.length ? terms.flatMap((t, k) => termStmts(em, p.name, p.shape, t, k === 0)) : [A.exprStmt(A.call(A.prop(id(em.gradLocal.get(p.name)!), 'fill'), [A.num(0)]))];
    const gnode = em.g.grads.get(p.name);
    const own = gradName(em.model.loss.name, p.name, 'text');
    const rhs = !gnode ? '0' : em.display.has(gnode) && em.display.get(gnode) !== own ? em.display.get(gnode)! : printExpr(gnode, 'text', (m) => em.display.get(m));
    if (stmts.length) trainBody.push(A.comment(stmts[0], `${own} = ${rhs}, summed over the batch`), ...stmts.slice(1));
  }
  trainBody.push(
    A.comment(A.letDecl('loss', A.num(0)), `${em.model.loss.name}, summed over the batch`),
    A.forRange('b', A.num(0), id('n'), [A.assign(id('loss'), A.index(lossBuf, id('b')), '+=')]),
    A.ret(id('loss')));
  return trainBody;
}

/** forward: the forward program's steps; the loss, outputs and logits per example. */
function forwardBody(em: Emitter): Stmt[] {
  const lossBuf = id(em.bufName.get(em.plan.loss)!);
  return [...unpack(em, false), ...programStmts(em, em.plan.forward.steps),
    A.ret(A.obj([['loss', lossBuf], ['outputs', A.arr(em.plan.outputs.map((o) => id(em.bufName.get(o)!)))], ['logits', em.plan.logits ? id(em.bufName.get(em.plan.logits)!) : f.createNull()]]))];
}

/** One buffer for each value computed in a buffer of its own, with the values it holds in its comment. */
function allocations(em: Emitter): Stmt[] {
  return [...new Set([...em.bufName.entries()].filter(([n]) => em.plan.materialized.has(n) && em.root(n) === n).map(([n]) => n))]
    .map((n) => A.comment(A.constDecl(em.bufName.get(n)!, f.createNewExpression(id('Arr'), undefined, [em.batched(n) ? A.bin('*', id('batch'), A.num(n.size)) : A.num(n.size)])), `${[...new Set(em.allNodes.filter((m) => em.plan.materialized.has(m) && em.root(m) === n).map((m) => em.display.get(m) ?? printExpr(m, 'text', (q) => (q === m ? undefined : em.display.get(q)))))].join(', then ')}: [${[...(em.batched(n) ? ['batch'] : []), ...n.shape].join(', ')}]`));
}

/** The runtime kernels' sizes as const tuples, and the convolutions' scratch. */
function sizeDeclarations(em: Emitter): Stmt[] {
  const sizeDecls = [...em.sizesNames].map(([key, name], k) => {
    const d = A.constDecl(name, f.createAsExpression(A.arr(key.split(',').map(Number).map(A.num)), f.createTypeReferenceNode('const')));
    return k === 0 ? A.comment(d, 'the sizes the image kernels are specialised to') : d;
  });
  if (em.scratchSize.rows > 0) {
    const arr = (size: number) => f.createNewExpression(id('Arr'), undefined, [A.bin('*', id('batch'), A.num(size))]);
    sizeDecls.push(A.comment(A.constDecl(em.sharedScratch, A.obj([['patches', arr(em.scratchSize.patches)], ['rows', arr(em.scratchSize.rows)]])),
      'for the convolutions, one product over the whole batch: the patch gradients of ∂L/∂X, and images with the channel last'));
    for (const { name, size } of em.layerScratch.values()) {
      sizeDecls.push(A.comment(A.constDecl(name, A.obj([['patches', arr(size)], ['rows', f.createPropertyAccessExpression(id(em.sharedScratch), 'rows')]])),
        'one layer\'s image patches, gathered by the forward convolution and read again for its kernel\'s gradient'));
    }
  }
  return sizeDecls;
}

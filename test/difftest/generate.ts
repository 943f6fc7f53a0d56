// A seeded random generator of type-correct `.nn` models that draws on the whole language: every statement
// kind, every op of the op table, scalars, vectors, matrices and images, matrix inputs, class labels, user fns,
// parameters used in several places, reductions over parameters, parameter-only subexpressions, products
// of parameters, models with no input, and names that mean something to JavaScript.
//
// The generator keeps values in a moderate range (exp, log, sqrt and division only see arguments made safe
// by construction), so that a disagreement between two evaluators is a bug and not an overflow.

import { Rng } from '../../runtime/rng.js';

export type Shape = readonly string[]; // dim names (or integer literals as text); [] is a scalar

interface Value { readonly name: string; readonly shape: Shape; readonly param: boolean }
interface FnInfo { readonly name: string; readonly arity: number }

/** The runtime's seeded PRNG with the draws the generator needs: a case is reproduced from its seed alone. */
export class CaseRng extends Rng {
  int(lo: number, hi: number): number { return lo + Math.floor(this.next() * (hi - lo + 1)); }
  chance(p: number): boolean { return this.next() < p; }
  pick<T>(xs: readonly T[]): T { return xs[Math.floor(this.next() * xs.length)]; }
}

// Names a careless code generator would trip over: JavaScript's own, the runtime's, the emitter's locals.
const SPECIAL_NAMES = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', 'Math', 'process', 'n', 'b', 'i', 'j',
  'sum_', 'loss', 'grads', 'params', 'inputs', 'batch', 'model', 'spec', 'Float64Array', 'grad_W', 'dL_dz', 't_mul',
  'sigmoid', 'gemmNT', 'result', 'arguments', 'eval', 'prototype', 'Buf', 'Arr', 'new_', 'let_', 'E', 'i', 'PI'];
// Identifiers the language itself reserves (keywords and built-ins) cannot be model names.
const LANGUAGE_WORDS = new Set(['model', 'dim', 'input', 'param', 'fn', 'output', 'loss', 'const', 'class', 'scalar', 'xavier', 'he',
  'normal', 'uniform', 'pi', 'e', 'sigmoid', 'sum', 'mean', 'exp', 'log']);

export interface GeneratedModel { readonly seed: number; readonly source: string; readonly features: readonly string[] }

export function generateModel(seed: number): GeneratedModel {
  const r = new CaseRng(seed);
  const features = new Set<string>();
  const lines: string[] = [];
  const used = new Set<string>();
  const special = r.chance(0.3);
  const fresh = (base: string): string => {
    if (special && r.chance(0.35)) {
      const s = r.pick(SPECIAL_NAMES);
      if (!used.has(s) && !LANGUAGE_WORDS.has(s)) { used.add(s); features.add('special-name'); return s; }
    }
    let k = 1;
    while (used.has(`${base}${k}`)) k++;
    used.add(`${base}${k}`);
    return `${base}${k}`;
  };

  if (r.chance(0.5)) lines.push(`model m${seed}`);
  // Dims: two or three small sizes, distinct so that a transposed index is caught.
  const dimNames = ['d', 'h', 'K'].slice(0, r.int(2, 3));
  for (const d of dimNames) used.add(d);
  const sizes = [2, 3, 4, 5];
  const dimValues = dimNames.map((_, k) => sizes[(k + r.int(0, 3)) % 4]);
  if (new Set(dimValues).size < dimValues.length) dimValues.forEach((_, k) => { dimValues[k] = 2 + k; });
  lines.push(`dim ${dimNames.map((d, k) => `${d} = ${dimValues[k]}`).join(', ')}`);

  const shapeText = (s: Shape) => (s.length === 0 ? (r.chance(0.5) ? 'scalar' : '[]') : `[${s.join(', ')}]`);
  const randomShape = (): Shape => {
    const k = r.next();
    if (k < 0.2) return [];
    if (k < 0.6) return [r.pick(dimNames)];
    return [r.pick(dimNames), r.pick(dimNames)];
  };
  const values: Value[] = [];
  const fns: FnInfo[] = [];
  let label: { name: string; K: string } | undefined;

  // Inputs: none at all sometimes (a pure optimisation problem), matrices, a class label.
  const nInputs = r.chance(0.12) ? 0 : r.int(1, 3);
  if (nInputs === 0) features.add('no-input');
  for (let k = 0; k < nInputs; k++) {
    const s = randomShape();
    const name = fresh('x');
    if (s.length === 2) features.add('matrix-input');
    lines.push(`input ${name}: ${shapeText(s)}`);
    values.push({ name, shape: s, param: false });
  }
  if (nInputs > 0 && r.chance(0.45)) {
    const K = r.pick(dimNames);
    label = { name: fresh('y'), K };
    lines.push(`input ${label.name}: class(${K})`);
    features.add('class-label');
  }

  // Params, with every kind of initializer.
  const nParams = r.int(1, 4);
  for (let k = 0; k < nParams; k++) {
    const s = randomShape();
    const name = fresh(s.length === 2 ? 'W' : s.length === 1 ? 'w' : 's');
    const init = r.pick(['', ' = 0.1', ' ~ normal(0, 0.5)', ' ~ uniform(-1, 1)', s.length === 2 ? ' ~ xavier' : ' = -0.2', s.length === 2 ? ' ~ he' : ' = 0.3']);
    lines.push(`param ${name}: ${shapeText(s)}${init}`);
    values.push({ name, shape: s, param: true });
  }

  // Scalar expressions for fn bodies, over the fn's own arguments: every elementwise op can appear.
  const scalarBody = (vars: readonly string[], depth: number): string => {
    if (depth <= 0 || r.chance(0.3)) return r.chance(0.8) ? r.pick(vars) : r.pick(['2', '0.5', '1.5', 'pi']);
    const a = () => scalarBody(vars, depth - 1);
    switch (r.int(0, 11)) {
      case 0: return `${a()} + ${a()}`;
      case 1: return `${a()} - ${a()}`;
      case 2: return `${a()} * ${a()}`;
      case 3: return `${a()} / (1 + ${a()} ^ 2)`;
      case 4: return `tanh(${a()})`;
      case 5: return `sigmoid(${a()})`;
      case 6: return `exp(sin(${a()}))`;
      case 7: return `log(1 + ${a()} ^ 2)`;
      case 8: return `(${a()}) ^ 2`;
      case 9: return `softplus(${a()})`;
      case 10: return `sqrt(1 + abs(${a()}))`;
      default: return `-${r.pick(vars)}`;
    }
  };
  // A named hyperparameter, sometimes.
  const constName = r.chance(0.3) ? fresh('lambda') : undefined;
  if (constName) lines.push(`const ${constName} = ${r.pick(['0.01', '0.5', '-2', '3'])}`);
  const scalarParam = (): string | undefined => { const ps = values.filter((x) => x.param && x.shape.length === 0); return ps.length && r.chance(0.5) ? r.pick(ps).name : undefined; };

  const nFns = r.chance(0.35) ? r.int(1, 2) : 0;
  for (let k = 0; k < nFns; k++) {
    const arity = r.int(1, 2);
    const vars = ['t', 'u'].slice(0, arity);
    const name = `f${k + 1}`;
    used.add(name);
    // A fn may call an earlier fn.
    const body = fns.length > 0 && r.chance(0.4) ? `${fns[0].name}(${Array.from({ length: fns[0].arity }, () => scalarBody(vars, 1)).join(', ')}) + ${scalarBody(vars, 1)}`
      : scalarBody(vars, 3);
    lines.push(`fn ${name}(${vars.join(', ')}) = ${body}`);
    fns.push({ name, arity });
    features.add('fn');
  }

  const same = (a: Shape, b: Shape) => a.length === b.length && a.every((x, k) => x === b[k]);
  const ofShape = (s: Shape) => values.filter((v) => same(v.shape, s));
  const vectorDims = () => dimNames;

  /** An expression of shape s; `depth` bounds its size. */
  const gen = (s: Shape, depth: number): string => {
    const leaves = ofShape(s);
    if (depth <= 0 || (leaves.length > 0 && r.chance(0.25))) return leaf(s);
    const rank = s.length;
    const choices: (() => string)[] = [
      () => `${gen(s, depth - 1)} + ${gen(s, depth - 1)}`,
      () => `${gen(s, depth - 1)} - ${gen(s, depth - 1)}`,
      () => `-${wrap(gen(s, depth - 1))}`,
      () => unary(s, depth),
      () => unary(s, depth),
      () => (rank === 0 ? scalarOnly(depth) : `${gen([], depth - 1)} * ${wrap(gen(s, depth - 1))}`),
      () => (rank === 0 ? scalarOnly(depth) : `${wrap(gen(s, depth - 1))} / (2 + ${wrap(gen([], depth - 1))} ^ 2)`),
      () => (rank === 0 ? scalarOnly(depth) : `${wrap(gen(s, depth - 1))} .* ${wrap(gen(s, depth - 1))}`),
      () => (rank === 0 ? scalarOnly(depth) : `${wrap(gen(s, depth - 1))} ./ (1 + ${wrap(gen(s, depth - 1))} .^ 2)`),
      () => (rank === 0 ? scalarOnly(depth) : `${wrap(gen(s, depth - 1))} .^ ${r.pick(['2', '3'])}`),
      () => (rank === 0 ? scalarOnly(depth) : `${wrap(gen(s, depth - 1))} + ${wrap(gen([], depth - 1))}`), // broadcast a scalar
      () => (fns.length ? fnCall(s, depth) : gen(s, depth - 1)),
    ];
    if (rank === 1) {
      const [m] = s;
      choices.push(
        () => { const k = r.pick(vectorDims()); features.add('matvec'); return `${wrap(gen([m, k], depth - 1))} * ${wrap(gen([k], depth - 1))}`; },
        // x' * A is a row (vectors are columns); transposed back, or through an elementwise function first.
        () => { const k = r.pick(vectorDims()); features.add('vecmat'); return `(${wrap(gen([k], depth - 1))}' * ${wrap(gen([k, m], depth - 1))})'`; },
        () => { const k = r.pick(vectorDims()); features.add('row-vector'); return `transpose(${r.pick(['tanh', 'sigmoid', 'relu'])}(${wrap(gen([k], depth - 1))}' * ${wrap(gen([k, m], depth - 1))}))`; },
        () => { features.add('max-min'); return `${r.pick(['max', 'min'])}(${gen(s, depth - 1)}, ${r.chance(0.5) ? gen(s, depth - 1) : gen([], depth - 1)})`; },
        () => { features.add('leaky_relu'); return `leaky_relu(${gen(s, depth - 1)}, ${scalarParam() ?? r.pick(['0.01', '0.2'])})`; },
        () => { features.add('softmax'); return `${r.pick(['softmax', 'log_softmax'])}(${gen(s, depth - 1)})`; },
        () => (label && label.K === m ? (features.add('onehot'), `onehot(${label.name}, ${m})`) : gen(s, depth - 1)),
        // mathjs's axis sums of a matrix: the column sums (axis 1) and the row sums (axis 2), both columns.
        () => { const k = r.pick(vectorDims()); features.add('sum-axis-1'); return `sum(${gen([k, m], depth - 1)}, 1)`; },
        () => { const k = r.pick(vectorDims()); features.add('sum-axis-2'); return `sum(${gen([m, k], depth - 1)}, 2)`; },
        () => { features.add('diag'); return `diag(${gen([m, m], depth - 1)})`; },
      );
    }
    if (rank === 2) {
      const [m, n] = s;
      choices.push(
        () => { features.add('outer'); return `outer(${gen([m], depth - 1)}, ${gen([n], depth - 1)})`; },
        () => { features.add('column-row'); return `${wrap(gen([m], depth - 1))} * ${wrap(gen([n], depth - 1))}'`; },
        () => { features.add('transpose'); return `transpose(${gen([n, m], depth - 1)})`; },
        () => { const k = r.pick(vectorDims()); features.add('matmat'); return `${wrap(gen([m, k], depth - 1))} * ${wrap(gen([k, n], depth - 1))}`; },
        () => { features.add('transpose'); return `${atom(gen([n, m], depth - 1))}'`; },
        () => { features.add('row-broadcast'); return `${wrap(gen(s, depth - 1))} + ${wrap(gen([n], depth - 1))}`; },
        () => { features.add('row-broadcast'); return `${wrap(gen([n], depth - 1))} .* ${wrap(gen(s, depth - 1))}`; },
        () => (m === n ? (features.add('diag'), `diag(${gen([m], depth - 1)})`) : gen(s, depth - 1)),
      );
    }
    return r.pick(choices)();
  };
  const wrap = (t: string) => (/^[A-Za-z0-9_.]+$/.test(t) || /^[A-Za-z0-9_]+\([^()]*\)$/.test(t) ? t : `(${t})`);
  const atom = wrap;
  const leaf = (s: Shape): string => {
    const vs = ofShape(s);
    if (vs.length && r.chance(0.85)) {
      const v = r.pick(vs);
      if (v.param) features.add('param-use');
      return v.name;
    }
    if (s.length === 0) return r.pick(['0.5', '2', '1.5', '0.25', 'pi', ...dimNames]);
    // A tensor from something of another shape: a scalar times a tensor leaf, or a product.
    const others = values.filter((v) => v.shape.length > 0);
    if (s.length === 1 && others.length && r.chance(0.5)) return gen(s, 1);
    return `${r.pick(['0.5', '2', '-1'])} * ${tensorFromScratch(s)}`;
  };
  // A tensor when no value of the shape exists yet: the sum of a param-free construction is not allowed by
  // the language (no ones()), so build it from a value of another shape.
  const tensorFromScratch = (s: Shape): string => {
    const vs = values.filter((v) => v.shape.length > 0);
    if (s.length === 1) {
      const w = vs.find((v) => v.shape.length === 1 && v.shape[0] === s[0]);
      if (w) return w.name;
      const m = vs.find((v) => v.shape.length === 2 && v.shape[0] === s[0] && vs.some((x) => x.shape.length === 1 && x.shape[0] === v.shape[1]));
      if (m) return `(${m.name} * ${vs.find((x) => x.shape.length === 1 && x.shape[0] === m.shape[1])!.name})`;
      if (label && label.K === s[0]) return `onehot(${label.name}, ${s[0]})`;
      // Nothing of that size: a fresh param supplies one (declared before use, at the top).
      return newParam(s);
    }
    return `outer(${tensorFromScratch([s[0]])}, ${tensorFromScratch([s[1]])})`;
  };
  const pendingParams: string[] = [];
  const newParam = (s: Shape): string => {
    const name = fresh('v');
    pendingParams.push(`param ${name}: ${shapeText(s)} ~ normal(0, 0.5)`);
    values.push({ name, shape: s, param: true });
    return name;
  };
  const unary = (s: Shape, depth: number): string => {
    const a = () => gen(s, depth - 1);
    switch (r.int(0, 13)) {
      case 0: return `exp(tanh(${a()}))`;
      case 1: return `log(1 + ${wrap(a())} ${s.length ? '.^' : '^'} 2)`;
      case 2: return `sqrt(1 + exp(${wrap(a())} / 4))`;
      case 3: features.add('kink'); return `abs(${a()})`;
      case 4: return `sin(${a()})`;
      case 5: return `cos(${a()})`;
      case 6: return `tanh(${a()})`;
      case 7: features.add('kink'); return `sign(${a()}) ${s.length ? '.*' : '*'} ${wrap(a())}`;
      case 8: features.add('kink'); return `step(${a()}) ${s.length ? '.*' : '*'} ${wrap(a())}`;
      case 9: return `sigmoid(${a()})`;
      case 10: features.add('kink'); return `relu(${a()})`;
      case 11: return `softplus(${a()})`;
      case 12: return `log_sigmoid(${a()})`;
      default: return `log(sigmoid(${a()}))`; // rewritten to the stable form
    }
  };
  const fnCall = (s: Shape, depth: number): string => {
    const f = r.pick(fns);
    const args = Array.from({ length: f.arity }, (_, k) => (k > 0 && s.length && r.chance(0.3) ? gen([], depth - 1) : gen(s, depth - 1)));
    return `${f.name}(${args.join(', ')})`;
  };
  const scalarOnly = (depth: number): string => {
    const v = () => r.pick(dimNames);
    const choices: (() => string)[] = [
      () => { features.add('sum'); return `sum(${gen(randomShape(), depth - 1)})`; },
      () => { features.add('mean'); return `mean(${gen(randomShape(), depth - 1)})`; },
      () => { features.add('dot'); const k = v(); return `dot(${gen([k], depth - 1)}, ${gen([k], depth - 1)})`; },
      () => { features.add('vec*vec'); const k = v(); return `${wrap(gen([k], depth - 1))}' * ${wrap(gen([k], depth - 1))}`; },
      () => { features.add('quadratic-form'); const k = v(); const x = gen([k], depth - 1); return `${wrap(x)}' * ${wrap(gen([k, k], depth - 1))} * ${wrap(x)}`; },
      () => { features.add('logsumexp'); return `logsumexp(${gen([v()], depth - 1)})`; },
      () => (label ? (features.add('cross_entropy'), `cross_entropy(${gen([label.K], depth - 1)}, ${label.name})`) : `sum(${gen([v()], depth - 1)})`),
      () => `${wrap(gen([], depth - 1))} * ${wrap(gen([], depth - 1))}`,
      () => `${wrap(gen([], depth - 1))} / (1 + ${wrap(gen([], depth - 1))} ^ 2)`,
      () => `${wrap(gen([], depth - 1))} ^ 2`,
      () => { features.add('max-min'); return `${r.pick(['max', 'min'])}(${gen(randomShape(), depth - 1)})`; },
      () => { features.add('norm'); return `${r.pick(['norm', 'norm'])}(${gen(randomShape(), depth - 1)})${r.chance(0.5) ? ' ^ 2' : ''}`; },
      () => { const k = v(); const i = label && label.K === k ? label.name : String(r.int(0, dimValues[dimNames.indexOf(k)] - 1)); features.add('index'); return `${wrap(gen([k], depth - 1))}[${i}]`; },
      () => (constName ? (features.add('const'), `${constName} * ${wrap(gen([], depth - 1))}`) : gen([], depth - 1)),
      // kron has a size no dim names (m·p), so it enters summed, times a second kron of the same factor shapes.
      () => {
        features.add('kron');
        const [a, b, c, e] = [v(), v(), v(), v()];
        return `sum(${r.pick(['tanh', 'sin', 'sigmoid'])}(kron(${gen([a, b], depth - 1)}, ${gen([c, e], depth - 1)})) .* kron(${gen([a, b], depth - 1)}, ${gen([c, e], depth - 1)}))`;
      },
    ];
    return r.pick(choices)();
  };

  // Intermediates and outputs: later statements refer to earlier ones.
  const body: string[] = [];
  const nValues = r.int(0, 4);
  for (let k = 0; k < nValues; k++) {
    const s = randomShape();
    const name = fresh('z');
    const isOutput = r.chance(0.25);
    body.push(`${isOutput ? 'output ' : ''}${name} = ${gen(s, r.int(1, 3))}`);
    if (isOutput) features.add('output');
    values.push({ name, shape: s, param: false });
  }
  if (r.chance(0.3)) {
    const s = randomShape();
    body.push(`output ${fresh('p')} = ${gen(s, 2)}`);
    features.add('output');
  }

  // The loss: a sum of scalar terms, often with a penalty on the parameters next to the data term.
  const terms: string[] = [];
  if (r.chance(0.3)) terms.push(...imageStage(r, { nInputs, fresh, lines, body, features, fns, scalar: () => gen([], 1) }));
  const nTerms = r.int(1, 3);
  for (let k = 0; k < nTerms; k++) terms.push(scalarOnly(r.int(1, 3)));
  const params = values.filter((v) => v.param);
  if (r.chance(0.4)) {
    const p = r.pick(params);
    const penalty = r.pick([
      () => `sum(${p.name} .* ${p.name})`, () => `sum(abs(${p.name}))`, () => `mean(${p.name})`, () => `sum(${p.name})`,
      () => `-sum(${p.name})`, () => (p.shape.length === 1 ? `dot(${p.name}, ${p.name})` : `sum(${p.name} .^ 2)`),
    ])();
    terms.push(`${r.pick(['1e-3', '0.5', '2'])} * (${penalty})`);
    features.add('penalty');
  }
  const lossName = fresh('L');
  body.push(`loss ${lossName} = ${terms.join(r.chance(0.8) ? ' + ' : ' - ')}`);
  lines.push(...pendingParams, ...body);
  return { seed, source: lines.join('\n') + '\n', features: [...features].sort() };
}

/** The dim sizes a model was generated with cannot change, so they are read back from the source. */
export function dimSizes(source: string): Map<string, number> {
  const m = /^dim (.*)$/m.exec(source);
  return new Map((m?.[1] ?? '').split(',').map((p) => p.split('=').map((x) => x.trim())).filter((p) => p.length === 2).map(([k, v]) => [k, Number(v)]));
}

interface ImageContext {
  readonly nInputs: number;
  fresh(base: string): string;
  /** Declarations (inputs, params) and statements (intermediates), in order. */
  readonly lines: string[];
  readonly body: string[];
  readonly features: Set<string>;
  readonly fns: readonly FnInfo[];
  /** A scalar expression of the rest of the model (a product of parameters across the two parts). */
  scalar(): string;
}

/**
 * Images: an input (or a param) [C, H, W], one or two convolutions with random kernel sizes, strides,
 * padding and per-channel biases, activations, max or average pooling (with a remainder to drop), and
 * flatten / reshape; the second convolution reads a value that depends on parameters, so its ∂L/∂X (the
 * full convolution with the flipped kernel) is computed. Returns scalar terms for the loss.
 */
function imageStage(r: CaseRng, ctx: ImageContext): string[] {
  const { fresh, lines, body, features } = ctx;
  features.add('conv2d');
  // A quarter of the stages start with a convolution the wasm target runs as direct kernels (stride 1, no
  // padding, an output a multiple of four wide; eight wide in, for the input gradient's kernel too).
  const directKw = r.chance(0.25) ? r.pick([1, 2, 3, 5]) : 0;
  if (directKw) features.add('conv-direct');
  const C = r.int(1, 2), H = r.int(directKw === 5 ? 5 : 3, 7), W = directKw === 1 || directKw === 5 ? 8 : directKw ? 3 + directKw : r.int(3, 7);
  const isInput = ctx.nInputs > 0 && r.chance(0.7);
  const image = fresh(isInput ? 'img' : 'P');
  lines.push(isInput ? `input ${image}: [${C}, ${H}, ${W}]` : `param ${image}: [${C}, ${H}, ${W}] ~ normal(0, 0.5)`);

  /** The first convolution, for the adjoint functions a model (or a claim) may write. */
  let first: { x: string; K: string; options: string[]; out: string; shape: number[] } | undefined;
  const convolve = (x: string, [c, h, w]: number[], directWidth = 0): { e: string; shape: number[]; K: string; options: string[]; biased: boolean } => {
    const F = r.int(1, 3), kh = r.int(1, Math.min(3, h)), kw = directWidth || r.int(1, Math.min(3, w));
    const pad = !directWidth && r.chance(0.3) ? 1 : 0;
    const fits = (s: number) => (h + 2 * pad - kh) % s === 0 && (w + 2 * pad - kw) % s === 0;
    const stride = !directWidth && fits(2) && r.chance(0.4) ? 2 : 1;
    const K = fresh('Kc');
    lines.push(`param ${K}: [${F}, ${c}, ${kh}, ${kw}] ~ normal(0, 0.5)`);
    const options = [...(stride !== 1 ? [`stride=${stride}`] : []), ...(pad ? [r.chance(0.5) ? `pad=${pad}` : `pad = ${pad}`] : [])];
    if (stride !== 1) features.add('conv-stride');
    if (pad) features.add('conv-pad');
    let e = `conv2d(${x}, ${r.chance(0.2) ? `tanh(${K})` : K}${options.map((o) => `, ${o}`).join('')})`;
    // A direct convolution mostly has its bias (and, below, a ReLU): the wasm target fuses the three.
    const biased = r.chance(directWidth ? 0.85 : 0.6);
    if (biased) {
      const bias = fresh('cb');
      lines.push(`param ${bias}: [${F}] = 0.1`);
      e = `${e} + ${bias}`;
      features.add('channel-bias');
    }
    const scaled = r.chance(0.2);
    if (scaled) { e = `${ctx.scalar()} * (${e})`; features.add('conv-scaled'); }
    return { e, shape: [F, (h + 2 * pad - kh) / stride + 1, (w + 2 * pad - kw) / stride + 1], K, options, biased: biased && !scaled };
  };
  const activate = (e: string, direct: boolean): string => {
    const unaryFn = ctx.fns.find((f) => f.arity === 1);
    if (direct && r.chance(0.5)) return `relu(${e})`;
    return r.pick([
      () => `tanh(${e})`, () => `relu(${e})`, () => `sigmoid(${e})`, () => `leaky_relu(${e}, 0.1)`,
      () => `${e} .* ${e}`, () => (unaryFn ? `${unaryFn.name}(${e})` : `softplus(${e})`),
    ])();
  };
  const name = (e: string, shape: number[]): { e: string; shape: number[] } => {
    const z = fresh('zi');
    body.push(`${z} = ${e}`);
    return { e: z, shape };
  };
  const pool = (v: { e: string; shape: number[] }, afterRelu: boolean): { e: string; shape: number[] } => {
    const [c, h, w] = v.shape;
    if (h < 2 || w < 2 || !r.chance(0.6)) return v;
    const kind = afterRelu ? (r.chance(0.75) ? 'maxpool' : 'avgpool') : r.pick(['maxpool', 'avgpool']);
    features.add(kind);
    // The wasm target routes the pooled gradient and applies ReLU's mask in one pass.
    if (kind === 'maxpool' && afterRelu) features.add('maxpool-after-relu');
    return name(`${kind}(${v.e}, 2)`, [c, Math.floor(h / 2), Math.floor(w / 2)]);
  };

  const stage = (x: { e: string; shape: number[] }) => {
    const direct = first ? 0 : directKw;
    const c = convolve(x.e, x.shape, direct);
    const z = name(c.e, c.shape);
    first ??= { x: x.e, K: c.K, options: c.options, out: z.e, shape: c.shape };
    const a = activate(z.e, direct > 0);
    const relu = a.startsWith('relu(');
    // z = conv2d(x, K) + c, a = relu(z): the direct convolution's fused epilogue in the wasm target.
    if (direct && c.biased && relu) features.add('conv-bias-relu');
    return pool(name(a, z.shape), relu);
  };
  let v = stage({ e: image, shape: [C, H, W] });
  if (r.chance(0.5)) { v = stage(v); features.add('conv-conv'); }

  const size = v.shape.reduce((a, b) => a * b, 1);
  const flat = name(`flatten(${v.e})`, [size]);
  features.add('flatten');
  const terms: string[] = [r.pick([
    () => `sum(${flat.e} .* ${flat.e})`, () => `sum(tanh(${flat.e}))`, () => `mean(${v.e})`, () => `norm(${v.e})`, () => `max(${v.e})`,
    () => { const w = fresh('wf'); lines.push(`param ${w}: [${size}] ~ normal(0, 0.5)`); return `dot(${w}, ${flat.e})`; },
    () => { const w = fresh('wf'); lines.push(`param ${w}: [${v.shape.join(', ')}] ~ normal(0, 0.5)`); return `sum(${w} .* ${v.e})`; },
  ])()];
  if (first && r.chance(0.35)) {
    // The adjoint functions as the model's own values (what a claim may write, and what their own
    // derivatives are checked on): correlate, full_conv2d with flip, route_to_max, upsample, sum over positions.
    const f = first;
    const opts = f.options.map((o) => `, ${o}`).join('');
    const [, h, w] = f.shape;
    terms.push(r.pick([
      () => { features.add('correlate'); return `sum(correlate(${f.x}, tanh(${f.out})${opts}) .* ${f.K})`; },
      () => { features.add('full_conv2d'); return `sum(full_conv2d(tanh(${f.out}), flip(${f.K})${opts}) .* ${f.x})`; },
      () => { features.add('sum-positions'); return `sum(sum(${f.out}, [2, 3]) .^ 2)`; },
      // Every other axis (and pair of axes) of the image, and expand, the adjoint the printers write for them.
      () => { const axes = r.pick(['1', '2', '3', '[1, 2]', '[1, 3]']); features.add(`sum-image-axis-${axes}`); return `sum(sum(${f.out}, ${axes}) .^ 2)`; },
      () => { const k = r.int(1, 3); features.add('expand'); return `sum(expand(tanh(sum(${f.out}, ${k})), ${k}, ${f.shape[k - 1]}) .* ${f.out})`; },
      () => (h >= 2 && w >= 2 ? (features.add('route_to_max'), `sum(route_to_max(maxpool(${f.out}, 2), ${f.out}, 2) .* ${f.out})`) : `sum(${f.out})`),
      () => (h >= 2 && w >= 2 && h % 2 === 0 && w % 2 === 0 ? (features.add('upsample'), `sum(upsample(avgpool(${f.out}, 2), 2) .* sin(${f.out}))`) : `sum(ones(${f.shape.join(', ')}) .* ${f.out})`),
    ])());
  }
  if (r.chance(0.4)) {
    // Back to an image: reshape's adjoint is a reshape too.
    features.add('reshape');
    terms.push(`sum(sin(reshape(${flat.e}, [${v.shape.join(', ')}])) .* ${v.e})`);
  }
  return terms;
}

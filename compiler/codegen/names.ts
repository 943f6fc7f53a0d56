// Identifiers for the emitted code. Model names are identifiers already (the lexer sees to that); a name
// that means something to JavaScript or collides with the runtime or the emitter's own locals gets a
// trailing underscore, so `constructor`, `Math` or `process` work as ordinary model names.

const RESERVED = new Set(`break case catch class const continue debugger default delete do else enum export extends false finally
for function if import in instanceof new null return super switch this throw true try typeof var void while with yield let static
implements interface package private protected public await async of arguments eval undefined NaN Infinity globalThis window
Math Object Array Number String Boolean Symbol Error JSON Date Promise Reflect Proxy Function RegExp Map Set WeakMap BigInt
process require module exports console __dirname __filename Buffer setTimeout constructor prototype __proto__ toString valueOf
hasOwnProperty isPrototypeOf propertyIsEnumerable toLocaleString Float32Array Float64Array Int32Array
params inputs grads n b i j kk sum_ t r q mx lse loss batch Arr model spec create lossAndGrad forward result
sigmoid softplus gemmNT gemmNN gemmTN wasmLoop wasmColumnSum softmaxRows logSoftmaxRows logsumexpRows crossEntropyRows argmaxRow logsumexpRow
trainerMain runTrainer gradcheck train evaluate conv2dForward conv2dGradInput conv2dGradKernel conv2dGradKernelSum maxpoolForward
maxpoolRoute maxpoolGather avgpoolForward upsample sumPositions copyElements sumAxis spreadAxis`.split(/\s+/));

export class NameTable {
  private readonly used = new Set<string>();
  /**
   * `glsl`: names that gpu.js turns into shader identifiers (user_NAME), where two underscores in a row are
   * reserved and `$` is not allowed: runs of underscores collapse, and a clash gets a number, not an underscore.
   */
  constructor(private readonly opts: { glsl?: boolean } = {}) {}
  /** A fresh, safe identifier based on `wanted`. */
  fresh(wanted: string): string {
    let name = wanted.replace(/[^A-Za-z0-9_$]/g, '_');
    if (!/^[A-Za-z_$]/.test(name)) name = `_${name}`;
    if (this.opts.glsl) {
      name = name.replace(/\$/g, '_').replace(/_+/g, '_').replace(/^_|_$/g, '') || 'v';
      if (/^[0-9]/.test(name)) name = `v${name}`;
      const base = name;
      for (let k = 2; RESERVED.has(name) || this.used.has(name); k++) name = `${base}${k}`;
    } else {
      while (RESERVED.has(name) || this.used.has(name)) name = `${name}_`;
    }
    this.used.add(name);
    return name;
  }
}

// The machine's WebAssembly SIMD128 peak, for the profile in docs/training.md: a loop of independent
// f32x4 multiply-adds on registers (twelve independent accumulators, no memory traffic), built with binaryen as gradc's
// kernels are. Node 20 has no fused multiply-add without a flag, so a multiply-add is two instructions; the
// figure is the ceiling any of gradc's wasm kernels could reach on one thread. For comparison, the same loop
// with relaxed SIMD's fused multiply-add (f32x4.relaxed_madd), which Node 20 offers only behind V8's
// --experimental-wasm-relaxed-simd (set here for this process alone) and gradc does not use.
//   node bench/simd-peak.mjs

import binaryen from 'binaryen';
import v8 from 'node:v8';

const ACC = 12, UNROLL = 4;

/** The peak loop's module: acc ← acc · m + m on ACC independent accumulators, as mul then add, or as one fused op. */
function peakModule(fused) {
  const mod = new binaryen.Module();
  mod.setFeatures(binaryen.Features.MVP | binaryen.Features.SIMD128 | (fused ? binaryen.Features.RelaxedSIMD : 0));
  const { i32, v128 } = binaryen;
  const get = (l, t = v128) => mod.local.get(l, t);
  const madd = (a, b, c) => (fused ? binaryen._BinaryenSIMDTernary(mod.ptr, binaryen.RelaxedMaddVecF32x4, a, b, c) : mod.f32x4.add(mod.f32x4.mul(a, b), c));
  // Param 0: iterations. Locals: 1 the counter, 2 the multiplier, 3… the accumulators (independent chains:
  // each acc ← acc · m + m, so nothing waits on another accumulator).
  const steps = [];
  for (let u = 0; u < UNROLL; u++) for (let a = 0; a < ACC; a++) steps.push(mod.local.set(3 + a, madd(get(3 + a), get(2), get(2))));
  const body = mod.block(null, [
    mod.local.set(2, mod.f32x4.splat(mod.f32.const(0.999))),
    ...Array.from({ length: ACC }, (_, a) => mod.local.set(3 + a, mod.f32x4.splat(mod.f32.const(1 + a / 100)))),
    mod.local.set(1, mod.i32.const(0)),
    mod.loop('top', mod.block(null, [
      ...steps,
      mod.local.set(1, mod.i32.add(get(1, i32), mod.i32.const(1))),
      mod.br('top', mod.i32.lt_s(get(1, i32), get(0, i32))),
    ])),
    mod.return(mod.f32x4.extract_lane(get(3), 0)),
  ]);
  mod.addFunction('peak', binaryen.createType([i32]), binaryen.f32, [i32, v128, ...Array(ACC).fill(v128)], body);
  mod.addFunctionExport('peak', 'peak');
  if (!mod.validate()) throw new Error('the peak kernel does not validate');
  const bytes = mod.emitBinary();
  mod.dispose();
  return bytes;
}

/** GFLOP/s of the loop, best of 5; undefined where this node cannot compile it. */
function peak(fused) {
  const bytes = peakModule(fused);
  if (!WebAssembly.validate(bytes)) return undefined;
  const { peak: run } = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports;
  run(1e5);
  const iterations = 2e7, flopsPerIteration = UNROLL * ACC * 4 * 2;
  let best = 0;
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    run(iterations);
    best = Math.max(best, (iterations * flopsPerIteration) / ((performance.now() - t) / 1000) / 1e9);
  }
  return best;
}

console.log(`WebAssembly SIMD128 peak, one thread: ${peak(false).toFixed(1)} GFLOP/s (f32x4 mul + add, ${ACC} independent accumulators, best of 5)`);
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const fused = peak(true);
console.log(fused === undefined
  ? '  with a fused multiply-add: relaxed SIMD is not available in this node'
  : `  with a fused multiply-add (relaxed SIMD, behind a flag in Node 20; not used by gradc): ${fused.toFixed(1)} GFLOP/s`);

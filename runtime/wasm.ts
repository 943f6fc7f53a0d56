// The wasm target's host: instantiates the model's WebAssembly kernels (built by the compiler with binaryen,
// SIMD128, specialised to the model's sizes) over one shared WebAssembly.Memory, and gives the runtime a
// Float32Array constructor that allocates in that memory. Parameters, gradients, inputs and every kernel
// buffer are then in the memory the kernels address, and the products run in WebAssembly; everything else
// (the fused elementwise loops, the optimizer) stays the same TypeScript.

import type { Buf } from './kernels.js';
import { addGemmRoute } from './kernels.js';
import type { CompiledModel } from './model.js';
import { HelperPool, MAX_THREADS } from './threads.js';
import { availableParallelism } from 'node:os';

/** The part of the WebAssembly JS API used here, typed locally: Node's types and ES2022 do not declare it. */
interface WasmMemory { readonly buffer: ArrayBufferLike; grow(pages: number): number }
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}
const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** 64 KiB pages; 65536 pages is the 4 GiB a 32-bit memory can address (the module declares the same maximum). */
const MAX_PAGES = 65536;
/** Bytes after each buffer that no other buffer uses (see alloc). */
const SLACK = 64;

/** The model with its products in WebAssembly, or the model unchanged (and why) where WebAssembly SIMD is missing. */
export function withWasmKernels(model: CompiledModel, moduleBase64: string): { model: CompiledModel; fallback?: string } {
  const bytes = decodeBase64(moduleBase64);
  if (!wasmApi || !wasmApi.validate(bytes)) {
    return { model, fallback: 'WebAssembly SIMD is not available here: using the TypeScript kernels' };
  }
  // Shared, so that growing it never detaches the views already handed out (and so workers can share it).
  const memory = new wasmApi.Memory({ initial: 16, maximum: MAX_PAGES, shared: true });
  const instance = new wasmApi.Instance(new wasmApi.Module(bytes), { env: { memory } });
  const exports = instance.exports as Record<string, (...args: number[]) => void>;
  // What the kernels need to find their operands: the views this memory handed out (a view's .buffer is no
  // test — a shared memory may give two views of itself different SharedArrayBuffer objects), and the
  // kernels. The allocator (so the model) holds it strongly, the route weakly: a model nobody uses any more
  // takes its memory with it, and products fall back to TypeScript.
  const owned = { views: new WeakSet<Buf>(), exports };
  const weak = new WeakRef(owned);
  let pool: HelperPool | undefined;
  const parallel = new Map<string, (...args: number[]) => void>();
  const route = (name: string): ((...args: number[]) => void) | undefined => {
    const fn = weak.deref()?.exports[name];
    if (!fn || !pool) return fn;
    let p = parallel.get(name);
    if (!p) { p = splitKernel(pool, name, fn); parallel.set(name, p); }
    return p;
  };
  addGemmRoute({
    alive: () => weak.deref() !== undefined,
    owns: (b: Buf) => weak.deref()?.views.has(b) ?? false,
    kernel: (name) => route(name),
  });
  // The first 64 bytes stay unused, and every buffer is followed by 64: a kernel may read (never write) a
  // vector that reaches a few values past either end of a buffer and mask those lanes (convdx_*).
  let top = 64;
  const alloc = (length: number): Float32Array => {
    const bytesNeeded = Math.ceil((length * 4) / 16) * 16 + SLACK;
    const end = top + bytesNeeded;
    if (end > memory.buffer.byteLength) memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
    const view = new Float32Array(memory.buffer, top, length);
    owned.views.add(view);
    top = end;
    return view;
  };
  // `new Arr(n)` in the runtime and the generated code: a function called with `new` may return the object.
  const WasmFloat32Array = Object.assign(function (this: unknown, length: number) { return alloc(length); }, {
    BYTES_PER_ELEMENT: 4,
    // As Float32Array.from: an array-like, with a map function (Arr.from({ length }, f)) or without.
    from: (src: ArrayLike<number>, map?: (v: number, i: number) => number) => { const a = alloc(src.length); if (map) for (let i = 0; i < a.length; i++) a[i] = map(src[i], i); else a.set(src); return a; },
    of: (...xs: number[]) => { const a = alloc(xs.length); a.set(xs); return a; },
  }) as unknown as Float32ArrayConstructor;
  const use = (t: number): number => {
    pool?.stop();
    parallel.clear();
    pool = t > 1 ? new HelperPool(bytes, memory, Object.keys(exports), t - 1) : undefined;
    return t;
  };
  /** `threads` as asked (at most MAX_THREADS), or 0: as many as pay, timed on the model's largest product. */
  const setThreads = (threads: number): number => {
    if (threads >= 1) return use(Math.min(MAX_THREADS, Math.floor(threads)));
    const largest = Object.keys(exports).filter((n) => n.startsWith('gemmNT_'))
      .map((n) => n.split('_').slice(1).map(Number)).sort((x, y) => y[0] * y[1] - x[0] * x[1])[0];
    const most = Math.min(MAX_THREADS, availableParallelism());
    if (!largest || most < 2) return use(1);
    const [m, k] = largest, n = 64;
    const x = alloc(n * k), w = alloc(m * k), o = alloc(n * m);
    use(most);
    const name = `gemmNT_${m}_${k}`;
    const single = exports[name], split = route(name)!;
    const timed = (f: (...a: number[]) => void): number => {
      const t0 = performance.now();
      for (let i = 0; i < 10; i++) f(n, x.byteOffset, w.byteOffset, o.byteOffset);
      return performance.now() - t0;
    };
    timed(single); timed(split); // the helpers start, and the kernels reach their optimised tier
    let one = Infinity, many = Infinity;
    for (let r = 0; r < 3; r++) { one = Math.min(one, timed(single)); many = Math.min(many, timed(split)); }
    if (process.env.GRADC_DEBUG_THREADS) console.error(`threads: 1 → ${one.toFixed(2)} ms, ${most} → ${many.toFixed(2)} ms`);
    return many < 0.8 * one ? most : use(1); // more threads must save a fifth of the time to be kept
  };
  return { model: { ...model, float32Array: WasmFloat32Array, setThreads } };
}

/**
 * Kernel `name` of the module run by the main thread and the pool's helpers where it pays: products split
 * by rows, a convolution's kernel gradient by kernel rows, the other image kernels by examples; any other
 * kernel runs on this thread alone (returned as it is).
 */
export function splitKernel(pool: HelperPool, name: string, fn: (...args: number[]) => void): (...args: number[]) => void {
  const kind = name.split('_')[0];
  if (kind.startsWith('gemm')) return splitAcross(pool, name, fn);
  if (kind === 'convdk') return splitKernelRows(pool, name, fn);
  return Object.hasOwn(PER_EXAMPLE, kind) ? splitExamples(pool, name, fn) : fn;
}

/** Chunks a call is cut into, per thread: more than one, so that a thread the machine holds back costs only its chunk. */
const CHUNKS_PER_THREAD = 4;

/** [start, end) of `parts` near-equal runs of `units` (each a multiple of `granule` but the last), the empty ones left out. */
function runs(units: number, parts: number, granule: number): [number, number][] {
  const size = Math.ceil(units / parts / granule) * granule;
  const out: [number, number][] = [];
  for (let r0 = 0; r0 < units; r0 += size) out.push([r0, Math.min(units, r0 + size)]);
  return out;
}

/**
 * A product split across the main thread and the helpers: X Wᵀ and G W by rows of the batch, Σ_b outer(u_b,
 * v_b) by rows of its output. Chunks are multiples of 4 rows (the kernels' tile); no element is computed by
 * two threads, so the result is the same as with one thread, bit for bit.
 */
function splitAcross(pool: HelperPool, name: string, fn: (...args: number[]) => void): (...args: number[]) => void {
  const [variant, mText, kText] = name.replace(/^gemm/, '').split('_');
  const m = Number(mText), k = Number(kText);
  const parts = CHUNKS_PER_THREAD * (pool.helpers + 1);
  return (n: number, a: number, b: number, out: number, beta = 0): void => {
    // Small products cost less than waking a thread.
    if (2 * n * m * k < 200_000 || (variant !== 'TN' && n < 8) || (variant === 'TN' && m < 8)) { fn(n, a, b, out, beta, 0, m); return; }
    const chunks = runs(variant === 'TN' ? m : n, parts, 4).map(([r0, r1]) =>
      variant === 'NT' ? [r1 - r0, a + r0 * k * 4, b, out + r0 * m * 4]
        : variant === 'NN' ? [r1 - r0, a + r0 * m * 4, b, out + r0 * k * 4]
          : [n, a, b, out, beta, r0, r1]);
    pool.run(name, fn, chunks);
  };
}

/**
 * The image kernels' arguments for the examples start… start+n−1 of a call: each address moved on by that
 * many examples (a stride argument, or the per-example size the kernel's name gives), counts and strides kept.
 */
const PER_EXAMPLE: Record<string, (key: number[], args: readonly number[], start: number, n: number) => number[]> = {
  im2col: ([C, , , , kh, kw, , , Ho, Wo], [, x, xs, p], s, n) => [n, x + s * xs * 4, xs, p + s * Ho * Wo * C * kh * kw * 4],
  col2im: ([C, , , , kh, kw, , , Ho, Wo], [, p, out, os], s, n) => [n, p + s * Ho * Wo * C * kh * kw * 4, out + s * os * 4, os],
  img2rows: ([F, P], [, img, is, rows], s, n) => [n, img + s * is * 4, is, rows + s * F * P * 4],
  rows2img: ([F, P], [, rows, img, is], s, n) => [n, rows + s * F * P * 4, img + s * is * 4, is],
  maxpool: (_, [, x, xs, out, os], s, n) => [n, x + s * xs * 4, xs, out + s * os * 4, os],
  maxroute: (_, [, x, xs, g, gs, out, os], s, n) => [n, x + s * xs * 4, xs, g + s * gs * 4, gs, out + s * os * 4, os],
  sumpos: (_, [, x, xs, out, os], s, n) => [n, x + s * xs * 4, xs, out + s * os * 4, os],
  convfwd: (_, [, x, xs, k, out, os], s, n) => [n, x + s * xs * 4, xs, k, out + s * os * 4, os],
  convfwdbr: (_, [, x, xs, k, c, z, a, os], s, n) => [n, x + s * xs * 4, xs, k, c, z + s * os * 4, a + s * os * 4, os],
  maxroutemask: (_, [, x, xs, g, gs, z, out, os], s, n) => [n, x + s * xs * 4, xs, g + s * gs * 4, gs, z + s * os * 4, out + s * os * 4, os],
  convdx: (_, [, g, gs, k, out, os], s, n) => [n, g + s * gs * 4, gs, k, out + s * os * 4, os],
};

/**
 * An image kernel over the batch in chunks of examples: every example's values are computed by one thread in
 * the usual order, so the results are the same for any thread count.
 */
function splitExamples(pool: HelperPool, name: string, fn: (...args: number[]) => void): (...args: number[]) => void {
  const [kind, ...rest] = name.split('_');
  const key = rest.map(Number), shift = PER_EXAMPLE[kind];
  const threads = pool.helpers + 1;
  return (...args: number[]): void => {
    const count = args[0];
    if (count < 2 * threads) { fn(...args); return; }
    pool.run(name, fn, runs(count, CHUNKS_PER_THREAD * threads, 1).map(([s, e]) => shift(key, args, s, e - s)));
  };
}

/**
 * A convolution's kernel gradient summed over the batch (convdk_KEY(count, X, xs, G, gs, dK, β, r0, r1)) in
 * chunks of the C·kh kernel rows: every element is one thread's sum over the whole batch, the same for any
 * thread count.
 */
function splitKernelRows(pool: HelperPool, name: string, fn: (...args: number[]) => void): (...args: number[]) => void {
  const threads = pool.helpers + 1;
  return (...args: number[]): void => {
    const [count, , , , , , , r0, r1] = args;
    if (r1 - r0 < threads || count < 2) { fn(...args); return; }
    pool.run(name, fn, runs(r1 - r0, CHUNKS_PER_THREAD * threads, 1).map(([a, b]) => [...args.slice(0, 7), r0 + a, r0 + b]));
  };
}

function decodeBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The standalone trainer's wasm model: the products in WebAssembly, or one line saying why not. */
export function wasmModelOrFallback(model: CompiledModel, moduleBase64: string): CompiledModel {
  const r = withWasmKernels(model, moduleBase64);
  if (r.fallback) console.error(r.fallback);
  return r.model;
}

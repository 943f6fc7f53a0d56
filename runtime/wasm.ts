// The wasm target's host: instantiates the model's WebAssembly kernels (built by the compiler with binaryen,
// SIMD128, specialised to the model's sizes) over one shared WebAssembly.Memory, and gives the runtime a
// Float32Array constructor that allocates in that memory. Parameters, gradients, inputs and every kernel
// buffer are then in the memory the kernels address, and the products run in WebAssembly; everything else
// (the fused elementwise loops, the optimizer) stays the same TypeScript.

import type { Buf } from './kernels.js';
import { addGemmRoute } from './kernels.js';
import type { CompiledModel } from './model.js';

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
  // What the kernels need to find their operands. The allocator (so the model) holds it strongly, the route
  // weakly: a model nobody uses any more takes its memory with it, and products fall back to TypeScript.
  const owned = { buffers: new Set<ArrayBufferLike>([memory.buffer]), exports };
  const weak = new WeakRef(owned);
  addGemmRoute({ alive: () => weak.deref() !== undefined, owns: (b: Buf) => weak.deref()?.buffers.has(b.buffer) ?? false, kernel: (name) => weak.deref()?.exports[name] });
  let top = 16; // address 0 stays unused
  const alloc = (length: number): Float32Array => {
    const bytesNeeded = Math.ceil((length * 4) / 16) * 16;
    const end = top + bytesNeeded;
    if (end > memory.buffer.byteLength) {
      memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
      owned.buffers.add(memory.buffer);
    }
    const view = new Float32Array(memory.buffer, top, length);
    top = end;
    return view;
  };
  // `new Arr(n)` in the runtime and the generated code: a function called with `new` may return the object.
  const WasmFloat32Array = Object.assign(function (this: unknown, length: number) { return alloc(length); }, { BYTES_PER_ELEMENT: 4 }) as unknown as Float32ArrayConstructor;
  return { model: { ...model, float32Array: WasmFloat32Array } };
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

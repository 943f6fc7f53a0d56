// The model's matrix products as WebAssembly SIMD128 kernels specialised to its sizes: the typed interface.
// The kernels are built with binaryen by gemm-builder.mjs in a worker thread of plain node (builder-worker.mjs),
// because loading binaryen's 100 MB of JavaScript through tsx (which runs gradc's TypeScript) takes ~9 s
// instead of ~1 s; only processes that build a wasm module pay even that, and only once.

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { PACKAGE_ROOT } from '../../source/package-root.js';
import { callSync } from '../../source/sync-call.js';
import type { WasmLoop } from './loops.js';

export type GemmVariant = 'NT' | 'NN' | 'TN';
/** One specialised product: the variant and the two sizes fixed by the model (the batch count n is not). */
export interface GemmShape { readonly variant: GemmVariant; readonly m: number; readonly k: number }

/** The image layers' geometries the module specialises its data movement to (wasm/image-builder.mjs). */
export interface ImageKernels { readonly convs: readonly (readonly number[])[]; readonly pools: readonly (readonly number[])[]; readonly sums?: readonly (readonly number[])[] }

export const gemmExportName = (s: GemmShape): string => `gemm${s.variant}_${s.m}_${s.k}`;

const WASM_DIR = join(PACKAGE_ROOT, 'compiler', 'codegen', 'wasm');
/** The builder's own files: a change to any of them must not reuse a module the old code built. */
const BUILDER_SOURCES = ['gemm-builder.mjs', 'image-builder.mjs', 'conv-builder.mjs'].map((f) => join(WASM_DIR, f));
/** Longer than any build takes (a hundred random models' modules: about a minute): then the builder is lost. */
const BUILD_TIMEOUT_MS = 600_000;
const built = new Map<string, Uint8Array>();

/**
 * Built modules are also kept on disk, keyed by the request and the builder's own source: loading binaryen
 * takes ~1 s, so compiling the same sizes again (edit, compile, edit) skips it. The cache is only a
 * shortcut: any failure to read or write it is ignored.
 */
const CACHE_DIR = join(tmpdir(), `gradc-wasm-cache-${process.getuid?.() ?? 'user'}`);
let builderHash: string | undefined;

function cachePath(request: string): string {
  builderHash ??= BUILDER_SOURCES.reduce((h, f) => h.update(readFileSync(f)), createHash('sha256')).digest('hex');
  return join(CACHE_DIR, `${createHash('sha256').update(builderHash).update(request).digest('hex').slice(0, 32)}.wasm`);
}

/** The builder's request for a module: what it is keyed by in the caches, too. */
export function moduleRequest(shapes: readonly GemmShape[], shared = false, loops: readonly WasmLoop[] = [], columnSums: readonly number[] = [], images: ImageKernels = { convs: [], pools: [] }): string {
  const withImages = images.convs.length || images.pools.length || images.sums?.length;
  return JSON.stringify(loops.length || columnSums.length || withImages ? { shapes, shared, loops, columnSums, ...(withImages ? { images } : {}) } : { shapes, shared });
}

/** A module with one exported function per shape, importing its memory as env.memory (shared when `shared`). */
export function buildGemmModule(shapes: readonly GemmShape[], shared = false, loops: readonly WasmLoop[] = [], columnSums: readonly number[] = [], images: ImageKernels = { convs: [], pools: [] }): Uint8Array {
  const request = moduleRequest(shapes, shared, loops, columnSums, images);
  return cachedModule(request) ?? buildInWorker([request])[0];
}

/** Builds every module of `requests` not built yet in one request: for a test or a tool about to compile many models. */
export function prebuildGemmModules(requests: readonly string[]): void {
  const missing = [...new Set(requests)].filter((r) => !cachedModule(r));
  if (missing.length) buildInWorker(missing);
}

function cachedModule(request: string): Uint8Array | undefined {
  const cached = built.get(request);
  if (cached) return cached;
  try {
    const bytes = new Uint8Array(readFileSync(cachePath(request)));
    if (bytes.length > 8 && bytes[0] === 0 && bytes[1] === 0x61) { built.set(request, bytes); return bytes; } // "\0asm"
  } catch { /* not cached yet */ }
  return undefined;
}

let builder: Worker | undefined;

/** The builder thread, started on the first build (unref'd: it never keeps the process alive). */
function builderThread(): Worker {
  if (builder) return builder;
  // No execArgv: the thread runs plain node, without the loader (tsx) this process may run under.
  const worker = new Worker(join(WASM_DIR, 'builder-worker.mjs'), { execArgv: [] });
  worker.unref();
  worker.on('exit', () => { if (builder === worker) builder = undefined; });
  builder = worker;
  return builder;
}

/**
 * The requests built by the builder thread, waited for synchronously (several: {"batch": [...]}, answered as
 * length-prefixed modules).
 */
function buildInWorker(requests: readonly string[]): Uint8Array[] {
  const input = requests.length === 1 ? requests[0] : `{"batch":[${requests.join(',')}]}`;
  const reply = callSync<{ bytes?: Uint8Array; error?: string }>(builderThread(), { input }, BUILD_TIMEOUT_MS);
  if (!reply?.bytes) {
    const why = reply?.error?.trim().split('\n').slice(0, 3).join(' ') ?? `no answer from the builder in ${BUILD_TIMEOUT_MS / 1000} s`;
    throw new Error(`internal error: building the WebAssembly kernels failed: ${why}`);
  }
  const out = Buffer.from(reply.bytes.buffer, reply.bytes.byteOffset, reply.bytes.byteLength);
  const modules: Uint8Array[] = [];
  if (requests.length === 1) modules.push(new Uint8Array(out));
  else for (let at = 0; at < out.length;) { const len = out.readUInt32LE(at); modules.push(new Uint8Array(out.subarray(at + 4, at + 4 + len))); at += 4 + len; }
  requests.forEach((req, i) => remember(req, modules[i]));
  return modules;
}

function remember(request: string, bytes: Uint8Array): void {
  built.set(request, bytes);
  try {
    mkdirSync(CACHE_DIR, { recursive: true });
    const file = cachePath(request), tmp = `${file}.${process.pid}`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, file);
  } catch { /* a read-only temporary folder only costs the next compile its second */ }
}

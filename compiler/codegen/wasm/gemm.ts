// The model's matrix products as WebAssembly SIMD128 kernels specialised to its sizes: the typed interface.
// The kernels are built with binaryen by gemm-builder.mjs in a plain `node` child process, because loading
// binaryen's 100 MB of JavaScript through tsx (which runs gradc's TypeScript) takes ~9 s instead of ~0.8 s;
// only commands that build a wasm module pay even that.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../source/package-root.js';
import type { WasmLoop } from './loops.js';

export type GemmVariant = 'NT' | 'NN' | 'TN';
/** One specialised product: the variant and the two sizes fixed by the model (the batch count n is not). */
export interface GemmShape { readonly variant: GemmVariant; readonly m: number; readonly k: number }

/** The image layers' geometries the module specialises its data movement to (wasm/image-builder.mjs). */
export interface ImageKernels { readonly convs: readonly (readonly number[])[]; readonly pools: readonly (readonly number[])[] }

export const gemmExportName = (s: GemmShape): string => `gemm${s.variant}_${s.m}_${s.k}`;

const BUILDER = join(PACKAGE_ROOT, 'compiler', 'codegen', 'wasm', 'gemm-builder.mjs');
/** The builder's own files: a change to any of them must not reuse a module the old code built. */
const BUILDER_SOURCES = [BUILDER, join(PACKAGE_ROOT, 'compiler', 'codegen', 'wasm', 'image-builder.mjs')];
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

/** A module with one exported function per shape, importing its memory as env.memory (shared when `shared`). */
export function buildGemmModule(shapes: readonly GemmShape[], shared = false, loops: readonly WasmLoop[] = [], columnSums: readonly number[] = [], images: ImageKernels = { convs: [], pools: [] }): Uint8Array {
  const withImages = images.convs.length || images.pools.length;
  const request = JSON.stringify(loops.length || columnSums.length || withImages ? { shapes, shared, loops, columnSums, ...(withImages ? { images } : {}) } : { shapes, shared });
  const cached = built.get(request);
  if (cached) return cached;
  const file = cachePath(request);
  try {
    const bytes = new Uint8Array(readFileSync(file));
    if (bytes.length > 8 && bytes[0] === 0 && bytes[1] === 0x61) { built.set(request, bytes); return bytes; } // "\0asm"
  } catch { /* not cached yet */ }
  const r = spawnSync(process.execPath, [BUILDER], { input: request, maxBuffer: 1 << 28, env: { ...process.env, NODE_OPTIONS: '' } });
  if (r.status !== 0 || r.error) throw new Error(`internal error: building the WebAssembly kernels failed: ${r.error?.message ?? r.stderr.toString().trim().split('\n').slice(-3).join(' ')}`);
  const bytes = new Uint8Array(r.stdout);
  built.set(request, bytes);
  try {
    mkdirSync(CACHE_DIR, { recursive: true });
    const tmp = `${file}.${process.pid}`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, file);
  } catch { /* a read-only temporary folder only costs the next compile its second */ }
  return bytes;
}

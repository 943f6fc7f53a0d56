// The model's matrix products as WebAssembly SIMD128 kernels specialised to its sizes: the typed interface.
// The kernels are built with binaryen by gemm-builder.mjs in a plain `node` child process, because loading
// binaryen's 100 MB of JavaScript through tsx (which runs gradc's TypeScript) takes ~9 s instead of ~0.8 s;
// only commands that build a wasm module pay even that.

import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type GemmVariant = 'NT' | 'NN' | 'TN';
/** One specialised product: the variant and the two sizes fixed by the model (the batch count n is not). */
export interface GemmShape { readonly variant: GemmVariant; readonly m: number; readonly k: number }

export const gemmExportName = (s: GemmShape): string => `gemm${s.variant}_${s.m}_${s.k}`;

const BUILDER = join(dirname(fileURLToPath(import.meta.url)), 'gemm-builder.mjs');
const built = new Map<string, Uint8Array>();

/** A module with one exported function per shape, importing its memory as env.memory (shared when `shared`). */
export function buildGemmModule(shapes: readonly GemmShape[], shared = false): Uint8Array {
  const request = JSON.stringify({ shapes, shared });
  const cached = built.get(request);
  if (cached) return cached;
  const r = spawnSync(process.execPath, [BUILDER], { input: request, maxBuffer: 1 << 28, env: { ...process.env, NODE_OPTIONS: '' } });
  if (r.status !== 0 || r.error) throw new Error(`internal error: building the WebAssembly kernels failed: ${r.error?.message ?? r.stderr.toString().trim().split('\n').slice(-3).join(' ')}`);
  const bytes = new Uint8Array(r.stdout);
  built.set(request, bytes);
  return bytes;
}

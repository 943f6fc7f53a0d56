// Both cores for the wasm target's kernels: worker threads that instantiate the same WebAssembly module over
// the same shared memory and help with each large kernel call. One control block of Int32s in a
// SharedArrayBuffer and Atomics.wait/notify carry the work; no messages, no copies.
//
// A call is cut into chunks (rows of a product, examples of an image kernel, rows of a kernel gradient),
// and every thread, the caller included, takes the next chunk until none is left. A helper that the
// operating system has not scheduled (a busy machine, more threads than cores) takes none, and the caller
// does its share instead of waiting for it. Every chunk is computed by one thread with the same code, and
// where the chunks begin changes no bits (products cut at multiples of their 4-row tile, image kernels
// between examples, kernel gradients between kernel rows), so the results are the same bits for any number
// of threads and whichever thread takes a chunk.

import { Worker } from 'node:worker_threads';

/** Most helpers a pool has (so MAX_THREADS threads in all, with the main one). */
const MAX_HELPERS = 2;
export const MAX_THREADS = MAX_HELPERS + 1;
/** A chunk's kernel arguments: at most nine. */
const ARITY = 9;
/** At most this many chunks a call (the claim word keeps the count in 6 bits). */
const MAX_CHUNKS = 63;
/**
 * Control block: [0] the call's number (bumped to post a call), [1] its kernel's index (−1: stop), [2] the
 * claim word, [3] helpers inside a claim, then each chunk's arguments. The claim word packs the call's
 * number (its low 20 bits), the number of chunks and the next chunk to take, so that a helper still holding
 * an older call can never take a chunk of a newer one.
 */
const CALL = 0, KERNEL = 1, CLAIM = 2, ACTIVE = 3, ARGS = 4;
/** A helper that does not answer within this time has died: stop with an error rather than hang. */
const TIMEOUT_MS = 60_000;
/** Polls before a futex wait: ~1 ms for a helper waiting for work, ~0.1 ms for the main thread waiting for helpers. */
const SPIN_WORKER = 2_000_000, SPIN_MAIN = 200_000;

const claimWord = (call: number, chunks: number, next: number): number => ((call & 0xfffff) << 12) | (chunks << 6) | next;

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { bytes, memory, ctrl: sab, names } = workerData;
const ctrl = new Int32Array(sab);
const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
const kernels = names.map((n) => exports[n]);
let seen = 0;
serve: for (;;) {
  // Spin a while before sleeping: the next call usually follows within a millisecond, and waking a
  // sleeping thread can take longer than the call itself (measured on a 2-vCPU virtual machine).
  for (let i = 0; i < ${SPIN_WORKER} && Atomics.load(ctrl, ${CALL}) === seen; i++);
  Atomics.wait(ctrl, ${CALL}, seen);
  seen = Atomics.load(ctrl, ${CALL});
  Atomics.add(ctrl, ${ACTIVE}, 1);
  for (;;) {
    const c = Atomics.load(ctrl, ${CLAIM});
    if (c >>> 12 !== (seen & 0xfffff) || (c & 63) >= ((c >>> 6) & 63)) break; // a newer call, or no chunk left
    if (Atomics.compareExchange(ctrl, ${CLAIM}, c, c + 1) !== c) continue;
    const k = ctrl[${KERNEL}];
    if (k < 0) break serve;
    const a = ${ARGS} + ${ARITY} * (c & 63);
    kernels[k](ctrl[a], ctrl[a + 1], ctrl[a + 2], ctrl[a + 3], ctrl[a + 4], ctrl[a + 5], ctrl[a + 6], ctrl[a + 7], ctrl[a + 8]);
  }
  Atomics.sub(ctrl, ${ACTIVE}, 1);
  Atomics.notify(ctrl, ${ACTIVE});
}
`;

/** One chunk of a kernel call: the kernel's arguments for that part of the work. */
export type Chunk = readonly number[];

export class HelperPool {
  private readonly ctrl = new Int32Array(new SharedArrayBuffer((ARGS + ARITY * MAX_CHUNKS) * 4));
  private readonly workers: Worker[];
  private readonly index: Map<string, number>;
  private call = 0;
  constructor(bytes: Uint8Array, memory: object, names: readonly string[], readonly helpers: number) {
    if (helpers > MAX_HELPERS) throw new Error(`internal error: at most ${MAX_HELPERS} helper threads`);
    this.index = new Map(names.map((n, i) => [n, i]));
    this.workers = Array.from({ length: helpers }, () => {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { bytes, memory, ctrl: this.ctrl.buffer, names } });
      w.unref(); // a trainer that is done exits; the helpers do not hold it open
      return w;
    });
  }

  /**
   * Runs `fn` (kernel `kernel` of the module) over `chunks`, the helpers taking chunks too; returns when
   * every chunk is done.
   */
  run(kernel: string, fn: (...args: number[]) => void, chunks: readonly Chunk[]): void {
    this.post(this.index.get(kernel)!, chunks);
    const c = this.ctrl;
    try {
      for (;;) {
        const w = Atomics.load(c, CLAIM), next = w & 63;
        if (next >= chunks.length) break;
        if (Atomics.compareExchange(c, CLAIM, w, w + 1) === w) fn(...chunks[next]);
      }
    } finally {
      // Also when a chunk failed here: the next call must not rewrite the arguments a helper is reading.
      this.waitForHelpers();
    }
  }

  stop(): void {
    this.post(-1, [[]]);
    for (const w of this.workers) void w.terminate();
  }

  private post(kernel: number, chunks: readonly Chunk[]): void {
    if (chunks.length > MAX_CHUNKS) throw new Error(`internal error: at most ${MAX_CHUNKS} chunks a call`);
    const c = this.ctrl;
    c[KERNEL] = kernel;
    chunks.forEach((args, k) => { for (let i = 0; i < ARITY; i++) c[ARGS + ARITY * k + i] = args[i] ?? 0; });
    this.call = (this.call + 1) | 0;
    Atomics.store(c, CLAIM, claimWord(this.call, chunks.length, 0));
    Atomics.store(c, CALL, this.call);
    Atomics.notify(c, CALL);
  }

  /** Waits until no helper is inside a chunk (one that took a chunk of this call is). */
  private waitForHelpers(): void {
    const c = this.ctrl;
    for (let i = 0; i < SPIN_MAIN; i++) if (Atomics.load(c, ACTIVE) === 0) return;
    for (;;) {
      const active = Atomics.load(c, ACTIVE);
      if (active === 0) return;
      if (Atomics.wait(c, ACTIVE, active, TIMEOUT_MS) === 'timed-out') throw new Error('a worker thread of the wasm kernels stopped answering');
    }
  }
}

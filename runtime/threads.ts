// Both cores for the wasm target's products: worker threads that instantiate the same WebAssembly module over
// the same shared memory and take a share of each large product. One control block of Int32s in a
// SharedArrayBuffer and Atomics.wait/notify are the barrier; no messages, no copies.
//
// Every output element is computed by exactly one thread, in the same order as with one thread, so results
// are deterministic and the same for any thread count: X Wᵀ and G W split the rows of the batch, and
// Σ_b outer(u_b, v_b) splits the rows of its output.

import { Worker } from 'node:worker_threads';

/** Control block: [0] job generation, [1] kernel index (−1: stop), [2…] the jobs, [31] finished helpers. */
const GEN = 0, KERNEL = 1, ARGS = 2, DONE = 31;
/** Per helper: a kernel's arguments (at most nine, the first a count: 0 skips); helper h reads them at ARGS + 9·h (two helpers fit before DONE). */
const PER_HELPER = 9;
export const MAX_THREADS = 3;
/** A helper that does not answer within this time has died: stop with an error rather than hang. */
const TIMEOUT_MS = 60_000;
/** Polls before a futex wait: ~1 ms for a helper waiting for work, ~0.1 ms for the main thread waiting for helpers. */
const SPIN_WORKER = 2_000_000, SPIN_MAIN = 200_000;

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { bytes, memory, ctrl: sab, names, slot } = workerData;
const ctrl = new Int32Array(sab);
const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
const kernels = names.map((n) => exports[n]);
let seen = 0;
for (;;) {
  // Spin a while before sleeping: the next product usually follows within a millisecond, and waking a
  // sleeping thread can take longer than the product itself (measured on a 2-vCPU virtual machine).
  for (let i = 0; i < ${SPIN_WORKER} && Atomics.load(ctrl, ${GEN}) === seen; i++);
  Atomics.wait(ctrl, ${GEN}, seen);
  seen = Atomics.load(ctrl, ${GEN});
  const k = ctrl[${KERNEL}];
  if (k < 0) break;
  const a = ${ARGS} + ${PER_HELPER} * slot;
  if (ctrl[a] > 0) kernels[k](ctrl[a], ctrl[a + 1], ctrl[a + 2], ctrl[a + 3], ctrl[a + 4], ctrl[a + 5], ctrl[a + 6], ctrl[a + 7], ctrl[a + 8]);
  Atomics.add(ctrl, ${DONE}, 1);
  Atomics.notify(ctrl, ${DONE});
}
`;

/** A helper's share of a kernel call: the kernel's arguments, the first a count (a job whose count is 0 does nothing). */
export type Job = readonly number[];

export class HelperPool {
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(32 * 4));
  private readonly workers: Worker[];
  private readonly index: Map<string, number>;
  constructor(bytes: Uint8Array, memory: object, names: readonly string[], readonly helpers: number) {
    this.index = new Map(names.map((n, i) => [n, i]));
    this.workers = Array.from({ length: helpers }, (_, slot) => {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { bytes, memory, ctrl: this.ctrl.buffer, names, slot } });
      w.unref(); // a trainer that is done exits; the helpers do not hold it open
      return w;
    });
  }

  /** Starts `jobs[h]` on helper h (a job with count 0 does nothing); the caller then does its own share and calls join(). */
  start(kernel: string, jobs: readonly Job[]): void {
    const c = this.ctrl;
    c[KERNEL] = this.index.get(kernel)!;
    jobs.forEach((j, h) => { const a = ARGS + PER_HELPER * h; for (let i = 0; i < PER_HELPER; i++) c[a + i] = j[i] ?? 0; });
    Atomics.store(c, DONE, 0);
    Atomics.add(c, GEN, 1);
    Atomics.notify(c, GEN);
  }

  /** Waits until every helper has finished the job started last. */
  join(): void {
    const c = this.ctrl;
    for (let i = 0; i < SPIN_MAIN; i++) if (Atomics.load(c, DONE) >= this.helpers) return;
    for (;;) {
      const done = Atomics.load(c, DONE);
      if (done >= this.helpers) return;
      if (Atomics.wait(c, DONE, done, TIMEOUT_MS) === 'timed-out') throw new Error('a worker thread of the wasm kernels stopped answering');
    }
  }

  stop(): void {
    this.ctrl[KERNEL] = -1;
    Atomics.add(this.ctrl, GEN, 1);
    Atomics.notify(this.ctrl, GEN);
    for (const w of this.workers) void w.terminate();
  }
}

// The WebAssembly builder as a worker thread of plain node (started with no loader: binaryen's 100 MB of
// JavaScript through tsx takes seconds), alive for the whole process: binaryen loads once however many
// modules a process builds. compiler/codegen/wasm/gemm.ts sends a request with a shared flag and waits on it;
// the answer (the module's bytes, or the error) comes back on the same port.

import { workerData } from 'node:worker_threads';

const { port } = workerData;
// Loaded here rather than imported, so that a builder that cannot load answers every request with why.
let buildRequest, failure;
try {
  ({ buildRequest } = await import('./gemm-builder.mjs'));
} catch (e) {
  failure = e;
}
port.on('message', ({ flag, input }) => {
  let reply;
  try {
    if (failure) throw failure;
    reply = { bytes: buildRequest(input) };
  } catch (e) {
    reply = { error: e instanceof Error ? e.stack ?? e.message : String(e) };
  }
  port.postMessage(reply);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});

// The WebAssembly builder as a worker thread of plain node (started with no loader: binaryen's 100 MB of
// JavaScript through tsx takes seconds), alive for the whole process: binaryen loads once however many
// modules a process builds. compiler/codegen/wasm/gemm.ts calls it synchronously (compiler/source/sync-call.ts):
// the answer, the module's bytes or the error, goes back on the request's reply port, then its flag is set.

import { parentPort } from 'node:worker_threads';

// Loaded here rather than imported, so that a builder that cannot load answers every request with why.
let buildRequest, failure;
try {
  ({ buildRequest } = await import('./gemm-builder.mjs'));
} catch (e) {
  failure = e;
}
parentPort.on('message', ({ input, done, reply: port }) => {
  let reply;
  try {
    if (failure) throw failure;
    reply = { bytes: buildRequest(input) };
  } catch (e) {
    reply = { error: e instanceof Error ? e.stack ?? e.message : String(e) };
  }
  port.postMessage(reply);
  Atomics.store(done, 0, 1);
  Atomics.notify(done, 0);
});

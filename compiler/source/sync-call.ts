// A synchronous call into a worker thread: the caller blocks (Atomics.wait) until the worker has answered, so
// that a synchronous API can be served by a thread that keeps what it loaded (binaryen for the wasm builds,
// gradc's main for the tests' in-process command line). The protocol, which the workers implement:
// the message carries `done` (an Int32Array over shared memory) and `reply` (a MessagePort); the worker
// posts its answer on `reply`, then sets done[0] = 1 and notifies it.

import { MessageChannel, receiveMessageOnPort, type MessagePort, type Worker } from 'node:worker_threads';

/** What a worker receives: the caller's message with the reply port and the flag added. */
export type SyncRequest<M> = M & { readonly done: Int32Array; readonly reply: MessagePort };

/** Posts `message` to the worker and waits for its answer: undefined if none came within `timeoutMs`. */
export function callSync<R>(worker: Worker, message: object, timeoutMs: number): R | undefined {
  const done = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  worker.postMessage({ ...message, done, reply: port2 }, [port2]);
  const waited = Atomics.wait(done, 0, 0, timeoutMs);
  const answer = receiveMessageOnPort(port1)?.message as R | undefined;
  port1.close();
  return waited === 'timed-out' ? undefined : answer;
}

// The command line inside the test process: a worker thread that imports gradc's main once (bin/load-main.js,
// the same choice bin/gradc.js makes) and runs one argument list per message, its stdout and stderr captured.
// A spawned `node bin/gradc.js` spends 0.2–0.6 s loading modules (ts-morph alone 0.5 s) before any work,
// and the suite runs the command line about 300 times; here each module loads once per test file.
// test/helpers.ts runCli waits for the answer synchronously (compiler/source/sync-call.ts), so tests read as before.
// Plain JavaScript: a worker does not inherit the test process's TypeScript loader (load-main registers it).

import { parentPort } from 'node:worker_threads';

// Imported, not a static import: a worker that fails to load answers every request with why (status -1)
// instead of leaving the test waiting for its 120 s.
const main = import('../bin/load-main.js').then((m) => m.loadMain());

let current; // the request being run, answered once
const answer = (req, reply) => {
  if (current !== req) return;
  current = undefined;
  req.reply.postMessage(reply);
  Atomics.store(req.done, 0, 1);
  Atomics.notify(req.done, 0);
};
parentPort.on('message', (req) => {
  current = req;
  void run(req.args).then((reply) => answer(req, reply));
});
// An exception that escapes main would end the worker and leave the test waiting: it is the answer instead.
for (const event of ['uncaughtException', 'unhandledRejection']) {
  process.on(event, (e) => { if (current) answer(current, { status: -1, stdout: '', stderr: `${event}: ${e?.stack ?? String(e)}` }); });
}

/** { status, stdout, stderr } of one run; a failure to load or an escaped exception is status -1 with its stack. */
async function run(args) {
  let stdout = '', stderr = '';
  const [out, err] = [process.stdout.write, process.stderr.write];
  // console.log and every direct write go through these (a worker's own streams would reach the parent late).
  const capture = (add) => (chunk) => { add(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString()); return true; };
  process.stdout.write = capture((s) => { stdout += s; });
  process.stderr.write = capture((s) => { stderr += s; });
  try {
    return { status: await (await main)([...args]), stdout, stderr };
  } catch (e) {
    return { status: -1, stdout, stderr: `${stderr}${e?.stack ?? String(e)}` };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

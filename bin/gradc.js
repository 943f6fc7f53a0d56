#!/usr/bin/env node
// Entry point: gradc's main (bin/load-main.js picks the built JavaScript or the sources) with this
// process's arguments; its result is the exit status.
import { loadMain } from './load-main.js';

// `gradc grad M.nn | head` closes the pipe early: that is the reader's choice, not an error to print.
for (const stream of [process.stdout, process.stderr]) stream.on('error', (e) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); throw e; });
const main = await loadMain();
process.exitCode = await main(process.argv.slice(2));

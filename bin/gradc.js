#!/usr/bin/env node
// Entry point: TypeScript sources run through tsx's loader, so `npx gradc` works right after `npm ci`.
import { register } from 'tsx/esm/api';

register();
// `gradc grad M.nn | head` closes the pipe early: that is the reader's choice, not an error to print.
for (const stream of [process.stdout, process.stderr]) stream.on('error', (e) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); throw e; });
const { main } = await import('../compiler/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));

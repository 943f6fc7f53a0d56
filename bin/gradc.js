#!/usr/bin/env node
// Entry point: TypeScript sources run through tsx's loader, so `npx gradc` works right after `npm ci`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../compiler/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));

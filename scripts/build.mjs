#!/usr/bin/env node
// Builds gradc's JavaScript into dist/ (run by `npm ci` and `npm install` through the `prepare` script):
// the TypeScript sources compiled once, and the runtime that trainers inline bundled once, so that a command
// starts in a fraction of a second instead of compiling TypeScript at every start.
// Plain JavaScript on purpose: it runs before anything is built.

import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (tsc.status !== 0) { console.error('gradc build: tsc failed'); process.exit(1); }
const { bundleRuntime, PREBUILT_RUNTIME } = await import(join(dist, 'compiler', 'codegen', 'bundle.js'));
mkdirSync(dirname(PREBUILT_RUNTIME), { recursive: true });
writeFileSync(PREBUILT_RUNTIME, JSON.stringify(bundleRuntime()));
// The playground (gradc in a web page), bundled once, so that `gradc playground -o DIR` copies it.
const { buildPlayground, PREBUILT_PLAYGROUND } = await import(join(dist, 'compiler', 'playground', 'build.js'));
await buildPlayground(PREBUILT_PLAYGROUND);
// Written last: bin/gradc.js runs dist/ only when this stamp is newer than every source file.
writeFileSync(join(dist, 'BUILT'), `${new Date().toISOString()}\n`);

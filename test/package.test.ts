// gradc outside its repository: `npm pack` makes a tarball, and that tarball unpacked into another folder
// (as `npm install gradc-0.1.0.tgz` lays it out, its dependencies beside it) checks, derives and compiles a
// model there. The tarball is packed as is (--ignore-scripts): npm ci has built dist/ already, and a
// package without dist/ still works, through tsx.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from './helpers.js';

test('npm pack, installed into another folder: gradc check, grad and compile work there', () => {
  const dir = tempDir('gradc-pack-');
  const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(pack.status, 0, pack.stderr);
  const info = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
  const files = info[0].files.map((f) => f.path);
  for (const f of ['bin/gradc.js', 'compiler/cli/main.ts', 'runtime/train.ts', 'compiler/codegen/wasm/gemm-builder.mjs', 'docs/cli.md', 'examples/mlp.nn']) assert.ok(files.includes(f), `the package lacks ${f}`);
  assert.ok(!files.some((f) => f.startsWith('test/') || f.startsWith('node_modules/')), 'tests and dependencies stay out of the package');

  // node_modules/gradc is the unpacked tarball; its dependencies sit beside it, as npm installs them.
  const project = join(dir, 'course');
  const modules = join(project, 'node_modules');
  mkdirSync(modules, { recursive: true });
  const untar = spawnSync('tar', ['xzf', join(dir, info[0].filename), '-C', modules], { encoding: 'utf8' });
  assert.equal(untar.status, 0, untar.stderr);
  const pkg = join(modules, 'gradc');
  spawnSync('mv', [join(modules, 'package'), pkg]);
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (name === '.bin' || name === '.package-lock.json' || existsSync(join(modules, name))) continue;
    symlinkSync(join(ROOT, 'node_modules', name), join(modules, name));
  }
  writeFileSync(join(project, 'model.nn'), 'dim d = 3\ninput x: [d]\ninput y: scalar\nparam w: [d] = 0\noutput p = sigmoid(w\' * x)\nloss L = -log(sigmoid(y * (w\' * x)))\n');
  const gradc = (args: string[]) => spawnSync(process.execPath, [join(pkg, 'bin', 'gradc.js'), ...args], { cwd: project, encoding: 'utf8' });
  const check = gradc(['check', 'model.nn']);
  assert.equal(check.status, 0, check.stderr);
  assert.match(check.stdout, /model model \(model\.nn\): OK/);
  const grad = gradc(['grad', 'model.nn', '--inline']);
  assert.equal(grad.status, 0, grad.stderr);
  assert.match(grad.stdout, /^dL\/dw = /);
  const compile = gradc(['compile', 'model.nn', '-o', 'out', '--target', 'ts']);
  assert.equal(compile.status, 0, compile.stderr);
  const selftest = spawnSync(process.execPath, ['trainer.mjs', '--selftest'], { cwd: join(project, 'out'), encoding: 'utf8' });
  assert.equal(selftest.status, 0, selftest.stderr);
  assert.equal(gradc(['--version']).stdout.trim(), `gradc ${JSON.parse(spawnSync('node', ['-p', 'JSON.stringify(require("./package.json"))'], { cwd: ROOT, encoding: 'utf8' }).stdout).version}`);
});

// Putting a trainer together: the runtime's own TypeScript, inlined (the standalone trainer must run with
// plain node and nothing installed), then the model's generated code, then the call to the trainer's main.
// The runtime files are read as ASTs (ts-morph): imports between them are dropped, `export`s removed, and
// their node: imports merged.

import type * as TsMorph from 'ts-morph';
import type * as Esbuild from 'esbuild';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../source/package-root.js';

const RUNTIME_DIR = join(PACKAGE_ROOT, 'runtime');
/** In dependency order: a class must be declared before a class that extends it. */
const RUNTIME_FILES = ['mathfns', 'kernels', 'conv', 'rng', 'data', 'init', 'optim', 'model', 'threads', 'wasm', 'gpu', 'checkpoint', 'gradcheck', 'safety', 'linalg', 'second-order', 'train', 'cli'];
/** Written at build time (scripts/build.mjs), so that `gradc compile` does not parse the runtime every time. */
export const PREBUILT_RUNTIME = join(PACKAGE_ROOT, 'dist', 'runtime-bundle.json');

/** The runtime as TypeScript (imports, body) for trainer.ts, and as JavaScript (`js`, with its imports) for trainer.mjs. */
type Runtime = { imports: string; body: string; js: string };
let cached: Runtime | undefined;

export function inlinedRuntime(): Runtime {
  if (cached) return cached;
  // The prebuilt bundle, unless a runtime file changed after it was made (working on gradc itself).
  if (existsSync(PREBUILT_RUNTIME)) {
    const built = statSync(PREBUILT_RUNTIME).mtimeMs;
    if (RUNTIME_FILES.every((f) => statSync(join(RUNTIME_DIR, `${f}.ts`)).mtimeMs <= built)) {
      cached = JSON.parse(readFileSync(PREBUILT_RUNTIME, 'utf8')) as Runtime;
      return cached;
    }
  }
  cached = bundleRuntime();
  return cached;
}

/** The runtime's files as one block of TypeScript: imports between them dropped, node: imports merged. */
export function bundleRuntime(): Runtime {
  const { Project, Node: TsNode } = createRequire(import.meta.url)('ts-morph') as typeof TsMorph;
  const project = new Project({ useInMemoryFileSystem: false, skipAddingFilesFromTsConfig: true });
  const nodeImports = new Map<string, { names: Set<string>; typeNames: Set<string> }>();
  const bodies: string[] = [];
  for (const name of RUNTIME_FILES) {
    const sf = project.addSourceFileAtPath(join(RUNTIME_DIR, `${name}.ts`));
    for (const imp of sf.getImportDeclarations()) {
      const from = imp.getModuleSpecifierValue();
      if (from.startsWith('node:')) {
        const entry = nodeImports.get(from) ?? { names: new Set(), typeNames: new Set() };
        for (const n of imp.getNamedImports()) (imp.isTypeOnly() || n.isTypeOnly() ? entry.typeNames : entry.names).add(n.getName());
        nodeImports.set(from, entry);
      }
      imp.remove();
    }
    for (const st of sf.getStatements()) {
      if (TsNode.isExportable(st) && st.isExported()) st.setIsExported(false);
      if (TsNode.isExportDeclaration(st)) st.remove();
    }
    bodies.push(`// ---- runtime/${name}.ts ----\n${sf.getFullText().trim()}`);
  }
  const imports = [...nodeImports].map(([from, { names, typeNames }]) => {
    const parts = [...names, ...[...typeNames].filter((t) => !names.has(t)).map((t) => `type ${t}`)];
    return `import { ${parts.join(', ')} } from '${from}';`;
  }).join('\n');
  const body = bodies.join('\n\n');
  return { imports, body, js: transpileToEsModule(`${imports}\n\n${body}`) };
}

/**
 * The runnable trainer: an ES module (trainer.mjs), so it runs the same inside a `"type": "module"` package or
 * alone. A syntax error in generated code is a gradc bug: it is reported here, never written to disk.
 */
export function transpileToEsModule(source: string): string {
  // esbuild erases the types of a 64-layer model in ~0.1 s where TypeScript's transpiler takes ~0.5 s.
  const esbuild = createRequire(import.meta.url)('esbuild') as typeof Esbuild;
  try {
    return esbuild.transformSync(source, { loader: 'ts', format: 'esm', target: 'es2022' }).code;
  } catch (e) {
    throw new Error(`the generated trainer does not parse: ${(e as Error).message.split('\n').slice(0, 3).join(' ')}`);
  }
}

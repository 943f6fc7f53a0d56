// Putting a trainer together: the runtime's own TypeScript, inlined (the standalone trainer must run with
// plain node and nothing installed), then the model's generated code, then the call to the trainer's main.
// The runtime files are read as ASTs (ts-morph): imports between them are dropped, `export`s removed, and
// their node: imports merged.

import { Project, Node as TsNode } from 'ts-morph';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ts } from './ts/ast.js';

const RUNTIME_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'runtime');
/** In dependency order: a class must be declared before a class that extends it. */
const RUNTIME_FILES = ['mathfns', 'kernels', 'rng', 'data', 'init', 'optim', 'model', 'threads', 'wasm', 'gpu', 'checkpoint', 'gradcheck', 'safety', 'train', 'cli'];

let cached: { imports: string; body: string } | undefined;

export function inlinedRuntime(): { imports: string; body: string } {
  if (cached) return cached;
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
  cached = { imports, body: bodies.join('\n\n') };
  return cached;
}

/**
 * The runnable trainer: an ES module (trainer.mjs), so it runs the same inside a `"type": "module"` package or
 * alone. A syntax error in generated code is a gradc bug: it is reported here, never written to disk.
 */
export function transpileToEsModule(source: string): string {
  const out = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 }, reportDiagnostics: true,
  });
  const bad = out.diagnostics?.find((d) => d.category === ts.DiagnosticCategory.Error);
  if (bad) throw new Error(`the generated trainer does not parse: ${ts.flattenDiagnosticMessageText(bad.messageText, ' ')}`);
  return out.outputText;
}

export function transpileToCommonJs(source: string): string {
  return ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  }).outputText;
}

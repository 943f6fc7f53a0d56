// Lists the functions in compiler/ and runtime/ (TypeScript and the .mjs builders) longer than a limit (default 80 lines), longest first:
//   npx tsx scripts/long-functions.ts [LIMIT]
// docs/architecture.md says which long ones stay long, and why.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ts } from 'ts-morph';

const limit = Number(process.argv[2] ?? 80);
const root = join(import.meta.dirname, '..');
const found: { where: string; name: string; lines: number }[] = [];
for (const dir of ['compiler', 'runtime']) {
  for (const f of readdirSync(join(root, dir), { recursive: true }) as string[]) {
    if (!/\.(ts|mjs)$/.test(f)) continue; // the .mjs: the wasm builders, run by plain node
    const path = join(dir, f);
    const sf = ts.createSourceFile(path, readFileSync(join(root, path), 'utf8'), ts.ScriptTarget.ES2022, true);
    const visit = (n: ts.Node): void => {
      if (ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n) || ts.isArrowFunction(n) || ts.isFunctionExpression(n)) {
        const start = sf.getLineAndCharacterOfPosition(n.getStart()).line, end = sf.getLineAndCharacterOfPosition(n.getEnd()).line;
        const lines = end - start + 1;
        const name = (ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n)) && n.name ? n.name.getText() : ts.isVariableDeclaration(n.parent) ? n.parent.name.getText() : '(anonymous)';
        if (lines > limit) found.push({ where: `${path}:${start + 1}`, name, lines });
      }
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }
}
for (const f of found.sort((a, b) => b.lines - a.lines)) console.log(`${String(f.lines).padStart(4)}  ${f.name}  ${f.where}`);
if (!found.length) console.log(`no function over ${limit} lines`);

/**
 * The layering rule: a folder of `src/` imports only from folders below it in the README's layout
 * diagram (and from itself). The diagram is the rule's one source, so the README and the code cannot
 * drift apart: a new folder must be placed in the diagram before its imports pass.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = join(ROOT, 'src');

/** The layers of `src/`, top first, as the README's layout diagram lists them (`  name/` or `  name.ts`). */
function layersFromReadme(readme: string): string[] {
  const block = /```\n(src\/\n[\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('README.md has no layout diagram (a fenced block starting with "src/")');
  const layers: string[] = [];
  for (const line of block.split('\n').slice(1)) {
    const entry = /^ {2}([a-z][\w-]*\/|[a-z][\w-]*\.ts)(?:\s|$)/.exec(line)?.[1];
    if (entry) layers.push(entry.replace(/\/$/, ''));
  }
  return layers;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The layer a file of `src/` belongs to: its top folder, or for a file at the root the module it is (or tests). */
function layerOf(file: string): string {
  return relative(SRC, file)
    .split(sep)[0]!
    .replace(/\.test\.ts$/, '.ts');
}

/** Relative specifiers a file imports, statically or dynamically, with `import` or `export ... from`. */
function importsOf(text: string): string[] {
  const specifiers = [...text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)];
  return specifiers.map((match) => match[1]!);
}

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const LAYERS = layersFromReadme(README);

describe('the layout diagram of the README', () => {
  it('names every folder and root file of src/ once, and nothing that does not exist', () => {
    const actual = readdirSync(SRC, { withFileTypes: true })
      .filter(
        (entry) => entry.isDirectory() || (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')),
      )
      .map((entry) => entry.name);
    expect([...LAYERS].sort()).toEqual([...actual].sort());
    expect(new Set(LAYERS).size).toBe(LAYERS.length);
  });
});

describe('dependencies point down', () => {
  it('every import in src/ goes to the same folder or one below it in the diagram', () => {
    const rank = new Map(LAYERS.map((layer, index) => [layer, index]));
    const violations: string[] = [];
    for (const file of sourceFiles(SRC)) {
      const from = layerOf(file);
      for (const specifier of importsOf(readFileSync(file, 'utf8'))) {
        const target = resolve(dirname(file), specifier);
        if (!target.startsWith(SRC + sep)) continue; // test support and fixtures outside src/
        const to = layerOf(target.replace(/\.js$/, '.ts'));
        if (to === from) continue;
        if ((rank.get(to) ?? -1) <= (rank.get(from) ?? Number.POSITIVE_INFINITY)) {
          violations.push(
            `${relative(ROOT, file)} imports ${specifier}: ${from} may import only from the layers below it (${LAYERS.slice((rank.get(from) ?? 0) + 1).join(', ')})`,
          );
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it('the check sees a violation (a data file importing ml)', () => {
    const rank = new Map(LAYERS.map((layer, index) => [layer, index]));
    expect(rank.get('data')!).toBeGreaterThan(rank.get('ml')!);
    expect(importsOf("import { x } from '../ml/a.js';\nconst m = await import('../ml/b.js');")).toEqual([
      '../ml/a.js',
      '../ml/b.js',
    ]);
  });
});

describe('configuration', () => {
  it('is read from the environment only by src/config.ts', () => {
    const readers = sourceFiles(SRC)
      .filter((file) => !file.endsWith('.test.ts') && relative(SRC, file) !== 'config.ts')
      .filter((file) => /\bprocess\.env\b/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(ROOT, file));
    expect(readers).toEqual([]);
  });
});

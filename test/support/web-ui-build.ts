import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SOURCES = [join(ROOT, 'web'), join(ROOT, 'package-lock.json')];
const BUILT = join(ROOT, 'dist/web/index.html');

function newestChange(path: string): number {
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestChange(join(path, entry)));
  return newest;
}

/**
 * Builds the web UI (`npm run build:web`, about a second) when `dist/web` is missing or older than its
 * sources, once before the tests start, so that the tests that serve it (the pages in Chromium, the UI's
 * end-to-end tests) never see a stale or half-written build.
 */
export function buildWebUiIfStale(): void {
  const built = (() => {
    try {
      return statSync(BUILT).mtimeMs;
    } catch {
      return 0;
    }
  })();
  if (built >= Math.max(...SOURCES.map(newestChange))) return;
  buildWebUi();
}

/** Builds the web UI into `dist/web` as `npm install` does (`vite build`). */
export function buildWebUi(): void {
  execFileSync(
    process.execPath,
    [
      join(ROOT, 'node_modules/vite/bin/vite.js'),
      'build',
      '--config',
      'web/vite.config.ts',
      '--logLevel',
      'warn',
    ],
    { cwd: ROOT, stdio: 'inherit' },
  );
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { type OnsetStores, openOnsetStores } from '../../src/server/open-stores.js';

/**
 * Opens the default stores (SQLite and a local artifact folder) in a fresh ONSET_HOME before the tests of
 * the calling file or suite, and closes and deletes them after. Read `stores` inside tests.
 */
export function useTemporaryStores(prefix: string): { readonly home: string; readonly stores: OnsetStores } {
  const home = mkdtempSync(join(tmpdir(), `onset-${prefix}-`));
  let opened: OnsetStores | undefined;
  beforeAll(async () => {
    opened = await openOnsetStores(resolveConfig({ home }));
  });
  afterAll(async () => {
    await opened?.close();
    rmSync(home, { recursive: true, force: true });
  });
  return {
    home,
    get stores(): OnsetStores {
      if (!opened) throw new Error('the temporary stores are open only inside tests');
      return opened;
    },
  };
}

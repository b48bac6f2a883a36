import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { STRACE_PROBLEM, traceFileCalls } from '../../../test/support/strace.js';

const dir = mkdtempSync(join(tmpdir(), 'onset-local-artifacts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(STRACE_PROBLEM !== '')('LocalArtifactStore durability (traced with strace)', () => {
  it.each([
    ['bytes', "'{}'"],
    ['a stream', "Readable.from([Buffer.from('{'), Buffer.from('}')])"],
  ])(
    'syncs content and sidecar (written from %s) before renaming them, and every new directory entry after',
    (label, content) => {
      const root = join(dir, label.replace(' ', '-'));
      const calls = traceFileCalls(
        `import { Readable } from 'node:stream';
       import { LocalArtifactStore } from './src/tracking/artifacts/local-artifact-store.ts';
       await new LocalArtifactStore(${JSON.stringify(root)}).put('1/run/artifacts/model/model.json', ${content});`,
      );
      const folder = join(root, '1', 'run', 'artifacts', 'model');
      const file = join(folder, 'model.json');
      const synced = (path: string) => calls.findIndex((c) => c.call !== 'rename' && c.paths[0] === path);
      const renamed = (to: string) => calls.findIndex((c) => c.call === 'rename' && c.paths[1] === to);
      for (const target of [file, `${file}.onset-sha256`]) {
        const at = renamed(target);
        expect(at).toBeGreaterThanOrEqual(0);
        const contentSynced = synced(calls[at]!.paths[0]!);
        expect(contentSynced).toBeGreaterThanOrEqual(0);
        expect(contentSynced).toBeLessThan(at);
      }
      const lastRename = Math.max(renamed(file), renamed(`${file}.onset-sha256`));
      expect(calls.findIndex((c, i) => i > lastRename && c.paths[0] === folder)).toBeGreaterThan(lastRename);
      // The directories the write created are entries of their parents: each parent is synced.
      for (const parent of [
        root,
        join(root, '1'),
        join(root, '1', 'run'),
        join(root, '1', 'run', 'artifacts'),
      ]) {
        expect(synced(parent), parent).toBeGreaterThanOrEqual(0);
      }
    },
  );
});

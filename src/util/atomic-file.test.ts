import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { STRACE_PROBLEM, traceFileCalls } from '../../test/support/strace.js';
import { AtomicTextWriter, makeDirectoryDurably, writeFileAtomic } from './atomic-file.js';

const dir = mkdtempSync(join(tmpdir(), 'onset-atomic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('atomic file writes', () => {
  it('replace a file whole and leave no temporary file', async () => {
    const path = join(dir, 'a', 'b', 'out.txt');
    await writeFileAtomic(path, 'first');
    await writeFileAtomic(path, 'second');
    expect(readFileSync(path, 'utf8')).toBe('second');
    expect(readdirSync(join(dir, 'a', 'b'))).toEqual(['out.txt']);
  });

  it('leave the old file untouched when aborted', async () => {
    const path = join(dir, 'kept.txt');
    writeFileSync(path, 'good');
    const writer = new AtomicTextWriter(path);
    await writer.write('half of a new ');
    await writer.abort();
    expect(readFileSync(path, 'utf8')).toBe('good');
    expect(readdirSync(dir).filter((name) => name.startsWith('kept'))).toEqual(['kept.txt']);
  });

  it('create nested directories', async () => {
    const nested = join(dir, 'x', 'y', 'z');
    await makeDirectoryDurably(nested);
    await makeDirectoryDurably(nested);
    expect(existsSync(nested)).toBe(true);
  });
});

describe.skipIf(STRACE_PROBLEM !== '')('what reaches the disk (traced with strace)', () => {
  it('syncs the content before the rename and the directory after it', () => {
    const target = join(dir, 'traced', 'model.json');
    const calls = traceFileCalls(
      `import { writeFileAtomic } from './src/util/atomic-file.ts';
       await writeFileAtomic(${JSON.stringify(target)}, 'content');`,
    );
    const renameAt = calls.findIndex((c) => c.call === 'rename' && c.paths[1] === target);
    expect(renameAt).toBeGreaterThan(0);
    const temporary = calls[renameAt]!.paths[0]!;
    const contentSynced = calls.findIndex((c) => c.call !== 'rename' && c.paths[0] === temporary);
    const directorySynced = calls.findIndex(
      (c, i) => i > renameAt && c.call !== 'rename' && c.paths[0] === join(dir, 'traced'),
    );
    expect(contentSynced).toBeGreaterThanOrEqual(0);
    expect(contentSynced).toBeLessThan(renameAt);
    expect(directorySynced).toBeGreaterThan(renameAt);
  });
});

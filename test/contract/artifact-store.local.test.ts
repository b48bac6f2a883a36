import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ArtifactEntry } from '../../src/tracking/artifacts/artifact-store.js';
import { LocalArtifactStore } from '../../src/tracking/artifacts/local-artifact-store.js';
import { describeArtifactStoreContract } from './artifact-store.contract.js';

function names(entries: readonly ArtifactEntry[]): string[] {
  return entries.map((entry) => `${entry.path}${entry.isDir ? '/' : ''}`);
}

function writeBehindTheBack(root: string, path: string, content: Buffer): void {
  const file = join(root, ...path.split('/'));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
}

describeArtifactStoreContract('local', async () => {
  const root = mkdtempSync(join(tmpdir(), 'onset-artifacts-'));
  return {
    store: new LocalArtifactStore(join(root, 'store')),
    tamper: async (path, content) => writeBehindTheBack(join(root, 'store'), path, content),
    writeUnchecked: async (path, content) => writeBehindTheBack(join(root, 'store'), path, content),
    close: async () => rmSync(root, { recursive: true, force: true }),
  };
});

describe('LocalArtifactStore specifics', () => {
  let base: string;
  let root: string;
  let store: LocalArtifactStore;

  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'onset-local-'));
    root = join(base, 'root');
    store = new LocalArtifactStore(root);
  });

  afterEach(() => {
    rmSync(base, { recursive: true, force: true });
  });

  it('has a file:/// root URI and creates the root on the first write', async () => {
    expect(store.rootUri).toBe(pathToFileURL(root).href);
    expect(store.rootUri.startsWith('file:///')).toBe(true);
    expect(existsSync(root)).toBe(false);
    expect(await store.list('')).toEqual([]);
    await store.put('a.txt', 'a');
    expect(existsSync(join(root, 'a.txt'))).toBe(true);
  });

  it('keeps a sha256sum-format sidecar beside each file, hidden from listings', async () => {
    const stored = await store.put('m/model.json', '{}');
    expect(readFileSync(join(root, 'm', 'model.json.onset-sha256'), 'utf8')).toBe(
      `${stored.sha256}  model.json\n`,
    );
    expect(await store.list('m')).toEqual([{ path: 'model.json', isDir: false, size: 2 }]);
    await store.delete('m/model.json');
    expect(existsSync(join(root, 'm'))).toBe(false);
  });

  it('leaves no temporary files behind', async () => {
    await store.put('t/x.bin', Buffer.alloc(1000, 1));
    await store.put('t/x.bin', Buffer.alloc(10, 2));
    expect(readdirSync(join(root, 't')).sort()).toEqual(['x.bin', 'x.bin.onset-sha256']);
  });

  it('leaves no temporary files when a streamed put is refused over maxBytes or its stream fails', async () => {
    await store.put('t/x.bin', 'kept');
    const over = Readable.from([Buffer.alloc(600), Buffer.alloc(600)]);
    await expect(store.put('t/x.bin', over, { maxBytes: 1000 })).rejects.toMatchObject({
      code: 'REQUEST_LIMIT_EXCEEDED',
    });
    const failing = Readable.from(
      (async function* () {
        yield Buffer.alloc(100);
        throw new Error('aborted');
      })(),
    );
    await expect(store.put('t/y.bin', failing)).rejects.toThrow('aborted');
    expect(readdirSync(join(root, 't')).sort()).toEqual(['x.bin', 'x.bin.onset-sha256']);
  });

  it('keeps the previous artifact and no temporary files when the disk refuses a write midway (EFBIG, as ENOSPC)', () => {
    // A child process under a file size limit (ulimit -f, a few MiB) stands in for a full disk: its write
    // of a 64 MiB stream fails midway with EFBIG (Node ignores SIGXFSZ).
    const script = join(base, 'disk-full.mjs');
    writeFileSync(
      script,
      `import { readdirSync } from 'node:fs';
import { Readable } from 'node:stream';
const { LocalArtifactStore } = await import(process.env.STORE_MODULE);
const store = new LocalArtifactStore(process.env.ROOT_DIR);
await store.put('d/a.bin', 'kept');
const chunk = Buffer.alloc(1 << 20, 1);
let sent = 0;
const source = new Readable({ read() { this.push(sent++ < 64 ? chunk : null); } });
const error = await store.put('d/a.bin', source).catch((e) => e);
const kept = (await store.get('d/a.bin')).toString();
console.log(JSON.stringify({ code: error?.code, kept, files: readdirSync(process.env.ROOT_DIR + '/d').sort() }));
`,
    );
    const child = spawnSync(
      'sh',
      ['-c', `ulimit -f 8192 && exec "${process.execPath}" --import tsx "${script}"`],
      {
        cwd: fileURLToPath(new URL('../..', import.meta.url)),
        env: {
          ...process.env,
          STORE_MODULE: fileURLToPath(
            new URL('../../src/tracking/artifacts/local-artifact-store.ts', import.meta.url),
          ),
          ROOT_DIR: root,
        },
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual({
      code: 'EFBIG',
      kept: 'kept',
      files: ['a.bin', 'a.bin.onset-sha256'],
    });
  });

  it('refuses a large file changed in place before streaming it, and one changed while it streams as it ends', async () => {
    const size = 3 * 1024 * 1024;
    await store.put('big.bin', Buffer.alloc(size, 1));
    writeFileSync(join(root, 'big.bin'), Buffer.alloc(size, 2));
    await expect(store.stream('big.bin')).rejects.toMatchObject({ code: 'INTERNAL_ERROR' });
    await store.put('big.bin', Buffer.alloc(size, 1));
    const stream = await store.stream('big.bin');
    // Same file (inode), new bytes: only the end-of-stream check can see this one.
    writeFileSync(join(root, 'big.bin'), Buffer.alloc(size, 3));
    const read = async () => {
      for await (const _chunk of stream) {
        // drain
      }
    };
    await expect(read()).rejects.toMatchObject({
      code: 'INTERNAL_ERROR',
      message: expect.stringContaining('artifact big.bin changed since it was written'),
    });
  });

  it('refuses paths using the reserved sidecar and temporary suffixes', async () => {
    await store.put('f.txt', 'f');
    for (const path of ['f.txt.onset-sha256', 'a.onset-tmp', 'dir.onset-sha256/x']) {
      await expect(store.put(path, 'x')).rejects.toMatchObject({ code: 'INVALID_PARAMETER_VALUE' });
      await expect(store.get(path)).rejects.toMatchObject({ code: 'INVALID_PARAMETER_VALUE' });
    }
    expect((await store.get('f.txt')).toString()).toBe('f');
  });

  it('refuses to write under a file or over a directory', async () => {
    await store.put('file', 'x');
    await expect(store.put('file/child', 'y')).rejects.toMatchObject({ code: 'INVALID_PARAMETER_VALUE' });
    await store.put('dir/child', 'y');
    await expect(store.put('dir', 'z')).rejects.toMatchObject({ code: 'INVALID_PARAMETER_VALUE' });
  });

  describe('symbolic links', () => {
    let outside: string;

    beforeEach(async () => {
      outside = mkdtempSync(join(tmpdir(), 'onset-outside-'));
      writeFileSync(join(outside, 'secret.txt'), 'secret');
      writeFileSync(join(outside, 'secret.txt.onset-sha256'), `${'0'.repeat(64)}  secret.txt\n`);
      await store.put('inside/real.txt', 'real');
    });

    afterEach(() => {
      rmSync(outside, { recursive: true, force: true });
    });

    it('refuses every method through a directory link that leaves the root (e.g. to /tmp)', async () => {
      symlinkSync(outside, join(root, 'escape'));
      const refused = { code: 'INVALID_PARAMETER_VALUE' };
      await expect(store.get('escape/secret.txt')).rejects.toMatchObject(refused);
      await expect(store.stream('escape/secret.txt')).rejects.toMatchObject(refused);
      await expect(store.stat('escape/secret.txt')).rejects.toMatchObject(refused);
      await expect(store.put('escape/new.txt', 'x')).rejects.toMatchObject(refused);
      await expect(store.list('escape')).rejects.toMatchObject(refused);
      await expect(store.exists('escape/secret.txt')).rejects.toMatchObject(refused);
      await expect(store.delete('escape')).rejects.toMatchObject(refused);
      await expect(store.delete('escape/secret.txt')).rejects.toMatchObject(refused);
      expect(existsSync(join(outside, 'new.txt'))).toBe(false);
      expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('secret');
    });

    it('refuses a file link that leaves the root, and a dangling link', async () => {
      symlinkSync(join(outside, 'secret.txt'), join(root, 'inside', 'link.txt'));
      await expect(store.get('inside/link.txt')).rejects.toMatchObject({ code: 'INVALID_PARAMETER_VALUE' });
      await expect(store.put('inside/link.txt', 'x')).rejects.toMatchObject({
        code: 'INVALID_PARAMETER_VALUE',
      });
      symlinkSync(join(outside, 'not-yet.txt'), join(root, 'inside', 'dangling.txt'));
      await expect(store.put('inside/dangling.txt', 'x')).rejects.toMatchObject({
        code: 'INVALID_PARAMETER_VALUE',
      });
      expect(existsSync(join(outside, 'not-yet.txt'))).toBe(false);
      expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('secret');
    });

    it('follows links that stay inside the root; deleting a link removes the link only', async () => {
      symlinkSync(join(root, 'inside'), join(root, 'alias'));
      expect((await store.get('alias/real.txt')).toString()).toBe('real');
      expect(names(await store.list(''))).toEqual(['alias/', 'inside/']);
      await store.delete('alias');
      expect(existsSync(join(root, 'alias'))).toBe(false);
      expect((await store.get('inside/real.txt')).toString()).toBe('real');
    });

    it('lists neither links leaving the root nor names that are not artifact paths', async () => {
      symlinkSync(join(outside, 'secret.txt'), join(root, 'inside', 'link.txt'));
      symlinkSync(outside, join(root, 'inside', 'link-dir'));
      writeFileSync(join(root, 'inside', 'odd;name'), 'x');
      writeFileSync(join(root, 'inside', 'enc%41'), 'x');
      expect(names(await store.list('inside'))).toEqual(['real.txt']);
    });
  });
});

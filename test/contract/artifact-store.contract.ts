/**
 * The ArtifactStore contract: every backend runs this suite (see `artifact-store.local.test.ts` and
 * `artifact-store.s3.test.ts`). A backend is done when it passes.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ArtifactEntry, ArtifactStore } from '../../src/tracking/artifacts/artifact-store.js';

/** A fresh, empty store plus back doors to damage it the way a disk, a person or another tool could. */
export interface ArtifactStoreFixture {
  readonly store: ArtifactStore;
  /** Replaces the stored bytes of `path` behind the store's back, leaving its recorded sha256 as it is. */
  tamper(path: string, content: Buffer): Promise<void>;
  /** Writes `path` as another tool would: content only, no recorded sha256. */
  writeUnchecked(path: string, content: Buffer): Promise<void>;
  close(): Promise<void>;
}

const sha256 = (content: Buffer | string): string => createHash('sha256').update(content).digest('hex');

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}

/** Deterministic pseudo-random bytes (xorshift32), so a failure reproduces. */
function pseudoRandomBytes(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

/** Paths every method must refuse with INVALID_PARAMETER_VALUE (MLflow's path traversal CVEs). */
export const TRAVERSAL_PATHS: readonly string[] = [
  '../../etc/passwd',
  '..',
  'a/../../b',
  'a/..',
  '%2e%2e%2fsecret',
  '%2E%2E/secret',
  '%252e%252e%252fsecret',
  'a/..%2f..%2fb',
  '..%5c..%5cwindows',
  '/etc/passwd',
  '%2fetc%2fpasswd',
  'C:\\Windows\\win.ini',
  'C:/Windows/win.ini',
  '\\\\server\\share\\x',
  '//server/share/x',
  'a\\b',
  'a#b',
  'a;b',
  'a?b',
  'a%23/../../b',
  'a\u0000b',
  'a%00b',
  'a\nb',
  'a//b',
  'file:///etc/passwd',
  `a/${'x'.repeat(1001)}`,
  // '.' percent-encoded 12 times over: still encoded after 10 rounds of decoding
  `%${'25'.repeat(11)}2e%2e/x`,
];

/** `content` as a stream of chunks of uneven sizes (1 byte up to 200 KB), as a socket would deliver it. */
function chunked(content: Buffer): Readable {
  const chunks: Buffer[] = [];
  for (let start = 0, i = 0; start < content.length; i += 1) {
    const size = [1, 65_536, 7, 200_000, 4_093][i % 5]!;
    chunks.push(content.subarray(start, start + size));
    start += size;
  }
  return Readable.from(chunks);
}

/** A stream that yields `chunks`, then fails as a client that disconnects would. */
function failingAfter(chunks: readonly Buffer[], error: Error): Readable {
  return Readable.from(
    (async function* () {
      yield* chunks;
      throw error;
    })(),
  );
}

function names(entries: readonly ArtifactEntry[]): string[] {
  return entries.map((entry) => `${entry.path}${entry.isDir ? '/' : ''}`);
}

/**
 * Behaviour a backend's test double gets wrong, each with the reason; the tests that need it are skipped
 * (and shown as skipped) for that runner only.
 */
export interface ArtifactStoreContractGaps {
  /** Listing a directory whose entries are only directories (`a/` holding just `a/b/c.txt`). */
  readonly listsDirectoriesHoldingOnlyDirectories?: string;
}

export function describeArtifactStoreContract(
  name: string,
  open: () => Promise<ArtifactStoreFixture>,
  gaps: ArtifactStoreContractGaps = {},
): void {
  describe(`ArtifactStore contract: ${name}`, () => {
    let fixture: ArtifactStoreFixture;
    let store: ArtifactStore;

    beforeEach(async () => {
      fixture = await open();
      store = fixture.store;
    });

    afterEach(async () => {
      await fixture.close();
    });

    it('names its root as a file:// or s3:// URI', () => {
      expect(store.rootUri).toMatch(/^(file:\/\/\/|s3:\/\/[a-z0-9])/);
    });

    describe('put, get, stat', () => {
      it('stores text as UTF-8 and reports path, size and sha256', async () => {
        const stored = await store.put('notes/readme.txt', 'héllo\n');
        const bytes = Buffer.from('héllo\n', 'utf8');
        expect(stored).toEqual({ path: 'notes/readme.txt', size: bytes.length, sha256: sha256(bytes) });
        expect(await store.get('notes/readme.txt')).toEqual(bytes);
        expect(await store.stat('notes/readme.txt')).toEqual(stored);
      });

      it('round-trips binary content with every byte value, from a Buffer or a Uint8Array', async () => {
        const all = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
        await store.put('bin/all-bytes.bin', all);
        expect(await store.get('bin/all-bytes.bin')).toEqual(all);
        const view = new Uint8Array(all.buffer, all.byteOffset + 3, 100);
        const stored = await store.put('bin/view.bin', view);
        expect(stored.size).toBe(100);
        expect(await store.get('bin/view.bin')).toEqual(Buffer.from(view));
      });

      it('stores an empty file', async () => {
        const stored = await store.put('empty', Buffer.alloc(0));
        expect(stored).toEqual({ path: 'empty', size: 0, sha256: sha256('') });
        expect((await store.get('empty')).length).toBe(0);
        expect(await store.exists('empty')).toBe(true);
      });

      it('overwrites a file, content, size and sha256', async () => {
        await store.put('model.json', '{"version":1}');
        const second = await store.put('model.json', '{"version":2,"longer":true}');
        expect((await store.get('model.json')).toString()).toBe('{"version":2,"longer":true}');
        expect(await store.stat('model.json')).toEqual(second);
        expect(await store.list('')).toEqual([{ path: 'model.json', isDir: false, size: second.size }]);
      });

      it('round-trips a 5 MB file through get and stream', async () => {
        const big = pseudoRandomBytes(5 * 1024 * 1024, 42);
        const stored = await store.put('big/blob.bin', big);
        expect(stored.size).toBe(big.length);
        expect(stored.sha256).toBe(sha256(big));
        expect((await store.get('big/blob.bin')).equals(big)).toBe(true);
        expect((await readAll(await store.stream('big/blob.bin'))).equals(big)).toBe(true);
        expect(await store.list('big')).toEqual([{ path: 'blob.bin', isDir: false, size: big.length }]);
      });

      it('keeps unicode and space-containing names', async () => {
        const paths = ['données/modèle ü.json', '模型/权重.bin', 'emoji/🚀 launch.txt'];
        for (const [i, path] of paths.entries()) await store.put(path, `content ${i}`);
        for (const [i, path] of paths.entries()) {
          expect((await store.get(path)).toString()).toBe(`content ${i}`);
          expect(await store.exists(path)).toBe(true);
        }
        expect(names(await store.list(''))).toEqual(['données/', 'emoji/', '模型/']);
        expect(await store.list('données')).toEqual([{ path: 'modèle ü.json', isDir: false, size: 9 }]);
      });

      it('canonicalizes paths: "." segments, one trailing slash, percent-encoding', async () => {
        const stored = await store.put('./a/./b%20c.txt', 'x');
        expect(stored.path).toBe('a/b c.txt');
        expect((await store.get('a/b c.txt')).toString()).toBe('x');
        expect((await store.get('a/b%2520c.txt')).toString()).toBe('x');
        expect(names(await store.list('a/'))).toEqual(['b c.txt']);
      });

      it('checks a caller-given expected sha256', async () => {
        const stored = await store.put('m.bin', 'abc');
        expect((await store.get('m.bin', stored.sha256)).toString()).toBe('abc');
        expect((await store.get('m.bin', stored.sha256.toUpperCase())).toString()).toBe('abc');
        await expect(store.get('m.bin', sha256('other'))).rejects.toMatchObject({ code: 'INVALID_STATE' });
        await expect(store.get('m.bin', 'not-a-sha')).rejects.toMatchObject({
          code: 'INVALID_PARAMETER_VALUE',
        });
      });

      it('reports missing artifacts as RESOURCE_DOES_NOT_EXIST', async () => {
        await expect(store.get('missing.txt')).rejects.toMatchObject({ code: 'RESOURCE_DOES_NOT_EXIST' });
        await expect(store.stream('missing.txt')).rejects.toMatchObject({ code: 'RESOURCE_DOES_NOT_EXIST' });
        await expect(store.stat('no/such/file')).rejects.toMatchObject({ code: 'RESOURCE_DOES_NOT_EXIST' });
        await store.put('dir/file.txt', 'x');
        await expect(store.get('dir')).rejects.toMatchObject({ code: 'RESOURCE_DOES_NOT_EXIST' });
        await expect(store.stat('dir')).rejects.toMatchObject({ code: 'RESOURCE_DOES_NOT_EXIST' });
      });
    });

    describe('put from a stream', () => {
      it('stores the bytes of a stream and reports their size and sha256', async () => {
        const content = pseudoRandomBytes(3 * 1024 * 1024 + 17, 3);
        const source = chunked(content);
        const stored = await store.put('streamed/blob.bin', source);
        expect(stored).toEqual({ path: 'streamed/blob.bin', size: content.length, sha256: sha256(content) });
        expect(await store.stat('streamed/blob.bin')).toEqual(stored);
        expect((await store.get('streamed/blob.bin')).equals(content)).toBe(true);
        expect((await readAll(await store.stream('streamed/blob.bin'))).equals(content)).toBe(true);
        const empty = await store.put('streamed/empty', Readable.from([]));
        expect(empty).toEqual({ path: 'streamed/empty', size: 0, sha256: sha256('') });
      });

      it('takes a stream of exactly maxBytes', async () => {
        const content = pseudoRandomBytes(1000, 4);
        const stored = await store.put('limit/exact.bin', chunked(content), { maxBytes: 1000 });
        expect(stored.size).toBe(1000);
      });

      it('refuses content over maxBytes with REQUEST_LIMIT_EXCEEDED (413) saying the limit and how to raise it, keeping the previous artifact', async () => {
        const previous = await store.put('limit/model.bin', 'version 1');
        const source = chunked(pseudoRandomBytes(300_000, 5));
        const error = await store
          .put('limit/model.bin', source, { maxBytes: 100_000, raiseLimitHint: 'raise THE_LIMIT' })
          .catch((e: unknown) => e);
        expect(error).toMatchObject({ code: 'REQUEST_LIMIT_EXCEEDED', httpStatus: 413 });
        expect((error as Error).message).toMatch(
          /artifact limit\/model\.bin is larger than the limit of 100000 bytes \(97\.7 KiB\).*raise THE_LIMIT/,
        );
        expect(source.destroyed).toBe(true);
        await expect(
          store.put('limit/model.bin', Buffer.alloc(101), { maxBytes: 100 }),
        ).rejects.toMatchObject({
          code: 'REQUEST_LIMIT_EXCEEDED',
        });
        expect((await store.get('limit/model.bin')).toString()).toBe('version 1');
        expect(await store.stat('limit/model.bin')).toEqual(previous);
        expect(await store.list('limit')).toEqual([{ path: 'model.bin', isDir: false, size: 9 }]);
      });

      it('stores nothing when the stream fails midway, and keeps the previous artifact', async () => {
        const broken = new Error('client went away');
        const chunks = [pseudoRandomBytes(70_000, 6), pseudoRandomBytes(70_000, 7)];
        await expect(store.put('failing/new.bin', failingAfter(chunks, broken))).rejects.toBe(broken);
        expect(await store.exists('failing/new.bin')).toBe(false);
        expect(await store.list('')).toEqual([]);
        await store.put('failing/kept.bin', 'kept');
        await expect(store.put('failing/kept.bin', failingAfter(chunks, broken))).rejects.toBe(broken);
        expect((await store.get('failing/kept.bin')).toString()).toBe('kept');
        expect(names(await store.list('failing'))).toEqual(['kept.bin']);
      });
    });

    describe('stream', () => {
      it('streams the content', async () => {
        await store.put('s/data.csv', 'a,b\n1,2\n');
        expect((await readAll(await store.stream('s/data.csv'))).toString()).toBe('a,b\n1,2\n');
      });
    });

    describe('list', () => {
      beforeEach(async () => {
        await store.put('run/metrics.json', '{}');
        await store.put('run/model/model.json', 'model');
        await store.put('run/model/deep/leaf.txt', 'leaf!');
        await store.put('run/plots/roc.png', Buffer.from([0x89, 0x50, 0x4e, 0x47]));
        await store.put('top.txt', 'top');
      });

      it('lists the entries directly under a directory, sorted, with sizes for files only', async () => {
        expect(await store.list('')).toEqual([
          { path: 'run', isDir: true },
          { path: 'top.txt', isDir: false, size: 3 },
        ]);
        expect(await store.list()).toEqual(await store.list(''));
        expect(await store.list('run')).toEqual([
          { path: 'metrics.json', isDir: false, size: 2 },
          { path: 'model', isDir: true },
          { path: 'plots', isDir: true },
        ]);
        expect(await store.list('run/model')).toEqual([
          { path: 'deep', isDir: true },
          { path: 'model.json', isDir: false, size: 5 },
        ]);
        expect(await store.list('run/model/deep/')).toEqual([{ path: 'leaf.txt', isDir: false, size: 5 }]);
        for (const entry of await store.list('run')) if (entry.isDir) expect(entry.size).toBeUndefined();
      });

      it.skipIf(gaps.listsDirectoriesHoldingOnlyDirectories !== undefined)(
        `lists directories that hold only directories${gaps.listsDirectoriesHoldingOnlyDirectories ? ` (skipped: ${gaps.listsDirectoriesHoldingOnlyDirectories})` : ''}`,
        async () => {
          await store.put('only/dirs/here/f.txt', 'f');
          expect(names(await store.list(''))).toEqual(['only/', 'run/', 'top.txt']);
          expect(await store.list('only')).toEqual([{ path: 'dirs', isDir: true }]);
          expect(await store.list('only/dirs')).toEqual([{ path: 'here', isDir: true }]);
          expect(await store.exists('only')).toBe(true);
        },
      );

      it('lists a missing directory, or a file, as empty', async () => {
        expect(await store.list('nope')).toEqual([]);
        expect(await store.list('run/nope/deeper')).toEqual([]);
        expect(await store.list('top.txt')).toEqual([]);
      });

      it('lists nothing in an empty store', async () => {
        const empty = await open();
        try {
          expect(await empty.store.list('')).toEqual([]);
          expect(await empty.store.exists('anything')).toBe(false);
        } finally {
          await empty.close();
        }
      });
    });

    describe('exists', () => {
      it('is true for files and directories holding artifacts, false otherwise', async () => {
        await store.put('x/y/z.txt', 'z');
        expect(await store.exists('x/y/z.txt')).toBe(true);
        expect(await store.exists('x/y')).toBe(true);
        expect(await store.exists('x')).toBe(true);
        expect(await store.exists('x/y/z')).toBe(false);
        expect(await store.exists('x/y/z.txt/more')).toBe(false);
        expect(await store.exists('q')).toBe(false);
      });
    });

    describe('delete', () => {
      it('deletes a file and leaves its siblings', async () => {
        await store.put('d/a.txt', 'a');
        await store.put('d/b.txt', 'b');
        await store.delete('d/a.txt');
        expect(await store.exists('d/a.txt')).toBe(false);
        await expect(store.get('d/a.txt')).rejects.toMatchObject({ code: 'RESOURCE_DOES_NOT_EXIST' });
        expect(names(await store.list('d'))).toEqual(['b.txt']);
      });

      it('deletes a whole directory tree and nothing beside it', async () => {
        await store.put('keep/k.txt', 'k');
        await store.put('gone/a.txt', 'a');
        await store.put('gone/sub/b.txt', 'b');
        await store.put('gone/sub/deeper/c.txt', 'c');
        await store.put('gone-not/x.txt', 'x');
        await store.delete('gone');
        expect(await store.exists('gone')).toBe(false);
        expect(await store.exists('gone/sub/deeper/c.txt')).toBe(false);
        expect(names(await store.list(''))).toEqual(['gone-not/', 'keep/']);
        expect((await store.get('keep/k.txt')).toString()).toBe('k');
        expect((await store.get('gone-not/x.txt')).toString()).toBe('x');
      });

      it('removes directories left empty from their parent listing', async () => {
        await store.put('p/q/only.txt', 'o');
        await store.put('p/other.txt', 'o');
        await store.delete('p/q/only.txt');
        expect(names(await store.list('p'))).toEqual(['other.txt']);
        expect(await store.exists('p/q')).toBe(false);
      });

      it('is a no-op for a missing path', async () => {
        await expect(store.delete('never/was')).resolves.toBeUndefined();
      });

      it('allows writing again after a delete', async () => {
        await store.put('again/f.txt', 'one');
        await store.delete('again');
        await store.put('again/f.txt', 'two');
        expect((await store.get('again/f.txt')).toString()).toBe('two');
      });
    });

    describe('checksum verification', () => {
      it('refuses content changed behind its back, through get and stream', async () => {
        const stored = await store.put('weights.bin', 'original content');
        await fixture.tamper('weights.bin', Buffer.from('tampered content'));
        const error = await store.get('weights.bin').catch((e: unknown) => e);
        expect(error).toMatchObject({ code: 'INTERNAL_ERROR' });
        expect((error as Error).message).toContain(
          `artifact weights.bin changed since it was written: sha256 ${sha256('tampered content')} expected ${stored.sha256}`,
        );
        // Before the stream resolves: a server has not sent a byte (nor a 200) yet.
        await expect(store.stream('weights.bin')).rejects.toMatchObject({
          code: 'INTERNAL_ERROR',
          message: expect.stringContaining('artifact weights.bin changed since it was written'),
        });
      });

      it.each([
        ['small', 1024 * 1024],
        ['large (verified in a first pass)', 3 * 1024 * 1024 + 5],
      ])('refuses a truncated or altered %s file before streaming it', async (_label, length) => {
        const big = pseudoRandomBytes(length, 7);
        await store.put('nested/big.bin', big);
        await fixture.tamper('nested/big.bin', big.subarray(0, big.length - 1));
        await expect(store.get('nested/big.bin')).rejects.toMatchObject({ code: 'INTERNAL_ERROR' });
        await expect(store.stream('nested/big.bin')).rejects.toMatchObject({ code: 'INTERNAL_ERROR' });
        const altered = Buffer.from(big);
        altered[length - 2] = (altered[length - 2]! + 1) % 256;
        await fixture.tamper('nested/big.bin', altered);
        await expect(store.stream('nested/big.bin')).rejects.toMatchObject({
          code: 'INTERNAL_ERROR',
          message: expect.stringContaining('artifact nested/big.bin changed since it was written'),
        });
      });

      it('refuses an artifact with no recorded sha256', async () => {
        await fixture.writeUnchecked('foreign/file.txt', Buffer.from('written by another tool'));
        await expect(store.get('foreign/file.txt')).rejects.toMatchObject({
          code: 'INTERNAL_ERROR',
          message: expect.stringContaining('no recorded sha256'),
        });
        await expect(store.stream('foreign/file.txt')).rejects.toMatchObject({ code: 'INTERNAL_ERROR' });
        await expect(store.stat('foreign/file.txt')).rejects.toMatchObject({ code: 'INTERNAL_ERROR' });
      });

      it('accepts the artifact again once it is rewritten', async () => {
        await store.put('w.bin', 'v1');
        await fixture.tamper('w.bin', Buffer.from('v2'));
        await store.put('w.bin', 'v3');
        expect((await store.get('w.bin')).toString()).toBe('v3');
      });
    });

    describe('path traversal', () => {
      it.each(TRAVERSAL_PATHS.map((path) => [JSON.stringify(path).slice(0, 60), path]))(
        'refuses %s through every method',
        async (_label, path) => {
          const refused = { code: 'INVALID_PARAMETER_VALUE' };
          await expect(store.put(path, 'x')).rejects.toMatchObject(refused);
          await expect(store.get(path)).rejects.toMatchObject(refused);
          await expect(store.stream(path)).rejects.toMatchObject(refused);
          await expect(store.stat(path)).rejects.toMatchObject(refused);
          await expect(store.list(path)).rejects.toMatchObject(refused);
          await expect(store.exists(path)).rejects.toMatchObject(refused);
          await expect(store.delete(path)).rejects.toMatchObject(refused);
        },
      );

      it('names the path and the rule in the message', async () => {
        await expect(store.get('../../etc/passwd')).rejects.toThrow(/"\.\.\/\.\.\/etc\/passwd".*"\.\."/);
      });

      it('refuses the root where a file is meant', async () => {
        for (const path of ['', '.', './']) {
          await expect(store.put(path, 'x')).rejects.toMatchObject({ code: 'INVALID_PARAMETER_VALUE' });
          await expect(store.delete(path)).rejects.toMatchObject({ code: 'INVALID_PARAMETER_VALUE' });
        }
      });

      it('wrote nothing while refusing', async () => {
        for (const path of TRAVERSAL_PATHS) await store.put(path, 'x').catch(() => undefined);
        expect(await store.list('')).toEqual([]);
      });
    });
  });
}

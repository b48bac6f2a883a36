import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isOnsetError } from '../../errors.js';
import {
  confineToRoot,
  MAX_ARTIFACT_PATH_LENGTH,
  safeArtifactDirectory,
  safeArtifactPath,
} from './path-safety.js';

/** The refusal's message, or fails when the path is accepted or refused with another kind of error. */
function refusal(path: string): string {
  try {
    const accepted = safeArtifactPath(path);
    throw new Error(`accepted ${JSON.stringify(path)} as ${JSON.stringify(accepted)}`);
  } catch (error) {
    if (!isOnsetError(error)) throw error;
    expect(error.code).toBe('INVALID_PARAMETER_VALUE');
    return error.message;
  }
}

/** `n`-fold percent-encoding of every character of `text`. */
function encodeTimes(text: string, n: number): string {
  let out = [...text].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('');
  for (let i = 1; i < n; i++) out = out.replaceAll('%', '%25');
  return out;
}

describe('safeArtifactPath', () => {
  it('returns the canonical a/b/c form of good paths', () => {
    expect(safeArtifactPath('a/b/c')).toBe('a/b/c');
    expect(safeArtifactPath('model.json')).toBe('model.json');
    expect(safeArtifactPath('./a/./b/')).toBe('a/b');
    expect(safeArtifactPath('a/b/')).toBe('a/b');
    expect(safeArtifactPath('données/模型 v1.bin')).toBe('données/模型 v1.bin');
    expect(safeArtifactPath('.hidden/..dots-inside../x...y')).toBe('.hidden/..dots-inside../x...y');
    expect(safeArtifactPath('100%.txt')).toBe('100%.txt'); // a lone % is literal
    expect(safeArtifactPath('time-12:30.txt')).toBe('time-12:30.txt');
  });

  it('decodes percent-encoding (the decoded form is the name) and is idempotent', () => {
    expect(safeArtifactPath('a%20b')).toBe('a b');
    expect(safeArtifactPath('a%2Fb')).toBe('a/b');
    expect(safeArtifactPath('%25252541')).toBe('A');
    expect(safeArtifactPath('caf%C3%A9')).toBe('café');
    for (const path of ['a%20b', 'x/./y/', '%2541/b']) {
      expect(safeArtifactPath(safeArtifactPath(path))).toBe(safeArtifactPath(path));
    }
  });

  it('accepts up to 10 rounds of encoding and refuses more', () => {
    expect(safeArtifactPath(encodeTimes('ab', 10))).toBe('ab');
    expect(refusal(encodeTimes('ab', 11))).toMatch(/still percent-encoded after 10 rounds/);
    expect(refusal(encodeTimes('../x', 11))).toMatch(/still percent-encoded/);
  });

  describe('refuses', () => {
    it.each([
      ['../../etc/passwd', /"\.\." segments/],
      ['..', /"\.\." segments/],
      ['a/../b', /"\.\." segments/],
      ['a/b/..', /"\.\." segments/],
      ['a/.../b', /only of dots and spaces/],
      ['a/.. /b', /only of dots and spaces/],
      ['a/ /b', /only of dots and spaces/],
    ])('parent segments: %s', (path, rule) => {
      expect(refusal(path)).toMatch(rule);
    });

    it.each([
      ['%2e%2e%2fsecret', /"\.\." segments/],
      ['%2E%2E%2Fsecret', /"\.\." segments/],
      ['%252e%252e%252f', /"\.\." segments/],
      ['%25252e%25252e/x', /"\.\." segments/],
      ['a/..%2f..%2fb', /"\.\." segments/],
      ['a/%2e%2e/b', /"\.\." segments/],
      [`${encodeTimes('../', 10)}etc/passwd`, /"\.\." segments/],
      ['..%5c..%5cwindows', /backslashes/],
      ['%2fetc%2fpasswd', /absolute/],
      ['%5c%5cserver%5cshare', /UNC/],
    ])('encoded traversal: %s', (path, rule) => {
      expect(refusal(path)).toMatch(rule);
    });

    it.each([
      ['/etc/passwd', /absolute/],
      ['/', /absolute/],
      ['C:\\Windows', /Windows drive/],
      ['C:/Windows/win.ini', /Windows drive/],
      ['c:', /Windows drive/],
      ['C:relative', /Windows drive/],
      ['\\\\server\\share', /UNC/],
      ['//server/share', /UNC/],
      ['a\\b', /backslashes/],
      ['\\a', /backslashes/],
      ['file:///etc/passwd', /scheme/],
      ['s3://bucket/key', /scheme/],
    ])('absolute, Windows and URI forms: %s', (path, rule) => {
      expect(refusal(path)).toMatch(rule);
    });

    it.each([
      ['a#b', /"#"/],
      ['a%23b', /"#"/],
      ['a;b', /";"/],
      ['a/..;/b', /";"/],
      ['a%3Bb', /";"/],
      ['a?b', /"\?"/],
      ['a%3fb=c', /"\?"/],
    ])('URI fragment, parameter and query syntax: %s', (path, rule) => {
      expect(refusal(path)).toMatch(rule);
    });

    it.each([
      ['a\u0000b', 'NUL'],
      ['a%00b', 'encoded NUL'],
      ['a\nb', 'newline'],
      ['a\rb', 'carriage return'],
      ['a\tb', 'tab'],
      ['a\u001bb', 'escape'],
      ['a\u007fb', 'DEL'],
      ['a\u0085b', 'C1 next line'],
    ])('control characters: %j (%s)', (path) => {
      expect(refusal(path)).toMatch(/control characters/);
    });

    it.each([
      ['a//b', /empty segments/],
      ['a/b//', /empty segments/],
      ['', /empty/],
      ['.', /empty/],
      ['./', /empty/],
      ['./.', /root/],
    ])('empty paths and segments: %j', (path, rule) => {
      expect(refusal(path)).toMatch(rule);
    });

    it('over-long paths, raw or decoded', () => {
      expect(safeArtifactPath('x'.repeat(MAX_ARTIFACT_PATH_LENGTH))).toHaveLength(MAX_ARTIFACT_PATH_LENGTH);
      expect(refusal('x'.repeat(MAX_ARTIFACT_PATH_LENGTH + 1))).toMatch(/1001 characters long; at most 1000/);
      expect(refusal(`${'a/'.repeat(600)}b`)).toMatch(/at most 1000/);
    });

    it('percent-encoding that is not UTF-8', () => {
      expect(refusal('a%ffb')).toMatch(/does not decode to UTF-8/);
      expect(refusal('%c3')).toMatch(/does not decode to UTF-8/);
    });

    it('non-strings', () => {
      expect(() => safeArtifactPath(42 as unknown as string)).toThrow(/must be a string/);
    });
  });

  it('names the path and the rule in the message and details', () => {
    try {
      safeArtifactPath('a/../../etc/passwd');
      expect.unreachable();
    } catch (error) {
      expect(isOnsetError(error) && error.message).toBe(
        'invalid artifact path "a/../../etc/passwd": ".." segments (parent directory) are not allowed',
      );
      expect(isOnsetError(error) && error.details).toMatchObject({ path: 'a/../../etc/passwd' });
    }
  });
});

describe('safeArtifactDirectory', () => {
  it('accepts the root as "", ".", "./" or undefined', () => {
    for (const root of ['', '.', './', undefined]) expect(safeArtifactDirectory(root)).toBe('');
    expect(safeArtifactDirectory('a/b/')).toBe('a/b');
  });

  it('refuses what safeArtifactPath refuses', () => {
    expect(() => safeArtifactDirectory('..')).toThrow(/"\.\." segments/);
    expect(() => safeArtifactDirectory('/')).toThrow(/absolute/);
  });
});

describe('confineToRoot', () => {
  let base: string;
  let root: string;
  let outside: string;

  beforeEach(() => {
    base = realpathSync(mkdtempSync(join(tmpdir(), 'onset-confine-')));
    root = join(base, 'root');
    outside = join(base, 'outside');
    mkdirSync(join(root, 'a', 'b'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret'), 'secret');
  });

  afterEach(() => {
    rmSync(base, { recursive: true, force: true });
  });

  it('resolves existing and not-yet-existing paths under the root', async () => {
    expect(await confineToRoot(root, '')).toBe(root);
    expect(await confineToRoot(root, 'a/b')).toBe(join(root, 'a', 'b'));
    expect(await confineToRoot(root, 'a/b/new/deeper.txt')).toBe(join(root, 'a', 'b', 'new', 'deeper.txt'));
    expect(await confineToRoot(root, 'fresh')).toBe(join(root, 'fresh'));
  });

  it('works when the root itself is reached through a symbolic link', async () => {
    symlinkSync(root, join(base, 'root-link'));
    expect(await confineToRoot(join(base, 'root-link'), 'a/x')).toBe(join(root, 'a', 'x'));
  });

  it('refuses lexical traversal before touching the file system', async () => {
    await expect(confineToRoot(root, '../outside/secret')).rejects.toMatchObject({
      code: 'INVALID_PARAMETER_VALUE',
    });
    await expect(confineToRoot(root, '%2e%2e/outside')).rejects.toMatchObject({
      code: 'INVALID_PARAMETER_VALUE',
    });
  });

  it('refuses a symbolic link in the root pointing to /tmp (or anywhere outside)', async () => {
    symlinkSync(tmpdir(), join(root, 'tmp-link'));
    symlinkSync(outside, join(root, 'a', 'out-link'));
    for (const path of ['tmp-link', 'tmp-link/anything', 'a/out-link/secret', 'a/out-link/new/file']) {
      await expect(confineToRoot(root, path)).rejects.toThrow(/symbolic link that leaves the artifact root/);
    }
  });

  it('refuses a file link leaving the root and a dangling link', async () => {
    symlinkSync(join(outside, 'secret'), join(root, 'a', 'secret-link'));
    await expect(confineToRoot(root, 'a/secret-link')).rejects.toThrow(/leaves the artifact root/);
    symlinkSync(join(outside, 'nothing-yet'), join(root, 'a', 'dangling'));
    await expect(confineToRoot(root, 'a/dangling')).rejects.toThrow(/dangling symbolic link/);
    symlinkSync(join(root, 'missing-dir'), join(root, 'a', 'dangling-inside'));
    await expect(confineToRoot(root, 'a/dangling-inside/x')).rejects.toThrow(/dangling symbolic link/);
  });

  it('allows links that stay inside the root, resolving them', async () => {
    symlinkSync(join(root, 'a', 'b'), join(root, 'shortcut'));
    expect(await confineToRoot(root, 'shortcut/file')).toBe(join(root, 'a', 'b', 'file'));
  });

  it('fails with ENOENT when the root does not exist', async () => {
    await expect(confineToRoot(join(base, 'nope'), 'a')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

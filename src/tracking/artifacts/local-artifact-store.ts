/**
 * Artifacts in a local folder (`file:///abs/root`).
 *
 * Layout: an artifact `a/b/model.json` is the file `<root>/a/b/model.json`, and its sha256 sits beside it
 * in the sidecar `<root>/a/b/model.json.onset-sha256`, in `sha256sum` format (`<hex>  model.json\n`), so
 * `sha256sum -c *.onset-sha256` checks a folder by hand. Sidecars and in-flight temporary files
 * (`*.onset-tmp`) are hidden from listings, and any path segment ending in `.onset-sha256` or `.onset-tmp`
 * is refused (INVALID_PARAMETER_VALUE), so an artifact can never overwrite a sidecar.
 *
 * Writes: content and sidecar go to temporary files in the target directory, synced to disk, and are
 * renamed into place, sidecar first, then the directory is synced: a reader never sees a partial file, and a
 * written artifact survives a power loss. A stream is hashed as it is written to the temporary file; a
 * failure (over `maxBytes`, the stream's error, a full disk) removes the temporaries and leaves the
 * previous artifact in place. A crash between the two renames leaves an artifact that fails
 * verification (refused, never silently wrong) until it is written again. Concurrent writers of
 * one path are last-writer-wins, and a reader racing an overwrite may get a checksum refusal: retry.
 *
 * Reads: `get` and `stream` hash the content and compare it with the sidecar (`stream` before it resolves,
 * and again as it ends); a mismatch or a missing sidecar is an INTERNAL_ERROR (see `checksum.ts`). `stat` reports the recorded sha256 without re-hashing.
 *
 * Directories exist while they hold artifacts: deleting the last artifact of a directory removes the
 * directories it leaves empty (as in S3, where directories are key prefixes).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { type FileHandle, lstat, open, readdir, readFile, rename, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { invalidParameter, OnsetError } from '../../errors.js';
import { makeDirectoryDurably, syncDirectory, writeNewFileDurably } from '../../util/atomic-file.js';
import { ContentMeter, releasingOnFailure, VERIFY_IN_MEMORY_MAX_BYTES } from './artifact-content.js';
import type {
  ArtifactContent,
  ArtifactEntry,
  ArtifactStore,
  PutOptions,
  StoredArtifact,
} from './artifact-store.js';
import { checksumMismatch, checksumMissing, isSha256, verifyContent, verifyingStream } from './checksum.js';
import { confineToRoot, safeArtifactDirectory, safeArtifactPath } from './path-safety.js';

/** Suffix of the checksum sidecar written beside each artifact file. */
export const SHA256_SIDECAR_SUFFIX = '.onset-sha256';
/** Suffix of temporary files while a write is in flight. */
export const TEMPORARY_SUFFIX = '.onset-tmp';

function isHidden(name: string): boolean {
  return name.endsWith(SHA256_SIDECAR_SUFFIX) || name.endsWith(TEMPORARY_SUFFIX);
}

/** Whether a file name is usable as one artifact path segment as it is (files made by other tools may not be). */
function isCanonicalName(name: string): boolean {
  try {
    return safeArtifactPath(name) === name;
  } catch {
    return false;
  }
}

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function notFound(path: string, why = 'no such artifact'): OnsetError {
  return new OnsetError('RESOURCE_DOES_NOT_EXIST', `artifact ${path} does not exist (${why})`, {
    details: { path },
  });
}

/** Reads the sha256 recorded in a sidecar; undefined when there is none. */
async function readSidecar(file: string): Promise<string | undefined> {
  try {
    const text = await readFile(file + SHA256_SIDECAR_SUFFIX, 'utf8');
    return text.trim().split(/\s+/, 1)[0]?.toLowerCase();
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** The sha256 of an open file, read from its start in 1 MiB blocks (memory stays bounded). */
async function hashOpenFile(handle: FileHandle): Promise<string> {
  const hash = createHash('sha256');
  const block = Buffer.allocUnsafe(1024 * 1024);
  for (let position = 0; ; ) {
    const { bytesRead } = await handle.read(block, 0, block.length, position);
    if (bytesRead === 0) return hash.digest('hex');
    hash.update(block.subarray(0, bytesRead));
    position += bytesRead;
  }
}

export class LocalArtifactStore implements ArtifactStore {
  readonly rootUri: string;
  /** The root folder, absolute. */
  readonly rootDir: string;
  private rootReady: Promise<void> | undefined;

  /** `rootDir` is created (with its parents) on the first write. */
  constructor(rootDir: string) {
    if (typeof rootDir !== 'string' || rootDir === '') {
      throw invalidParameter('LocalArtifactStore needs a root folder path');
    }
    this.rootDir = resolve(rootDir);
    this.rootUri = pathToFileURL(this.rootDir).href;
  }

  private ensureRoot(): Promise<void> {
    this.rootReady ??= makeDirectoryDurably(this.rootDir).then(
      () => undefined,
      (error: unknown) => {
        this.rootReady = undefined;
        throw error;
      },
    );
    return this.rootReady;
  }

  /** Lexical checks plus the reserved suffixes of this layout. */
  private safe(path: string): string {
    const safe = safeArtifactPath(path);
    this.refuseReserved(path, safe);
    return safe;
  }

  private safeDirectory(path: string | undefined): string {
    const safe = safeArtifactDirectory(path);
    this.refuseReserved(path ?? '', safe);
    return safe;
  }

  private refuseReserved(path: string, safe: string): void {
    if (safe.split('/').some(isHidden)) {
      throw invalidParameter(
        `invalid artifact path ${JSON.stringify(path)}: names ending in ${SHA256_SIDECAR_SUFFIX} or ` +
          `${TEMPORARY_SUFFIX} are reserved for the local artifact store's checksums and temporary files`,
        { path, rule: 'reserved suffix' },
      );
    }
  }

  /** The confined absolute path, or undefined when the root does not exist yet (nothing is stored). */
  private async locate(safe: string): Promise<string | undefined> {
    try {
      return await confineToRoot(this.rootDir, safe);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw error;
    }
  }

  private async statOrUndefined(file: string): Promise<Stats | undefined> {
    try {
      return await stat(file);
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw error;
    }
  }

  /** The file of an artifact and its recorded sha256, or RESOURCE_DOES_NOT_EXIST / INTERNAL_ERROR. */
  private async fileOf(safe: string): Promise<{ file: string; stats: Stats; recorded: string }> {
    const file = await this.locate(safe);
    const stats = file === undefined ? undefined : await this.statOrUndefined(file);
    if (file === undefined || stats === undefined) throw notFound(safe);
    if (!stats.isFile()) throw notFound(safe, 'it is a directory, not a file');
    const recorded = await readSidecar(file);
    if (!isSha256(recorded)) throw checksumMissing(safe, `sidecar ${basename(file)}${SHA256_SIDECAR_SUFFIX}`);
    return { file, stats, recorded };
  }

  put(path: string, content: ArtifactContent, options: PutOptions = {}): Promise<StoredArtifact> {
    return releasingOnFailure(content, () => this.write(path, content, options));
  }

  private async write(path: string, content: ArtifactContent, options: PutOptions): Promise<StoredArtifact> {
    const safe = this.safe(path);
    await this.ensureRoot();
    const file = await confineToRoot(this.rootDir, safe);
    try {
      await makeDirectoryDurably(dirname(file));
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'EEXIST' || code === 'ENOTDIR') {
        throw invalidParameter(`cannot write artifact ${safe}: a parent of it is a file, not a directory`, {
          path: safe,
        });
      }
      throw error;
    }
    const existing = await this.statOrUndefined(file);
    if (existing?.isDirectory()) {
      throw invalidParameter(`cannot write artifact ${safe}: it is a directory; delete it first`, {
        path: safe,
      });
    }
    const token = randomBytes(6).toString('hex');
    const temporary = `${file}.${token}${TEMPORARY_SUFFIX}`;
    const sidecarTemporary = `${file}.${token}.sha${TEMPORARY_SUFFIX}`;
    const meter = new ContentMeter(safe, options);
    try {
      // Hashed and counted as it is written: a stream is never held whole in memory.
      await writeNewFileDurably(temporary, meter.chunks(content));
      await writeNewFileDurably(sidecarTemporary, `${meter.sha256()}  ${basename(file)}\n`);
      await rename(sidecarTemporary, file + SHA256_SIDECAR_SUFFIX);
      await rename(temporary, file);
      // Both renames are entries of this directory: one sync makes them survive a power loss.
      await syncDirectory(dirname(file));
    } catch (error) {
      await rm(temporary, { force: true });
      await rm(sidecarTemporary, { force: true });
      // Directories exist while they hold artifacts: a failed first write leaves none behind.
      await this.pruneEmptyParents(file);
      throw error;
    }
    return { path: safe, size: meter.size, sha256: meter.sha256() };
  }

  async get(path: string, expectedSha256?: string): Promise<Buffer> {
    const safe = this.safe(path);
    const { file, recorded } = await this.fileOf(safe);
    const content = await readFile(file);
    return verifyContent(safe, content, recorded, expectedSha256);
  }

  /**
   * Verified before it resolves. A small file is read, verified and streamed from memory. A larger one is
   * hashed in a first pass and streamed in a second, both through one open descriptor, so a rename over the
   * path in between (an overwrite) does not mix versions; a change in place between the passes shows as a
   * changed size or mtime and is refused, and one during the second pass fails the end-of-stream check.
   */
  async stream(path: string): Promise<Readable> {
    const safe = this.safe(path);
    const { file, recorded } = await this.fileOf(safe);
    const handle = await open(file, 'r');
    try {
      const before = await handle.stat();
      if (before.size <= VERIFY_IN_MEMORY_MAX_BYTES) {
        const content = verifyContent(safe, await handle.readFile(), recorded, undefined);
        await handle.close();
        return Readable.from([content], { objectMode: false });
      }
      const actual = await hashOpenFile(handle);
      if (actual !== recorded) throw checksumMismatch(safe, actual, recorded);
      const after = await handle.stat();
      if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) {
        throw new OnsetError(
          'INTERNAL_ERROR',
          `artifact ${safe} changed in place while it was being verified (not by Onset, which replaces ` +
            'files whole); refusing to return it',
          { details: { path: safe } },
        );
      }
      // The descriptor now belongs to the stream, which closes it when it ends or is destroyed.
      return verifyingStream(safe, handle.createReadStream({ start: 0 }), recorded);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async stat(path: string): Promise<StoredArtifact> {
    const safe = this.safe(path);
    const { stats, recorded } = await this.fileOf(safe);
    return { path: safe, size: stats.size, sha256: recorded };
  }

  /**
   * Entries directly under `directory`, sorted by path; each `path` is relative to the listed directory
   * (`list('a')` gives `b.txt` for `a/b.txt`). A missing directory, or a file, lists as empty.
   */
  async list(directory?: string): Promise<readonly ArtifactEntry[]> {
    const safe = this.safeDirectory(directory);
    const dir = await this.locate(safe);
    if (dir === undefined) return [];
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'ENOENT' || code === 'ENOTDIR') return [];
      throw error;
    }
    const entries: ArtifactEntry[] = [];
    for (const name of names.sort()) {
      if (isHidden(name) || !isCanonicalName(name)) continue;
      const child = join(dir, name);
      const link = await lstat(child).catch(() => undefined);
      if (link === undefined) continue; // removed meanwhile
      if (link.isSymbolicLink()) {
        const childPath = safe === '' ? name : `${safe}/${name}`;
        const confined = await confineToRoot(this.rootDir, childPath).catch(() => undefined);
        if (confined === undefined) continue; // leaves the root, or dangles: not an artifact
      }
      const stats = await this.statOrUndefined(child);
      if (stats === undefined) continue;
      if (stats.isDirectory()) entries.push({ path: name, isDir: true });
      else if (stats.isFile()) entries.push({ path: name, isDir: false, size: stats.size });
    }
    return entries;
  }

  /** True for an artifact file, or a directory holding at least one artifact. */
  async exists(path: string): Promise<boolean> {
    const safe = this.safe(path);
    const target = await this.locate(safe);
    const stats = target === undefined ? undefined : await this.statOrUndefined(target);
    if (target === undefined || stats === undefined) return false;
    if (stats.isFile()) return true;
    return stats.isDirectory() && (await this.holdsArtifact(target));
  }

  private async holdsArtifact(dir: string): Promise<boolean> {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (isHidden(entry.name)) continue;
      if (entry.isFile()) return true;
      if (entry.isDirectory() && (await this.holdsArtifact(`${dir}/${entry.name}`))) return true;
    }
    return false;
  }

  /**
   * Deletes a file (with its sidecar) or a whole directory; nothing to delete is not an error. A symbolic
   * link (inside the root) is removed itself, not what it points to.
   */
  async delete(path: string): Promise<void> {
    const safe = this.safe(path);
    // Confinement check of the path as a whole (refuses links leaving the root) ...
    if ((await this.locate(safe)) === undefined) return;
    // ... then act on the entry itself, in its real parent directory.
    const slash = safe.lastIndexOf('/');
    const parent = await this.locate(slash === -1 ? '' : safe.slice(0, slash));
    if (parent === undefined) return;
    const target = join(parent, safe.slice(slash + 1));
    const link = await lstat(target).catch(() => undefined);
    if (link?.isDirectory()) {
      await rm(target, { recursive: true, force: true });
    } else {
      await rm(target, { force: true });
      await rm(target + SHA256_SIDECAR_SUFFIX, { force: true });
    }
    await this.pruneEmptyParents(target);
  }

  /** Removes the directories above `target` that are left empty, up to (not including) the root. */
  private async pruneEmptyParents(target: string): Promise<void> {
    const root = await confineToRoot(this.rootDir, '');
    for (let dir = dirname(target); dir !== root && dir.startsWith(root); dir = dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        return; // not empty (or already gone, or not ours to remove): stop here
      }
    }
  }
}

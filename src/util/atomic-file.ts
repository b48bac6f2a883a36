import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, relative, sep } from 'node:path';

/**
 * Durable writes. A rename is atomic, but only what has been flushed survives a power loss: the file's
 * content must be synced before the rename, and the directory after it (the rename is a change to the
 * directory), or the renamed file can come back empty or missing.
 */

/** Error codes of platforms that cannot open or sync a directory (Windows): there, nothing more can be done. */
const DIRECTORY_SYNC_UNSUPPORTED = new Set(['EISDIR', 'EPERM', 'EINVAL', 'ENOTSUP']);

/** Flushes a directory's entries (files created, renamed or removed in it) to disk. */
export async function syncDirectory(directory: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(directory, 'r');
  } catch (error) {
    if (DIRECTORY_SYNC_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? '')) return;
    throw error;
  }
  try {
    await handle.sync();
  } catch (error) {
    if (!DIRECTORY_SYNC_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
  } finally {
    await handle.close();
  }
}

/** Creates `directory` and its missing parents, and flushes each new entry to disk. */
export async function makeDirectoryDurably(directory: string): Promise<void> {
  const first = await mkdir(directory, { recursive: true });
  if (first === undefined) return;
  // Every directory from the first one created down to `directory` is a new entry in its parent.
  const created = relative(first, directory).split(sep).filter(Boolean);
  let current = first;
  await syncDirectory(dirname(first));
  for (const segment of created) {
    await syncDirectory(current);
    current = `${current}${sep}${segment}`;
  }
}

/**
 * Writes a new file (refusing to replace one: `wx`) and flushes its content to disk before returning. Chunks
 * of an iterable are written one at a time, as they come.
 */
export async function writeNewFileDurably(
  file: string,
  content: Buffer | string | AsyncIterable<Uint8Array>,
): Promise<void> {
  const handle = await open(file, 'wx', 0o644);
  try {
    // fs.writeFile on the handle: its types (unlike FileHandle#writeFile's) take an async iterable.
    await writeFile(handle, content);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Renames `from` to `to` and flushes the directory of `to`, so the new name survives a power loss. */
export async function renameDurably(from: string, to: string): Promise<void> {
  await rename(from, to);
  await syncDirectory(dirname(to));
}

/**
 * Streams text to a temporary file beside `path` and renames it into place on `commit`, durably (content
 * synced before the rename, directory after), so a failed or refused run never leaves a partial file (or
 * replaces a good one), and a committed file survives a power loss.
 */
export class AtomicTextWriter {
  private readonly temporary: string;
  private readonly out: WriteStream;

  constructor(private readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    // `flush` syncs the file to disk before its descriptor is closed.
    this.out = createWriteStream(this.temporary, { encoding: 'utf8', flush: true });
  }

  async write(text: string): Promise<void> {
    if (!this.out.write(text)) await once(this.out, 'drain');
  }

  async commit(): Promise<void> {
    const closed = once(this.out, 'close');
    this.out.end();
    await closed;
    await renameDurably(this.temporary, this.path);
  }

  async abort(): Promise<void> {
    if (!this.out.closed) {
      this.out.destroy();
      await once(this.out, 'close').catch(() => undefined);
    }
    await rm(this.temporary, { force: true });
  }
}

/** Writes a whole text file atomically and durably. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const writer = new AtomicTextWriter(path);
  try {
    await writer.write(text);
    await writer.commit();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

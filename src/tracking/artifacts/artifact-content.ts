/**
 * What the artifact stores share to take and give content in bounded memory: hashing and counting content
 * as it passes (refusing more than a limit), spooling it to a temporary file, and the size up to which a
 * download is verified in memory rather than in a first pass.
 */
import { createHash, randomBytes } from 'node:crypto';
import { open, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { contentTooLarge, invalidParameter, type OnsetError } from '../../errors.js';
import type { ArtifactContent, PutOptions } from './artifact-store.js';
import { toBuffer } from './checksum.js';

/**
 * Up to this size a download is read whole and verified in memory before its first byte is sent; a larger
 * one is verified in a first pass over a file, so memory stays bounded per download.
 */
export const VERIFY_IN_MEMORY_MAX_BYTES = 1024 * 1024;

const UNITS = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** A size for people: `100 bytes`, `512 MiB`, `1.5 GiB`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} bytes` : `${Number(value.toFixed(1))} ${UNITS[unit]}`;
}

/** `what` (e.g. `artifact a/b.bin`) is over the limit: REQUEST_LIMIT_EXCEEDED, HTTP 413, with how to raise it. */
export function tooLarge(what: string, maxBytes: number, raiseLimitHint: string | undefined): OnsetError {
  return contentTooLarge(
    `${what} is larger than the limit of ${maxBytes} bytes (${formatBytes(maxBytes)}); nothing was stored` +
      `; ${raiseLimitHint ?? 'pass a larger maxBytes to put'}`,
    { maxBytes },
  );
}

function asBytes(path: string, chunk: unknown): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (chunk instanceof Uint8Array) return toBuffer(chunk);
  throw invalidParameter(
    `content of artifact ${path} must be bytes or text (Buffer, Uint8Array, string), got a ${typeof chunk}`,
  );
}

/** Hashes (sha256) and counts content as it passes, refusing more than `maxBytes`. */
export class ContentMeter {
  private readonly hash = createHash('sha256');
  private bytes = 0;
  private digest: string | undefined;

  constructor(
    private readonly path: string,
    private readonly options: PutOptions = {},
  ) {}

  /**
   * The content's chunks as Buffers, each counted and hashed before it is yielded; throws (and so stops
   * reading, destroying a stream) at the first chunk past `maxBytes`, before yielding it.
   */
  async *chunks(content: ArtifactContent): AsyncGenerator<Buffer> {
    if (!(content instanceof Readable)) {
      yield this.take(content);
      return;
    }
    for await (const chunk of content as AsyncIterable<unknown>) yield this.take(chunk);
  }

  /** Bytes or text given whole, metered at once. */
  whole(content: Buffer | Uint8Array | string): Buffer {
    return this.take(content);
  }

  private take(chunk: unknown): Buffer {
    const bytes = asBytes(this.path, chunk);
    this.bytes += bytes.length;
    const maxBytes = this.options.maxBytes ?? Number.POSITIVE_INFINITY;
    if (this.bytes > maxBytes) throw tooLarge(`artifact ${this.path}`, maxBytes, this.options.raiseLimitHint);
    this.hash.update(bytes);
    return bytes;
  }

  /** Bytes counted so far. */
  get size(): number {
    return this.bytes;
  }

  /** The sha256 (hex) of everything that went through; call once all of it has. */
  sha256(): string {
    this.digest ??= this.hash.digest('hex');
    return this.digest;
  }
}

/**
 * Writes the metered content to a new temporary file in `directory` (not synced: it is read back at once,
 * never kept) and returns its path; on any failure the file is removed.
 */
export async function spool(
  directory: string,
  meter: ContentMeter,
  content: ArtifactContent,
): Promise<string> {
  const file = join(directory, `onset-spool-${randomBytes(8).toString('hex')}.onset-tmp`);
  try {
    const handle = await open(file, 'wx', 0o600);
    try {
      await writeFile(handle, meter.chunks(content));
    } finally {
      await handle.close();
    }
  } catch (error) {
    await rm(file, { force: true });
    throw error;
  }
  return file;
}

/** A stream of a spooled file, which is removed as soon as it is open (POSIX) or else once the stream closes. */
export async function readSpooled(file: string): Promise<Readable> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    await rm(file, { force: true });
    throw error;
  }
  // Unlinked while open, the file lives until the stream closes it, and never outlives a crash.
  const removed = await rm(file).then(
    () => true,
    () => false,
  );
  const stream = handle.createReadStream();
  if (!removed) stream.once('close', () => void rm(file, { force: true }).catch(() => undefined));
  return stream;
}

/** Runs a put; on failure destroys a stream given as content (the interface promises it), then rethrows. */
export async function releasingOnFailure<T>(content: ArtifactContent, put: () => Promise<T>): Promise<T> {
  try {
    return await put();
  } catch (error) {
    if (content instanceof Readable) content.destroy();
    throw error;
  }
}

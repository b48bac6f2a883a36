/**
 * sha256 helpers shared by the artifact stores: hashing, the integrity errors, and a pass-through stream
 * that verifies what went through it when it ends.
 */
import { createHash } from 'node:crypto';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { invalidParameter, OnsetError } from '../../errors.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function sha256Hex(content: Buffer | Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

/** Content of `put` as bytes (strings are UTF-8). */
export function toBuffer(content: Buffer | Uint8Array | string): Buffer {
  if (typeof content === 'string') return Buffer.from(content, 'utf8');
  if (Buffer.isBuffer(content)) return content;
  if (content instanceof Uint8Array)
    return Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  throw invalidParameter(`artifact content must be a Buffer, Uint8Array or string, got ${typeof content}`);
}

/** A caller-given sha256, lower-cased; INVALID_PARAMETER_VALUE unless it is 64 hex digits. */
export function normalizeSha256(sha256: string, what: string): string {
  const lower = typeof sha256 === 'string' ? sha256.toLowerCase() : '';
  if (!SHA256_HEX.test(lower)) {
    throw invalidParameter(`${what} must be a sha256 as 64 hex digits, got ${JSON.stringify(sha256)}`);
  }
  return lower;
}

/** Whether a recorded checksum is a well-formed sha256. */
export function isSha256(value: string | undefined): value is string {
  return value !== undefined && SHA256_HEX.test(value);
}

/**
 * The stored content no longer matches the sha256 recorded when it was written: INTERNAL_ERROR (HTTP
 * 500), since the store itself is damaged or was changed behind Onset's back; the caller did nothing wrong.
 */
export function checksumMismatch(path: string, actual: string, expected: string): OnsetError {
  return new OnsetError(
    'INTERNAL_ERROR',
    `artifact ${path} changed since it was written: sha256 ${actual} expected ${expected}; ` +
      'refusing to return it (rewrite the artifact, or restore the original file)',
    { details: { path, sha256: actual, expectedSha256: expected } },
  );
}

/** The artifact has no (well-formed) recorded sha256: INTERNAL_ERROR, as for a mismatch. */
export function checksumMissing(path: string, where: string): OnsetError {
  return new OnsetError(
    'INTERNAL_ERROR',
    `artifact ${path} has no recorded sha256 (${where}); it was not written through Onset or its ` +
      'checksum was lost, so it cannot be verified: rewrite it with put',
    { details: { path } },
  );
}

/**
 * The artifact is intact but is not the version the caller expects (`expectedSha256` of `get`):
 * INVALID_STATE (HTTP 400), e.g. it was overwritten since the caller recorded its sha256.
 */
export function unexpectedSha256(path: string, actual: string, expected: string): OnsetError {
  return new OnsetError(
    'INVALID_STATE',
    `artifact ${path} is not the expected version: sha256 ${actual} expected ${expected} (given by the caller)`,
    { details: { path, sha256: actual, expectedSha256: expected } },
  );
}

/** Checks content against its recorded sha256 and the caller's expectation; returns the content. */
export function verifyContent(
  path: string,
  content: Buffer,
  recorded: string,
  expectedSha256: string | undefined,
): Buffer {
  const expected =
    expectedSha256 === undefined ? undefined : normalizeSha256(expectedSha256, 'expectedSha256');
  const actual = sha256Hex(content);
  if (actual !== recorded) throw checksumMismatch(path, actual, recorded);
  if (expected !== undefined && actual !== expected) throw unexpectedSha256(path, actual, expected);
  return content;
}

/** A pass-through stream that hashes what goes through and errors at the end on a mismatch. */
class VerifyingStream extends Transform {
  private readonly hash = createHash('sha256');

  constructor(
    private readonly path: string,
    private readonly recorded: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const actual = this.hash.digest('hex');
    callback(actual === this.recorded ? null : checksumMismatch(this.path, actual, this.recorded));
  }
}

/**
 * `source` piped through a verifier: the returned stream emits the same bytes and errors (instead of
 * ending) when they do not hash to `recorded`. Errors of `source` are forwarded; destroying the returned
 * stream destroys `source`.
 */
export function verifyingStream(path: string, source: Readable, recorded: string): Readable {
  const verifier = new VerifyingStream(path, recorded);
  source.on('error', (error) => verifier.destroy(error));
  verifier.on('close', () => {
    if (!source.destroyed) source.destroy();
  });
  source.pipe(verifier);
  return verifier;
}

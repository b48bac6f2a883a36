import type { Readable } from 'node:stream';

/** One entry of an artifact listing. Paths are relative to the listed directory's root, with `/`. */
export interface ArtifactEntry {
  readonly path: string;
  readonly isDir: boolean;
  /** Bytes; undefined for directories. */
  readonly size?: number;
}

/** What a stored artifact is: where, how big, and its sha256 (hex). */
export interface StoredArtifact {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

/** What `put` stores: bytes, text (as UTF-8), or a stream of bytes, read to its end. */
export type ArtifactContent = Buffer | Uint8Array | string | Readable;

export interface PutOptions {
  /**
   * Most bytes the content may hold: beyond it `put` fails with REQUEST_LIMIT_EXCEEDED (HTTP 413) and stores
   * nothing. Default: no limit but the backend's own.
   */
  readonly maxBytes?: number;
  /** How to raise `maxBytes`, said in that error (e.g. "set ONSET_ARTIFACT_UPLOAD_LIMIT"). */
  readonly raiseLimitHint?: string;
}

/**
 * Files of runs and model versions (MLflow's ArtifactRepository). Paths are relative, `/`-separated and
 * confined to the store's root (see `path-safety.ts`): traversal attempts are refused with an
 * INVALID_PARAMETER_VALUE error. Writes are atomic; each artifact's sha256 is stored with it and every
 * read verifies it, refusing a corrupt or changed file.
 */
export interface ArtifactStore {
  /** The root, as a URI (`file:///...` or `s3://bucket/prefix`). */
  readonly rootUri: string;
  /**
   * Writes an artifact, replacing any at `path`. A stream is hashed and written as it is read, in bounded
   * memory. On any failure (the stream's error, `maxBytes`, the store's) nothing is stored, the previous
   * artifact stays as it was, and a stream given is destroyed.
   */
  put(path: string, content: ArtifactContent, options?: PutOptions): Promise<StoredArtifact>;
  /** The content, verified against its stored sha256 (and `expectedSha256` when given). */
  get(path: string, expectedSha256?: string): Promise<Buffer>;
  /**
   * A stream of the content, verified before it resolves: a mismatch rejects (INTERNAL_ERROR) before any
   * byte is read, so a server never starts a 200 answer with a changed artifact. Memory stays bounded for
   * large artifacts (see the backends). The stream verifies again as it ends and errors on a mismatch, in
   * case the content changed in between.
   */
  stream(path: string): Promise<Readable>;
  stat(path: string): Promise<StoredArtifact>;
  /** Entries directly under `directory` ('' for the root). */
  list(directory?: string): Promise<readonly ArtifactEntry[]>;
  exists(path: string): Promise<boolean>;
  /** Deletes a file or a whole directory. */
  delete(path: string): Promise<void>;
}

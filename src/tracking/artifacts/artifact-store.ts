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

/**
 * Files of runs and model versions (MLflow's ArtifactRepository). Paths are relative, `/`-separated and
 * confined to the store's root (see `path-safety.ts`): traversal attempts are refused with an
 * INVALID_PARAMETER_VALUE error. Writes are atomic; each artifact's sha256 is stored with it and every
 * read verifies it, refusing a corrupt or changed file.
 */
export interface ArtifactStore {
  /** The root, as a URI (`file:///...` or `s3://bucket/prefix`). */
  readonly rootUri: string;
  put(path: string, content: Buffer | Uint8Array | string): Promise<StoredArtifact>;
  /** The content, verified against its stored sha256 (and `expectedSha256` when given). */
  get(path: string, expectedSha256?: string): Promise<Buffer>;
  /** A stream of the content; verification happens as it ends (the stream errors on a mismatch). */
  stream(path: string): Promise<Readable>;
  stat(path: string): Promise<StoredArtifact>;
  /** Entries directly under `directory` ('' for the root). */
  list(directory?: string): Promise<readonly ArtifactEntry[]>;
  exists(path: string): Promise<boolean>;
  /** Deletes a file or a whole directory. */
  delete(path: string): Promise<void>;
}

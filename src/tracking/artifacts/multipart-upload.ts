import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Readable } from 'node:stream';
import { invalidParameter, OnsetError } from '../../errors.js';
import type { ArtifactStore, PutOptions, StoredArtifact } from './artifact-store.js';
import { safeArtifactPath } from './path-safety.js';

/**
 * Where uploads in progress keep their parts: a folder of the artifact store itself, so that a part may
 * reach any replica of the server (they share the store) and the finished file is written by the same
 * store. Clients cannot name it (see `isReservedArtifactPath`).
 */
export const UPLOAD_STAGING = '.onset-uploads';

/** Whether a client-given artifact path names the staging folder of uploads in progress. */
export function isReservedArtifactPath(path: string): boolean {
  return path === UPLOAD_STAGING || path.startsWith(`${UPLOAD_STAGING}/`);
}

/** Most parts one upload may have (S3's limit). */
export const MAX_UPLOAD_PARTS = 10_000;

/** How long an unfinished upload's parts are kept before a later upload sweeps them away. */
const UPLOAD_LIFETIME_MS = 24 * 60 * 60 * 1000;

const UPLOAD_ID = /^[0-9a-f]{32}$/;

/** What `upload.json` records of an upload: where it goes, how many parts, and its token's digest. */
interface UploadRecord {
  readonly path: string;
  readonly parts: number;
  readonly created: number;
  readonly tokenSha256: string;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * MLflow's multipart upload through the artifact proxy (`mpu/create`, the parts, `mpu/complete`,
 * `mpu/abort`): a large file goes up in parts, in parallel, each retried alone. Parts are staged in the
 * artifact store; completing streams them, in order and each verified, into the destination through the
 * store's `put` (so the file gets its sha256 like any other), then removes them. A part is sent with the
 * upload's token (a secret handed out once by `create`, which needs the admin token) instead of the
 * admin token, as a presigned URL would be: MLflow's client sends parts with only the headers `create`
 * gave it.
 */
export class MultipartUploads {
  constructor(private readonly artifacts: ArtifactStore) {}

  /** Starts an upload of `parts` parts to `path`; answers its id and the token each part must carry. */
  async create(path: string, parts: number): Promise<{ uploadId: string; token: string }> {
    const destination = safeArtifactPath(path);
    if (isReservedArtifactPath(destination)) throw reserved(path);
    if (!Number.isSafeInteger(parts) || parts < 1 || parts > MAX_UPLOAD_PARTS) {
      throw invalidParameter(`num_parts must be a whole number from 1 to ${MAX_UPLOAD_PARTS}, got ${parts}`);
    }
    await this.sweep(Date.now());
    const uploadId = randomBytes(16).toString('hex');
    const token = randomBytes(32).toString('base64url');
    const record: UploadRecord = {
      path: destination,
      parts,
      created: Date.now(),
      tokenSha256: sha256(token),
    };
    await this.artifacts.put(`${UPLOAD_STAGING}/${uploadId}/upload.json`, JSON.stringify(record));
    return { uploadId, token };
  }

  /** Stores one part (numbered from 1) of an upload; answers its ETag (the part's sha256). */
  async putPart(
    uploadId: string,
    token: string | undefined,
    partNumber: number,
    content: Readable,
    options: PutOptions,
  ): Promise<string> {
    const record = await this.#record(uploadId);
    const given = Buffer.from(sha256(token ?? ''), 'hex');
    if (!timingSafeEqual(given, Buffer.from(record.tokenSha256, 'hex'))) {
      content.destroy();
      throw new OnsetError(
        'UNAUTHENTICATED',
        `Upload ${uploadId}: a part needs the upload's token, in the header create gave (x-onset-upload-token)`,
      );
    }
    if (!Number.isSafeInteger(partNumber) || partNumber < 1 || partNumber > record.parts) {
      content.destroy();
      throw invalidParameter(
        `Upload ${uploadId} has parts 1 to ${record.parts}; there is no part ${partNumber}`,
      );
    }
    const stored = await this.artifacts.put(`${UPLOAD_STAGING}/${uploadId}/${partNumber}`, content, options);
    return stored.sha256;
  }

  /**
   * Writes the parts, in the order of their numbers, as the file `path` and removes them. Every part of
   * the upload must be given with the ETag its upload answered (a part sent again replaces the previous
   * one; the ETag says which the client means).
   */
  async complete(
    uploadId: string,
    path: string,
    parts: readonly { readonly partNumber: number; readonly etag: string }[],
    options: PutOptions,
  ): Promise<StoredArtifact> {
    const record = await this.#record(uploadId, path);
    const numbers = parts.map((part) => part.partNumber).sort((a, b) => a - b);
    if (numbers.length !== record.parts || numbers.some((number, index) => number !== index + 1)) {
      throw invalidParameter(
        `Upload ${uploadId} has ${record.parts} parts; complete it with each of 1 to ${record.parts} once (got ${numbers.slice(0, 20).join(', ') || 'none'})`,
      );
    }
    const staged = [...parts].sort((a, b) => a.partNumber - b.partNumber);
    for (const part of staged) {
      const partPath = `${UPLOAD_STAGING}/${uploadId}/${part.partNumber}`;
      const stat = await this.artifacts.stat(partPath).catch(() => undefined);
      if (stat === undefined)
        throw invalidParameter(`Upload ${uploadId}: part ${part.partNumber} was never uploaded`);
      if (stat.sha256 !== part.etag.replace(/"/g, '').toLowerCase()) {
        throw invalidParameter(
          `Upload ${uploadId}: part ${part.partNumber} has ETag ${stat.sha256}, not ${part.etag} (upload it again)`,
        );
      }
    }
    const artifacts = this.artifacts;
    const joined = Readable.from(
      (async function* () {
        for (const part of staged)
          yield* await artifacts.stream(`${UPLOAD_STAGING}/${uploadId}/${part.partNumber}`);
      })(),
      { objectMode: false },
    );
    const stored = await this.artifacts.put(record.path, joined, options);
    await this.artifacts.delete(`${UPLOAD_STAGING}/${uploadId}`);
    return stored;
  }

  /** Drops an upload and its parts. */
  async abort(uploadId: string, path: string): Promise<void> {
    await this.#record(uploadId, path);
    await this.artifacts.delete(`${UPLOAD_STAGING}/${uploadId}`);
  }

  /** Removes uploads started more than a day before `now` and never completed. */
  async sweep(now: number): Promise<void> {
    for (const entry of await this.artifacts.list(UPLOAD_STAGING)) {
      if (!entry.isDir || !UPLOAD_ID.test(entry.path)) continue;
      const record = await this.#record(entry.path).catch(() => undefined);
      if (record === undefined || now - record.created > UPLOAD_LIFETIME_MS) {
        await this.artifacts.delete(`${UPLOAD_STAGING}/${entry.path}`);
      }
    }
  }

  async #record(uploadId: string, path?: string): Promise<UploadRecord> {
    if (!UPLOAD_ID.test(uploadId))
      throw invalidParameter(`Invalid upload_id ${JSON.stringify(uploadId.slice(0, 64))}`);
    let record: UploadRecord;
    try {
      record = JSON.parse(
        (await this.artifacts.get(`${UPLOAD_STAGING}/${uploadId}/upload.json`)).toString('utf8'),
      ) as UploadRecord;
    } catch (error) {
      if (error instanceof OnsetError && error.code === 'RESOURCE_DOES_NOT_EXIST') {
        throw new OnsetError(
          'RESOURCE_DOES_NOT_EXIST',
          `No upload ${uploadId} (completed, aborted, or older than a day)`,
        );
      }
      throw error;
    }
    if (path !== undefined && safeArtifactPath(path) !== record.path) {
      throw invalidParameter(`Upload ${uploadId} writes ${record.path}, not ${path}`);
    }
    return record;
  }
}

function reserved(path: string): OnsetError {
  return invalidParameter(
    `Invalid artifact path ${JSON.stringify(path)}: ${UPLOAD_STAGING} is where uploads in progress are kept`,
  );
}

/** Refuses a client-given path in the staging folder of uploads. */
export function checkNotReserved(path: string): void {
  if (isReservedArtifactPath(path.replace(/^\/+/, ''))) throw reserved(path);
}

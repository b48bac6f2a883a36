/**
 * Artifacts in S3 (`s3://bucket/prefix`), through the AWS SDK v3 client.
 *
 * Layout: artifact `a/b.txt` is the object `<prefix>/a/b.txt`; its sha256 (hex) is the object's user
 * metadata `sha256` (header `x-amz-meta-sha256`). A single PutObject is atomic in S3, so content and
 * checksum always arrive together; a stream is spooled to a local temporary file while hashed, then sent
 * in that single PUT (see `write`). `get` and `stream` re-hash the body and refuse a mismatch, or an object
 * without the metadata (written by another tool), with INTERNAL_ERROR (see `checksum.ts`); `stream` before
 * it resolves. Objects are limited to S3's single-PUT maximum (5 GiB). Directories are key prefixes: they
 * exist while they hold objects, and `list` uses the delimiter `/` with ListObjectsV2 pagination.
 *
 * Configuration comes in the options (the platform passes `OnsetConfig.s3Endpoint` and `s3TimeoutMs`, i.e.
 * `ONSET_S3_ENDPOINT` and `ONSET_S3_TIMEOUT_MS`): with an endpoint, path-style addressing and SDK-computed checksums only when
 * required, which emulators such as s3rver and MinIO need. The region and credentials, unless given, are
 * the AWS SDK's own settings, read by its default chain (`AWS_REGION`, `AWS_ACCESS_KEY_ID`, the shared
 * config files, ...), not by Onset's configuration; with no region anywhere, `us-east-1`. Every request is
 * bounded (`timeoutMs`): an unreachable or silent S3 fails with TEMPORARILY_UNAVAILABLE instead of hanging.
 */

import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  type DeleteObjectsCommandOutput,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { DEFAULT_S3_TIMEOUT_MS } from '../../config.js';
import { invalidParameter, OnsetError } from '../../errors.js';
import {
  ContentMeter,
  readSpooled,
  releasingOnFailure,
  spool,
  VERIFY_IN_MEMORY_MAX_BYTES,
} from './artifact-content.js';
import type {
  ArtifactContent,
  ArtifactEntry,
  ArtifactStore,
  PutOptions,
  StoredArtifact,
} from './artifact-store.js';
import { checksumMismatch, checksumMissing, isSha256, verifyContent, verifyingStream } from './checksum.js';
import { safeArtifactDirectory, safeArtifactPath } from './path-safety.js';

/** The user-metadata key holding the sha256 (sent as the `x-amz-meta-sha256` header). */
export const SHA256_METADATA_KEY = 'sha256';

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** S3's largest object in a single PUT (5 GiB), which is how this store writes. */
const SINGLE_PUT_MAX_BYTES = 5 * 1024 ** 3;
const SINGLE_PUT_HINT =
  "that is S3's largest single PUT, which this store uses so that an object and its sha256 arrive together";
/** DeleteObjects takes at most this many keys per call. */
const DELETE_BATCH = 1000;

export interface S3ArtifactStoreOptions {
  /** A ready client; when given, endpoint, region and credentials below are ignored. */
  readonly client?: S3Client;
  /** S3-compatible endpoint (e.g. `http://127.0.0.1:4568`); default AWS S3. */
  readonly endpoint?: string;
  /** Default: the AWS SDK's region chain (`AWS_REGION`, the shared config file), else `us-east-1`. */
  readonly region?: string;
  /** Default: the SDK's standard credential chain. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Keys per ListObjectsV2 page (MaxKeys), 1-1000; default 1000. Small values exercise pagination. */
  readonly listPageSize?: number;
  /**
   * Where a streamed upload, and a large download being verified, are spooled (temporary files, removed
   * after use); default the system's temporary folder (`TMPDIR`). Point it at a disk if that is a tmpfs.
   */
  readonly spoolDirectory?: string;
  /**
   * How long a request may wait for a connection, or go without a byte sent or received, before it fails
   * (ms); 0: no bound. Silence, not duration: a large transfer that keeps moving is never cut. The AWS SDK
   * tries a request up to 3 times (its `AWS_MAX_ATTEMPTS`), so an unreachable or stalled S3 fails an
   * operation after about 3 times this. Default `DEFAULT_S3_TIMEOUT_MS` (30 s).
   */
  readonly timeoutMs?: number;
}

/** Splits `s3://bucket/prefix` into a bucket and a canonical prefix ('' for the bucket root). */
export function parseS3Uri(uri: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/i.exec(uri);
  if (!match) throw invalidParameter(`not an S3 URI: ${JSON.stringify(uri)}; expected s3://bucket/prefix`);
  const bucket = match[1] ?? '';
  if (!BUCKET_NAME.test(bucket)) {
    throw invalidParameter(
      `invalid S3 bucket name ${JSON.stringify(bucket)} in ${uri}: 3-63 characters of a-z, 0-9, '.' and '-', ` +
        'starting and ending with a letter or digit',
    );
  }
  return { bucket, prefix: safeArtifactDirectory(match[2] ?? '') };
}

/** The region when neither the options nor the AWS SDK's settings name one. */
const FALLBACK_REGION = 'us-east-1';

/** The AWS SDK's own region (its default chain: `AWS_REGION`, the shared config file), else `FALLBACK_REGION`. */
async function sdkRegion(): Promise<string> {
  const probe = new S3Client({});
  try {
    return await probe.config.region();
  } catch {
    return FALLBACK_REGION;
  } finally {
    probe.destroy();
  }
}

/** The client configuration the store uses when no client is given (exported for tests and tools). */
export function s3ClientConfig(options: S3ArtifactStoreOptions = {}): S3ClientConfig {
  const config: S3ClientConfig = { region: options.region ?? sdkRegion };
  if (options.endpoint !== undefined) {
    config.endpoint = options.endpoint;
    config.forcePathStyle = true;
    config.requestChecksumCalculation = 'WHEN_REQUIRED';
    config.responseChecksumValidation = 'WHEN_REQUIRED';
  }
  if (options.credentials) config.credentials = { ...options.credentials };
  const timeout = options.timeoutMs ?? DEFAULT_S3_TIMEOUT_MS;
  if (!Number.isInteger(timeout) || timeout < 0) {
    throw invalidParameter(`the S3 timeout must be a whole number of ms of at least 0, got ${timeout}`);
  }
  // The SDK's default handler has neither bound: a server that accepts and never answers hangs a request.
  if (timeout > 0) config.requestHandler = { connectionTimeout: timeout, socketTimeout: timeout };
  return config;
}

interface SdkError {
  readonly name?: string;
  readonly code?: string;
  readonly message?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

export class S3ArtifactStore implements ArtifactStore {
  readonly rootUri: string;
  readonly bucket: string;
  /** Canonical key prefix without a trailing '/', '' for the bucket root. */
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly endpointLabel: string;
  private readonly timeoutMs: number;
  private readonly listPageSize: number;
  private readonly spoolDirectory: string;

  constructor(uri: string, options: S3ArtifactStoreOptions = {}) {
    const { bucket, prefix } = parseS3Uri(uri);
    this.bucket = bucket;
    this.prefix = prefix;
    this.rootUri = prefix === '' ? `s3://${bucket}` : `s3://${bucket}/${prefix}`;
    const config = s3ClientConfig(options);
    this.client = options.client ?? new S3Client(config);
    const pageSize = options.listPageSize ?? 1000;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
      throw invalidParameter(`listPageSize must be an integer from 1 to 1000, got ${pageSize}`);
    }
    this.listPageSize = pageSize;
    this.spoolDirectory = options.spoolDirectory ?? tmpdir();
    this.endpointLabel = options.client ? 'the given S3 client' : String(config.endpoint ?? 'AWS S3');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_S3_TIMEOUT_MS;
  }

  /** Closes the client's connections. */
  destroy(): void {
    this.client.destroy();
  }

  private key(safe: string): string {
    return this.prefix === '' ? safe : `${this.prefix}/${safe}`;
  }

  /** The key prefix of the directory `safe` ('' for the root), ending in '/' unless it is the bucket root. */
  private directoryPrefix(safe: string): string {
    const key = safe === '' ? this.prefix : this.key(safe);
    return key === '' ? '' : `${key}/`;
  }

  /** Maps an SDK error to an OnsetError that says what failed, where. */
  private failure(error: unknown, action: string, path: string): OnsetError {
    if (error instanceof OnsetError) return error;
    const sdk = (error ?? {}) as SdkError;
    const status = sdk.$metadata?.httpStatusCode;
    const where = `${this.rootUri} (${this.endpointLabel})`;
    const name = sdk.name ?? sdk.code ?? 'Error';
    if (name === 'NoSuchBucket') {
      return new OnsetError('RESOURCE_DOES_NOT_EXIST', `S3 bucket ${this.bucket} does not exist (${where})`, {
        cause: error,
      });
    }
    if (name === 'NoSuchKey' || name === 'NotFound' || status === 404) {
      return new OnsetError('RESOURCE_DOES_NOT_EXIST', `artifact ${path} does not exist in ${where}`, {
        cause: error,
        details: { path },
      });
    }
    if (status === 401 || status === 403 || name === 'AccessDenied' || name === 'InvalidAccessKeyId') {
      return new OnsetError('PERMISSION_DENIED', `S3 refused to ${action} ${path} in ${where}: ${name}`, {
        cause: error,
      });
    }
    if (status === undefined && name === 'TimeoutError') {
      return new OnsetError(
        'TEMPORARILY_UNAVAILABLE',
        `S3 did not answer within ${this.timeoutMs} ms to ${action} ${path} in ${where} ` +
          '(ONSET_S3_TIMEOUT_MS bounds each attempt)',
        { cause: error },
      );
    }
    if (
      status === undefined &&
      ['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE'].includes(sdk.code ?? '')
    ) {
      return new OnsetError(
        'TEMPORARILY_UNAVAILABLE',
        `cannot reach S3 to ${action} ${path} in ${where}: ${sdk.code}`,
        { cause: error },
      );
    }
    return new OnsetError(
      'INTERNAL_ERROR',
      `S3 failed to ${action} ${path} in ${where}: ${name}${sdk.message ? `: ${sdk.message}` : ''}`,
      { cause: error },
    );
  }

  put(path: string, content: ArtifactContent, options: PutOptions = {}): Promise<StoredArtifact> {
    return releasingOnFailure(content, () => this.write(path, content, options));
  }

  private async write(path: string, content: ArtifactContent, options: PutOptions): Promise<StoredArtifact> {
    const safe = safeArtifactPath(path);
    const limit =
      (options.maxBytes ?? Number.POSITIVE_INFINITY) <= SINGLE_PUT_MAX_BYTES
        ? options
        : { maxBytes: SINGLE_PUT_MAX_BYTES, raiseLimitHint: SINGLE_PUT_HINT };
    const meter = new ContentMeter(safe, limit);
    if (!(content instanceof Readable)) {
      const bytes = meter.whole(content);
      await this.putObject(safe, bytes, meter.size, meter.sha256());
      return { path: safe, size: meter.size, sha256: meter.sha256() };
    }
    // Why not a multipart upload (@aws-sdk/lib-storage's Upload): the sha256 goes in the object's metadata,
    // which S3 takes only when an upload starts, and a multipart upload's own SHA256 checksum is a checksum
    // of the parts' checksums, not the object's sha256. Adding the metadata afterwards needs a copy: twice
    // the writes, and a moment where the object has none. So a stream is spooled to a local file while
    // hashed (bounded memory), then sent in one PutObject with its sha256: content and checksum still
    // arrive together, atomically, as for bytes.
    const spooled = await spool(this.spoolDirectory, meter, content);
    const body = createReadStream(spooled);
    try {
      await this.putObject(safe, body, meter.size, meter.sha256());
    } finally {
      body.destroy();
      await rm(spooled, { force: true });
    }
    return { path: safe, size: meter.size, sha256: meter.sha256() };
  }

  private async putObject(
    safe: string,
    body: Buffer | Readable,
    size: number,
    sha256: string,
  ): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key(safe),
          Body: body,
          ContentLength: size,
          ContentType: 'application/octet-stream',
          Metadata: { [SHA256_METADATA_KEY]: sha256 },
        }),
      );
    } catch (error) {
      throw this.failure(error, 'write', safe);
    }
  }

  private async getObject(safe: string) {
    try {
      const output = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.key(safe) }),
      );
      const recorded = output.Metadata?.[SHA256_METADATA_KEY]?.toLowerCase();
      if (!isSha256(recorded)) {
        (output.Body as Readable | undefined)?.destroy?.();
        throw checksumMissing(safe, `no x-amz-meta-${SHA256_METADATA_KEY} metadata on the S3 object`);
      }
      if (!(output.Body instanceof Readable)) {
        throw new OnsetError('INTERNAL_ERROR', `S3 returned no readable body for artifact ${safe}`);
      }
      return { body: output.Body, recorded, size: output.ContentLength };
    } catch (error) {
      throw this.failure(error, 'read', safe);
    }
  }

  /** The whole body of an object, failures mapped. */
  private async readBody(safe: string, body: Readable): Promise<Buffer> {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of body) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    } catch (error) {
      throw this.failure(error, 'read', safe);
    }
    return Buffer.concat(chunks);
  }

  async get(path: string, expectedSha256?: string): Promise<Buffer> {
    const safe = safeArtifactPath(path);
    const { body, recorded } = await this.getObject(safe);
    return verifyContent(safe, await this.readBody(safe, body), recorded, expectedSha256);
  }

  /**
   * Verified before it resolves. A small object is read, verified and streamed from memory; a larger one is
   * spooled to a local temporary file while hashed, then streamed from that file, so what is sent is exactly
   * what was verified, in bounded memory and with one GET (a second GET would download it twice and could
   * meet a newer version).
   */
  async stream(path: string): Promise<Readable> {
    const safe = safeArtifactPath(path);
    const { body, recorded, size } = await this.getObject(safe);
    if (size !== undefined && size <= VERIFY_IN_MEMORY_MAX_BYTES) {
      const content = verifyContent(safe, await this.readBody(safe, body), recorded, undefined);
      return Readable.from([content], { objectMode: false });
    }
    const meter = new ContentMeter(safe);
    let spooled: string;
    try {
      spooled = await spool(this.spoolDirectory, meter, body);
    } catch (error) {
      throw this.failure(error, 'read', safe);
    }
    if (meter.sha256() !== recorded) {
      await rm(spooled, { force: true });
      throw checksumMismatch(safe, meter.sha256(), recorded);
    }
    // The second guard stays: it would catch a spool file changed on the local disk in between.
    return verifyingStream(safe, await readSpooled(spooled), recorded);
  }

  async stat(path: string): Promise<StoredArtifact> {
    const safe = safeArtifactPath(path);
    try {
      const output = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(safe) }),
      );
      const recorded = output.Metadata?.[SHA256_METADATA_KEY]?.toLowerCase();
      if (!isSha256(recorded)) {
        throw checksumMissing(safe, `no x-amz-meta-${SHA256_METADATA_KEY} metadata on the S3 object`);
      }
      return { path: safe, size: output.ContentLength ?? 0, sha256: recorded };
    } catch (error) {
      throw this.failure(error, 'stat', safe);
    }
  }

  /** All pages of a ListObjectsV2 call. */
  private async *pages(prefix: string, delimiter: string | undefined, path: string) {
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            Delimiter: delimiter,
            MaxKeys: this.listPageSize,
            ContinuationToken: token,
          }),
        );
      } catch (error) {
        throw this.failure(error, 'list', path);
      }
      yield page;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** The name of a key (or common prefix) under `base`, or undefined when it is not a usable name. */
  private childName(base: string, key: string): string | undefined {
    if (!key.startsWith(base)) return undefined;
    const rest = key.slice(base.length);
    try {
      return safeArtifactPath(rest) === rest && !rest.includes('/') ? rest : undefined;
    } catch {
      return undefined; // written by another tool under a name Onset refuses: not listed
    }
  }

  /**
   * Entries directly under `directory`, sorted by path; each `path` is relative to the listed directory
   * (`list('a')` gives `b.txt` for `a/b.txt`). A missing directory lists as empty. Keys that are not valid artifact
   * paths (written by other tools) and directory-marker objects (`a/`) are skipped.
   */
  async list(directory?: string): Promise<readonly ArtifactEntry[]> {
    const safe = safeArtifactDirectory(directory);
    const prefix = this.directoryPrefix(safe);
    const entries: ArtifactEntry[] = [];
    const directories = new Set<string>(); // a common prefix may repeat across pages on some servers
    for await (const page of this.pages(prefix, '/', safe)) {
      for (const common of page.CommonPrefixes ?? []) {
        const path =
          common.Prefix === undefined ? undefined : this.childName(prefix, common.Prefix.slice(0, -1));
        if (path !== undefined && !directories.has(path)) {
          directories.add(path);
          entries.push({ path, isDir: true });
        }
      }
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined || object.Key === prefix) continue;
        const path = this.childName(prefix, object.Key);
        if (path !== undefined) entries.push({ path, isDir: false, size: object.Size ?? 0 });
      }
    }
    return entries.sort((a, b) =>
      a.path < b.path ? -1 : a.path > b.path ? 1 : Number(a.isDir) - Number(b.isDir),
    );
  }

  /** True for an artifact object, or a directory (key prefix) holding at least one object. */
  async exists(path: string): Promise<boolean> {
    const safe = safeArtifactPath(path);
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(safe) }));
      return true;
    } catch (error) {
      const mapped = this.failure(error, 'stat', safe);
      if (mapped.code !== 'RESOURCE_DOES_NOT_EXIST' || (error as SdkError).name === 'NoSuchBucket')
        throw mapped;
    }
    try {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.directoryPrefix(safe), MaxKeys: 1 }),
      );
      return (page.KeyCount ?? page.Contents?.length ?? 0) > 0;
    } catch (error) {
      throw this.failure(error, 'list', safe);
    }
  }

  /** Deletes the object `path` and every object under `path/`; nothing to delete is not an error. */
  async delete(path: string): Promise<void> {
    const safe = safeArtifactPath(path);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(safe) }));
    } catch (error) {
      throw this.failure(error, 'delete', safe);
    }
    // List everything first, then delete: deleting while paginating may shift pages on some servers.
    const keys: string[] = [];
    for await (const page of this.pages(this.directoryPrefix(safe), undefined, safe)) {
      for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
    }
    for (let start = 0; start < keys.length; start += DELETE_BATCH) {
      await this.deleteKeys(keys.slice(start, start + DELETE_BATCH), safe);
    }
  }

  private async deleteKeys(keys: readonly string[], path: string): Promise<void> {
    let output: DeleteObjectsCommandOutput;
    try {
      output = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
        }),
      );
    } catch (error) {
      throw this.failure(error, 'delete', path);
    }
    const errors = output.Errors ?? [];
    if (errors.length > 0) {
      const first = errors[0];
      throw new OnsetError(
        'INTERNAL_ERROR',
        `S3 failed to delete ${errors.length} of ${keys.length} objects under ${path} in ${this.rootUri}` +
          ` (first: ${first?.Key}: ${first?.Code})`,
        { details: { errors } },
      );
    }
  }
}

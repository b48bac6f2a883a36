import { Readable } from 'node:stream';
import { Type } from 'typebox';
import { DEFAULT_ARTIFACT_UPLOAD_LIMIT } from '../../config.js';
import { invalidParameter } from '../../errors.js';
import { answers, media, type TypedApp } from '../../http/route.js';
import { formatBytes, tooLarge } from '../artifacts/artifact-content.js';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import {
  checkNotReserved,
  isReservedArtifactPath,
  MAX_UPLOAD_PARTS,
  MultipartUploads,
} from '../artifacts/multipart-upload.js';
import { safeArtifactDirectory } from '../artifacts/path-safety.js';
import { fileInfoJson } from './mlflow-json.js';
import { FileInfoJson } from './mlflow-schemas.js';

/** Where MLflow's artifact proxy lives; paths below it are relative to the artifact root. */
export const ARTIFACT_PROXY = '/api/2.0/mlflow-artifacts/artifacts';
/** MLflow's multipart uploads through the proxy. */
export const MULTIPART_PROXY = '/api/2.0/mlflow-artifacts/mpu';

const RAISE_UPLOAD_LIMIT = 'raise ONSET_ARTIFACT_UPLOAD_LIMIT (bytes) on the server to allow larger uploads';

const Bytes = Type.Unsafe<Readable | undefined>({ format: 'binary', description: "the file's bytes" });
const ArtifactPath = Type.Object({
  '*': Type.String({
    description: 'the path under the artifact root, e.g. 1/<run_id>/artifacts/model/model.json',
  }),
});

export interface ArtifactRoutesOptions {
  readonly artifacts: ArtifactStore;
  /** Largest upload, in bytes (default `DEFAULT_ARTIFACT_UPLOAD_LIMIT`, 512 MiB); also of each part. */
  readonly artifactUploadLimit?: number;
  /**
   * A registered model version whose files are at or under `path` (e.g. "model pd version 3"), to refuse
   * deleting them; undefined when there is none.
   */
  readonly registeredFilesUnder?: (path: string) => Promise<string | undefined>;
}

/**
 * The request body as a stream the store may destroy (it does on failure) without destroying the request:
 * that would destroy its socket too, and the client would get a reset instead of the 413 or 400 answer.
 */
function detachedBody(payload: Readable): Readable {
  return Readable.from(payload.iterator({ destroyOnReturn: false }), { objectMode: false });
}

/**
 * MLflow's artifact proxy: lists, downloads (with the `x-onset-sha256` header) and uploads artifacts
 * relative to the artifact root. Needs the admin token when one is configured (a model is an artifact:
 * an open upload would let anyone replace what is served); the store refuses paths that leave the root.
 * Uploads stream to the store (never buffered whole); downloads are verified before the first byte.
 */
export async function artifactRoutes(app: TypedApp, options: ArtifactRoutesOptions) {
  const { artifacts } = options;
  const uploads = new MultipartUploads(artifacts);
  const uploadLimit = options.artifactUploadLimit ?? DEFAULT_ARTIFACT_UPLOAD_LIMIT;
  app.get(
    ARTIFACT_PROXY,
    {
      config: { access: 'admin' },
      schema: {
        tags: ['artifacts'],
        summary: 'List the artifacts under a path',
        querystring: Type.Object({ path: Type.Optional(Type.String({ description: 'default: the root' })) }),
        response: answers(Type.Object({ files: Type.Array(FileInfoJson) })),
      },
    },
    async ({ query }) => {
      checkNotReserved(query.path ?? '');
      const entries = await artifacts.list(query.path ?? '');
      const atRoot = (query.path ?? '').replace(/^\/+|\/+$/g, '') === '';
      return {
        files: entries
          .filter((entry) => !(atRoot && isReservedArtifactPath(entry.path)))
          .map((entry) => fileInfoJson(entry)),
      };
    },
  );
  app.get(
    `${ARTIFACT_PROXY}/*`,
    {
      config: { access: 'admin' },
      schema: {
        tags: ['artifacts'],
        summary:
          'Download an artifact (its sha256 in the x-onset-sha256 header), verified before the first byte: a changed artifact answers 500',
        params: ArtifactPath,
        response: answers(
          media('application/octet-stream', Type.Unsafe<Readable>({ type: 'string', format: 'binary' })),
        ),
      },
    },
    async ({ params }, reply) => {
      const path = params['*'];
      checkNotReserved(path);
      const stored = await artifacts.stat(path);
      // Verified before it resolves: a changed artifact is an error answer here, not a broken 200.
      const content = await artifacts.stream(path);
      reply.header('content-type', 'application/octet-stream');
      reply.header('x-onset-sha256', stored.sha256);
      return reply.send(content);
    },
  );
  await app.register(async (scope: TypedApp) => {
    // An upload is stored byte for byte, whatever its content type says (no JSON or text parsing), and
    // streamed: the parser hands the raw body on. A declared length over the limit is refused before a
    // byte is read (Fastify then closes the connection rather than read the rest).
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (request, payload, done) => {
      const declared = Number(request.headers['content-length']);
      if (declared > uploadLimit) {
        done(tooLarge(`the upload (Content-Length ${declared})`, uploadLimit, RAISE_UPLOAD_LIMIT), undefined);
        return;
      }
      done(null, payload);
    });
    scope.put(
      `${ARTIFACT_PROXY}/*`,
      {
        config: { access: 'admin' },
        schema: {
          tags: ['artifacts'],
          summary: `Upload an artifact (streamed to the store; at most ${formatBytes(uploadLimit)}, ONSET_ARTIFACT_UPLOAD_LIMIT; more answers 413)`,
          params: ArtifactPath,
          consumes: ['application/octet-stream'],
          body: Bytes,
          response: answers(
            Type.Object({
              path: Type.String(),
              size: Type.Integer({ description: 'bytes' }),
              sha256: Type.String(),
            }),
          ),
        },
      },
      async ({ params, body }, reply) => {
        try {
          checkNotReserved(params['*']);
          const stored = await artifacts.put(params['*'], body ? detachedBody(body) : Buffer.alloc(0), {
            maxBytes: uploadLimit,
            raiseLimitHint: RAISE_UPLOAD_LIMIT,
          });
          return { path: stored.path, size: stored.size, sha256: stored.sha256 };
        } catch (error) {
          // Answer, then close rather than read (and drop) whatever the client still sends.
          if (body && !body.readableEnded) reply.header('connection', 'close');
          throw error;
        }
      },
    );
    scope.put(
      `${MULTIPART_PROXY}/part/:upload_id/:part_number`,
      {
        // The part carries its upload's token (x-onset-upload-token), handed out by mpu/create, which
        // needs the admin token: MLflow's client sends a part with only the headers create gave it.
        config: { access: 'public' },
        schema: {
          tags: ['artifacts'],
          summary:
            'Upload one part of a multipart upload (with the x-onset-upload-token header mpu/create gave); answers its ETag',
          params: Type.Object({
            upload_id: Type.String({ description: 'from mpu/create' }),
            part_number: Type.String({
              pattern: '^[1-9][0-9]{0,4}$',
              description: `1 to ${MAX_UPLOAD_PARTS}`,
            }),
          }),
          headers: Type.Object({ 'x-onset-upload-token': Type.Optional(Type.String()) }),
          consumes: ['application/octet-stream'],
          body: Bytes,
          response: answers(Type.Object({ etag: Type.String({ description: "the part's sha256" }) })),
        },
      },
      async ({ params, headers, body }, reply) => {
        try {
          const etag = await uploads.putPart(
            params.upload_id,
            headers['x-onset-upload-token'],
            Number(params.part_number),
            body ? detachedBody(body) : Readable.from([]),
            { maxBytes: uploadLimit, raiseLimitHint: RAISE_UPLOAD_LIMIT },
          );
          reply.header('etag', `"${etag}"`);
          return { etag };
        } catch (error) {
          if (body && !body.readableEnded) reply.header('connection', 'close');
          throw error;
        }
      },
    );
  });
  app.delete(
    `${ARTIFACT_PROXY}/*`,
    {
      config: { access: 'admin' },
      schema: {
        tags: ['artifacts'],
        summary:
          'Delete an artifact, or a folder and everything in it; refused for the files of a registered model version',
        params: ArtifactPath,
        response: answers(Type.Object({})),
      },
    },
    async ({ params }) => {
      const path = safeArtifactDirectory(params['*']);
      checkNotReserved(path);
      if (path === '')
        throw invalidParameter('Refusing to delete the whole artifact root: name a file or folder');
      const holder = await options.registeredFilesUnder?.(path);
      if (holder) {
        throw invalidParameter(
          `Cannot delete ${path}: it holds the files of ${holder}; delete that model version first`,
        );
      }
      await artifacts.delete(path);
      return {};
    },
  );

  const MultipartPath = Type.Object({
    '*': Type.String({ description: 'the folder under the artifact root the file goes to' }),
  });
  const destination = (folder: string, file: string) => {
    // MLflow's client names the file by its local path: the file keeps its name in the folder.
    const name = file.split(/[\\/]/).pop() ?? '';
    return [folder.replace(/^\/+|\/+$/g, ''), name].filter((part) => part !== '').join('/');
  };
  app.post(
    `${MULTIPART_PROXY}/create/*`,
    {
      config: { access: 'admin' },
      schema: {
        tags: ['artifacts'],
        summary: 'Start a multipart upload of a file (MLflow: MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD)',
        params: MultipartPath,
        body: Type.Object({
          path: Type.String({ minLength: 1, description: "the client's file; its name is kept" }),
          num_parts: Type.Integer({ minimum: 1, maximum: MAX_UPLOAD_PARTS }),
        }),
        response: answers(
          Type.Object({
            upload_id: Type.String(),
            credentials: Type.Array(
              Type.Object({
                url: Type.String(),
                part_number: Type.Integer(),
                headers: Type.Record(Type.String(), Type.String()),
              }),
            ),
          }),
        ),
      },
    },
    async (request, reply) => {
      const { params, body } = request;
      const { uploadId, token } = await uploads.create(destination(params['*'], body.path), body.num_parts);
      // Absolute part URLs, as the client sees this server (behind a trusted proxy: its forwarded host).
      const base = `${request.protocol}://${request.host}${MULTIPART_PROXY}/part/${uploadId}`;
      reply.header('cache-control', 'no-store');
      return {
        upload_id: uploadId,
        credentials: Array.from({ length: body.num_parts }, (_, index) => ({
          url: `${base}/${index + 1}`,
          part_number: index + 1,
          headers: { 'x-onset-upload-token': token },
        })),
      };
    },
  );
  app.post(
    `${MULTIPART_PROXY}/complete/*`,
    {
      config: { access: 'admin' },
      schema: {
        tags: ['artifacts'],
        summary: 'Finish a multipart upload: its parts, in order, become the file',
        params: MultipartPath,
        body: Type.Object({
          path: Type.String({ minLength: 1 }),
          upload_id: Type.String(),
          parts: Type.Array(
            Type.Object({
              part_number: Type.Integer({ minimum: 1, maximum: MAX_UPLOAD_PARTS }),
              etag: Type.String(),
              url: Type.Optional(Type.String()),
            }),
            { maxItems: MAX_UPLOAD_PARTS },
          ),
        }),
        response: answers(Type.Object({})),
      },
    },
    async ({ params, body }) => {
      await uploads.complete(
        body.upload_id,
        destination(params['*'], body.path),
        body.parts.map((part) => ({ partNumber: part.part_number, etag: part.etag })),
        { maxBytes: uploadLimit, raiseLimitHint: RAISE_UPLOAD_LIMIT },
      );
      return {};
    },
  );
  app.post(
    `${MULTIPART_PROXY}/abort/*`,
    {
      config: { access: 'admin' },
      schema: {
        tags: ['artifacts'],
        summary: 'Abandon a multipart upload and its parts',
        params: MultipartPath,
        body: Type.Object({ path: Type.String({ minLength: 1 }), upload_id: Type.String() }),
        response: answers(Type.Object({})),
      },
    },
    async ({ params, body }) => {
      await uploads.abort(body.upload_id, destination(params['*'], body.path));
      return {};
    },
  );
}

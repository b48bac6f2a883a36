import { Readable } from 'node:stream';
import { Type } from 'typebox';
import { DEFAULT_ARTIFACT_UPLOAD_LIMIT } from '../../config.js';
import { answers, media, type TypedApp } from '../../http/route.js';
import { formatBytes, tooLarge } from '../artifacts/artifact-content.js';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import { FileInfoJson, fileInfoJson } from './mlflow-json.js';

/** Where MLflow's artifact proxy lives; paths below it are relative to the artifact root. */
export const ARTIFACT_PROXY = '/api/2.0/mlflow-artifacts/artifacts';

const RAISE_UPLOAD_LIMIT = 'raise ONSET_ARTIFACT_UPLOAD_LIMIT (bytes) on the server to allow larger uploads';

const Bytes = Type.Unsafe<Readable | undefined>({ format: 'binary', description: "the file's bytes" });
const ArtifactPath = Type.Object({
  '*': Type.String({
    description: 'the path under the artifact root, e.g. 1/<run_id>/artifacts/model/model.json',
  }),
});

export interface ArtifactRoutesOptions {
  readonly artifacts: ArtifactStore;
  /** Largest upload, in bytes (default `DEFAULT_ARTIFACT_UPLOAD_LIMIT`, 512 MiB). */
  readonly artifactUploadLimit?: number;
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
      const entries = await artifacts.list(query.path ?? '');
      return { files: entries.map((entry) => fileInfoJson(entry)) };
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
  });
}

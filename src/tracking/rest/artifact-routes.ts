import type { Readable } from 'node:stream';
import { Type } from 'typebox';
import { answers, media, type TypedApp } from '../../http/route.js';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import { FileInfoJson, fileInfoJson } from './mlflow-json.js';

/** Where MLflow's artifact proxy lives; paths below it are relative to the artifact root. */
export const ARTIFACT_PROXY = '/api/2.0/mlflow-artifacts/artifacts';

/** Largest artifact an upload takes, in bytes. */
const UPLOAD_LIMIT = 512 * 1024 * 1024;

const Bytes = Type.Unsafe<Buffer | undefined>({ format: 'binary', description: "the file's bytes" });
const ArtifactPath = Type.Object({
  '*': Type.String({
    description: 'the path under the artifact root, e.g. 1/<run_id>/artifacts/model/model.json',
  }),
});

/**
 * MLflow's artifact proxy: lists, downloads (with the `x-onset-sha256` header) and uploads artifacts
 * relative to the artifact root. Needs the admin token when one is configured (a model is an artifact:
 * an open upload would let anyone replace what is served); the store refuses paths that leave the root.
 */
export async function artifactRoutes(app: TypedApp, { artifacts }: { readonly artifacts: ArtifactStore }) {
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
        summary: 'Download an artifact (its sha256 in the x-onset-sha256 header)',
        params: ArtifactPath,
        response: answers(
          media('application/octet-stream', Type.Unsafe<Readable>({ type: 'string', format: 'binary' })),
        ),
      },
    },
    async ({ params }, reply) => {
      const path = params['*'];
      const stored = await artifacts.stat(path);
      reply.header('content-type', 'application/octet-stream');
      reply.header('x-onset-sha256', stored.sha256);
      return reply.send(await artifacts.stream(path));
    },
  );
  await app.register(async (scope: TypedApp) => {
    // An upload is stored byte for byte, whatever its content type says (no JSON or text parsing).
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: UPLOAD_LIMIT },
      (_request, payload, done) => done(null, payload),
    );
    scope.put(
      `${ARTIFACT_PROXY}/*`,
      {
        config: { access: 'admin' },
        schema: {
          tags: ['artifacts'],
          summary: 'Upload an artifact (buffered; at most 512 MiB)',
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
      async ({ params, body }) => {
        const stored = await artifacts.put(params['*'], body ?? Buffer.alloc(0));
        return { path: stored.path, size: stored.size, sha256: stored.sha256 };
      },
    );
  });
}

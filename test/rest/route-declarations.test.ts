/**
 * Every route is declared one way (see src/http/route.ts): an access policy, tags, a summary, a schema for
 * each part of the request it takes and its answers. Checked on the whole app, as Fastify's `onRoute` sees
 * its routes, and on the OpenAPI document `/docs` serves, so no route can be added without them.
 */
import Fastify, { type RouteOptions } from 'fastify';
import { type Static, Type } from 'typebox';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ACCESS_POLICIES, type Access, enforceAccess } from '../../src/http/access.js';
import { answers } from '../../src/http/route.js';
import type {
  BlockLogLineJson,
  PipelineRunJson,
  PipelineScheduleJson,
} from '../../src/pipelines/pipeline-routes.js';
import type { BlockLogLine, PipelineRun, PipelineSchedule } from '../../src/pipelines/pipeline-store.js';
import { UI_ROUTES } from '../../src/server/web-ui.js';
import type { SnakeCase } from '../support/field-names.js';
import { ADMIN_TOKEN, API_KEY, useFullApp } from './full-app.js';

const full = useFullApp('routes');

const TAGS = ['predictions', 'monitoring', 'tracking', 'registry', 'artifacts', 'pipelines', 'operations'];
/** The pages of `/docs` itself: hidden from the document they serve, public. */
const DOCS_PAGE = /^\/docs(\/|$)/;
/** The web UI's pages and files: no API, so hidden from `/docs`, and public (its data needs the APIs' credentials). */
const isUiRoute = (url: string) => UI_ROUTES.includes(url);
const SUCCESS = ['200', '201', '202'];

interface Schema {
  readonly hide?: boolean;
  readonly tags?: readonly string[];
  readonly summary?: string;
  readonly body?: unknown;
  readonly querystring?: unknown;
  readonly params?: { readonly properties?: Readonly<Record<string, unknown>> };
  readonly response?: Readonly<Record<string, unknown>>;
  readonly 'x-bodiless'?: boolean;
}

/** What a route's declaration lacks (nothing for a well-declared route). */
function declarationProblems(route: RouteOptions): string[] {
  const schema = (route.schema ?? {}) as Schema;
  if (schema.hide === true) {
    return DOCS_PAGE.test(route.url) || (isUiRoute(route.url) && route.config?.access === 'public')
      ? []
      : ['is hidden from /docs'];
  }
  const problems: string[] = [];
  const access = route.config?.access;
  if (access === undefined || !ACCESS_POLICIES.includes(access)) problems.push('has no access policy');
  if (!schema.tags || schema.tags.length === 0) problems.push('has no tags');
  for (const tag of schema.tags ?? []) if (!TAGS.includes(tag)) problems.push(`has an unknown tag "${tag}"`);
  if (!schema.summary) problems.push('has no summary');
  const response = schema.response ?? {};
  if (!SUCCESS.some((status) => response[status] !== undefined)) problems.push('declares no success answer');
  if (response['4xx'] === undefined || response['5xx'] === undefined)
    problems.push('declares no error answer');
  const params = [...route.url.matchAll(/:(\w+)/g)].map((match) => match[1]!);
  if (route.url.endsWith('*')) params.push('*');
  for (const param of params) {
    if (schema.params?.properties?.[param] === undefined) problems.push(`declares no schema for :${param}`);
  }
  const methods = [route.method].flat();
  const takesBody = methods.some((method) => ['POST', 'PUT', 'PATCH'].includes(method));
  if (takesBody && schema.body === undefined && schema['x-bodiless'] !== true)
    problems.push('declares no body');
  return problems;
}

const where = (route: RouteOptions) => `${[route.method].flat().join(',')} ${route.url}`;
/** The routes clients call (Fastify adds a HEAD route for each GET). */
const declared = () =>
  full.routes.filter((route) => route.method !== 'HEAD' && (route.schema as Schema)?.hide !== true);

describe('route declarations', () => {
  it('declares every route of the whole app: access policy, tags, summary, request parts and answers', () => {
    expect(declared().length).toBeGreaterThan(50);
    const problems = full.routes.flatMap((route) =>
      declarationProblems(route).map((problem) => `${where(route)} ${problem}`),
    );
    expect(problems).toEqual([]);

    // The check itself finds what a route lacks.
    const handler = async () => ({});
    expect(declarationProblems({ method: 'POST', url: '/a/:id', handler })).toEqual([
      'has no access policy',
      'has no tags',
      'has no summary',
      'declares no success answer',
      'declares no error answer',
      'declares no schema for :id',
      'declares no body',
    ]);
    expect(
      declarationProblems({
        method: 'PUT',
        url: '/files/*',
        config: { access: 'public' },
        schema: { tags: ['files'], summary: 's', response: { 200: Type.Object({}) } } as object,
        handler,
      }),
    ).toEqual([
      'has an unknown tag "files"',
      'declares no error answer',
      'declares no schema for :*',
      'declares no body',
    ]);
    expect(
      declarationProblems({ method: 'GET', url: '/internal', schema: { hide: true } as object, handler }),
    ).toEqual(['is hidden from /docs']);
  });

  it('refuses, when it is declared, a route without an access policy', async () => {
    const app = Fastify();
    enforceAccess(app, {});
    const schema = { tags: ['operations'], summary: 's', response: answers(Type.Object({})) };
    expect(() => app.get('/undeclared', { schema }, async () => ({}))).toThrow(
      'Route GET /undeclared declares no access policy: set config.access to one of public, apiKey, admin',
    );
    expect(() =>
      app.get('/declared', { schema, config: { access: 'nobody' as Access } }, async () => ({})),
    ).toThrow(/declares no access policy/);
    await app.close();
  });

  it('keeps the access policies: everything but predictions and operations needs the admin token', async () => {
    const byPolicy = (access: Access) =>
      declared()
        .filter((route) => route.config?.access === access)
        .map(where)
        .sort();
    // The open routes, and what a prediction client (the API key) reaches; every other route, every
    // read of tracking, registry, artifacts (models) and pipelines (logs) included, is the admin's.
    // A multipart upload's part carries its upload's own token instead (handed out by mpu/create, an
    // admin route), as a presigned URL carries its signature: see the multipart tests.
    expect(byPolicy('public')).toEqual([
      'GET /health',
      'GET /metrics',
      'GET /ready',
      'GET /schema',
      'PUT /api/2.0/mlflow-artifacts/mpu/part/:upload_id/:part_number',
    ]);
    expect(byPolicy('apiKey')).toEqual([
      'GET /model',
      'POST /explain',
      'POST /feedback',
      'POST /predict',
      'POST /predict/batch',
    ]);
    expect(byPolicy('admin')).toHaveLength(declared().length - 10);
    for (const route of declared()) {
      if (/^\/api\//.test(route.url) && !route.url.includes('/mpu/part/'))
        expect(route.config?.access, where(route)).toBe('admin');
    }

    // Every route applies its policy: without credentials, admin and API-key routes answer 401; with
    // them (or on a public route) the request gets past the check.
    for (const route of declared()) {
      const url = route.url.replace(/:\w+/g, 'x').replace(/\*$/, 'x');
      const method = [route.method].flat()[0] as 'GET' | 'POST';
      const payload = method === 'GET' ? undefined : {};
      const access = route.config?.access;
      const bare = await full.app.inject({ method, url, ...(payload ? { payload } : {}) });
      if (access === 'public') {
        expect(bare.statusCode, where(route)).not.toBe(401);
        continue;
      }
      expect(bare.statusCode, where(route)).toBe(401);
      expect(bare.json(), where(route)).toMatchObject({ error_code: 'UNAUTHENTICATED' });
      const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
      const key = { 'x-api-key': API_KEY };
      const wrong = [
        { authorization: `Bearer ${ADMIN_TOKEN}x` },
        { authorization: ADMIN_TOKEN },
        { 'x-api-key': `${API_KEY}x` },
        ...(access === 'admin' ? [key, { authorization: `Bearer ${API_KEY}` }] : []),
      ];
      for (const headers of wrong) {
        const refused = await full.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
        expect(refused.statusCode, `${where(route)} ${JSON.stringify(headers)}`).toBe(401);
      }
      for (const headers of access === 'admin' ? [admin] : [key, admin]) {
        const allowed = await full.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
        expect(allowed.statusCode, where(route)).not.toBe(401);
      }
    }
  });
});

describe('the OpenAPI document at /docs', () => {
  interface Operation {
    readonly tags?: readonly string[];
    readonly security?: readonly unknown[];
    readonly requestBody?: { readonly content?: Readonly<Record<string, { readonly schema?: unknown }>> };
    readonly responses: Readonly<
      Record<string, { readonly content?: Readonly<Record<string, { schema?: unknown }>> }>
    >;
    readonly 'x-bodiless'?: boolean;
  }
  const hasSchema = (content: Readonly<Record<string, { readonly schema?: unknown }>> | undefined) =>
    Object.values(content ?? {}).some((media) => media.schema !== undefined);

  it('documents every route with its request body, parameters, answers, tags and security', async () => {
    const spec = (await full.app.inject({ url: '/docs/json' })).json() as {
      readonly openapi: string;
      readonly tags: readonly { readonly name: string }[];
      readonly paths: Readonly<Record<string, Readonly<Record<string, Operation>>>>;
      readonly components: { readonly schemas: Readonly<Record<string, unknown>> };
    };
    expect(spec.openapi).toBe('3.1.0');
    expect(spec.tags.map((tag) => tag.name).sort()).toEqual([...TAGS].sort());
    expect(spec.components.schemas).toHaveProperty('ErrorAnswer');

    const operations = Object.entries(spec.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => ({
        at: `${method.toUpperCase()} ${path}`,
        operation,
      })),
    );
    // One operation per route: none is missing from the document.
    expect(operations.length).toBe(declared().length);
    const problems: string[] = [];
    for (const { at, operation } of operations) {
      const method = at.split(' ')[0]!;
      if (['POST', 'PUT', 'PATCH'].includes(method)) {
        if (!hasSchema(operation.requestBody?.content) && operation['x-bodiless'] !== true)
          problems.push(`${at} has no request body`);
      }
      const success = SUCCESS.find((status) => operation.responses[status] !== undefined);
      if (!success || !hasSchema(operation.responses[success]!.content))
        problems.push(`${at} has no success answer schema`);
      for (const status of ['4XX', '5XX']) {
        const error = operation.responses[status]?.content?.['application/json']?.schema;
        if ((error as { $ref?: string } | undefined)?.$ref !== '#/components/schemas/ErrorAnswer')
          problems.push(`${at} has no ${status} error answer`);
      }
      if (!operation.tags?.length) problems.push(`${at} has no tags`);
      if (operation.security === undefined) problems.push(`${at} says nothing of its security`);
    }
    expect(problems).toEqual([]);

    // The bodies say what they take: MLflow's leniency, the feature schema, the upload's bytes.
    const body = (at: string) => {
      const [method, path] = at.split(' ');
      return spec.paths[path!]![method!.toLowerCase()]!.requestBody!.content as Record<
        string,
        { schema: { properties: Record<string, { description?: string; properties?: object }> } }
      >;
    };
    const logBatch = body('POST /api/2.0/mlflow/runs/log-batch')['application/json']!.schema.properties;
    expect(Object.keys(logBatch)).toEqual(['run_id', 'metrics', 'params', 'tags']);
    const logMetric = body('POST /api/2.0/mlflow/runs/log-metric')['application/json']!.schema.properties;
    expect(logMetric.value!.description).toMatch(/"NaN", "Infinity", "-Infinity"/);
    expect(logMetric.timestamp!.description).toMatch(/a string of digits/);
    const predict = body('POST /predict')['application/json']!.schema.properties;
    expect(Object.keys(predict.data!.properties!)).toHaveLength(32);
    expect(Object.keys(body('PUT /api/2.0/mlflow-artifacts/artifacts/{*}'))).toEqual([
      'application/octet-stream',
    ]);
    expect(spec.paths['/api/2.0/mlflow/registered-models/create']!.post!.security).toEqual([
      { adminToken: [] },
    ]);
    expect(spec.paths['/predict']!.post!.security).toEqual([{ apiKey: [] }, { adminToken: [] }]);
    expect(spec.paths['/api/2.0/mlflow/experiments/search']!.get!.security).toEqual([{ adminToken: [] }]);
    expect(spec.paths['/health']!.get!.security).toEqual([]);
  });
});

describe('the answer schemas', () => {
  it('name every field of the store entities the pipeline API answers with, in snake_case', () => {
    // Checked by the compiler (npm run typecheck): the handlers' answers are type-checked against these
    // schemas; these keep the schemas, and so /docs, from missing a field the entities gain.
    type Run = Static<typeof PipelineRunJson>;
    expectTypeOf<keyof Run>().toEqualTypeOf<SnakeCase<keyof PipelineRun>>();
    expectTypeOf<keyof Run['blocks'][number]>().toEqualTypeOf<
      SnakeCase<keyof PipelineRun['blocks'][number]>
    >();
    expectTypeOf<keyof Run['links'][number]>().toEqualTypeOf<keyof PipelineRun['links'][number]>();
    expectTypeOf<keyof Static<typeof PipelineScheduleJson>>().toEqualTypeOf<
      SnakeCase<keyof PipelineSchedule>
    >();
    expectTypeOf<keyof Static<typeof BlockLogLineJson>>().toEqualTypeOf<keyof BlockLogLine>();
    expectTypeOf<SnakeCase<'runId' | 'nextRunTime' | 'status'>>().toEqualTypeOf<
      'run_id' | 'next_run_time' | 'status'
    >();
  });
});

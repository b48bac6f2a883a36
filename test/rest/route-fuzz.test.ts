/**
 * Every route of the whole app, fuzzed (fast-check) from its own schema: a valid-looking request is built
 * from the route's body and query schemas, then broken (a field missing, of the wrong type, huge, deeply
 * nested, a prototype key, an extra field, a body that is no object). Whatever arrives: never a 5xx,
 * never a crash, no prototype pollution, and a 400 says which field is wrong.
 */

import fc from 'fast-check';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../../src/data/generator/generator.js';
import { FEATURE_NAMES } from '../../src/data/schema.js';
import { OnsetMetrics } from '../../src/monitoring/metrics.js';
import { PipelineService } from '../../src/pipelines/pipeline-service.js';
import { buildApp } from '../../src/server/app.js';
import { LiveModel } from '../../src/serving/live-model.js';
import { trainAndPromote } from '../support/registry.js';
import { useTemporaryStores } from '../support/stores.js';

const temporary = useTemporaryStores('route-fuzz');
const MODEL = 'fuzzed';
const ADMIN = { authorization: 'Bearer fuzz-admin', 'x-api-key': 'fuzz-key' };
const data = generateDataset({ rows: 200, seed: 5 });
const record = Object.fromEntries(FEATURE_NAMES.map((name) => [name, data.columns[name][0]!]));

let app: FastifyInstance;
let service: PipelineService;
const routes: RouteOptions[] = [];

beforeAll(async () => {
  const { stores } = temporary;
  await trainAndPromote(stores, MODEL, data, { n_estimators: 5, max_depth: 2 });
  const live = new LiveModel(`models:/${MODEL}/Production`, stores, { pollMs: 0 });
  await live.start();
  service = new PipelineService({ stores });
  app = await buildApp({
    ...stores,
    adminToken: ADMIN.authorization.slice(7),
    metrics: new OnsetMetrics({ processMetrics: false }),
    pipelines: { service, store: stores.pipelines },
    serving: { live, apiKey: ADMIN['x-api-key'], batchLimit: 50 },
    onRoute: (route) => routes.push(route),
  });
  await app.ready();
}, 60_000);
afterAll(async () => {
  await app?.close();
  await service?.close();
});

interface JsonSchema {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly items?: JsonSchema;
  readonly anyOf?: readonly JsonSchema[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly format?: string;
  readonly minimum?: number;
}

/** A value its schema accepts, as far as a schema says (the route's handler may still refuse it). */
function sample(schema: JsonSchema | undefined): unknown {
  if (schema === undefined) return 'x';
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  if (schema.anyOf) return sample(schema.anyOf[0]);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object':
      return Object.fromEntries(
        Object.entries(schema.properties ?? {}).map(([key, value]) => [key, sample(value)]),
      );
    case 'array':
      return [sample(schema.items)];
    case 'integer':
    case 'number':
      return Math.max(1, schema.minimum ?? 1);
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return schema.format === 'int64' ? '1' : 'x';
  }
}

/** Values that break a field: wrong types, extremes, huge text, deep nesting. */
const hostileValue = fc.oneof(
  fc.constantFrom<unknown>(null, true, 0, -1, 1e308, -1e308, '', ' ', 'NaN', '-Infinity', [], {}, [[]], {
    a: {},
  }),
  fc.string({ maxLength: 30 }),
  fc.double(),
  fc.integer({ min: -(2 ** 53), max: 2 ** 53 }),
  fc.constant('x'.repeat(100_000)),
  fc.nat(3000).map((depth) => JSON.parse('['.repeat(depth) + ']'.repeat(depth)) as unknown),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 2000 }),
);

/** The JSON text of a body with a prototype key (JSON.stringify would drop `__proto__` as a key). */
function withKey(body: Record<string, unknown>, key: string, value: unknown): string {
  const text = JSON.stringify(body);
  const entry = `${JSON.stringify(key)}:${JSON.stringify(value)}`;
  return text === '{}' ? `{${entry}}` : `{${entry},${text.slice(1)}`;
}

type Mutation =
  | { readonly kind: 'drop'; readonly path: readonly string[] }
  | { readonly kind: 'set'; readonly path: readonly string[]; readonly value: unknown }
  | { readonly kind: 'key'; readonly key: string; readonly value: unknown }
  | { readonly kind: 'whole'; readonly value: unknown };

/** Every property path of a sampled value (objects, and the first item of arrays). */
function paths(value: unknown, prefix: readonly string[] = []): (readonly string[])[] {
  if (Array.isArray(value))
    return value.length > 0 ? [[...prefix, '0'], ...paths(value[0], [...prefix, '0'])] : [];
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, child]) => [
    [...prefix, key],
    ...paths(child, [...prefix, key]),
  ]);
}

function mutate(base: unknown, mutation: Mutation): unknown {
  if (mutation.kind === 'whole') return mutation.value;
  const copy = structuredClone(base) as Record<string, unknown>;
  if (mutation.kind === 'key') return copy;
  let parent: Record<string, unknown> = copy;
  for (const step of mutation.path.slice(0, -1)) parent = parent[step] as Record<string, unknown>;
  const last = mutation.path.at(-1)!;
  if (mutation.kind === 'drop') delete parent[last];
  else parent[last] = mutation.value;
  return copy;
}

function mutations(base: unknown): fc.Arbitrary<Mutation> {
  const all = paths(base);
  const options: fc.Arbitrary<Mutation>[] = [
    hostileValue.map((value) => ({ kind: 'whole' as const, value })),
    fc
      .record({
        key: fc.constantFrom(
          '__proto__',
          'constructor',
          'prototype',
          'toString',
          'hasOwnProperty',
          'unknown_field',
        ),
        value: fc.constantFrom<unknown>({ polluted: 'yes' }, { prototype: { polluted: 'yes' } }, 'x', 1),
      })
      .map(({ key, value }) => ({ kind: 'key' as const, key, value })),
  ];
  if (all.length > 0) {
    options.push(fc.constantFrom(...all).map((path) => ({ kind: 'drop' as const, path })));
    options.push(
      fc
        .tuple(fc.constantFrom(...all), hostileValue)
        .map(([path, value]) => ({ kind: 'set' as const, path, value })),
    );
  }
  return fc.oneof(...options);
}

/** The valid-looking request of a route: its URL (params filled), method and base body or query. */
function baseRequest(route: RouteOptions) {
  const schema = (route.schema ?? {}) as { body?: JsonSchema; querystring?: JsonSchema };
  const method = [route.method].flat()[0] as 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  const url = route.url.replace(/:\w+/g, 'fuzz').replace(/\*$/, '1/fuzz/artifacts/a.json');
  let body: unknown = schema.body ? sample(schema.body) : undefined;
  if (route.url === '/predict' || route.url === '/explain') body = { patient_id: 'P-1', data: record };
  if (route.url === '/predict/batch') body = { records: [{ data: record }] };
  const query = schema.querystring ? (sample(schema.querystring) as Record<string, unknown>) : undefined;
  return { method, url, body, query };
}

function queryString(query: Record<string, unknown>): string {
  const parts = Object.entries(query).flatMap(([key, value]) =>
    (Array.isArray(value) ? value : [value]).map(
      (item) =>
        `${encodeURIComponent(key)}=${encodeURIComponent(typeof item === 'string' ? item : (JSON.stringify(item) ?? ''))}`,
    ),
  );
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

/** Whether a 400 answer says where: a field in `errors`, or a name from the request in the message. */
function namesAField(
  answer: { message?: string; errors?: readonly { field: string }[] },
  names: readonly string[],
) {
  if (answer.errors?.length) return answer.errors.every((error) => error.field.length > 0);
  // A field by its wire name (page_token) or in words ("Invalid page token", "experiment id").
  const message = (answer.message ?? '').toLowerCase();
  return (
    /\bbody\b|json|request/.test(message) ||
    names.some((name) => {
      const words = name.toLowerCase().replaceAll('_', ' ');
      return message.includes(name.toLowerCase()) || message.includes(words.replace(/s$/, ''));
    })
  );
}

describe('every route, fuzzed from its schema', () => {
  it('never answers 5xx nor crashes, never lets a prototype key through, and names the field of a 400', async () => {
    const fuzzed = routes.filter(
      (route) => route.method !== 'HEAD' && (route.schema as { hide?: boolean } | undefined)?.hide !== true,
    );
    expect(fuzzed.length).toBeGreaterThan(50);
    const failures: string[] = [];
    for (const route of fuzzed) {
      const base = baseRequest(route);
      const takesBody = base.method !== 'GET' && base.body !== undefined;
      const target = takesBody ? base.body : (base.query ?? {});
      await fc.assert(
        fc.asyncProperty(mutations(target), async (mutation) => {
          const mutated = mutate(target, mutation);
          const names = paths(target)
            .map((path) => path.at(-1)!)
            .filter((name) => !/^\d+$/.test(name));
          let payload: string | undefined;
          let url = base.url;
          if (takesBody) {
            payload =
              mutation.kind === 'key'
                ? withKey(mutated as Record<string, unknown>, mutation.key, mutation.value)
                : (JSON.stringify(mutated) ?? 'null');
          } else if (mutation.kind === 'whole' || typeof mutated !== 'object' || mutated === null) {
            url += `?${encodeURIComponent(JSON.stringify(mutated) ?? '')}`;
          } else {
            url += queryString(mutated as Record<string, unknown>);
          }
          const answer = await app.inject({
            method: base.method,
            url,
            headers: { ...ADMIN, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
            ...(payload === undefined ? {} : { payload }),
          });
          const where = `${base.method} ${route.url} ${JSON.stringify(mutation).slice(0, 200)}`;
          if (answer.statusCode >= 500)
            failures.push(`${where} -> ${answer.statusCode} ${answer.body.slice(0, 300)}`);
          const json = (answer.statusCode === 400 ? answer.json() : {}) as {
            error_code?: string;
            message?: string;
            errors?: { field: string }[];
          };
          // A refused input (not a conflict such as RESOURCE_ALREADY_EXISTS, also 400) says where.
          if (answer.statusCode === 400 && json.error_code === 'INVALID_PARAMETER_VALUE') {
            if (!namesAField(json, names))
              failures.push(`${where} -> 400 without a field: ${answer.body.slice(0, 300)}`);
          }
          expect(({} as Record<string, unknown>).polluted, where).toBeUndefined();
        }),
        { numRuns: 25, seed: 42 },
      );
    }
    expect(failures).toEqual([]);
  }, 300_000);
});

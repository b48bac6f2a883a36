/**
 * One case convention for the JSON field names of Onset's own APIs: snake_case, as MLflow's API (whose
 * names Onset keeps exactly) and the prediction API write them. Checked on every schema of every route
 * the app declares (as its `onRoute` hook sees them: bodies, query strings, params and every answer,
 * errors included), and on the OpenAPI document `/docs` serves. Data-keyed records (metrics, parameters,
 * block outputs) have no fixed names; feature names are data, not field names.
 */
import type { RouteOptions } from 'fastify';
import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import { FEATURE_NAMES } from '../../src/data/schema.js';
import { isSnakeCase, jsonFieldProblems } from '../support/field-names.js';
import { ADMIN_TOKEN, useFullApp } from './full-app.js';

const full = useFullApp('field-names');

/** MLflow's REST API and artifact proxy, whose names are MLflow's (`/api/2.0/mlflow-artifacts` too). */
const MLFLOW_ROUTE = /^\/(api|ajax-api)\/2\.0\/mlflow/;
const FEATURES: ReadonlySet<string> = new Set(FEATURE_NAMES);
/** Bodies in another tool's format, taken as that tool sends them: Alertmanager's webhook payload. */
const FOREIGN_BODIES: ReadonlySet<string> = new Set(['POST /api/onset/alerts']);

type Schema = Readonly<Record<string, unknown>>;
const isSchema = (value: unknown): value is Schema =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * The property names of a JSON schema (TypeBox's or OpenAPI's) that are not snake_case, as paths from
 * `at`. It follows every keyword that holds schemas and resolves `$ref` with `resolve`; the keys of a
 * record (`patternProperties`, `additionalProperties`) are data, and so are feature names.
 */
function schemaFieldProblems(schema: unknown, at: string, resolve: (ref: string) => unknown): string[] {
  const problems: string[] = [];
  const seen = new Set<unknown>();
  const walk = (node: unknown, path: string): void => {
    if (!isSchema(node) || seen.has(node)) return;
    seen.add(node);
    if (typeof node.$ref === 'string') walk(resolve(node.$ref), path);
    if (isSchema(node.properties)) {
      for (const [name, property] of Object.entries(node.properties)) {
        if (!isSnakeCase(name) && !FEATURES.has(name)) problems.push(`${path}.${name}`);
        walk(property, `${path}.${name}`);
      }
    }
    if (isSchema(node.patternProperties)) {
      for (const value of Object.values(node.patternProperties)) walk(value, `${path}.<key>`);
    }
    for (const keyword of ['additionalProperties', 'items', 'not', 'if', 'then', 'else']) {
      const sub = node[keyword];
      if (Array.isArray(sub)) for (const item of sub) walk(item, `${path}[]`);
      else walk(sub, keyword === 'items' ? `${path}[]` : path);
    }
    for (const keyword of ['anyOf', 'oneOf', 'allOf', 'prefixItems']) {
      const list = node[keyword];
      if (Array.isArray(list)) for (const item of list) walk(item, path);
    }
    // A media answer (`media('text/plain', ...)`) or an OpenAPI body: `{ content: { type: { schema } } }`.
    if (isSchema(node.content)) {
      for (const media of Object.values(node.content)) if (isSchema(media)) walk(media.schema, path);
    }
  };
  walk(schema, at);
  return problems;
}

const where = (route: RouteOptions) => `${[route.method].flat().join(',')} ${route.url}`;
/** The routes of Onset's own APIs (not MLflow's), as clients call them. */
const onsetRoutes = () =>
  full.routes.filter(
    (route) =>
      route.method !== 'HEAD' &&
      (route.schema as { hide?: boolean } | undefined)?.hide !== true &&
      !MLFLOW_ROUTE.test(route.url),
  );

describe('JSON field names of the Onset APIs', () => {
  it('are snake_case in every schema of every route but MLflow’s, answers and errors included', () => {
    const routes = onsetRoutes();
    // Predictions, feedback, monitoring checks, operations and pipelines: the list a new API joins.
    expect(routes.map(where).sort()).toEqual([
      'DELETE /api/onset/schedules/:id',
      'GET /api/onset/alerts',
      'GET /api/onset/alerts/:id',
      'GET /api/onset/monitoring/checks',
      'GET /api/onset/monitoring/checks/:id',
      'GET /api/onset/monitoring/traffic',
      'GET /api/onset/pipeline-runs',
      'GET /api/onset/pipeline-runs/:id',
      'GET /api/onset/pipeline-runs/:id/logs',
      'GET /api/onset/pipelines',
      'GET /api/onset/pipelines/:name',
      'GET /api/onset/registry/stage-history',
      'GET /api/onset/schedules',
      'GET /health',
      'GET /metrics',
      'GET /model',
      'GET /ready',
      'GET /schema',
      'POST /api/onset/alerts',
      'POST /api/onset/monitoring/drift',
      'POST /api/onset/monitoring/performance',
      'POST /api/onset/pipeline-runs/:id/cancel',
      'POST /api/onset/pipelines/:name/runs',
      'POST /api/onset/schedules',
      'POST /explain',
      'POST /feedback',
      'POST /predict',
      'POST /predict/batch',
    ]);
    const shared = full.app.getSchemas() as Readonly<Record<string, unknown>>;
    const resolve = (ref: string) => shared[ref.replace(/#.*$/, '')];
    const problems: string[] = [];
    let answers = 0;
    for (const route of routes) {
      const schema = (route.schema ?? {}) as {
        body?: unknown;
        querystring?: unknown;
        params?: unknown;
        response?: Readonly<Record<string, unknown>>;
      };
      for (const part of ['body', 'querystring', 'params'] as const) {
        if (part === 'body' && FOREIGN_BODIES.has(where(route))) continue;
        problems.push(...schemaFieldProblems(schema[part], `${where(route)} ${part}`, resolve));
      }
      for (const [status, answer] of Object.entries(schema.response ?? {})) {
        answers++;
        problems.push(...schemaFieldProblems(answer, `${where(route)} ${status}`, resolve));
      }
    }
    expect(problems).toEqual([]);
    // Every route declares its success and error answers (walked above, the shared error answer too).
    expect(answers).toBeGreaterThanOrEqual(routes.length * 3);

    // The check finds a camelCase name wherever it hides, and lets records and features be.
    const hidden = Type.Object({
      run: Type.Union([
        Type.Null(),
        Type.Object({ runId: Type.String(), blocks: Type.Array(Type.Object({ startTime: Type.Number() })) }),
      ]),
      metrics: Type.Record(Type.String(), Type.Object({ bestValue: Type.Number() })),
      data: Type.Object({ FamilyHistoryParkinsons: Type.Integer() }),
      error: Type.Unsafe({ $ref: 'ErrorAnswer#' }),
    });
    expect(schemaFieldProblems(hidden, 'answer', resolve)).toEqual([
      'answer.run.runId',
      'answer.run.blocks[].startTime',
      'answer.metrics.<key>.bestValue',
    ]);
    expect(
      schemaFieldProblems(Type.Unsafe({ $ref: 'Missing#' }), 'x', () =>
        Type.Object({ errorCode: Type.String() }),
      ),
    ).toEqual(['x.errorCode']);
  });

  it('are snake_case in the OpenAPI document /docs serves, for every path but MLflow’s', async () => {
    const spec = (
      await full.app.inject({ url: '/docs/json', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    ).json() as {
      readonly paths: Readonly<Record<string, Readonly<Record<string, Schema>>>>;
      readonly components: { readonly schemas: Readonly<Record<string, unknown>> };
    };
    const resolve = (ref: string) => spec.components.schemas[ref.replace('#/components/schemas/', '')];
    const problems: string[] = [];
    const paths = Object.keys(spec.paths).filter((path) => !MLFLOW_ROUTE.test(path));
    expect(paths.length).toBeGreaterThanOrEqual(12);
    for (const path of paths) {
      for (const [method, operation] of Object.entries(spec.paths[path]!)) {
        const at = `${method.toUpperCase()} ${path}`;
        for (const parameter of (operation.parameters ?? []) as { name: string; in: string }[]) {
          if (!isSnakeCase(parameter.name)) problems.push(`${at} ${parameter.in} ${parameter.name}`);
        }
        if (!FOREIGN_BODIES.has(`${method.toUpperCase()} ${path}`))
          problems.push(...schemaFieldProblems(operation.requestBody, `${at} body`, resolve));
        for (const [status, answer] of Object.entries((operation.responses ?? {}) as Schema))
          problems.push(...schemaFieldProblems(answer, `${at} ${status}`, resolve));
      }
    }
    expect(problems).toEqual([]);
    // The pipeline run as /docs shows it.
    const run = spec.paths['/api/onset/pipeline-runs/{id}']!.get!.responses as Schema;
    expect(JSON.stringify(run)).toContain('"cancel_requested"');
  });
});

describe('the field-name check of printed JSON', () => {
  it('takes run ids keying a map as data, whatever digit they start with, and still finds camelCase', () => {
    const printed = {
      child_run_counts: { '290dcc9a47f44fcebdfc5455e210826f': 3, b166b4186be7482ba5e2f3f1eee65b84: 0 },
      runs: [{ info: { runId: 'x' } }],
    };
    expect(jsonFieldProblems(printed)).toEqual(['.runs[].info.runId']);
  });
});

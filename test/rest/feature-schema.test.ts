/**
 * `GET /schema`: the feature schema as data (what the UI's prediction form is generated from), the same as
 * src/data/schema.ts in every field, public, and documented in `/docs`.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FEATURE_GROUP_LABELS, FEATURES, ID_COLUMN, TARGET } from '../../src/data/schema.js';
import { buildApp } from '../../src/server/app.js';
import { LiveModel } from '../../src/serving/live-model.js';
import { useTemporaryStores } from '../support/stores.js';

const temporary = useTemporaryStores('feature-schema');
let app: FastifyInstance;

beforeAll(async () => {
  const { stores } = temporary;
  const live = new LiveModel('models:/not-registered/Production', stores, { pollMs: 0 });
  const { tracking, registry, loggedModels, artifacts } = stores;
  app = await buildApp({
    tracking,
    registry,
    loggedModels,
    artifacts,
    adminToken: 'admin',
    serving: { live, apiKey: 'key' },
  });
});
afterAll(async () => {
  await app?.close();
});

it('answers every feature with its unit, ranges and labelled codes, without credentials', async () => {
  const answer = await app.inject({ url: '/schema' });
  expect(answer.statusCode).toBe(200);
  expect(answer.headers['x-content-type-options']).toBe('nosniff');
  const schema = answer.json();
  expect(schema.features).toHaveLength(32);
  expect(schema.features.map((f: { name: string }) => f.name)).toEqual(FEATURES.map((f) => f.name));
  // Every field of the source of truth, nothing else.
  expect(schema.features).toEqual(JSON.parse(JSON.stringify(FEATURES)));
  expect(schema.features[0]).toEqual({
    name: 'Age',
    group: 'demographics',
    description: 'Age of the patient',
    kind: 'continuous',
    unit: 'years',
    limits: { min: 0, max: 125 },
    training: { min: 50, max: 90 },
    integer: true,
  });
  expect(schema.features.find((f: { name: string }) => f.name === 'Ethnicity').codes).toEqual([
    { code: 0, label: 'Caucasian' },
    { code: 1, label: 'African American' },
    { code: 2, label: 'Asian' },
    { code: 3, label: 'Other' },
  ]);
  expect(schema.groups).toEqual(
    Object.entries(FEATURE_GROUP_LABELS).map(([group, label]) => ({ group, label })),
  );
  expect(schema.id_column).toBe(ID_COLUMN);
  expect(schema.target).toEqual(JSON.parse(JSON.stringify(TARGET)));
});

it('is documented in /docs under the prediction API, as public', async () => {
  const spec = (await app.inject({ url: '/docs/json' })).json();
  const operation = spec.paths['/schema'].get;
  expect(operation.tags).toEqual(['predictions']);
  expect(operation.security).toEqual([]);
  expect(Object.keys(operation.responses['200'].content['application/json'].schema.properties)).toEqual([
    'features',
    'groups',
    'id_column',
    'target',
  ]);
});

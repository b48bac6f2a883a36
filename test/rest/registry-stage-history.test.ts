/**
 * `GET /api/onset/registry/stage-history`: the registry's record of stage transitions (who, when, why),
 * which MLflow's open-source API does not serve; the UI's model page shows it.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { useTemporaryStores } from '../support/stores.js';

const ADMIN = { authorization: 'Bearer t0ken' };
const temporary = useTemporaryStores('stage-history');
let app: FastifyInstance;

beforeAll(async () => {
  const { stores } = temporary;
  const { tracking, registry, loggedModels, artifacts } = stores;
  app = await buildApp({ tracking, registry, loggedModels, artifacts, adminToken: 't0ken' });
  await stores.registry.createRegisteredModel({ name: 'pd' });
  for (let i = 0; i < 2; i++) {
    await stores.registry.createModelVersion({
      name: 'pd',
      source: 'runs:/x/model',
      storageLocation: null,
      files: null,
    });
  }
});
afterAll(async () => {
  await app?.close();
});

const transition = (version: string, stage: string, comment?: string) =>
  app.inject({
    method: 'POST',
    url: '/api/2.0/mlflow/model-versions/transition-stage',
    headers: ADMIN,
    payload: { name: 'pd', version, stage, archive_existing_versions: true, ...(comment ? { comment } : {}) },
  });

it("answers a model's transitions oldest first, with who made each (their credentials) and why", async () => {
  expect((await transition('1', 'Production', 'first model')).statusCode).toBe(200);
  expect((await transition('2', 'Production', 'beats version 1')).statusCode).toBe(200);
  const answer = await app.inject({ url: '/api/onset/registry/stage-history?name=pd', headers: ADMIN });
  expect(answer.statusCode).toBe(200);
  const { transitions } = answer.json() as { transitions: Record<string, unknown>[] };
  expect(transitions.map(({ timestamp, ...rest }) => rest)).toEqual([
    {
      name: 'pd',
      version: '1',
      from_stage: 'None',
      to_stage: 'Production',
      user: 'admin',
      reason: 'first model',
    },
    {
      name: 'pd',
      version: '2',
      from_stage: 'None',
      to_stage: 'Production',
      user: 'admin',
      reason: 'beats version 1',
    },
    {
      name: 'pd',
      version: '1',
      from_stage: 'Production',
      to_stage: 'Archived',
      user: 'admin',
      reason: expect.stringContaining('2'),
    },
  ]);
  for (const entry of transitions) expect(typeof entry.timestamp).toBe('number');

  const one = await app.inject({
    url: '/api/onset/registry/stage-history?name=pd&version=2',
    headers: ADMIN,
  });
  expect((one.json() as { transitions: unknown[] }).transitions).toHaveLength(1);
});

it('answers 404 for a model or version that does not exist, and 401 without the admin token', async () => {
  const model = await app.inject({ url: '/api/onset/registry/stage-history?name=nope', headers: ADMIN });
  expect(model.statusCode).toBe(404);
  expect(model.json()).toMatchObject({ error_code: 'RESOURCE_DOES_NOT_EXIST' });
  const version = await app.inject({
    url: '/api/onset/registry/stage-history?name=pd&version=9',
    headers: ADMIN,
  });
  expect(version.statusCode).toBe(404);
  const bare = await app.inject({ url: '/api/onset/registry/stage-history?name=pd' });
  expect(bare.statusCode).toBe(401);
  const missing = await app.inject({ url: '/api/onset/registry/stage-history', headers: ADMIN });
  expect(missing.statusCode).toBe(400);
});

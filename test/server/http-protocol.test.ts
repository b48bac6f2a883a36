/**
 * What the server answers a request it cannot take, as a new user sends them: a form or no content type
 * (415, saying to send JSON), a method its path does not take (405 with `Allow`), a batch over its limit
 * (a reason from the documented list); and the headers of the pages a browser opens over plain HTTP.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_REASONS } from '../../src/http/error-answer.js';
import { OnsetMetrics } from '../../src/monitoring/metrics.js';
import { PipelineService } from '../../src/pipelines/pipeline-service.js';
import { buildApp } from '../../src/server/app.js';
import { LiveModel } from '../../src/serving/live-model.js';
import { useTemporaryStores } from '../support/stores.js';

const temporary = useTemporaryStores('http-protocol');
let app: FastifyInstance;
let service: PipelineService;
const metrics = new OnsetMetrics({ processMetrics: false });

beforeAll(async () => {
  const { stores } = temporary;
  service = new PipelineService({ stores });
  const live = new LiveModel('models:/nothing-yet/Production', stores, { pollMs: 0 });
  app = await buildApp({
    ...stores,
    metrics,
    pipelines: { service, store: stores.pipelines },
    serving: { live, batchLimit: 2 },
    trustedProxies: ['127.0.0.1'],
  });
});
afterAll(async () => {
  await app?.close();
  await service?.close();
});

describe('content types', () => {
  it.each([
    ['a form', { 'content-type': 'application/x-www-form-urlencoded' }, 'Age=71&Gender=0'],
    ['plain text', { 'content-type': 'text/plain' }, '{"data": {}}'],
    ['no content type', {}, '{"data": {}}'],
  ])('answers %s with 415 and says to send JSON', async (_what, headers, payload) => {
    for (const url of ['/predict', '/predict/batch', '/api/2.0/mlflow/experiments/create']) {
      const response = await app.inject({ method: 'POST', url, headers, payload });
      expect(response.statusCode).toBe(415);
      expect(response.json()).toEqual({
        error_code: 'BAD_REQUEST',
        message: expect.stringMatching(
          /^Unsupported Media Type: .+; send the body as JSON with the header Content-Type: application\/json$/,
        ),
      });
    }
  });

  it('names the content type it was sent, or that there was none', async () => {
    const form = await app.inject({
      method: 'POST',
      url: '/predict',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'Age=71',
    });
    expect(form.json().message).toContain('Content-Type "application/x-www-form-urlencoded"');
    const none = await app.inject({ method: 'POST', url: '/predict', payload: 'Age=71' });
    expect(none.json().message).toContain('no Content-Type header');
  });
});

describe('methods', () => {
  it.each([
    ['GET', '/predict', 'POST'],
    ['GET', '/predict/batch', 'POST'],
    ['GET', '/explain', 'POST'],
    ['PUT', '/predict?explain=true', 'POST'],
    ['POST', '/health', 'GET, HEAD'],
    ['DELETE', '/ready', 'GET, HEAD'],
    ['GET', '/api/2.0/mlflow/experiments/create', 'POST'],
    ['POST', '/api/2.0/mlflow/runs/get', 'GET, HEAD'],
  ])('answers %s %s with 405 and Allow: %s', async (method, url, allow) => {
    const response = await app.inject({ method: method as 'GET', url });
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe(allow);
    // MLflow's code for "no such endpoint", which its clients read to fall back to another one.
    expect(response.json()).toEqual({
      error_code: 'ENDPOINT_NOT_FOUND',
      message: `Method ${method} is not allowed on ${url.split('?')[0]}; it takes ${allow}`,
    });
  });

  it('still answers 404 for a path no route has, and counts 405s apart', async () => {
    const response = await app.inject({ method: 'GET', url: '/no/such/route' });
    expect(response.statusCode).toBe(404);
    expect(response.headers.allow).toBeUndefined();
    expect((await app.inject({ method: 'GET', url: '/predictions' })).statusCode).toBe(404);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^onset_http_requests_total\{route="unmatched",method="GET",status="405"\} \d+$/m);
    expect(text).toMatch(/^onset_http_requests_total\{route="unmatched",method="GET",status="404"\} \d+$/m);
  });
});

describe('the reasons of a refusal', () => {
  /** The reasons docs/http-api.md lists (the bullet list after "Every reason"). */
  function documentedReasons(): string[] {
    const text = readFileSync(new URL('../../docs/http-api.md', import.meta.url), 'utf8');
    const section = text.slice(text.indexOf('<!-- reasons -->'), text.indexOf('<!-- /reasons -->'));
    return [...section.matchAll(/^- `([a-z_]+)`/gm)].map((match) => match[1]!);
  }

  it('documents every reason an answer can give, and no other', () => {
    expect(documentedReasons().sort()).toEqual(Object.keys(PROBLEM_REASONS).sort());
  });

  it('gives a batch over its limit, and an empty one, a documented reason', async () => {
    const record = { data: {} };
    const tooMany = await app.inject({
      method: 'POST',
      url: '/predict/batch',
      payload: { records: [record, record, record] },
    });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().errors).toEqual([
      { field: 'records', message: 'must have at most 2 item(s)', reason: 'too_many' },
    ]);
    const empty = await app.inject({ method: 'POST', url: '/predict/batch', payload: { records: [] } });
    expect(empty.json().errors).toEqual([
      { field: 'records', message: 'must have at least 1 item(s)', reason: 'too_few' },
    ]);
    const documented = documentedReasons();
    for (const answer of [tooMany, empty])
      for (const problem of answer.json().errors) expect(documented).toContain(problem.reason);
  });
});

describe('the pages a browser opens', () => {
  it('asks no browser to upgrade /docs to HTTPS, and loads its files from this origin only', async () => {
    const page = await app.inject({ url: '/docs' });
    const policy = String(page.headers['content-security-policy']);
    expect(policy).not.toContain('upgrade-insecure-requests');
    expect(policy).toContain("default-src 'self'");
    expect(policy).not.toMatch(/https:/);
  });

  it('sends Cross-Origin-Opener-Policy over HTTPS only (browsers refuse it from plain HTTP, loudly)', async () => {
    const plain = await app.inject({ url: '/docs/json' });
    expect(plain.headers['cross-origin-opener-policy']).toBeUndefined();
    const proxied = await app.inject({
      url: '/docs/json',
      remoteAddress: '127.0.0.1',
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(proxied.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(proxied.headers['x-frame-options']).toBe('SAMEORIGIN');
  });
});

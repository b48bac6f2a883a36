import { Worker } from 'node:worker_threads';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../../src/data/generator/generator.js';
import { FEATURE_NAMES } from '../../src/data/schema.js';
import { buildApp } from '../../src/server/app.js';
import { LiveModel } from '../../src/serving/live-model.js';
import { trainAndPromote } from '../support/registry.js';
import { useTemporaryStores } from '../support/stores.js';

const temporary = useTemporaryStores('load-shedding');
const NAME = 'shed';
const data = generateDataset({ rows: 1000, seed: 41 });
const records = Array.from({ length: 1000 }, (_, i) => ({
  patient_id: `P${i}`,
  data: Object.fromEntries(FEATURE_NAMES.map((name) => [name, data.columns[name][i]!])),
}));
const BATCHES = 200;

let app: FastifyInstance;
const routes: RouteOptions[] = [];
let address: string;

beforeAll(async () => {
  const { stores } = temporary;
  await trainAndPromote(stores, NAME, data, { n_estimators: 50, max_depth: 4 });
  const live = new LiveModel(`models:/${NAME}/Production`, stores, { pollMs: 0 });
  await live.start();
  app = await buildApp({
    ...stores,
    pipelines: undefined,
    serving: { live },
    onRoute: (r) => routes.push(r),
  });
  address = await app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await app?.close();
});

interface StormResult {
  readonly status: number;
  readonly retryAfter: string | null;
  readonly body: string;
}

/**
 * The storm's clients run on a thread of their own, so that building and reading 200 large bodies does
 * not delay the server's event loop (which the probes measure) any more than a remote client would.
 */
const STORM = `
const { request } = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const { url, count } = workerData;
const body = Buffer.from(workerData.body);
const requests = Array.from({ length: count }, () => {
  const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length } });
  const answer = new Promise((resolve) => {
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, retryAfter: res.headers['retry-after'] ?? null, body: res.statusCode === 200 ? '' : Buffer.concat(chunks).toString().slice(0, 300) }));
    });
    req.on('error', (error) => resolve({ status: 0, retryAfter: null, body: String(error) }));
  });
  const sent = new Promise((resolve) => req.once('socket', (socket) => socket.once('connect', resolve)));
  req.flushHeaders();
  return { req, answer, sent };
});
// Every request's headers first, then (once the server has had time to read them) the bodies: all are in
// flight at once, however slow this thread.
Promise.all(requests.map((r) => r.sent))
  .then(() => new Promise((resolve) => setTimeout(resolve, 500)))
  .then(() => {
    for (const { req } of requests) req.end(body);
    return Promise.all(requests.map((r) => r.answer));
  })
  .then((results) => parentPort.postMessage(results));
`;

function storm(url: string, body: string, count: number): Promise<readonly StormResult[]> {
  const worker = new Worker(STORM, { eval: true, workerData: { url, body, count } });
  return new Promise((resolve, reject) => {
    worker.once('message', (results: StormResult[]) => {
      void worker.terminate();
      resolve(results);
    });
    worker.once('error', reject);
  });
}

/** The slowest answer of `url` (ms) while `until` is pending, asked one after another. */
async function slowest(
  until: Promise<unknown>,
  ask: () => Promise<Response>,
): Promise<{ max: number; n: number }> {
  let done = false;
  void until.finally(() => {
    done = true;
  });
  let max = 0;
  let n = 0;
  while (!done) {
    const started = performance.now();
    const response = await ask();
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    max = Math.max(max, performance.now() - started);
    n++;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { max, n };
}

describe('a storm of batches', () => {
  it(`keeps /health and /predict answering within 1 s under ${BATCHES} concurrent batches of 1,000 records, shedding the excess with 503 and retry-after`, async () => {
    const body = JSON.stringify({ records });
    const started = performance.now();
    const results = storm(`${address}/predict/batch`, body, BATCHES);
    const single = JSON.stringify(records[0]);
    const [health, predict] = await Promise.all([
      slowest(results, () => fetch(`${address}/health`)),
      slowest(results, () =>
        fetch(`${address}/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: single,
        }),
      ),
    ]);
    const answers = await results;
    const elapsed = performance.now() - started;
    const statuses = new Map<number, number>();
    for (const { status } of answers) statuses.set(status, (statuses.get(status) ?? 0) + 1);
    console.log(
      `storm: ${elapsed.toFixed(0)} ms; statuses ${JSON.stringify([...statuses])}; /health slowest ${health.max.toFixed(0)} ms of ${health.n}; /predict slowest ${predict.max.toFixed(0)} ms of ${predict.n}`,
    );
    expect(health.n).toBeGreaterThan(0);
    expect(health.max).toBeLessThan(1_000);
    expect(predict.max).toBeLessThan(1_000);
    const shed = answers.filter((a) => a.status === 503);
    expect(shed.length).toBeGreaterThan(0);
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThan(0);
    for (const answer of shed) {
      expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(JSON.parse(answer.body)).toMatchObject({ error_code: 'TEMPORARILY_UNAVAILABLE' });
    }
    expect(answers.filter((a) => a.status !== 200 && a.status !== 503)).toEqual([]);
  }, 120_000);

  it('limits the batch and explanation routes with hooks, and leaves /predict without any', () => {
    const hooks = (url: string) => {
      const route = routes.find((r) => r.url === url && r.method === 'POST')!;
      return [route.onRequest, route.preHandler].filter((hook) => hook !== undefined).length;
    };
    expect(hooks('/predict/batch')).toBe(2);
    expect(hooks('/explain')).toBe(2);
    expect(hooks('/predict')).toBe(0);
  });
});

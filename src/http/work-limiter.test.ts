import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { isOnsetError } from '../errors.js';
import { errorAnswer } from './error-answer.js';
import { WorkLimiter } from './work-limiter.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
});

/** An app whose `/work` (hooks) and `/late` (`admit` in the handler) hold their turn until `release()`. */
async function serve(limiter: WorkLimiter) {
  const gates: (() => void)[] = [];
  const started: string[] = [];
  const work = async (name: string) => {
    started.push(name);
    await new Promise<void>((resolve) => gates.push(resolve));
    return { name };
  };
  app = Fastify();
  app.setErrorHandler((error, _request, reply) =>
    isOnsetError(error) ? reply.status(error.httpStatus).send(errorAnswer(error)) : reply.send(error),
  );
  app.post<{ Body: { name: string } }>(
    '/work',
    { onRequest: limiter.onRequest, preHandler: limiter.preHandler },
    ({ body }) => work(body.name),
  );
  app.post<{ Body: { name: string } }>('/late', async ({ body }, reply) => {
    await limiter.admit(reply);
    return work(body.name);
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  const post = (url: string, name: string, signal?: AbortSignal) =>
    fetch(`${address}${url}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
      ...(signal ? { signal } : {}),
    });
  const settle = () => new Promise((resolve) => setTimeout(resolve, 100));
  return { post, started, settle, release: () => gates.shift()?.() };
}

describe('WorkLimiter', () => {
  it('works on `concurrency` requests, queues `queue` more in order, and refuses the rest with 503 and retry-after', async () => {
    const { post, started, settle, release } = await serve(
      new WorkLimiter({ concurrency: 1, queue: 1, what: 'tests' }),
    );
    const first = post('/work', 'first');
    await settle();
    const second = post('/late', 'second');
    await settle();
    const refused = await post('/work', 'third');
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await refused.json()).toEqual({
      error_code: 'TEMPORARILY_UNAVAILABLE',
      message: expect.stringMatching(/^Too many tests at once \(1 running, 1 waiting\): retry after \d+ s$/),
    });
    expect(started).toEqual(['first']);
    release();
    expect((await first).status).toBe(200);
    await settle();
    expect(started).toEqual(['first', 'second']);
    release();
    expect(await (await second).json()).toEqual({ name: 'second' });
  });

  it('gives the place of a client that gives up while waiting to the next', async () => {
    const { post, started, settle, release } = await serve(
      new WorkLimiter({ concurrency: 1, queue: 1, what: 'tests' }),
    );
    const first = post('/work', 'first');
    await settle();
    const abort = new AbortController();
    const gone = post('/work', 'gone', abort.signal).catch(() => 'aborted');
    await settle();
    abort.abort();
    expect(await gone).toBe('aborted');
    await settle();
    const next = post('/work', 'next');
    await settle();
    release();
    await first;
    await settle();
    release();
    expect((await next).status).toBe(200);
    expect(started).toEqual(['first', 'next']);
  });
});

import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { forwardingServer } from '../../src/server/forward.js';

/** Servers to close after each test. */
const open: Server[] = [];
afterEach(async () => {
  for (const server of open.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function listen(server: Server): Promise<number> {
  open.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** The primary's side: answers with what it received, or streams two events a beat apart. */
function primary(): Server {
  return createServer((incoming, outgoing) => {
    if (incoming.url === '/events') {
      outgoing.writeHead(200, { 'content-type': 'text/event-stream' });
      outgoing.write('data: first\n\n');
      setTimeout(() => outgoing.end('data: second\n\n'), 300);
      return;
    }
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      outgoing.writeHead(201, { 'content-type': 'application/json', 'x-from': 'primary' });
      outgoing.end(
        JSON.stringify({
          method: incoming.method,
          url: incoming.url,
          forwardedFor: incoming.headers['x-forwarded-for'],
          authorization: incoming.headers.authorization,
          connection: incoming.headers.connection,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
  });
}

/** A worker's server: its own handler answers `handled` (the prediction routes), the rest is passed on. */
async function worker(target: string | undefined, trusted: readonly string[] = []): Promise<string> {
  const factory = forwardingServer(() => (target === undefined ? undefined : new URL(target)), trusted);
  const server = factory(
    (_incoming, outgoing) => {
      outgoing.writeHead(200, { 'content-type': 'text/plain' });
      outgoing.end('handled');
    },
    { keepAliveTimeout: 5_000, requestTimeout: 10_000, connectionTimeout: 0 },
  ) as Server;
  return `http://127.0.0.1:${await listen(server)}`;
}

describe("a cluster worker's server", () => {
  it('answers the prediction routes itself and passes everything else on, body, status and headers', async () => {
    const upstream = `http://127.0.0.1:${await listen(primary())}`;
    const address = await worker(upstream);
    for (const path of ['/predict', '/predict/batch?explain=true', '/ready', '/metrics', '/feedback']) {
      expect(await (await fetch(`${address}${path}`, { method: 'POST', body: '{}' })).text()).toBe('handled');
    }
    const answer = await fetch(`${address}/api/2.0/mlflow/runs/create?x=1`, {
      method: 'POST',
      headers: {
        authorization: 'Bearer token',
        'content-type': 'application/json',
        'x-forwarded-for': '6.6.6.6',
      },
      body: JSON.stringify({ experiment_id: '0' }),
    });
    expect(answer.status).toBe(201);
    expect(answer.headers.get('x-from')).toBe('primary');
    const seen = (await answer.json()) as Record<string, string>;
    expect(seen).toMatchObject({
      method: 'POST',
      url: '/api/2.0/mlflow/runs/create?x=1',
      authorization: 'Bearer token',
      body: '{"experiment_id":"0"}',
    });
    // The client's own X-Forwarded-For is not believed (no trusted proxies): the primary is told the peer.
    expect(seen.forwardedFor).toBe('127.0.0.1');
  });

  it("believes a trusted proxy's X-Forwarded-For, as the worker's own app would", async () => {
    const upstream = `http://127.0.0.1:${await listen(primary())}`;
    const address = await worker(upstream, ['127.0.0.1']);
    const answer = await fetch(`${address}/api/onset/pipelines`, {
      headers: { 'x-forwarded-for': '10.1.2.3, 10.9.9.9' },
    });
    expect(((await answer.json()) as Record<string, string>).forwardedFor).toBe('10.9.9.9');
  });

  it('passes an event stream on as it is written, not when it ends', async () => {
    const upstream = `http://127.0.0.1:${await listen(primary())}`;
    const address = new URL(await worker(upstream));
    const firstAfter = await new Promise<{ ms: number; text: string }>((resolve, reject) => {
      const started = performance.now();
      request({ host: address.hostname, port: address.port, path: '/events' }, (answer) => {
        answer.once('data', (chunk: Buffer) => {
          resolve({ ms: performance.now() - started, text: chunk.toString() });
          answer.destroy();
        });
      })
        .on('error', reject)
        .end();
    });
    expect(firstAfter.text).toBe('data: first\n\n');
    expect(firstAfter.ms).toBeLessThan(250);
  });

  it('answers 503 with what happened when the primary cannot be reached', async () => {
    const unused = createServer();
    const port = await listen(unused);
    unused.close();
    open.splice(open.indexOf(unused), 1);
    const address = await worker(`http://127.0.0.1:${port}`);
    const answer = await fetch(`${address}/api/2.0/mlflow/experiments/search`);
    expect(answer.status).toBe(503);
    expect(await answer.json()).toMatchObject({
      error_code: 'TEMPORARILY_UNAVAILABLE',
      message: expect.stringContaining(
        "GET /api/2.0/mlflow/experiments/search is answered by the platform's primary process, which cannot be reached",
      ),
    });
    // Before the platform has started, the same, saying so.
    const early = await fetch(`${await worker(undefined)}/api/onset/pipelines`);
    expect(early.status).toBe(503);
    expect(((await early.json()) as { message: string }).message).toContain('is still starting');
  });
});

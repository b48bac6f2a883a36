import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { startServer } from '../../src/server/server.js';

const home = mkdtempSync(join(tmpdir(), 'onset-graceful-stop-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('stopping a server', () => {
  it('answers a request in flight on a keep-alive connection, then closes it at once (not after the keep-alive timeout)', async () => {
    const server = await startServer(resolveConfig({ home, port: 0 }, {}), {
      pipelines: false,
      logger: false,
    });
    const { port } = new URL(server.address);
    const body = JSON.stringify({ patient_id: 'P-1', data: {} });
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString();
    });
    const closed = new Promise((resolve) => socket.once('close', resolve));
    // Headers and half the body: the request is in flight when the server is told to stop.
    socket.write(
      `POST /predict HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = performance.now();
    const stopping = server.stop();
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.write(body.slice(10));
    await stopping;
    await closed;
    expect(received).toMatch(/^HTTP\/1\.1 (400|503) /);
    expect(performance.now() - started).toBeLessThan(5_000);
  }, 30_000);
});

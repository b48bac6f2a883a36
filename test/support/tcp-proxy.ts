/**
 * A TCP proxy for fault tests, between a client and a real server (s3rver, PostgreSQL): it forwards every
 * byte both ways, and on demand delays each chunk by a latency (a slow network or server: every byte comes
 * that much later, but they keep flowing) or holds them all (a server that accepted the connection and went
 * silent). Order is always kept.
 *
 * ```ts
 * const proxy = await startTcpProxy(targetPort);
 * proxy.delay(300); // every chunk, each way, 300 ms late
 * proxy.stall();    // nothing goes through until delay() is called again
 * await proxy.close();
 * ```
 */
import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface TcpProxy {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Connections accepted so far. */
  connections(): number;
  /** Delivers every chunk, each way, `ms` after it arrived (0: straight through); releases what `stall` held. */
  delay(ms: number): void;
  /** Holds every chunk, each way, until `delay` is called. */
  stall(): void;
  /** Closes the listener and every connection. */
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  let delayMs = 0;
  let stalled = false;
  let held: (() => void)[] = [];
  let accepted = 0;
  const sockets = new Set<Socket>();

  /** Resolves when a chunk that arrived at `arrived` may go on: at once, after the delay, or when a stall ends. */
  async function gate(arrived: number): Promise<void> {
    if (stalled) await new Promise<void>((resolve) => held.push(resolve));
    const wait = arrived + delayMs - Date.now();
    if (wait > 0) await sleep(wait);
  }

  function setDelay(ms: number): void {
    delayMs = ms;
    stalled = false;
    const waiting = held;
    held = [];
    for (const release of waiting) release();
  }

  /** Forwards `from` to `to` chunk by chunk, each through the gate, in order; the end goes last. */
  function forward(from: Socket, to: Socket): void {
    let chain = Promise.resolve();
    from.on('data', (chunk: Buffer) => {
      const arrived = Date.now();
      chain = chain
        .then(() => gate(arrived))
        .then(() => {
          if (!to.destroyed) to.write(chunk);
        });
    });
    from.on('end', () => {
      chain = chain.then(() => {
        if (!to.destroyed) to.end();
      });
    });
  }

  const server = createServer((client) => {
    accepted++;
    const upstream = createConnection({ port: targetPort, host: targetHost });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      // A reset on either side ends both: the other side sees the connection drop, as it would.
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    forward(client, upstream);
    forward(upstream, client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => accepted,
    delay: setDelay,
    stall() {
      stalled = true;
    },
    async close() {
      setDelay(0);
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

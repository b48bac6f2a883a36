import {
  Agent,
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import proxyAddr from '@fastify/proxy-addr';
import type { FastifyServerFactory } from 'fastify';

/**
 * The routes a cluster's workers answer themselves (see `cluster-primary.ts`): the prediction API, the
 * feedback that labels what they logged, and the operations routes (each worker's /health and /ready;
 * /metrics, which the worker gets from the primary for the whole cluster). Every other route (tracking,
 * registry, artifacts, pipelines, checks, alerts, docs, the web UI) is the primary's.
 */
export const WORKER_PATHS: ReadonlySet<string> = new Set([
  '/predict',
  '/predict/batch',
  '/explain',
  '/ready',
  '/model',
  '/schema',
  '/feedback',
  '/health',
  '/metrics',
]);

/** Headers that belong to one connection, not to the request or answer passed on. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'upgrade',
]);

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** Fastify's server options the factory applies to the server it makes, as Fastify does to its own. */
interface ServerSettings {
  readonly http?: Parameters<typeof createServer>[0];
  readonly keepAliveTimeout?: number;
  readonly requestTimeout?: number;
  readonly connectionTimeout?: number;
}

/**
 * A Fastify `serverFactory` for a cluster's worker: the HTTP server answers `WORKER_PATHS` through the
 * worker's app and passes every other request on to the primary's app at `target()` (undefined while it
 * starts: those requests get 503 meanwhile), streaming both ways
 * (uploads, downloads and event streams as they come). The primary is told who the client is in
 * `X-Forwarded-For`, worked out here as the worker's own app would (`trustedProxies`' forwarded headers
 * are believed, nobody else's), and believes it from loopback only.
 */
export function forwardingServer(
  target: () => URL | undefined,
  trustedProxies: readonly string[],
): FastifyServerFactory {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const trust = proxyAddr.compile([...trustedProxies]);
  const unavailable = (incoming: IncomingMessage, outgoing: ServerResponse, why: string) => {
    outgoing.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '1' });
    outgoing.end(
      JSON.stringify({
        error_code: 'TEMPORARILY_UNAVAILABLE',
        message: `${incoming.method} ${incoming.url?.split('?')[0]} is answered by the platform's primary process, which ${why}; try again`,
      }),
    );
  };
  const forward: Handler = (incoming, outgoing) => {
    const platform = target();
    if (!platform) {
      // Its body is not read: the connection closes after the answer.
      outgoing.shouldKeepAlive = false;
      unavailable(incoming, outgoing, 'is still starting');
      return;
    }
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(incoming.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    }
    headers['x-forwarded-for'] = proxyAddr(incoming, trust);
    const upstream = request(
      {
        host: platform.hostname,
        port: platform.port,
        method: incoming.method,
        path: incoming.url,
        headers,
        agent,
      },
      (answer) => {
        const passed: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(answer.headers)) {
          if (value !== undefined && !HOP_BY_HOP.has(name)) passed[name] = value;
        }
        outgoing.writeHead(answer.statusCode ?? 502, answer.statusMessage, passed);
        // Each chunk as it comes: a pipeline's event stream is read while it is written.
        outgoing.flushHeaders();
        answer.pipe(outgoing);
      },
    );
    upstream.on('error', () => {
      if (outgoing.headersSent) {
        outgoing.destroy();
        return;
      }
      unavailable(incoming, outgoing, 'cannot be reached (it is stopping)');
    });
    // A client that goes away (a closed event stream) ends the request it made.
    outgoing.on('close', () => {
      if (!outgoing.writableFinished) upstream.destroy();
    });
    incoming.pipe(upstream);
  };
  return (handler, options) => {
    const settings = options as ServerSettings;
    const server: Server = createServer(settings.http ?? {}, (incoming, outgoing) => {
      const path = incoming.url === undefined ? '' : incoming.url.split('?', 1)[0]!;
      if (WORKER_PATHS.has(path)) handler(incoming, outgoing);
      else forward(incoming, outgoing);
    });
    if (settings.keepAliveTimeout !== undefined) server.keepAliveTimeout = settings.keepAliveTimeout;
    if (settings.requestTimeout !== undefined) server.requestTimeout = settings.requestTimeout;
    server.setTimeout(settings.connectionTimeout ?? 0);
    return server;
  };
}

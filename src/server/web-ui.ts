import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * The web UI: the static files `npm run build` makes from `web/` (into `dist/web/`), served by `onset up`
 * at `/`. Its pages are routed in the browser, so the server answers each page's path with the index page
 * (`UI_PAGES`, `UI_DEEP_PAGES`); any other path a browser opens as a page gets the index page too, with 404, and the UI
 * says there is no such page, while an API client (not asking for HTML) keeps getting JSON errors. The
 * files are read once, at start (a few hundred KB), and served from memory, gzipped when the browser
 * takes it; the UI talks to the server only through the documented APIs.
 */

/** The UI's pages without parameters: each is answered with the index page. */
export const UI_PAGES = [
  '/',
  '/experiments',
  '/compare',
  '/models',
  '/score',
  '/pipelines',
  '/monitoring',
] as const;

/** The UI's pages with parameters (a run, a model version, a pipeline run), by their first segment. */
export const UI_DEEP_PAGES = [
  '/experiments/*',
  '/runs/*',
  '/models/*',
  '/pipelines/*',
  '/pipeline-runs/*',
] as const;

/** The routes the UI adds: its pages and its files (hidden from `/docs`, public). */
export const UI_ROUTES: readonly string[] = [...UI_PAGES, ...UI_DEEP_PAGES, '/assets/*'];

/** Paths that belong to the APIs: never answered with a page, whatever the client accepts. */
const API_PATH = /^\/(api|ajax-api|docs|assets)(\/|$)/;

/**
 * The content security policy of the UI: everything from this origin, nothing inline (Vite emits the
 * scripts and styles as files; the charts set styles through the DOM, which a policy allows), no
 * framing, no plugins, and no `upgrade-insecure-requests`, so that it works over plain HTTP at any host
 * name (see the `/docs` policy in app.ts).
 */
export const UI_CSP = [
  "default-src 'self'",
  "base-uri 'none'",
  "connect-src 'self'",
  "font-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "img-src 'self' data: blob:",
  "manifest-src 'self'",
  "object-src 'none'",
  "script-src 'self'",
  "script-src-attr 'none'",
  "style-src 'self'",
  "worker-src 'self'",
].join('; ');

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

const COMPRESSIBLE = /^(text\/|application\/json|image\/svg)/;

interface UiFile {
  readonly body: Buffer;
  readonly gzipped: Buffer | undefined;
  readonly contentType: string;
}

/** The UI's files, read into memory; `built` is false when `dist/web` has not been built. */
export interface WebUiFiles {
  readonly built: boolean;
  readonly root: string;
  readonly index: UiFile;
  /** By path under the root, with `/` separators (`assets/index-1a2b3c.js`). */
  readonly files: ReadonlyMap<string, UiFile>;
}

function uiFile(body: Buffer, path: string): UiFile {
  const contentType = CONTENT_TYPES[extname(path)] ?? 'application/octet-stream';
  const gzipped =
    COMPRESSIBLE.test(contentType) && body.length > 1024 ? gzipSync(body, { level: 9 }) : undefined;
  return { body, gzipped, contentType };
}

/** What `/` says when the UI was not built in this installation (from a source checkout, say). */
const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Onset</title></head>
<body><h1>The Onset web UI is not built</h1>
<p>This installation has no <code>dist/web</code>: run <code>npm run build</code> (or <code>npm install</code>) and start Onset again.
The APIs work without it: see <a href="/docs">/docs</a>.</p></body></html>
`;

async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split(sep).join('/'));
}

/** Reads the built UI from `root` (`dist/web`); a stand-in page that says how to build it when missing. */
export async function loadWebUi(root: string): Promise<WebUiFiles> {
  const built = await stat(join(root, 'index.html')).then(
    (found) => found.isFile(),
    () => false,
  );
  if (!built) {
    return { built, root, index: uiFile(Buffer.from(NOT_BUILT), 'index.html'), files: new Map() };
  }
  const files = new Map<string, UiFile>();
  for (const path of await filesUnder(root)) {
    files.set(path, uiFile(await readFile(join(root, path)), path));
  }
  return { built, root, index: files.get('index.html')!, files };
}

function acceptsGzip(request: FastifyRequest): boolean {
  return /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
}

function send(request: FastifyRequest, reply: FastifyReply, file: UiFile, cacheControl: string) {
  reply
    .header('content-type', file.contentType)
    .header('cache-control', cacheControl)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('vary', 'accept-encoding');
  if (file.contentType.startsWith('text/html')) reply.header('content-security-policy', UI_CSP);
  if (file.gzipped && acceptsGzip(request)) {
    return reply.header('content-encoding', 'gzip').send(file.gzipped);
  }
  return reply.send(file.body);
}

/** The index page, which routes in the browser: `status` 404 for a path that is no page of the UI. */
export function sendUiIndex(request: FastifyRequest, reply: FastifyReply, ui: WebUiFiles, status = 200) {
  // Always asked again: a new build has new asset names.
  return send(request, reply.status(status), ui.index, 'no-cache');
}

/**
 * Whether an unmatched request is a browser opening a page (a GET that accepts HTML, outside the APIs),
 * to be answered with the UI's index page rather than a JSON 404.
 */
export function wantsUiPage(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  if (API_PATH.test(request.url)) return false;
  return String(request.headers.accept ?? '').includes('text/html');
}

const PAGE_ROUTE = { config: { access: 'public' as const }, schema: { hide: true } };

/** The UI's routes (`UI_ROUTES`): its pages answer the index page, `/assets/*` its files. */
export async function webUiRoutes(app: FastifyInstance, ui: WebUiFiles): Promise<void> {
  for (const url of UI_ROUTES) {
    if (url === '/assets/*') continue;
    app.get(url, PAGE_ROUTE, (request, reply) => sendUiIndex(request, reply, ui));
  }
  app.get('/assets/*', PAGE_ROUTE, (request, reply) => {
    const path = `assets/${(request.params as { '*': string })['*']}`;
    const file = ui.files.get(path);
    if (!file) {
      return reply.status(404).send({ error_code: 'ENDPOINT_NOT_FOUND', message: `No UI file ${path}` });
    }
    // Vite names each file after its content: it never changes under that name.
    return send(request, reply, file, 'public, max-age=31536000, immutable');
  });
}

/**
 * The web UI as the server serves it (src/server/web-ui.ts): its pages answer the index page (deep links
 * load directly), its files come with long caching and gzip, every HTML answer carries the UI's content
 * security policy, and the APIs keep their JSON errors whatever a client accepts.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { WEB_UI_DIR } from '../../src/server/server.js';
import { loadWebUi, UI_CSP, UI_DEEP_PAGES, UI_PAGES } from '../../src/server/web-ui.js';
import { LiveModel } from '../../src/serving/live-model.js';
import { useTemporaryStores } from '../support/stores.js';

const temporary = useTemporaryStores('web-ui');
const HTML = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
let app: FastifyInstance;

beforeAll(async () => {
  const { stores } = temporary;
  const { tracking, registry, loggedModels, artifacts } = stores;
  app = await buildApp({
    tracking,
    registry,
    loggedModels,
    artifacts,
    serving: { live: new LiveModel('models:/not-registered/Production', stores, { pollMs: 0 }) },
    ui: await loadWebUi(WEB_UI_DIR),
  });
});
afterAll(async () => {
  await app?.close();
});

const index = () => readFileSync(join(WEB_UI_DIR, 'index.html'), 'utf8');

describe('the web UI at /', () => {
  it('answers every page, and a deep link to any of them, with the index page and its policy', async () => {
    const deep = UI_DEEP_PAGES.map((page) => page.replace('*', 'some/thing'));
    for (const url of [...UI_PAGES, ...deep, '/runs/0c8f1d2e3a4b5c6d7e8f90a1b2c3d4e5', '/experiments/1/']) {
      const answer = await app.inject({ url, headers: HTML });
      expect(answer.statusCode, url).toBe(200);
      expect(answer.headers['content-type'], url).toBe('text/html; charset=utf-8');
      expect(answer.headers['content-security-policy'], url).toBe(UI_CSP);
      expect(answer.headers['cache-control'], url).toBe('no-cache');
      expect(answer.headers['x-content-type-options'], url).toBe('nosniff');
      expect(answer.body, url).toBe(index());
    }
  });

  it("serves the build's files, named by their content, cached for good and gzipped when asked", async () => {
    const assets = readdirSync(join(WEB_UI_DIR, 'assets'));
    const script = assets.find((name) => name.endsWith('.js'))!;
    expect(index()).toContain(`/assets/${script}`);
    const plain = await app.inject({ url: `/assets/${script}` });
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.rawPayload.equals(readFileSync(join(WEB_UI_DIR, 'assets', script)))).toBe(true);
    const gzipped = await app.inject({
      url: `/assets/${script}`,
      headers: { 'accept-encoding': 'gzip, br' },
    });
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gzipped.headers.vary).toBe('accept-encoding');
    expect(gunzipSync(gzipped.rawPayload).equals(plain.rawPayload)).toBe(true);
    expect(gzipped.rawPayload.length).toBeLessThan(plain.rawPayload.length / 2);

    const missing = await app.inject({ url: '/assets/index-00000000.js', headers: HTML });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error_code: 'ENDPOINT_NOT_FOUND' });
  });

  it('answers a page the UI does not have with the index page and 404, and an API client with JSON', async () => {
    const page = await app.inject({ url: '/no/such/page', headers: HTML });
    expect(page.statusCode).toBe(404);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toBe(UI_CSP);
    expect(page.body).toBe(index());

    const client = await app.inject({ url: '/no/such/page' });
    expect(client.statusCode).toBe(404);
    expect(client.json()).toEqual({
      error_code: 'ENDPOINT_NOT_FOUND',
      message: 'No endpoint GET /no/such/page',
    });

    // The APIs' paths stay JSON even for a browser, and a method a path does not take stays 405.
    for (const url of [
      '/api/2.0/mlflow/no-such-endpoint',
      '/ajax-api/2.0/mlflow/nothing',
      '/api/onset/nothing',
    ]) {
      const api = await app.inject({ url, headers: HTML });
      expect(api.statusCode, url).toBe(404);
      expect(api.json(), url).toMatchObject({ error_code: 'ENDPOINT_NOT_FOUND' });
    }
    const predict = await app.inject({ url: '/predict', headers: HTML });
    expect(predict.statusCode).toBe(405);
    expect(predict.headers.allow).toBe('POST');
    const posted = await app.inject({ method: 'POST', url: '/no/such/page', headers: HTML, payload: {} });
    expect(posted.statusCode).toBe(404);
    expect(posted.json()).toMatchObject({ error_code: 'ENDPOINT_NOT_FOUND' });
  });

  it('says how to build the UI when an installation has none, and serves the APIs all the same', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'onset-no-ui-'));
    try {
      const ui = await loadWebUi(join(empty, 'web'));
      expect(ui.built).toBe(false);
      const { tracking, registry, loggedModels, artifacts } = temporary.stores;
      const bare = await buildApp({ tracking, registry, loggedModels, artifacts, ui });
      const answer = await bare.inject({ url: '/', headers: HTML });
      expect(answer.statusCode).toBe(200);
      expect(answer.body).toContain('npm run build');
      expect(answer.headers['content-security-policy']).toBe(UI_CSP);
      expect((await bare.inject({ url: '/health' })).statusCode).toBe(200);
      await bare.close();

      // A build with files in folders is read whole.
      mkdirSync(join(empty, 'web/assets/fonts'), { recursive: true });
      writeFileSync(join(empty, 'web/index.html'), '<!doctype html><title>x</title>');
      writeFileSync(join(empty, 'web/assets/fonts/a.woff2'), Buffer.from([1, 2, 3]));
      const built = await loadWebUi(join(empty, 'web'));
      expect(built.built).toBe(true);
      expect([...built.files.keys()].sort()).toEqual(['assets/fonts/a.woff2', 'index.html']);
      expect(built.files.get('assets/fonts/a.woff2')?.contentType).toBe('font/woff2');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

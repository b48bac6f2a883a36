import type { AddressInfo } from 'node:net';
import type { FastifyInstance, RouteOptions } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retrainPipeline } from '../../src/monitoring/retrain-pipeline.js';
import { BUILT_IN_PIPELINES } from '../../src/pipelines/builtin/catalog.js';
import { PipelineService } from '../../src/pipelines/pipeline-service.js';
import { buildApp } from '../../src/server/app.js';
import { WEB_UI_DIR } from '../../src/server/server.js';
import { loadWebUi } from '../../src/server/web-ui.js';
import { LiveModel } from '../../src/serving/live-model.js';
import { CHROMIUM_MISSING, hasChromium, INSECURE_HOST, launchChromium } from '../support/browser.js';
import { alertsOf, monitoringWithoutModel } from '../support/monitoring.js';
import { useTemporaryStores } from '../support/stores.js';

/**
 * Every HTML page the server serves, opened in a real browser (Debian's Chromium through playwright-core)
 * over plain HTTP, at 127.0.0.1 and at a host name Chromium does not treat as a secure origin (still on
 * loopback): the page must render its content, with no console error and no failed request. A page added
 * to the server is added to `PAGES`.
 */
interface PageCheck {
  readonly path: string;
  /** What shows that the page rendered (a CSS selector), with the text it must hold. */
  readonly rendered: { readonly selector: string; readonly text: string | RegExp };
}

const PAGES: readonly PageCheck[] = [
  // Swagger UI renders one block per operation once it has fetched and read /docs/json.
  { path: '/docs', rendered: { selector: '.opblock-summary-path', text: '/predict' } },
  // The web UI's pages (web/), each once it has loaded what it shows from the APIs; deep links and
  // real data are in test/web/ui.test.ts.
  { path: '/', rendered: { selector: '#pipeline-runs td.empty', text: 'No pipeline has run yet' } },
  { path: '/experiments', rendered: { selector: 'main td a', text: 'Default' } },
  { path: '/compare', rendered: { selector: 'main p', text: /Select runs/ } },
  { path: '/models', rendered: { selector: 'main td.empty', text: /No registered model/ } },
  { path: '/score', rendered: { selector: 'main legend', text: 'Demographics' } },
  { path: '/pipelines', rendered: { selector: 'main td a', text: 'train-all' } },
  { path: '/monitoring', rendered: { selector: '#traffic p', text: /No prediction was logged/ } },
];

const SKIPPED = CHROMIUM_MISSING;
if (!hasChromium) console.warn(`pages-in-browser: ${SKIPPED}`);

const temporary = useTemporaryStores('pages');
let app: FastifyInstance;
let port: number;
let browser: Browser;
let service: PipelineService;
const routes: RouteOptions[] = [];

beforeAll(async () => {
  const { stores } = temporary;
  service = new PipelineService({
    stores,
    pipelines: [...BUILT_IN_PIPELINES, retrainPipeline(() => stores.predictionLog)],
  });
  const live = new LiveModel('models:/not-registered/Production', stores, { pollMs: 0 });
  app = await buildApp({
    ...stores,
    pipelines: { service, store: stores.pipelines },
    serving: { live },
    monitoring: monitoringWithoutModel(stores),
    alerts: alertsOf(stores, service),
    ui: await loadWebUi(WEB_UI_DIR),
    onRoute: (route) => routes.push(route),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as AddressInfo).port;
  if (!hasChromium) return;
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await service?.close();
});

it('lists every HTML page the server serves', async () => {
  // Every GET route without parameters, asked for its answer: those that answer HTML are pages.
  const paths = new Set(
    routes
      .filter((route) => [route.method].flat().includes('GET') && !/[:*]/.test(route.url))
      .map((route) => route.url.replace(/(.)\/$/, '$1')),
  );
  const pages: string[] = [];
  for (const path of paths) {
    const answer = await app.inject({ url: path });
    if (String(answer.headers['content-type']).startsWith('text/html')) pages.push(path);
  }
  expect(pages.sort()).toEqual(PAGES.map((page) => page.path).sort());
});

/**
 * Opens a page and collects what went wrong on the way: console errors, failed or refused requests, and
 * requests anywhere but the page's own origin (an https upgrade, a CDN, a validator badge).
 */
async function open(page: Page, origin: string, path: string): Promise<string[]> {
  const problems: string[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(`${origin}/`)) problems.push(`request elsewhere: ${request.url()}`);
  });
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) =>
    problems.push(`request failed: ${request.url()} (${request.failure()?.errorText ?? 'unknown'})`),
  );
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`request answered ${response.status()}: ${response.url()}`);
  });
  await page.goto(`${origin}${path}`, { waitUntil: 'networkidle' });
  return problems;
}

describe.skipIf(!hasChromium)(
  `the server pages in Chromium over plain HTTP${hasChromium ? '' : ` (${SKIPPED})`}`,
  () => {
    const hosts = ['127.0.0.1', INSECURE_HOST];
    for (const host of hosts) {
      for (const check of PAGES) {
        it(`renders ${check.path} at http://${host}`, async () => {
          const page = await browser.newPage();
          try {
            const problems = await open(page, `http://${host}:${port}`, check.path);
            const rendered = page.locator(check.rendered.selector).filter({ hasText: check.rendered.text });
            const shown = await rendered
              .first()
              .waitFor({ state: 'visible', timeout: 10_000 })
              .then(() => true)
              .catch(() => false);
            expect({ shown, problems }).toEqual({ shown: true, problems: [] });
          } finally {
            await page.close();
          }
        }, 30_000);
      }
    }
  },
);

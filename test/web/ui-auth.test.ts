/**
 * The web UI on a server that asks for credentials (ONSET_ADMIN_TOKEN, ONSET_API_KEY): the first refusal
 * opens a dialog that asks for them once, they are kept in the tab's sessionStorage only, pages load
 * with them, a wrong one gets the server's error where it happens, and they can be forgotten.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PipelineService } from '../../src/pipelines/pipeline-service.js';
import { buildApp } from '../../src/server/app.js';
import { WEB_UI_DIR } from '../../src/server/server.js';
import { loadWebUi } from '../../src/server/web-ui.js';
import { LiveModel } from '../../src/serving/live-model.js';
import { CHROMIUM_MISSING, hasChromium, launchChromium, watchProblems } from '../support/browser.js';
import { useTemporaryStores } from '../support/stores.js';

const ADMIN_TOKEN = 'ui-admin-t0ken';
const API_KEY = 'ui-api-k3y';
const temporary = useTemporaryStores('ui-auth');
let app: FastifyInstance;
let service: PipelineService;
let base: string;
let browser: Browser | undefined;

beforeAll(async () => {
  const { stores } = temporary;
  service = new PipelineService({ stores });
  await stores.registry.createRegisteredModel({ name: 'pd' });
  await stores.registry.createModelVersion({
    name: 'pd',
    source: 'runs:/x/model',
    storageLocation: null,
    files: null,
  });
  app = await buildApp({
    ...stores,
    adminToken: ADMIN_TOKEN,
    pipelines: { service, store: stores.pipelines },
    serving: { live: new LiveModel('models:/pd/Production', stores, { pollMs: 0 }), apiKey: API_KEY },
    ui: await loadWebUi(WEB_UI_DIR),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  if (hasChromium) browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await service?.close();
});

/** Refusals (401) are what this test provokes, and the 503 of a server with no model. */
const refusals = (_url: string, status: number) => status === 401 || status === 503;

async function fresh(path: string): Promise<{ page: Page; problems: string[] }> {
  const context = await browser!.newContext();
  const page = await context.newPage();
  const problems = watchProblems(page, base, refusals);
  await page.goto(`${base}${path}`);
  return { page, problems };
}

const dialog = (page: Page) => page.getByRole('dialog', { name: 'This server asks for credentials' });

describe.skipIf(!hasChromium)(
  `the web UI with credentials${hasChromium ? '' : ` (${CHROMIUM_MISSING})`}`,
  () => {
    it('asks once, keeps the token for the tab only, shows a wrong one’s refusal, and forgets it', async () => {
      const { page, problems } = await fresh('/models');
      await dialog(page).waitFor();
      expect(await dialog(page).textContent()).toMatch(/needs the admin token/);
      await page.getByLabel('Admin token').fill('wrong');
      await page.getByRole('button', { name: 'Use them' }).click();
      // A wrong token: the server's refusal where the models would be, and no second dialog by itself.
      await page.getByText('Could not read the registry').waitFor();
      expect(await page.getByRole('alert').textContent()).toMatch(
        /401 UNAUTHENTICATED[\s\S]*needs the admin token/,
      );
      expect(await dialog(page).isVisible()).toBe(false);
      await page.getByRole('button', { name: 'Enter the token' }).click();
      await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
      await page.getByRole('button', { name: 'Use them' }).click();
      await page.getByRole('link', { name: 'pd', exact: true }).waitFor();
      expect(await page.evaluate("sessionStorage.getItem('onset.credentials')")).toBe(
        JSON.stringify({ adminToken: ADMIN_TOKEN, apiKey: '' }),
      );
      expect(await page.evaluate('localStorage.length')).toBe(0);

      // Still there on another page of the tab; a write goes through with it.
      await page.goto(`${base}/models/pd/versions/1`);
      await page.getByLabel('Move to stage').selectOption('Staging');
      await page.getByRole('button', { name: 'Move' }).click();
      await page.getByText('Version 1 is now in Staging.').waitFor();
      expect((await temporary.stores.registry.getModelVersion('pd', '1')).currentStage).toBe('Staging');
      const history = await temporary.stores.registry.getStageHistory('pd', '1');
      expect(history.at(-1)?.user).toBe('admin');

      await page.getByRole('button', { name: 'Forget credentials' }).click();
      expect(await page.evaluate("sessionStorage.getItem('onset.credentials')")).toBeNull();
      await page.getByText(/Could not read pd version 1/).waitFor();
      expect(problems).toEqual([]);
      await page.context().close();
    }, 60_000);

    it('refuses a write without the token, saying what the server said; the API key reaches only predictions', async () => {
      const { page, problems } = await fresh('/models/pd/versions/1');
      await dialog(page).waitFor();
      await page.getByRole('button', { name: 'Cancel' }).click();
      const refused = page.getByRole('alert');
      await refused.waitFor();
      expect(await refused.textContent()).toMatch(
        /401 UNAUTHENTICATED[\s\S]*This route \(GET \/api\/2\.0\/mlflow\/model-versions\/get\) needs the admin token/,
      );
      expect((await temporary.stores.registry.getModelVersion('pd', '1')).currentStage).not.toBe(
        'Production',
      );

      // The prediction form needs no credentials to show (the schema is public); scoring needs the API key.
      await page.goto(`${base}/score`);
      await page.getByRole('button', { name: 'Fill with typical values' }).click();
      await page.getByRole('button', { name: 'Predict and explain' }).click();
      await dialog(page).waitFor();
      await page.getByLabel('API key').fill(API_KEY);
      await page.getByRole('button', { name: 'Use them' }).click();
      await page.getByRole('button', { name: 'Predict and explain' }).click();
      // Past the key: the server has no model to score with, and says so.
      await page.getByText(/503 TEMPORARILY_UNAVAILABLE/).waitFor();
      expect(await page.getByRole('alert').textContent()).toMatch(/No model is loaded yet/);
      expect(problems).toEqual([]);
      await page.context().close();
    }, 60_000);
  },
);

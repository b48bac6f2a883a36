/**
 * Web UI benchmark (run with `tsx bench/web-ui.ts`; part of `npm run bench`): builds the UI, then
 *   - the size of its JavaScript as the server sends it (gzip, level 9) [target < 300 KB],
 *   - the experiments page's first render with 10,000 runs in Chromium: from navigation start (a cold
 *     cache: a new browser context each time) until the first page of the runs table is on screen, by
 *     the default order, sorted by a metric, and filtered on a metric [target < 1 s], the median of 7.
 * The runs (10,000 × 12 params × 20 metrics × 4 tags, like training runs) are bulk-loaded into a SQLite
 * store, served by the real app (`buildApp`, the UI included) on loopback.
 *   - what serving the UI costs `POST /predict`: `onset up`'s server (`startServer` with pipelines, in its
 *     own process, `bench/support/up-process.ts`) serving the default family (`oblivious`, trained with
 *     defaults on 2,105 generated patients) with the UI and without it, autocannon with 32 connections,
 *     5 s rounds taking turns three times (each keeps its best) [target: no measurable cost].
 * Prints one line per figure; `--json` prints them as JSON.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { resolveConfig } from '../src/config.js';
import { generateDataset } from '../src/data/generator/generator.js';
import { FEATURE_NAMES } from '../src/data/schema.js';
import { buildApp } from '../src/server/app.js';
import { openOnsetStores, openStore } from '../src/server/open-stores.js';
import { WEB_UI_DIR } from '../src/server/server.js';
import { loadWebUi } from '../src/server/web-ui.js';
import { LocalArtifactStore } from '../src/tracking/artifacts/local-artifact-store.js';
import { CHROMIUM_MISSING, hasChromium, launchChromium } from '../test/support/browser.js';
import { trainAndPromote } from '../test/support/registry.js';
import { buildWebUi } from '../test/support/web-ui-build.js';
import { load } from './support/load.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNS = 10_000;
const PARAMS = 12;
const METRICS = 20;
const LOADS = 7;
const PAGE_ROWS = 50;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

// The UI as `npm install` builds it.
buildWebUi();
const assets = readdirSync(join(WEB_UI_DIR, 'assets'));
const gzipped = (suffix: string) =>
  assets
    .filter((name) => name.endsWith(suffix))
    .reduce(
      (sum, name) => sum + gzipSync(readFileSync(join(WEB_UI_DIR, 'assets', name)), { level: 9 }).length,
      0,
    );
const raw = (suffix: string) =>
  assets
    .filter((name) => name.endsWith(suffix))
    .reduce((sum, name) => sum + readFileSync(join(WEB_UI_DIR, 'assets', name)).length, 0);
const size = {
  jsGzipKB: Number((gzipped('.js') / 1024).toFixed(1)),
  jsKB: Number((raw('.js') / 1024).toFixed(1)),
  cssGzipKB: Number((gzipped('.css') / 1024).toFixed(1)),
};

const dir = mkdtempSync(join(tmpdir(), 'onset-bench-ui-'));
const path = join(dir, 'onset.db');
let loadMs = 0;
const render: Record<string, { firstRenderMs: number; searchMs: number }> = {};
try {
  const artifacts = new LocalArtifactStore(join(dir, 'artifacts'));
  const stores = await openStore(path, { artifactRoot: artifacts.rootUri, ownerProcess: null });
  const experimentId = await stores.tracking.createExperiment({ name: 'bench' });

  let seed = 42;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  const families = ['linear', 'logistic', 'gbdt', 'oblivious'];
  const metricNames = [
    'cv_roc_auc',
    'holdout_roc_auc',
    'cv_accuracy',
    'cv_brier',
    'fit_seconds',
    ...Array.from({ length: METRICS - 5 }, (_, m) => `metric_${m}`),
  ];
  const loadStart = performance.now();
  const db = new Database(path);
  db.pragma('busy_timeout = 5000');
  const insertRun = db.prepare(
    `INSERT INTO runs (run_uuid, name, experiment_id, user_id, status, start_time, end_time, artifact_uri,
      lifecycle_stage, deleted_time) VALUES (?, ?, ?, 'bench', 'FINISHED', ?, ?, ?, 'active', NULL)`,
  );
  const insertParam = db.prepare('INSERT INTO params (run_uuid, key, value) VALUES (?, ?, ?)');
  const insertTag = db.prepare('INSERT INTO tags (run_uuid, key, value) VALUES (?, ?, ?)');
  const insertMetric = db.prepare(
    'INSERT INTO metrics (run_uuid, key, value, timestamp, step, is_nan) VALUES (?, ?, ?, ?, 0, 0)',
  );
  const insertLatest = db.prepare(
    'INSERT INTO latest_metrics (run_uuid, key, value, timestamp, step, is_nan) VALUES (?, ?, ?, ?, 0, 0)',
  );
  db.transaction(() => {
    for (let r = 0; r < RUNS; r++) {
      const runId = r.toString(16).padStart(32, '0');
      const start = 1_700_000_000_000 + r * 1_000;
      insertRun.run(
        runId,
        `run-${r}`,
        Number(experimentId),
        start,
        start + 500,
        `${artifacts.rootUri}/${runId}/artifacts`,
      );
      insertTag.run(runId, 'mlflow.runName', `run-${r}`);
      insertTag.run(runId, 'onset.estimator', families[r % families.length]!);
      insertTag.run(runId, 'mlflow.source.name', 'bench');
      insertTag.run(runId, 'onset.dataset.rows', '1684');
      for (let p = 0; p < PARAMS; p++)
        insertParam.run(runId, `param_${p}`, String(Math.floor(random() * 100)));
      for (const name of metricNames) {
        const value = random();
        insertMetric.run(runId, name, value, start);
        insertLatest.run(runId, name, value, start);
      }
    }
  })();
  db.exec('ANALYZE');
  db.close();
  loadMs = performance.now() - loadStart;

  const { tracking, registry, loggedModels } = stores;
  const app = await buildApp({
    tracking,
    registry,
    loggedModels,
    artifacts,
    ui: await loadWebUi(WEB_UI_DIR),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const pages = {
    'default order (newest first)': `/experiments/${experimentId}`,
    'sorted by cv_roc_auc': `/experiments/${experimentId}?order=${encodeURIComponent('metrics.`cv_roc_auc` DESC')}`,
    'filtered cv_roc_auc > 0.5, sorted by cv_brier': `/experiments/${experimentId}?filter=${encodeURIComponent('metrics.cv_roc_auc > 0.5')}&order=${encodeURIComponent('metrics.`cv_brier` ASC')}`,
  };
  if (hasChromium) {
    const browser = await launchChromium();
    try {
      for (const [name, url] of Object.entries(pages)) {
        const firsts: number[] = [];
        const searches: number[] = [];
        for (let i = 0; i <= LOADS; i++) {
          const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
          const page = await context.newPage();
          await page.goto(`${base}${url}`);
          // performance.now() in the page counts from its navigation start.
          const renderedAt = (await (
            await page.waitForFunction(
              // A function, not a string: the UI's content security policy forbids eval.
              (rows: number) => {
                const page = globalThis as unknown as {
                  document: { querySelectorAll(selector: string): { length: number } };
                  performance: { now(): number };
                };
                return (
                  page.document.querySelectorAll('main tbody tr').length === rows && page.performance.now()
                );
              },
              PAGE_ROWS,
              { polling: 'raf' },
            )
          ).jsonValue()) as number;
          const search = (await page.evaluate(
            "performance.getEntriesByType('resource').filter((e) => e.name.endsWith('/runs/search')).map((e) => e.responseEnd - e.startTime)[0]",
          )) as number;
          await context.close();
          // The first load warms the server (its SQLite pages and query plans), as a running server is.
          if (i === 0) continue;
          firsts.push(renderedAt);
          searches.push(search);
        }
        render[name] = { firstRenderMs: Math.round(median(firsts)), searchMs: Math.round(median(searches)) };
      }
    } finally {
      await browser.close();
    }
  }
  await app.close();
  await stores.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// What serving the UI costs the prediction API: the same server with the UI and without it.
const PREDICT_SECONDS = 5;
const PREDICT_ROUNDS = 3;
const home = mkdtempSync(join(tmpdir(), 'onset-bench-ui-predict-'));
const predict: Record<'on' | 'off', number> = { on: 0, off: 0 };
try {
  const dataset = generateDataset({ rows: 2105, seed: 42 });
  const stores = await openOnsetStores(resolveConfig({ home }));
  await trainAndPromote(stores, 'parkinson-disease-prediction', dataset, {}, { estimator: 'oblivious' });
  await stores.close();
  const records = Array.from({ length: 256 }, (_, i) =>
    JSON.stringify({
      patient_id: `P${i}`,
      data: Object.fromEntries(FEATURE_NAMES.map((feature) => [feature, dataset.columns[feature][i]!])),
    }),
  );
  const servers = {} as Record<'on' | 'off', { child: ChildProcess; url: string }>;
  for (const ui of ['on', 'off'] as const) {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'bench/support/up-process.ts'), home, ui],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /listening on (http:\/\/\S+)/.exec(out);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`the server (UI ${ui}) exited with ${code}: ${out}`)));
    });
    while ((await fetch(`${url}/ready`)).status !== 200) await new Promise((r) => setTimeout(r, 100));
    servers[ui] = { child, url };
  }
  try {
    for (let round = 0; round < PREDICT_ROUNDS; round++) {
      for (const ui of ['on', 'off'] as const) {
        const measured = await load({
          tool: 'autocannon',
          url: servers[ui].url,
          path: '/predict',
          bodies: records,
          connections: 32,
          seconds: PREDICT_SECONDS,
          pid: servers[ui].child.pid!,
        });
        if (measured.errors > 0)
          throw new Error(`POST /predict (UI ${ui}) answered ${measured.errors} errors`);
        predict[ui] = Math.max(predict[ui], measured.rps);
      }
    }
  } finally {
    for (const { child } of Object.values(servers)) child.kill('SIGTERM');
  }
} finally {
  rmSync(home, { recursive: true, force: true });
}

const figures = {
  runs: RUNS,
  loadMs: Math.round(loadMs),
  size,
  render,
  predict: {
    withUi: Math.round(predict.on),
    withoutUi: Math.round(predict.off),
    ratio: predict.on / predict.off,
  },
};
if (process.argv.includes('--json')) {
  console.log(JSON.stringify(figures));
} else {
  console.log(
    `web UI: JavaScript ${size.jsGzipKB} KB gzipped (${size.jsKB} KB), CSS ${size.cssGzipKB} KB gzipped  [target < 300 KB of JavaScript]`,
  );
  if (!hasChromium) console.log(`web UI first render: ${CHROMIUM_MISSING}`);
  for (const [name, figure] of Object.entries(render)) {
    console.log(
      `experiments page, ${RUNS} runs, ${name}: first ${PAGE_ROWS} rows on screen in ${figure.firstRenderMs} ms (runs/search ${figure.searchMs} ms), median of ${LOADS} cold loads  [target < 1 s]`,
    );
  }
  console.log(
    `POST /predict on onset up's server (oblivious): ${figures.predict.withUi} req/s with the UI, ${figures.predict.withoutUi} without: ${figures.predict.ratio.toFixed(2)}x, best of ${PREDICT_ROUNDS} ${PREDICT_SECONDS}-s rounds each  [target: no measurable cost]`,
  );
}

/**
 * Tracking store benchmark (run with `tsx bench/tracking-search.ts`): a SQLite store with 10,000 runs ×
 * 20 params × 10 metrics (bulk-inserted in one transaction), then the median time of
 *   - searchRuns filtered on one metric and ordered by another (target < 100 ms), at max_results 100 and
 *     at the default 1,000 (which also loads 30 params/metrics per returned run),
 *   - a logBatch of 1,000 metrics to one run (target < 50 ms).
 * Prints one line per figure; `--json` prints them as JSON.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { openStore } from '../src/server/open-stores.js';

const RUNS = 10_000;
const PARAMS = 20;
const METRICS = 10;
const REPEATS = 15;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function time(repeats: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  await fn(-1); // warm-up
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await fn(i);
    times.push(performance.now() - start);
  }
  return median(times);
}

const dir = mkdtempSync(join(tmpdir(), 'onset-bench-'));
const path = join(dir, 'bench.db');
try {
  const stores = await openStore(path, { artifactRoot: 'file:///tmp/onset-bench', ownerProcess: null });
  const experimentId = await stores.tracking.createExperiment({ name: 'bench' });

  // Bulk load: one transaction of prepared statements straight into the store's tables.
  let seed = 42;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  const loadStart = performance.now();
  const raw = new Database(path);
  raw.pragma('busy_timeout = 5000');
  const insertRun = raw.prepare(
    `INSERT INTO runs (run_uuid, name, experiment_id, user_id, status, start_time, end_time, artifact_uri,
      lifecycle_stage, deleted_time) VALUES (?, ?, ?, 'bench', 'FINISHED', ?, ?, ?, 'active', NULL)`,
  );
  const insertParam = raw.prepare('INSERT INTO params (run_uuid, key, value) VALUES (?, ?, ?)');
  const insertTag = raw.prepare('INSERT INTO tags (run_uuid, key, value) VALUES (?, ?, ?)');
  const insertMetric = raw.prepare(
    'INSERT INTO metrics (run_uuid, key, value, timestamp, step, is_nan) VALUES (?, ?, ?, ?, 0, 0)',
  );
  const insertLatest = raw.prepare(
    'INSERT INTO latest_metrics (run_uuid, key, value, timestamp, step, is_nan) VALUES (?, ?, ?, ?, 0, 0)',
  );
  raw.transaction(() => {
    for (let r = 0; r < RUNS; r++) {
      const runId = r.toString(16).padStart(32, '0');
      const start = 1_700_000_000_000 + r * 1_000;
      insertRun.run(
        runId,
        `run-${r}`,
        Number(experimentId),
        start,
        start + 500,
        `file:///tmp/${runId}/artifacts`,
      );
      insertTag.run(runId, 'mlflow.runName', `run-${r}`);
      for (let p = 0; p < PARAMS; p++)
        insertParam.run(runId, `param_${p}`, String(Math.floor(random() * 100)));
      for (let m = 0; m < METRICS; m++) {
        const value = random();
        insertMetric.run(runId, `metric_${m}`, value, start);
        insertLatest.run(runId, `metric_${m}`, value, start);
      }
    }
  })();
  raw.exec('ANALYZE');
  raw.close();
  const loadMs = performance.now() - loadStart;

  const query = {
    experimentIds: [experimentId],
    filter: 'metrics.metric_0 > 0.5',
    orderBy: ['metrics.metric_1 DESC'],
  };
  const search100 = await time(REPEATS, () => stores.tracking.searchRuns({ ...query, maxResults: 100 }));
  const search1000 = await time(REPEATS, () => stores.tracking.searchRuns(query));
  const first = await stores.tracking.searchRuns({ ...query, maxResults: 100 });
  const matched = first.items.length;

  const target = await stores.tracking.createRun({ experimentId });
  const logBatch1000 = await time(REPEATS, (i) =>
    stores.tracking.logBatch(target.info.runId, {
      metrics: Array.from({ length: 1_000 }, (_, k) => ({
        key: `batch_metric_${k % 100}`,
        value: random(),
        step: (i + 1) * 10 + Math.floor(k / 100),
        timestamp: Date.now(),
      })),
    }),
  );
  await stores.close();

  const figures = {
    runs: RUNS,
    loadMs: Math.round(loadMs),
    searchRunsMax100Ms: Number(search100.toFixed(2)),
    searchRunsMax1000Ms: Number(search1000.toFixed(2)),
    logBatch1000MetricsMs: Number(logBatch1000.toFixed(2)),
  };
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(figures));
  } else {
    console.log(
      `tracking store (SQLite): ${RUNS} runs × ${PARAMS} params × ${METRICS} metrics loaded in ${figures.loadMs} ms`,
    );
    console.log(
      `searchRuns "${query.filter}" order by ${query.orderBy[0]}: ${figures.searchRunsMax100Ms} ms (max_results 100, ${matched} returned), ` +
        `${figures.searchRunsMax1000Ms} ms (max_results 1000)  [target < 100 ms]`,
    );
    console.log(`logBatch of 1,000 metrics: ${figures.logBatch1000MetricsMs} ms  [target < 50 ms]`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * The drift and performance jobs as `onset up` runs them (`startServer` with the pipelines, over a real
 * home, called over real HTTP): both run once at start for the served version and export their gauges;
 * a newly served version drops the previous one's; `off` schedules nothing; the server stops cleanly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { generateDataset } from '../../src/data/generator/generator.js';
import { openOnsetStores } from '../../src/server/open-stores.js';
import { startServer } from '../../src/server/server.js';
import { loggedVersion, logScored, recordTruth } from '../support/monitoring.js';
import { trainAndPromote } from '../support/registry.js';

const home = mkdtempSync(join(tmpdir(), 'onset-monitoring-jobs-'));
const NAME = 'parkinson-disease-prediction';
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** The configuration of `onset up` on a free port, the log off (the test logs through the store). */
const configWith = (env: NodeJS.ProcessEnv) =>
  resolveConfig({ home, port: 0, predictionLog: false }, { ONSET_ADMIN_TOKEN: 'jobs-token', ...env });
const headers = { authorization: 'Bearer jobs-token' };

beforeAll(async () => {
  const stores = await openOnsetStores(configWith({}));
  try {
    const trained = await trainAndPromote(
      stores,
      NAME,
      generateDataset({ rows: 600, seed: 91 }),
      {},
      {
        estimator: 'logistic',
        cvFolds: 3,
      },
    );
    const patients = generateDataset({ rows: 120, seed: 92 });
    const now = Date.now();
    const logged = await logScored(
      stores.predictionLog,
      loggedVersion(NAME, trained.version, trained.runId),
      trained.model,
      patients,
      (i) => now - 600_000 + i * 1_000,
    );
    await recordTruth(stores.predictionLog, logged, patients.target!);
  } finally {
    await stores.close();
  }
}, 60_000);

async function until<T>(what: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await what();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the monitoring jobs of onset up', () => {
  it('check the served version at start, export the gauges, and drop them when another version is served', async () => {
    const server = await startServer(configWith({}), { pipelines: true, logger: false });
    try {
      const checks = await until(async () => {
        const answer = await fetch(`${server.address}/api/onset/monitoring/checks`, { headers });
        const listed = ((await answer.json()) as { checks: { kind: string; summary: unknown }[] }).checks;
        return listed.length >= 2 ? listed : undefined;
      });
      expect(checks.map((check) => check.kind).sort()).toEqual(['drift', 'performance']);
      const drift = checks.find((check) => check.kind === 'drift')!;
      expect(drift.summary).toMatchObject({ outcome: 'checked', rows: 120 });
      const performance = checks.find((check) => check.kind === 'performance')!;
      expect(performance.summary).toMatchObject({
        estimation_available: true,
        windows: [
          { window: '1h', records: 120, labelled_records: 120 },
          { window: '24h', records: 120, labelled_records: 120 },
          { window: '7d', records: 120, labelled_records: 120 },
        ],
      });
      const metrics = async () => (await fetch(`${server.address}/metrics`)).text();
      const before = await metrics();
      expect(before).toMatch(new RegExp(`onset_drift_share\\{model="${NAME}",version="1"\\} `));
      expect(before).toMatch(
        new RegExp(
          `onset_performance_realized\\{model="${NAME}",version="1",metric="roc_auc",window="1h"\\} `,
        ),
      );
      expect(before).toMatch(
        new RegExp(`onset_performance_last_success_timestamp_seconds\\{model="${NAME}"\\} `),
      );

      // Version 2 is promoted and served: version 1's series go at once.
      await trainAndPromote(
        server.stores,
        NAME,
        generateDataset({ rows: 600, seed: 93 }),
        {},
        {
          estimator: 'logistic',
          cvFolds: 3,
        },
      );
      await server.live.check();
      expect(server.live.current()?.version).toBe('2');
      const after = await metrics();
      expect(after).not.toMatch(/onset_drift_share\{/);
      expect(after).not.toMatch(/onset_performance_realized\{/);
      expect(after).not.toMatch(/onset_drift_feature_psi\{/);
      // The time of the last success stays: it is the model's, not a version's.
      expect(after).toMatch(new RegExp(`onset_drift_last_success_timestamp_seconds\\{model="${NAME}"\\} `));
      // On demand, for version 2, which has served nothing yet: too few predictions for a verdict.
      const answer = await fetch(`${server.address}/api/onset/monitoring/drift`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({}),
      });
      expect(answer.status).toBe(200);
      expect(((await answer.json()) as { check: unknown }).check).toMatchObject({
        model: { name: NAME, version: '2' },
        summary: { outcome: 'too_few_rows', rows: 0 },
      });
    } finally {
      await server.stop();
    }
  }, 60_000);

  it('schedules nothing when the intervals are off, and refuses a bad window at start', async () => {
    const server = await startServer(
      configWith({ ONSET_DRIFT_INTERVAL: 'off', ONSET_PERFORMANCE_INTERVAL: 'off' }),
      {
        pipelines: true,
        logger: false,
      },
    );
    try {
      const count = async () => (await server.stores.checks.listChecks({ maxResults: 1_000 })).items.length;
      const stored = await count();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await count()).toBe(stored);
      expect(server.monitoringJobs?.drift.running).toBeUndefined();
    } finally {
      await server.stop();
    }
    await expect(
      startServer(configWith({ ONSET_PERFORMANCE_WINDOWS: '1h,1y' }), { pipelines: true, logger: false }),
    ).rejects.toThrow(/^ONSET_PERFORMANCE_WINDOWS: window '1y' is not a duration/);
    await expect(
      startServer(configWith({ ONSET_DRIFT_WINDOW: '0h' }), { pipelines: true, logger: false }),
    ).rejects.toThrow(/^ONSET_DRIFT_WINDOW: window '0h' is not a duration/);
  }, 60_000);
});

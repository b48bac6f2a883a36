import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Stores } from '../../src/server/open-stores.js';
import { logMetric, logMetrics, logParam, logParams, setTag } from '../../src/tracking/tracking-client.js';

describe('tracking client conveniences (built on logBatch)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'onset-client-'));
  let stores: Stores;
  beforeAll(async () => {
    stores = await openStore(join(dir, 'client.db'), { artifactRoot: 'file:///tmp/a' });
  });
  afterAll(async () => {
    await stores.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs metrics, params and tags through the one primitive, with its rules', async () => {
    const { tracking } = stores;
    const runId = (await tracking.createRun({ experimentId: '0' })).info.runId;
    await logMetric(tracking, runId, 'loss', 0.5, { step: 1, timestamp: 10 });
    await logMetric(tracking, runId, 'loss', 0.4, { step: 2 });
    await logMetrics(tracking, runId, { auc: 0.9, f1: 0.8 }, { step: 3 });
    await logParam(tracking, runId, 'depth', '6');
    await logParams(tracking, runId, { eta: '0.3', depth: '6' });
    await setTag(tracking, runId, 'team', 'ml');
    const run = await tracking.getRun(runId);
    expect(run.data.metrics.map((metric) => [metric.key, metric.value, metric.step])).toEqual([
      ['auc', 0.9, 3],
      ['f1', 0.8, 3],
      ['loss', 0.4, 2],
    ]);
    expect(run.data.params).toEqual([
      { key: 'depth', value: '6' },
      { key: 'eta', value: '0.3' },
    ]);
    expect(run.data.tags).toContainEqual({ key: 'team', value: 'ml' });
    await expect(logParam(tracking, runId, 'depth', '7')).rejects.toMatchObject({
      code: 'INVALID_PARAMETER_VALUE',
    });
  });
});

/**
 * The prediction log's writing thread on PostgreSQL: `onset serve` over a shared PostgreSQL database
 * writes its log from a worker with a connection of its own, as it does on SQLite
 * (`src/monitoring/prediction-log/worker-sink.test.ts`).
 */
import { createHmac } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { FEATURE_NAMES } from '../../src/data/schema.js';
import { OnsetMetrics } from '../../src/monitoring/metrics.js';
import { PredictionLogWriter } from '../../src/monitoring/prediction-log/prediction-log-writer.js';
import { WorkerSink } from '../../src/monitoring/prediction-log/worker-sink.js';
import { openStore } from '../../src/server/open-stores.js';
import { scratchDatabases } from '../support/postgres.js';

const serverUrl = inject('postgresUrl');
const problem = inject('postgresProblem');
const databases = scratchDatabases(serverUrl, 'onset_log');
afterAll(async () => {
  if (serverUrl) await databases.dropAll();
});

describe('the prediction log writer on PostgreSQL', () => {
  it('writes every recorded prediction from its worker, keyed, and all of it by close', async () => {
    if (!serverUrl) throw new Error(`No PostgreSQL server for this test: ${problem}`);
    const url = await databases.create();
    const stores = await openStore(url, { artifactRoot: 's3://bucket/root' });
    const secret = 'p'.repeat(40);
    const metrics = new OnsetMetrics({ processMetrics: false });
    const writer = new PredictionLogWriter({
      sink: await WorkerSink.start({ databaseUri: url, secret }),
      metrics,
      batchSize: 100,
      flushMs: 3_600_000,
    });
    const model = { name: 'pg', version: '1', runId: null, uri: 'models:/pg/1', checksum: null };
    const ids = Array.from({ length: 1_234 }, (_, i) =>
      writer.record({
        model,
        features: Float64Array.from(FEATURE_NAMES, (_, j) => i + j / 100),
        probability: (i % 100) / 100,
        diagnosis: i % 100 >= 50 ? 1 : 0,
        latencyMs: 0.75,
        source: 'http',
        patientId: `pg-patient-${i % 7}`,
      }),
    );
    await writer.close();
    expect(await stores.predictionLog.countPredictions({ modelName: 'pg' })).toBe(1_234);
    const logged = await stores.predictionLog.getPrediction(ids[10]!);
    expect(logged.features[3]).toBe(10.03);
    expect(logged.patientKey).toBe(createHmac('sha256', secret).update('pg-patient-3').digest('hex'));
    const found = await stores.predictionLog.findByPatientKey(logged.patientKey!, { maxResults: 1_000 });
    expect(found.items.length).toBe(Math.ceil((1_234 - 3) / 7));
    expect(await metrics.registry.metrics()).toMatch(/^onset_prediction_log_written_total 1234$/m);
    await stores.close();
  }, 60_000);
});

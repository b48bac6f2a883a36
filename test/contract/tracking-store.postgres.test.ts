import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openStore } from '../../src/server/open-stores.js';
import {
  MONITORING_MIGRATION_ROWS,
  PIPELINE_MIGRATION_ROWS,
  TRACKING_MIGRATION_ROWS,
} from '../support/migrations.js';
import { scratchDatabases } from '../support/postgres.js';
import { describeAlertStoreContract } from './alert-store.contract.js';
import { describeLoggedModelStoreContract } from './logged-model-store.contract.js';
import { describeMonitoringCheckStoreContract } from './monitoring-check-store.contract.js';
import { describePipelineStoreContract } from './pipeline-store.contract.js';
import { describePatientFilterMigration } from './prediction-log-migration.contract.js';
import { describePredictionLogStoreContract } from './prediction-log-store.contract.js';
import { describeRegistryStoreContract } from './registry-store.contract.js';
import { describeRunInputsContract } from './run-inputs.contract.js';
import {
  CONTRACT_ARTIFACT_ROOT,
  describeTrackingStoreContract,
  type OpenedStores,
} from './tracking-store.contract.js';

const serverUrl = inject('postgresUrl');
const problem = inject('postgresProblem');
const databases = scratchDatabases(serverUrl, 'onset');

/** A fresh database on the test server; the suite fails (does not skip) when there is no server. */
async function freshDatabase(): Promise<string> {
  if (!serverUrl) throw new Error(`No PostgreSQL server for the contract tests: ${problem}`);
  return databases.create();
}

async function openFresh(): Promise<OpenedStores> {
  return openStore(await freshDatabase(), { artifactRoot: CONTRACT_ARTIFACT_ROOT });
}

afterAll(async () => {
  if (serverUrl) await databases.dropAll();
});

describeTrackingStoreContract('postgres', openFresh);
describeRunInputsContract('postgres', openFresh);
describeLoggedModelStoreContract('postgres', openFresh);
describeRegistryStoreContract('postgres', openFresh);
describePipelineStoreContract('postgres', openFresh);
describePredictionLogStoreContract('postgres', openFresh);
describePatientFilterMigration('postgres', freshDatabase);
describeMonitoringCheckStoreContract('postgres', openFresh);
describeAlertStoreContract('postgres', openFresh);

describe('PostgreSQL store specifics', () => {
  it('migrates once when several stores open a fresh database at the same time', async () => {
    const url = await freshDatabase();
    const opened = await Promise.all(
      Array.from({ length: 4 }, () => openStore(url, { artifactRoot: 's3://bucket/root' })),
    );
    const experiments = await opened[0]!.tracking.searchExperiments({ filter: "name = 'Default'" });
    expect(experiments.items.map((experiment) => experiment.experimentId)).toEqual(['0']);
    await Promise.all(opened.map((stores) => stores.close()));
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    const tracking = (await other.query('SELECT name FROM onset_tracking_migrations')).rows;
    const pipelines = (await other.query('SELECT name FROM onset_pipelines_migrations')).rows;
    const monitoring = (await other.query('SELECT name FROM onset_monitoring_migrations')).rows;
    await other.end();
    expect(tracking).toEqual(TRACKING_MIGRATION_ROWS);
    expect(pipelines).toEqual(PIPELINE_MIGRATION_ROWS);
    expect(monitoring).toEqual(MONITORING_MIGRATION_ROWS);
  });

  it('accepts postgresql:// URLs', async () => {
    const url = (await freshDatabase()).replace(/^postgres:/, 'postgresql:');
    const stores = await openStore(url, { artifactRoot: 'x' });
    expect((await stores.tracking.getExperiment('0')).name).toBe('Default');
    await stores.close();
  });
});

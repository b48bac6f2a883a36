import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { MONITORING_MIGRATIONS } from '../../src/monitoring/prediction-log/sql/migrations.js';
import { PIPELINE_MIGRATIONS } from '../../src/pipelines/sql/migrations.js';
import { openStore } from '../../src/server/open-stores.js';
import { sqlitePath } from '../../src/store/database-uri.js';
import { migrate } from '../../src/store/migrations.js';
import { openSqliteDatabase } from '../../src/store/sqlite-database.js';
import { trackingMigrations } from '../../src/tracking/sql/migrations.js';
import {
  MONITORING_MIGRATION_ROWS,
  PIPELINE_MIGRATION_ROWS,
  TRACKING_MIGRATION_ROWS,
} from '../support/migrations.js';
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
  expectCode,
  type OpenedStores,
} from './tracking-store.contract.js';

const dir = mkdtempSync(join(tmpdir(), 'onset-sqlite-contract-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let count = 0;
function openFresh(): Promise<OpenedStores> {
  count += 1;
  return openStore(`sqlite://${join(dir, `contract-${count}.db`)}`, { artifactRoot: CONTRACT_ARTIFACT_ROOT });
}

describeTrackingStoreContract('sqlite', openFresh);
describeRunInputsContract('sqlite', openFresh);
describeLoggedModelStoreContract('sqlite', openFresh);
describeRegistryStoreContract('sqlite', openFresh);
describePipelineStoreContract('sqlite', openFresh);
describePredictionLogStoreContract('sqlite', openFresh);
describePatientFilterMigration('sqlite', async () => {
  count += 1;
  return `sqlite://${join(dir, `contract-${count}.db`)}`;
});
describeMonitoringCheckStoreContract('sqlite', openFresh);
describeAlertStoreContract('sqlite', openFresh);

describe('SQLite store specifics', () => {
  it('opens sqlite:///abs, sqlite:relative and bare paths, and lists the known schemes otherwise', async () => {
    expect(sqlitePath('sqlite:///var/data/onset.db')).toBe('/var/data/onset.db');
    expect(sqlitePath('sqlite:/var/data/onset.db')).toBe('/var/data/onset.db');
    expect(sqlitePath('sqlite:data/onset.db')).toBe(resolve('data/onset.db'));
    await expectCode(openStore('sqlite://host/x.db', { artifactRoot: 'x' }), 'INVALID_PARAMETER_VALUE');
    await expectCode(
      openStore('mysql://localhost/onset', { artifactRoot: 'x' }),
      'INVALID_PARAMETER_VALUE',
      /sqlite:.*postgres:\/\//s,
    );
    await expectCode(openStore('file:///tmp/x.db', { artifactRoot: 'x' }), 'INVALID_PARAMETER_VALUE');
    const bare = await openStore(join(dir, 'nested', 'bare.db'), { artifactRoot: 'file:///art' });
    expect((await bare.tracking.getExperiment('0')).artifactLocation).toBe('file:///art/0');
    await bare.close();
    await bare.close();
  });

  it('uses WAL, a busy timeout and foreign keys; migrating twice is a no-op', async () => {
    const path = join(dir, 'twice.db');
    const first = await openStore(`sqlite://${path}`, { artifactRoot: 'file:///first' });
    const id = await first.tracking.createExperiment({ name: 'kept' });
    await first.close();
    const database = openSqliteDatabase(path);
    expect(await migrate(database, trackingMigrations({ artifactRoot: 'file:///second' }))).toEqual([]);
    expect(await migrate(database, PIPELINE_MIGRATIONS)).toEqual([]);
    expect(await migrate(database, MONITORING_MIGRATIONS)).toEqual([]);
    await database.close();
    const second = await openStore(`sqlite:${path}`, { artifactRoot: 'file:///second' });
    expect((await second.tracking.getExperiment(id)).name).toBe('kept');
    // Locations are kept relative to the artifact root: they follow the root the store is opened with.
    expect((await second.tracking.getExperiment('0')).artifactLocation).toBe('file:///second/0');
    await second.close();
    const raw = new Database(path);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.prepare('SELECT name FROM onset_tracking_migrations').all()).toEqual(TRACKING_MIGRATION_ROWS);
    expect(raw.prepare('SELECT name FROM onset_pipelines_migrations').all()).toEqual(PIPELINE_MIGRATION_ROWS);
    expect(raw.prepare('SELECT name FROM onset_monitoring_migrations').all()).toEqual(
      MONITORING_MIGRATION_ROWS,
    );
    expect(raw.prepare("SELECT count(*) AS n FROM experiments WHERE name = 'Default'").get()).toEqual({
      n: 1,
    });
    raw.close();
  });

  it('refuses a database migrated by a newer Onset, for each capability', async () => {
    for (const table of [
      'onset_tracking_migrations',
      'onset_pipelines_migrations',
      'onset_monitoring_migrations',
    ]) {
      const path = join(dir, `newer-${table}.db`);
      await (await openStore(path, { artifactRoot: 'x' })).close();
      const raw = new Database(path);
      raw.prepare(`INSERT INTO ${table} VALUES ('9999_future', ?)`).run(new Date().toISOString());
      raw.close();
      await expectCode(openStore(path, { artifactRoot: 'x' }), 'INVALID_STATE', /newer.*upgrade Onset/);
    }
  });
});

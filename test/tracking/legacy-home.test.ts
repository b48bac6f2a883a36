/**
 * An Onset home made by an older Onset (one migration runner, `onset_schema_migrations` versions 1 and 2;
 * see scripts/fixtures/make-legacy-home.ts) opens with today's code, on SQLite and on PostgreSQL: every row
 * survives, the tables are those a fresh database gets, new writes work, and opening again is a no-op.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openStore } from '../../src/server/open-stores.js';
import { openDatabase } from '../../src/store/database-uri.js';
import { type MigrationSet, migrate } from '../../src/store/migrations.js';
import { trackingMigrations } from '../../src/tracking/sql/migrations.js';
import { PIPELINE_MIGRATION_ROWS, TRACKING_MIGRATION_ROWS } from '../support/migrations.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/legacy-home/', import.meta.url));
const MODEL = 'parkinson-disease-prediction';

/** Every table the older Onset had, and how many rows the fixture holds at least. */
const LEGACY_TABLES: Readonly<Record<string, number>> = {
  experiments: 2,
  experiment_tags: 0,
  runs: 3,
  params: 3,
  tags: 30,
  metrics: 100,
  latest_metrics: 100,
  registered_models: 1,
  registered_model_tags: 0,
  model_versions: 3,
  model_version_tags: 0,
  registered_model_aliases: 1,
  model_version_stage_transitions: 2,
  pipeline_runs: 1,
  pipeline_block_runs: 4,
  pipeline_logs: 4,
  pipeline_run_links: 2,
  pipeline_schedules: 1,
};
const MIGRATION_TABLES = ['onset_tracking_migrations', 'onset_pipelines_migrations'];
/** Columns later migrations add: null in the rows the older Onset wrote. */
const ADDED_COLUMNS: Readonly<Record<string, readonly string[]>> = { pipeline_runs: ['owner_started'] };
/** Columns later migrations add and fill from what the row had: each must match its pattern. */
const BACKFILLED_COLUMNS: Readonly<Record<string, Readonly<Record<string, RegExp>>>> = {
  // A `runs:/<run>/model/model.json` source, resolved in the run's artifacts (relative to the root).
  model_versions: { storage_location: /^\d+\/[0-9a-f]{32}\/artifacts\/model\/model\.json$/ },
};
/** Columns a later migration made relative to the artifact root (see `storedLocation`). */
const RELATIVE_COLUMNS: Readonly<Record<string, string>> = {
  experiments: 'artifact_location',
  runs: 'artifact_uri',
};

/**
 * The rows as the older Onset had them: each added column checked to be null (or, when backfilled, to
 * match its pattern), then left out; each relative location checked to be relative, then put back under
 * the root the older Onset used.
 */
function asLegacy(rows: Record<string, unknown[]>, oldRoot: string): Record<string, unknown[]> {
  return Object.fromEntries(
    Object.entries(rows).map(([table, list]) => [
      table,
      list.map((row) => {
        const copy = { ...(row as Record<string, unknown>) };
        for (const column of ADDED_COLUMNS[table] ?? []) {
          expect(copy[column], `${table}.${column}`).toBeNull();
          delete copy[column];
        }
        for (const [column, pattern] of Object.entries(BACKFILLED_COLUMNS[table] ?? {})) {
          expect(copy[column], `${table}.${column}`).toMatch(pattern);
          delete copy[column];
        }
        const relative = RELATIVE_COLUMNS[table];
        if (relative !== undefined) {
          expect(copy[relative], `${table}.${relative}`).not.toMatch(/^[a-z]+:/);
          copy[relative] = `${oldRoot}/${String(copy[relative])}`;
        }
        return copy;
      }),
    ]),
  );
}

/** Raw access to a restored database, beside the stores. */
interface RawDatabase {
  /** The store URI. */
  readonly uri: string;
  tables(): Promise<string[]>;
  /** Every row of `table`, in a stable order. */
  rows(table: string): Promise<unknown[]>;
  /** The tables' and indexes' definitions, comparable between two databases. */
  schema(): Promise<unknown>;
}

async function snapshot(raw: RawDatabase, tables: readonly string[]): Promise<Record<string, unknown[]>> {
  const result: Record<string, unknown[]> = {};
  for (const table of tables) result[table] = await raw.rows(table);
  return result;
}

function sortedRows(rows: readonly unknown[]): unknown[] {
  return [...rows].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
}

function describeLegacyHome(
  name: string,
  restore: () => Promise<RawDatabase>,
  fresh: () => Promise<RawDatabase>,
): void {
  describe(`a home made by an older Onset (${name})`, () => {
    it('opens with every row kept, the tables of a fresh database, working writes, and again as a no-op', async () => {
      const raw = await restore();
      expect(await raw.tables()).toContain('onset_schema_migrations');
      const legacy = await snapshot(raw, Object.keys(LEGACY_TABLES));
      for (const [table, least] of Object.entries(LEGACY_TABLES)) {
        expect(legacy[table]!.length, table).toBeGreaterThanOrEqual(least);
      }

      const stores = await openStore(raw.uri, { artifactRoot: 'file:///new-root' });
      const opened = await snapshot(raw, Object.keys(LEGACY_TABLES));
      const oldRoot = String(
        (
          legacy.experiments!.find(
            (row) => Number((row as { experiment_id: unknown }).experiment_id) === 0,
          ) as {
            artifact_location: string;
          }
        ).artifact_location,
      ).replace(/\/0$/, '');
      expect(asLegacy(opened, oldRoot)).toEqual(legacy);
      // Each version's one file, with the sha256 it was registered with, as its manifest.
      const versions = legacy.model_versions as { name: string; version: unknown; checksum: string }[];
      expect(sortedRows(await raw.rows('model_version_files'))).toEqual(
        sortedRows(
          versions.map((v) => ({
            name: v.name,
            version: v.version,
            path: '',
            size: null,
            sha256: v.checksum,
          })),
        ),
      );
      expect(await raw.tables()).not.toContain('onset_schema_migrations');
      const history = await snapshot(raw, MIGRATION_TABLES);
      expect(history.onset_tracking_migrations).toMatchObject(TRACKING_MIGRATION_ROWS);
      expect(history.onset_pipelines_migrations).toMatchObject(PIPELINE_MIGRATION_ROWS);
      expect(await raw.schema()).toEqual(await (await fresh()).schema());

      // What the home holds, through the stores: its artifacts where its artifact root is now.
      const experiment = await stores.tracking.getExperimentByName(MODEL);
      expect(experiment.artifactLocation).toBe(`file:///new-root/${experiment.experimentId}`);
      const runs = await stores.tracking.searchRuns({ experimentIds: [experiment.experimentId] });
      expect(runs.items.map((run) => run.info.runName).sort()).toEqual(
        expect.arrayContaining(['first-linear', 'no-intercept']),
      );
      expect(runs.items.every((run) => run.info.status === 'FINISHED')).toBe(true);
      expect((await stores.registry.getModelVersionByAlias(MODEL, 'champion')).version).toBe('1');
      const [production] = await stores.registry.getLatestVersions(MODEL, ['Production']);
      expect(production?.version).toBe('1');
      expect((await stores.registry.getStageHistory(MODEL, '1')).map((t) => t.toStage)).toEqual([
        'Production',
      ]);
      const pipelineRuns = await stores.pipelines.listRuns({});
      expect(pipelineRuns.items).toHaveLength(1);
      const [pipelineRun] = pipelineRuns.items;
      expect(pipelineRun).toMatchObject({ pipeline: 'train-linear', status: 'SUCCEEDED' });
      expect(pipelineRun!.blocks.map((block) => block.status)).toEqual(Array(4).fill('SUCCEEDED'));
      expect(pipelineRun!.links).toContainEqual({
        kind: 'model_version',
        target: `${MODEL}/3`,
        block: 'register',
      });
      expect((await stores.pipelines.getLogs(pipelineRun!.runId)).length).toBeGreaterThan(0);
      expect((await stores.pipelines.listSchedules()).map((schedule) => schedule.cron)).toEqual([
        '0 3 * * *',
      ]);

      // New writes, numbered after what is there.
      const experimentId = await stores.tracking.createExperiment({ name: 'after-upgrade' });
      expect(Number(experimentId)).toBeGreaterThan(1);
      expect((await stores.tracking.getExperiment(experimentId)).artifactLocation).toBe(
        `file:///new-root/${experimentId}`,
      );
      const run = await stores.tracking.createRun({ experimentId, runName: 'new', owner: null });
      await stores.tracking.logBatch(run.info.runId, {
        metrics: [{ key: 'auc', value: 0.9, step: 0, timestamp: 1 }],
        params: [{ key: 'depth', value: '3' }],
      });
      expect((await stores.tracking.getMetricHistory(run.info.runId, 'auc')).items).toHaveLength(1);
      const version = await stores.registry.createModelVersion({
        name: MODEL,
        source: `runs:/${run.info.runId}/model/model.json`,
        runId: run.info.runId,
        storageLocation: `${experimentId}/${run.info.runId}/artifacts/model/model.json`,
        files: [{ path: '', size: 1, sha256: 'a'.repeat(64) }],
      });
      expect(version.version).toBe('4');
      await stores.registry.transitionModelVersionStage({
        name: MODEL,
        version: '4',
        stage: 'Production',
        archiveExistingVersions: true,
      });
      await stores.registry.setAlias(MODEL, 'champion', '4');
      const newRun = await stores.pipelines.createRun({
        pipeline: 'train-linear',
        params: {},
        trigger: 'test',
        blocks: ['load'],
        owner: null,
      });
      await stores.pipelines.appendLogs(newRun.runId, [
        { block: 'load', attempt: 1, timestamp: 2, level: 'info', message: 'hello' },
      ]);
      await stores.pipelines.finishRun(newRun.runId, { status: 'SUCCEEDED' });
      await stores.pipelines.createSchedule({
        pipeline: 'train-all',
        cron: '0 4 * * *',
        timezone: 'UTC',
        params: {},
        nextRunTime: 3,
      });
      await stores.close();

      // Opening again changes nothing.
      const written = await snapshot(raw, [...Object.keys(LEGACY_TABLES), ...MIGRATION_TABLES]);
      const again = await openStore(raw.uri, { artifactRoot: 'file:///new-root' });
      expect(await snapshot(raw, [...Object.keys(LEGACY_TABLES), ...MIGRATION_TABLES])).toEqual(written);
      expect((await again.registry.getModelVersionByAlias(MODEL, 'champion')).version).toBe('4');
      expect((await again.pipelines.listRuns({})).items).toHaveLength(2);
      await again.close();
    });

    it('is left as it was when the upgrade fails midway (the adoption is part of the migration)', async () => {
      const raw = await restore();
      const before = await snapshot(raw, ['onset_schema_migrations', ...Object.keys(LEGACY_TABLES)]);
      const tracking = trackingMigrations({ artifactRoot: 'file:///new-root' });
      const crashing: MigrationSet = {
        ...tracking,
        migrations: Object.fromEntries(
          Object.entries(tracking.migrations).map(([name, migration]) => [
            name,
            {
              async up(db, context) {
                await migration.up(db, context);
                throw new Error('the process died here');
              },
            },
          ]),
        ),
      };
      const database = openDatabase(raw.uri);
      await expect(migrate(database, crashing)).rejects.toThrow('the process died here');
      await database.close();
      expect(await snapshot(raw, ['onset_schema_migrations', ...Object.keys(LEGACY_TABLES)])).toEqual(before);
      expect(before.onset_schema_migrations).toHaveLength(2);
      // Kysely creates its history table before the migration's transaction on PostgreSQL: empty if there.
      if ((await raw.tables()).includes('onset_tracking_migrations')) {
        expect(await raw.rows('onset_tracking_migrations')).toEqual([]);
      }
    });
  });
}

// ------------------------------------------------------------------------------------------- SQLite

const dir = mkdtempSync(join(tmpdir(), 'onset-legacy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sqlite(path: string): RawDatabase {
  const read = <T>(fn: (db: Database.Database) => T): T => {
    const db = new Database(path, { readonly: true });
    try {
      return fn(db);
    } finally {
      db.close();
    }
  };
  return {
    uri: `sqlite://${path}`,
    tables: async () =>
      read((db) =>
        (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map(
          (row) => row.name,
        ),
      ),
    rows: async (table) => read((db) => sortedRows(db.prepare(`SELECT * FROM "${table}"`).all())),
    schema: async () =>
      read((db) =>
        (
          db
            .prepare(
              "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'onset_%' ORDER BY name",
            )
            .all() as { type: string; name: string; sql: string }[]
        ).map((row) => ({ ...row, sql: row.sql.replace(/\s+/g, ' ') })),
      ),
  };
}

describeLegacyHome(
  'SQLite',
  async () => {
    const path = join(dir, `legacy-${randomBytes(4).toString('hex')}.db`);
    const db = new Database(path);
    db.exec(readFileSync(join(FIXTURES, 'onset.sqlite.sql'), 'utf8'));
    db.close();
    return sqlite(path);
  },
  async () => {
    const path = join(dir, `fresh-${randomBytes(4).toString('hex')}.db`);
    await (await openStore(path, { artifactRoot: 'file:///fresh' })).close();
    return sqlite(path);
  },
);

// --------------------------------------------------------------------------------------- PostgreSQL

const serverUrl = inject('postgresUrl');
const problem = inject('postgresProblem');
const PG_BIN = process.env.ONSET_POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin';
const created: string[] = [];

function databaseUrl(database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function query<T>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

/** A fresh database on the test server; fails (does not skip) when there is no server. */
async function freshDatabase(): Promise<string> {
  if (!serverUrl) throw new Error(`No PostgreSQL server for the legacy-home test: ${problem}`);
  const name = `onset_legacy_${randomBytes(6).toString('hex')}`;
  await query(serverUrl, `CREATE DATABASE ${name}`);
  created.push(name);
  return databaseUrl(name);
}

afterAll(async () => {
  for (const name of created) await query(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
});

function postgres(url: string): RawDatabase {
  return {
    uri: url,
    tables: async () =>
      (
        await query<{ tablename: string }>(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
      ).map((row) => row.tablename),
    rows: async (table) => sortedRows(await query(url, `SELECT * FROM public."${table}"`)),
    schema: async () => ({
      columns: await query(
        url,
        `SELECT table_name, column_name, data_type, is_nullable, is_identity, column_default
         FROM information_schema.columns WHERE table_schema = 'public' AND table_name NOT LIKE 'onset_%'
         ORDER BY table_name, column_name`,
      ),
      indexes: await query(
        url,
        `SELECT tablename, indexname, indexdef FROM pg_indexes
         WHERE schemaname = 'public' AND tablename NOT LIKE 'onset_%' ORDER BY indexname`,
      ),
      constraints: await query(
        url,
        `SELECT conrelid::regclass::text AS table_name, conname, pg_get_constraintdef(oid) AS definition
         FROM pg_constraint WHERE connamespace = 'public'::regnamespace
           AND conrelid::regclass::text NOT LIKE 'onset_%' ORDER BY conname`,
      ),
    }),
  };
}

describeLegacyHome(
  'PostgreSQL',
  async () => {
    const url = await freshDatabase();
    // psql, not a driver: a plain dump holds COPY blocks and psql meta-commands.
    execFileSync(
      join(PG_BIN, 'psql'),
      [
        '--quiet',
        '--no-psqlrc',
        '-v',
        'ON_ERROR_STOP=1',
        '--dbname',
        url,
        '--file',
        join(FIXTURES, 'onset.postgres.sql'),
      ],
      { stdio: 'pipe' },
    );
    return postgres(url);
  },
  async () => {
    const url = await freshDatabase();
    await (await openStore(url, { artifactRoot: 'file:///fresh' })).close();
    return postgres(url);
  },
);

import { type Kysely, sql } from 'kysely';
import { ddlMigration, type MigrationSet } from '../../store/migrations.js';
import type { TrackingTables } from './schema.js';

/**
 * The tracking and registry tables' migrations, recorded in `onset_tracking_migrations`. The first one
 * creates the tables and MLflow's Default experiment, whose artifacts go under `artifactRoot` (or adopts
 * the tables an older Onset made: its schema version 1). The second stores artifact locations relative to
 * the artifact root (see `storedLocation`), so that a home keeps working after it is moved or restored.
 * The third records each model version's files (a manifest of paths, sizes and sha256s) and where they
 * are, so that a version may be a folder (an MLflow model) rather than one file.
 * `0004_run_inputs` adds MLflow's run inputs: datasets, the inputs linking them to runs, and the inputs'
 * tags. `0005_logged_models` adds MLflow 3's logged models (with their params, tags and linked metrics)
 * and the step of a run's outputs.
 */
export function trackingMigrations(options: { readonly artifactRoot: string }): MigrationSet {
  return {
    owner: 'tracking',
    historyTable: 'onset_tracking_migrations',
    lockTable: 'onset_tracking_migrations_lock',
    migrations: {
      '0001_tracking_and_registry_tables': ddlMigration({
        legacyVersion: 1,
        statements: (t) => [
          `CREATE TABLE experiments (
              experiment_id ${t.serialKey},
              name TEXT NOT NULL UNIQUE,
              artifact_location TEXT NOT NULL,
              lifecycle_stage TEXT NOT NULL CHECK (lifecycle_stage IN ('active', 'deleted')),
              creation_time BIGINT NOT NULL,
              last_update_time BIGINT NOT NULL)`,
          `CREATE TABLE experiment_tags (
              experiment_id INTEGER NOT NULL REFERENCES experiments (experiment_id) ON DELETE CASCADE,
              key TEXT NOT NULL,
              value TEXT NOT NULL,
              PRIMARY KEY (experiment_id, key))`,
          `CREATE TABLE runs (
              run_uuid TEXT NOT NULL PRIMARY KEY,
              name TEXT NOT NULL,
              experiment_id INTEGER NOT NULL REFERENCES experiments (experiment_id) ON DELETE CASCADE,
              user_id TEXT NOT NULL,
              status TEXT NOT NULL CHECK (status IN ('RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED')),
              start_time BIGINT NOT NULL,
              end_time BIGINT,
              artifact_uri TEXT NOT NULL,
              lifecycle_stage TEXT NOT NULL CHECK (lifecycle_stage IN ('active', 'deleted')),
              deleted_time BIGINT)`,
          'CREATE INDEX runs_experiment_start ON runs (experiment_id, lifecycle_stage, start_time)',
          `CREATE TABLE params (
              run_uuid TEXT NOT NULL REFERENCES runs (run_uuid) ON DELETE CASCADE,
              key TEXT NOT NULL,
              value TEXT NOT NULL,
              PRIMARY KEY (run_uuid, key))`,
          `CREATE TABLE tags (
              run_uuid TEXT NOT NULL REFERENCES runs (run_uuid) ON DELETE CASCADE,
              key TEXT NOT NULL,
              value TEXT NOT NULL,
              PRIMARY KEY (run_uuid, key))`,
          `CREATE TABLE metrics (
              id ${t.bigSerialKey},
              run_uuid TEXT NOT NULL REFERENCES runs (run_uuid) ON DELETE CASCADE,
              key TEXT NOT NULL,
              value ${t.double} NOT NULL,
              timestamp BIGINT NOT NULL,
              step BIGINT NOT NULL,
              is_nan INTEGER NOT NULL DEFAULT 0)`,
          'CREATE INDEX metrics_history ON metrics (run_uuid, key, step, timestamp)',
          `CREATE TABLE latest_metrics (
              run_uuid TEXT NOT NULL REFERENCES runs (run_uuid) ON DELETE CASCADE,
              key TEXT NOT NULL,
              value ${t.double} NOT NULL,
              timestamp BIGINT NOT NULL,
              step BIGINT NOT NULL,
              is_nan INTEGER NOT NULL DEFAULT 0,
              PRIMARY KEY (run_uuid, key))`,
          'CREATE INDEX latest_metrics_key_value ON latest_metrics (key, value)',
          `CREATE TABLE registered_models (
              name TEXT NOT NULL PRIMARY KEY,
              creation_time BIGINT NOT NULL,
              last_updated_time BIGINT NOT NULL,
              description TEXT NOT NULL,
              next_version INTEGER NOT NULL)`,
          `CREATE TABLE registered_model_tags (
              name TEXT NOT NULL REFERENCES registered_models (name) ON UPDATE CASCADE ON DELETE CASCADE,
              key TEXT NOT NULL,
              value TEXT NOT NULL,
              PRIMARY KEY (name, key))`,
          `CREATE TABLE model_versions (
              name TEXT NOT NULL REFERENCES registered_models (name) ON UPDATE CASCADE ON DELETE CASCADE,
              version INTEGER NOT NULL,
              creation_time BIGINT NOT NULL,
              last_updated_time BIGINT NOT NULL,
              description TEXT NOT NULL,
              user_id TEXT NOT NULL,
              current_stage TEXT NOT NULL CHECK (current_stage IN ('None', 'Staging', 'Production', 'Archived')),
              source TEXT NOT NULL,
              run_id TEXT,
              status TEXT NOT NULL,
              checksum TEXT NOT NULL,
              metrics_json TEXT NOT NULL,
              PRIMARY KEY (name, version))`,
          'CREATE INDEX model_versions_stage ON model_versions (name, current_stage, version)',
          'CREATE INDEX model_versions_run ON model_versions (run_id)',
          `CREATE TABLE model_version_tags (
              name TEXT NOT NULL,
              version INTEGER NOT NULL,
              key TEXT NOT NULL,
              value TEXT NOT NULL,
              PRIMARY KEY (name, version, key),
              FOREIGN KEY (name, version) REFERENCES model_versions (name, version)
                ON UPDATE CASCADE ON DELETE CASCADE)`,
          `CREATE TABLE registered_model_aliases (
              name TEXT NOT NULL,
              alias TEXT NOT NULL,
              version INTEGER NOT NULL,
              PRIMARY KEY (name, alias),
              FOREIGN KEY (name, version) REFERENCES model_versions (name, version)
                ON UPDATE CASCADE ON DELETE CASCADE)`,
          'CREATE INDEX registered_model_aliases_version ON registered_model_aliases (name, version)',
          `CREATE TABLE model_version_stage_transitions (
              id ${t.bigSerialKey},
              name TEXT NOT NULL REFERENCES registered_models (name) ON UPDATE CASCADE ON DELETE CASCADE,
              version INTEGER NOT NULL,
              from_stage TEXT NOT NULL,
              to_stage TEXT NOT NULL,
              timestamp BIGINT NOT NULL,
              user_id TEXT NOT NULL,
              reason TEXT NOT NULL)`,
          'CREATE INDEX model_version_stage_transitions_version ON model_version_stage_transitions (name, version)',
        ],
        seed: (db) => createDefaultExperiment(db.withTables<TrackingTables>()),
      }),
      '0002_relative_artifact_locations': {
        up: (db) => relativizeArtifactLocations(db.withTables<TrackingTables>(), options.artifactRoot),
      },
      '0003_model_version_files': {
        async up(db) {
          await sql.raw('ALTER TABLE model_versions ADD COLUMN storage_location TEXT').execute(db);
          await sql
            .raw(`CREATE TABLE model_version_files (
              name TEXT NOT NULL,
              version INTEGER NOT NULL,
              path TEXT NOT NULL,
              size BIGINT,
              sha256 TEXT NOT NULL,
              PRIMARY KEY (name, version, path),
              FOREIGN KEY (name, version) REFERENCES model_versions (name, version)
                ON UPDATE CASCADE ON DELETE CASCADE)`)
            .execute(db);
          await recordLegacyModelFiles(db.withTables<TrackingTables>(), options.artifactRoot);
        },
      },
      '0004_run_inputs': ddlMigration({
        statements: (t) => [
          `CREATE TABLE datasets (
              dataset_uuid TEXT NOT NULL PRIMARY KEY,
              experiment_id INTEGER NOT NULL REFERENCES experiments (experiment_id) ON DELETE CASCADE,
              name TEXT NOT NULL,
              digest TEXT NOT NULL,
              dataset_source_type TEXT NOT NULL,
              dataset_source TEXT NOT NULL,
              dataset_schema TEXT,
              dataset_profile TEXT,
              UNIQUE (experiment_id, name, digest))`,
          `CREATE TABLE inputs (
              input_id ${t.bigSerialKey},
              source_type TEXT NOT NULL,
              source_id TEXT NOT NULL,
              destination_type TEXT NOT NULL,
              destination_id TEXT NOT NULL,
              UNIQUE (source_type, source_id, destination_type, destination_id))`,
          'CREATE INDEX inputs_destination ON inputs (destination_type, destination_id, input_id)',
          `CREATE TABLE input_tags (
              input_id BIGINT NOT NULL REFERENCES inputs (input_id) ON DELETE CASCADE,
              name TEXT NOT NULL,
              value TEXT NOT NULL,
              PRIMARY KEY (input_id, name))`,
        ],
      }),
      '0005_logged_models': ddlMigration({
        statements: (t) => [
          'ALTER TABLE inputs ADD COLUMN step BIGINT NOT NULL DEFAULT 0',
          `CREATE TABLE logged_models (
              model_id TEXT NOT NULL PRIMARY KEY,
              experiment_id INTEGER NOT NULL REFERENCES experiments (experiment_id) ON DELETE CASCADE,
              name TEXT NOT NULL,
              artifact_location TEXT NOT NULL,
              creation_time BIGINT NOT NULL,
              last_updated_time BIGINT NOT NULL,
              status TEXT NOT NULL CHECK (status IN ('PENDING', 'READY', 'FAILED')),
              lifecycle_stage TEXT NOT NULL CHECK (lifecycle_stage IN ('active', 'deleted')),
              model_type TEXT,
              source_run_id TEXT,
              status_message TEXT)`,
          'CREATE INDEX logged_models_experiment ON logged_models (experiment_id, lifecycle_stage, creation_time)',
          `CREATE TABLE logged_model_params (
              model_id TEXT NOT NULL REFERENCES logged_models (model_id) ON DELETE CASCADE,
              key TEXT NOT NULL,
              value TEXT NOT NULL,
              PRIMARY KEY (model_id, key))`,
          `CREATE TABLE logged_model_tags (
              model_id TEXT NOT NULL REFERENCES logged_models (model_id) ON DELETE CASCADE,
              key TEXT NOT NULL,
              value TEXT NOT NULL,
              PRIMARY KEY (model_id, key))`,
          `CREATE TABLE logged_model_metrics (
              model_id TEXT NOT NULL REFERENCES logged_models (model_id) ON DELETE CASCADE,
              key TEXT NOT NULL,
              value ${t.double} NOT NULL,
              is_nan INTEGER NOT NULL DEFAULT 0,
              timestamp BIGINT NOT NULL,
              step BIGINT NOT NULL,
              run_id TEXT NOT NULL REFERENCES runs (run_uuid) ON DELETE CASCADE,
              dataset_name TEXT,
              dataset_digest TEXT,
              PRIMARY KEY (model_id, key, timestamp, step, run_id))`,
        ],
      }),
    },
  };
}

/**
 * Rewrites the absolute artifact locations of experiments and runs under the artifact root as relative
 * ones. The root is today's, and the one the Default experiment (`<root>/0`) was made under, which is where
 * a home that was moved before this migration kept its artifacts.
 */
async function relativizeArtifactLocations(db: Kysely<TrackingTables>, artifactRoot: string): Promise<void> {
  const roots = new Set([artifactRoot.replace(/\/+$/, '')]);
  const first = await db
    .selectFrom('experiments')
    .select('artifact_location')
    .where('experiment_id', '=', 0)
    .executeTakeFirst();
  if (first?.artifact_location.endsWith('/0')) roots.add(first.artifact_location.slice(0, -2));
  for (const root of roots) {
    const prefix = `${root}/`;
    const start = prefix.length + 1;
    await db
      .updateTable('experiments')
      .set({ artifact_location: sql<string>`substr(artifact_location, ${start})` })
      .where(sql<boolean>`substr(artifact_location, 1, ${prefix.length}) = ${prefix}`)
      .execute();
    await db
      .updateTable('experiments')
      .set({ artifact_location: '' })
      .where('artifact_location', '=', root)
      .execute();
    await db
      .updateTable('runs')
      .set({ artifact_uri: sql<string>`substr(artifact_uri, ${start})` })
      .where(sql<boolean>`substr(artifact_uri, 1, ${prefix.length}) = ${prefix}`)
      .execute();
  }
}

/**
 * Versions registered before manifests named one file and recorded its sha256 (`checksum`): each gets
 * its storage location (a `runs:/` source resolved against its run's artifacts, an artifact URI or a
 * path under the root made relative to it) and a one-file manifest with that sha256 (its size was never recorded). A source outside the
 * artifact store keeps a null location.
 */
async function recordLegacyModelFiles(db: Kysely<TrackingTables>, artifactRoot: string): Promise<void> {
  const root = `${artifactRoot.replace(/\/+$/, '')}/`;
  const versions = await db
    .selectFrom('model_versions')
    .leftJoin('runs', 'runs.run_uuid', 'model_versions.run_id')
    .select([
      'model_versions.name as name',
      'model_versions.version as version',
      'model_versions.source as source',
      'model_versions.checksum as checksum',
      'runs.artifact_uri as run_artifacts',
    ])
    .execute();
  const hasScheme = /^[a-z][a-z0-9+.-]*:/i;
  for (const version of versions) {
    const runs = /^runs:\/[0-9a-f]{32}\/(.+)$/.exec(version.source);
    let location: string | null = null;
    if (runs && version.run_artifacts !== null && !hasScheme.test(version.run_artifacts)) {
      location = [version.run_artifacts, runs[1]!].filter((part) => part !== '').join('/');
    } else if (!runs && version.source.startsWith(root)) {
      location = version.source.slice(root.length);
    } else if (!runs && !hasScheme.test(version.source) && !version.source.startsWith('/')) {
      location = version.source;
    }
    await db
      .updateTable('model_versions')
      .set({ storage_location: location })
      .where('name', '=', version.name)
      .where('version', '=', version.version)
      .execute();
    await db
      .insertInto('model_version_files')
      .values({
        name: version.name,
        version: version.version,
        path: '',
        size: null,
        sha256: version.checksum,
      })
      .execute();
  }
}

/** MLflow's default experiment: id 0, named "Default", created with the store, its artifacts in `<root>/0`. */
async function createDefaultExperiment(db: Kysely<TrackingTables>): Promise<void> {
  const now = Date.now();
  await db
    .insertInto('experiments')
    .values({
      experiment_id: 0,
      name: 'Default',
      artifact_location: '0',
      lifecycle_stage: 'active',
      creation_time: now,
      last_update_time: now,
    })
    .execute();
}

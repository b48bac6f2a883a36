import { type Kysely, sql } from 'kysely';
import { ddlMigration, type MigrationSet } from '../../../store/migrations.js';
import { ALERTS_MIGRATION } from '../../alerts/sql/migrations.js';
import { KEYS_PER_FILTER, patientFilterRuns } from '../patient-filter.js';

/**
 * The features of the prediction log's columns as migration 0001 made them: the feature schema's list
 * when it was written, kept here because a migration never changes once released. A schema with other
 * features needs a new migration that adds their columns (`test/contract/prediction-log-store.contract.ts`
 * compares this list with `FEATURE_NAMES`).
 */
export const LOGGED_FEATURES_0001 = [
  'Age',
  'Gender',
  'Ethnicity',
  'EducationLevel',
  'BMI',
  'Smoking',
  'AlcoholConsumption',
  'PhysicalActivity',
  'DietQuality',
  'SleepQuality',
  'FamilyHistoryParkinsons',
  'TraumaticBrainInjury',
  'Hypertension',
  'Diabetes',
  'Depression',
  'Stroke',
  'SystolicBP',
  'DiastolicBP',
  'CholesterolTotal',
  'CholesterolLDL',
  'CholesterolHDL',
  'CholesterolTriglycerides',
  'UPDRS',
  'MoCA',
  'FunctionalAssessment',
  'Tremor',
  'Rigidity',
  'Bradykinesia',
  'PosturalInstability',
  'SpeechProblems',
  'SleepDisorders',
  'Constipation',
] as const;

/**
 * The monitoring tables' migrations, recorded in `onset_monitoring_migrations`: the prediction log (one
 * row per prediction, one column per feature, named as the feature, so that a window of one feature is
 * read without decoding anything), the models that made the predictions (each once: a row names its
 * model by `model_id`, which keeps rows a third smaller than the model's name, version, run, URI and
 * checksum would; models are never deleted, so no foreign key is checked on every insert) and the
 * feedback (a prediction's ground truth, deleted with it); then the alert history (`0003_alerts`, see
 * `alerts/sql/migrations.ts`).
 * A feature value that is missing (a model that takes missing values, scored by `onset predict`) is NULL.
 * A prediction id begins with its time (see `newPredictionId`), so the primary key keeps the log in time
 * order and a time window is a range of it: no index of its own (each index costs every insert, and the
 * log is written on every prediction). A model's predictions are found within a time window.
 * Patients were found through `patient_key_head`, the key's first 52 bits as an integer, until 0004: an
 * index of the 64-hex-digit keys themselves, which land anywhere in it, cost as much to write as the
 * rest of the row.
 *
 * Migration 0002 adds the stored results of the drift and performance checks (`monitoring_checks`, see
 * `checks/sql/sql-monitoring-check-store.ts`): one row per finished check, its result a JSON document.
 *
 * Migration 0004 finds patients through Bloom filters instead (`prediction_patient_filters`, one per
 * batch of up to KEYS_PER_FILTER keyed predictions, see `patient-filter.ts`): even the head's index cost
 * half of a row's insert, random as the keys are. It makes the filters of the rows already logged, then
 * drops the index and its column.
 */
export const MONITORING_MIGRATIONS: MigrationSet = {
  owner: 'monitoring',
  historyTable: 'onset_monitoring_migrations',
  lockTable: 'onset_monitoring_migrations_lock',
  migrations: {
    '0001_prediction_log_and_feedback': ddlMigration({
      statements: (t) => [
        `CREATE TABLE prediction_models (
            model_id ${t.serialKey},
            model_key TEXT NOT NULL UNIQUE,
            name TEXT,
            version TEXT,
            run_id TEXT,
            uri TEXT NOT NULL,
            checksum TEXT)`,
        `CREATE TABLE prediction_log (
            prediction_id TEXT NOT NULL PRIMARY KEY,
            timestamp BIGINT NOT NULL,
            model_id INTEGER NOT NULL,
            source TEXT NOT NULL CHECK (source IN ('http', 'http_batch', 'stream', 'cli')),
            patient_key TEXT,
            patient_key_head BIGINT,
            probability ${t.double} NOT NULL,
            diagnosis INTEGER NOT NULL CHECK (diagnosis IN (0, 1)),
            latency_ms ${t.double} NOT NULL,
            ${LOGGED_FEATURES_0001.map((name) => `"${name}" ${t.double}`).join(',\n            ')})`,
        'CREATE INDEX prediction_log_patient ON prediction_log (patient_key_head)',
        `CREATE TABLE prediction_feedback (
            prediction_id TEXT NOT NULL PRIMARY KEY
              REFERENCES prediction_log (prediction_id) ON DELETE CASCADE,
            diagnosis INTEGER NOT NULL CHECK (diagnosis IN (0, 1)),
            recorded_at BIGINT NOT NULL)`,
      ],
    }),
    '0002_monitoring_checks': ddlMigration({
      statements: () => [
        // check_id begins with the start time: newest first is the key's order, within a model too.
        `CREATE TABLE monitoring_checks (
            check_id TEXT NOT NULL PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('drift', 'performance')),
            model_name TEXT NOT NULL,
            model_version TEXT NOT NULL,
            run_id TEXT,
            window_from BIGINT NOT NULL,
            window_to BIGINT NOT NULL,
            started_at BIGINT NOT NULL,
            finished_at BIGINT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('succeeded', 'failed')),
            error_message TEXT,
            summary_json TEXT,
            result_json TEXT,
            CHECK (window_from <= window_to),
            CHECK (started_at <= finished_at),
            CHECK ((status = 'failed' AND error_message IS NOT NULL) OR (status = 'succeeded' AND error_message IS NULL)))`,
        'CREATE INDEX monitoring_checks_kind ON monitoring_checks (kind, check_id)',
        'CREATE INDEX monitoring_checks_model ON monitoring_checks (model_name, model_version, check_id)',
        'CREATE INDEX monitoring_checks_started ON monitoring_checks (started_at)',
      ],
    }),
    '0003_alerts': ALERTS_MIGRATION,
    '0004_patient_filters': ddlMigration({
      statements: (t) => [
        `CREATE TABLE prediction_patient_filters (
            filter_id ${t.bigSerialKey},
            first_id TEXT NOT NULL,
            last_id TEXT NOT NULL,
            bloom ${t.bytes} NOT NULL,
            CHECK (first_id <= last_id))`,
      ],
      seed: async (db) => {
        await filterLoggedPatients(db);
        await sql.raw('DROP INDEX prediction_log_patient').execute(db);
        await sql.raw('ALTER TABLE prediction_log DROP COLUMN patient_key_head').execute(db);
      },
    }),
  },
};

/** Rows read at a time when making the filters of a log: whole filters' worth. */
const FILTER_PAGE = 20 * KEYS_PER_FILTER;

/** Makes the patient filters of the predictions logged before migration 0004, in id order. */
async function filterLoggedPatients(db: Kysely<object>): Promise<void> {
  let after = '';
  for (;;) {
    const page = (
      await sql<{ prediction_id: string; patient_key: string }>`
        SELECT prediction_id, patient_key FROM prediction_log
        WHERE patient_key IS NOT NULL AND prediction_id > ${after}
        ORDER BY prediction_id LIMIT ${FILTER_PAGE}`.execute(db)
    ).rows;
    const runs = patientFilterRuns(
      page.length,
      (row) => page[row]!.prediction_id,
      (row) => page[row]!.patient_key,
    );
    for (const run of runs) {
      await sql`INSERT INTO prediction_patient_filters (first_id, last_id, bloom)
        VALUES (${run.firstId}, ${run.lastId}, ${run.filter})`.execute(db);
    }
    if (page.length < FILTER_PAGE) return;
    after = page[page.length - 1]!.prediction_id;
  }
}

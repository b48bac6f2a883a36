import { ddlMigration, type MigrationSet } from '../../../store/migrations.js';

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
 * read without decoding anything) and the feedback (a prediction's ground truth, deleted with it).
 * A feature value that is missing (a model that takes missing values, scored by `onset predict`) is NULL.
 */
export const MONITORING_MIGRATIONS: MigrationSet = {
  owner: 'monitoring',
  historyTable: 'onset_monitoring_migrations',
  lockTable: 'onset_monitoring_migrations_lock',
  migrations: {
    '0001_prediction_log_and_feedback': ddlMigration({
      statements: (t) => [
        `CREATE TABLE prediction_log (
            prediction_id TEXT NOT NULL PRIMARY KEY,
            timestamp BIGINT NOT NULL,
            model_name TEXT,
            model_version TEXT,
            run_id TEXT,
            model_uri TEXT NOT NULL,
            model_checksum TEXT,
            source TEXT NOT NULL CHECK (source IN ('http', 'http_batch', 'stream', 'cli')),
            patient_key TEXT,
            probability ${t.double} NOT NULL,
            diagnosis INTEGER NOT NULL CHECK (diagnosis IN (0, 1)),
            latency_ms ${t.double} NOT NULL,
            ${LOGGED_FEATURES_0001.map((name) => `"${name}" ${t.double}`).join(',\n            ')})`,
        'CREATE INDEX prediction_log_time ON prediction_log (timestamp, prediction_id)',
        'CREATE INDEX prediction_log_model ON prediction_log (model_name, model_version, timestamp)',
        'CREATE INDEX prediction_log_patient ON prediction_log (patient_key, timestamp)',
        `CREATE TABLE prediction_feedback (
            prediction_id TEXT NOT NULL PRIMARY KEY
              REFERENCES prediction_log (prediction_id) ON DELETE CASCADE,
            diagnosis INTEGER NOT NULL CHECK (diagnosis IN (0, 1)),
            recorded_at BIGINT NOT NULL)`,
      ],
    }),
  },
};

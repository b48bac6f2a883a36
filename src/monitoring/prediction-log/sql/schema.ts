/**
 * The monitoring tables as Kysely sees them: rows, not domain objects (`sql-prediction-log-store.ts`
 * converts them). Timestamps are milliseconds since the Unix epoch (BIGINT); a missing feature value is
 * NULL (SQLite cannot store NaN).
 */
import type { Generated } from 'kysely';
import type { FeatureName } from '../../../data/schema.js';

/** A model that made logged predictions, once. */
export interface PredictionModelsTable {
  model_id: Generated<number>;
  /** JSON of [name, version, run_id, uri, checksum]: what makes two models the same (NULLs included). */
  model_key: string;
  name: string | null;
  version: string | null;
  run_id: string | null;
  uri: string;
  checksum: string | null;
}

export type PredictionLogTable = {
  prediction_id: string;
  timestamp: number;
  model_id: number;
  source: string;
  patient_key: string | null;
  probability: number;
  diagnosis: number;
  latency_ms: number;
} & { [K in FeatureName]: number | null };

export interface PredictionFeedbackTable {
  prediction_id: string;
  diagnosis: number;
  recorded_at: number;
}

/** A Bloom filter of the patient keys of the predictions with ids from `first_id` to `last_id`. */
export interface PredictionPatientFiltersTable {
  filter_id: Generated<number>;
  first_id: string;
  last_id: string;
  bloom: Uint8Array;
}

/** The monitoring tables by name (created by `migrations.ts`). */
export type MonitoringTables = {
  prediction_models: PredictionModelsTable;
  prediction_log: PredictionLogTable;
  prediction_feedback: PredictionFeedbackTable;
  prediction_patient_filters: PredictionPatientFiltersTable;
};

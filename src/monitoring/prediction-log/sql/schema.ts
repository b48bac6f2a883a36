/**
 * The monitoring tables as Kysely sees them: rows, not domain objects (`sql-prediction-log-store.ts`
 * converts them). Timestamps are milliseconds since the Unix epoch (BIGINT); a missing feature value is
 * NULL (SQLite cannot store NaN).
 */
import type { FeatureName } from '../../../data/schema.js';

export type PredictionLogTable = {
  prediction_id: string;
  timestamp: number;
  model_name: string | null;
  model_version: string | null;
  run_id: string | null;
  model_uri: string;
  model_checksum: string | null;
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

/** The monitoring tables by name (created by `migrations.ts`). */
export type MonitoringTables = {
  prediction_log: PredictionLogTable;
  prediction_feedback: PredictionFeedbackTable;
};

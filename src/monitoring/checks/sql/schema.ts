/**
 * The table of the stored checks as Kysely sees it (made by migration 0002 of the monitoring migrations):
 * rows, not domain objects (`sql-monitoring-check-store.ts` converts them). Timestamps are ms since the
 * Unix epoch (BIGINT); documents are JSON text.
 */
export interface MonitoringChecksTable {
  check_id: string;
  kind: string;
  model_name: string;
  model_version: string;
  run_id: string | null;
  window_from: number;
  window_to: number;
  started_at: number;
  finished_at: number;
  status: string;
  error_message: string | null;
  summary_json: string | null;
  result_json: string | null;
}

export type MonitoringCheckTables = { monitoring_checks: MonitoringChecksTable };

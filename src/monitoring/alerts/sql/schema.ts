/** The alert history's table as Kysely sees it: rows, not domain objects (`sql-alert-store.ts` converts them). */

export interface AlertHistoryTable {
  alert_id: string;
  alert_name: string;
  status: string;
  labels_json: string;
  annotations_json: string;
  /** ms since the Unix epoch. */
  starts_at: number;
  ends_at: number | null;
  fingerprint: string;
  generator_url: string;
  receiver: string;
  group_key: string;
  received_at: number;
  outcome: string;
  pipeline_run_id: string | null;
  detail: string | null;
}

export type AlertTables = { alert_history: AlertHistoryTable };

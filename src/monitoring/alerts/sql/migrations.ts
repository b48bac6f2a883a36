import { ddlMigration, type SchemaMigration } from '../../../store/migrations.js';

/**
 * The alert history's table, a migration of the monitoring set (`MONITORING_MIGRATIONS`, which lists it
 * as `0003_alerts`). One row per alert received; ids begin with the time they were received, so the
 * primary key keeps the history in order and newest first is a backward scan of it. Labels and
 * annotations are JSON objects. The outcome says what the alert led to (see `ALERT_OUTCOMES`).
 */
export const ALERTS_MIGRATION: SchemaMigration = ddlMigration({
  statements: () => [
    `CREATE TABLE alert_history (
        alert_id TEXT NOT NULL PRIMARY KEY,
        alert_name TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('firing', 'resolved')),
        labels_json TEXT NOT NULL,
        annotations_json TEXT NOT NULL,
        starts_at BIGINT NOT NULL,
        ends_at BIGINT,
        fingerprint TEXT NOT NULL,
        generator_url TEXT NOT NULL,
        receiver TEXT NOT NULL,
        group_key TEXT NOT NULL,
        received_at BIGINT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN
          ('started', 'already_running', 'not_started', 'action_notify', 'no_action', 'resolved')),
        pipeline_run_id TEXT,
        detail TEXT)`,
    'CREATE INDEX alert_history_status ON alert_history (status, alert_id)',
    'CREATE INDEX alert_history_run ON alert_history (pipeline_run_id)',
  ],
});

import type { Page, PageRequest } from '../../store/paging.js';

/**
 * The alert history: every alert Alertmanager delivered to Onset's webhook (`POST /api/onset/alerts`),
 * with what Onset did about it. Timestamps are milliseconds since the Unix epoch.
 */

export const ALERT_STATUSES = ['firing', 'resolved'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/**
 * What an alert led to:
 * - `started`: it started a retraining run (`pipelineRunId`);
 * - `already_running`: a retraining run was queued or running, which it joined (`pipelineRunId`);
 * - `not_started`: it asked for retraining but no run could start (`detail` says why);
 * - `action_notify`: its `action` label is `notify`: it is for people, Onset does nothing;
 * - `no_action`: it has no `action` label Onset acts on (`detail` names the label's value);
 * - `resolved`: it was resolved; nothing is started by a resolved alert.
 */
export const ALERT_OUTCOMES = [
  'started',
  'already_running',
  'not_started',
  'action_notify',
  'no_action',
  'resolved',
] as const;
export type AlertOutcome = (typeof ALERT_OUTCOMES)[number];

/** One alert as received, with what it triggered. */
export interface ReceivedAlert {
  /**
   * 32 hex digits: the time it was received (12), its place in its notification (4), then random ones:
   * ids sort as the alerts arrived.
   */
  readonly alertId: string;
  /** The `alertname` label. */
  readonly alertName: string;
  readonly status: AlertStatus;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** When the alert started firing (ms). */
  readonly startsAt: number;
  /** When it ended, or (while it fires) until when it is valid; null when Alertmanager sent none. */
  readonly endsAt: number | null;
  /** Alertmanager's fingerprint of its labels (the same alert keeps it from one notification to the next). */
  readonly fingerprint: string;
  /** The link to the rule's expression in Prometheus. */
  readonly generatorUrl: string;
  /** The Alertmanager receiver that sent it, and its notification group's key. */
  readonly receiver: string;
  readonly groupKey: string;
  readonly receivedAt: number;
  readonly outcome: AlertOutcome;
  /** The retraining run it started or joined; null otherwise. */
  readonly pipelineRunId: string | null;
  /** Why nothing started (`not_started`, `no_action`); null otherwise. */
  readonly detail: string | null;
}

/** A page of the history, of one status or with one run when given. */
export interface AlertQuery extends PageRequest {
  readonly status?: AlertStatus;
  readonly pipelineRunId?: string;
}

/**
 * Where the alert history is kept (the SQL implementation is `sql/sql-alert-store.ts`, in the tracking
 * database beside the prediction log). Lists are newest first and page with `maxResults` (default 100,
 * at most 1,000) and the previous page's token.
 */
export interface AlertStore {
  /** Records the alerts of one notification: all of them or none. Their ids must be new. */
  recordAlerts(alerts: readonly ReceivedAlert[]): Promise<void>;
  /** One alert; RESOURCE_DOES_NOT_EXIST when no alert has that id. */
  getAlert(alertId: string): Promise<ReceivedAlert>;
  /** The history, newest first. */
  listAlerts(query: AlertQuery): Promise<Page<ReceivedAlert>>;
}

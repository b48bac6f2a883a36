import type { Kysely, Selectable } from 'kysely';
import { OnsetError } from '../../../errors.js';
import { migrate } from '../../../store/migrations.js';
import { decodePageToken, type Page, resolveMaxResults, toPage } from '../../../store/paging.js';
import type { SqlDatabase } from '../../../store/sql-database.js';
import { MONITORING_MIGRATIONS } from '../../prediction-log/sql/migrations.js';
import {
  ALERT_OUTCOMES,
  ALERT_STATUSES,
  type AlertOutcome,
  type AlertQuery,
  type AlertStatus,
  type AlertStore,
  type ReceivedAlert,
} from '../alert-store.js';
import type { AlertHistoryTable, AlertTables } from './schema.js';

export const LIST_ALERTS_DEFAULT = 100;
export const LIST_ALERTS_MAX = 1_000;

/** An alert id: 32 lower-case hex digits (see `ReceivedAlert.alertId`). */
export const ALERT_ID_PATTERN = /^[0-9a-f]{32}$/;

function toAlert(row: Selectable<AlertHistoryTable>): ReceivedAlert {
  return {
    alertId: row.alert_id,
    alertName: row.alert_name,
    status: row.status as AlertStatus,
    labels: JSON.parse(row.labels_json) as Record<string, string>,
    annotations: JSON.parse(row.annotations_json) as Record<string, string>,
    startsAt: Number(row.starts_at),
    endsAt: row.ends_at === null ? null : Number(row.ends_at),
    fingerprint: row.fingerprint,
    generatorUrl: row.generator_url,
    receiver: row.receiver,
    groupKey: row.group_key,
    receivedAt: Number(row.received_at),
    outcome: row.outcome as AlertOutcome,
    pipelineRunId: row.pipeline_run_id,
    detail: row.detail,
  };
}

function toRow(alert: ReceivedAlert): AlertHistoryTable {
  return {
    alert_id: alert.alertId,
    alert_name: alert.alertName,
    status: alert.status,
    labels_json: JSON.stringify(alert.labels),
    annotations_json: JSON.stringify(alert.annotations),
    starts_at: alert.startsAt,
    ends_at: alert.endsAt,
    fingerprint: alert.fingerprint,
    generator_url: alert.generatorUrl,
    receiver: alert.receiver,
    group_key: alert.groupKey,
    received_at: alert.receivedAt,
    outcome: alert.outcome,
    pipeline_run_id: alert.pipelineRunId,
    detail: alert.detail,
  };
}

/** Refuses what the table's checks would refuse, with a message saying which alert and what is allowed. */
function checkAlert(alert: ReceivedAlert): void {
  const problem = !ALERT_ID_PATTERN.test(alert.alertId)
    ? `its id ${JSON.stringify(alert.alertId)} is not 32 lower-case hex digits`
    : !ALERT_STATUSES.includes(alert.status)
      ? `its status ${JSON.stringify(alert.status)} is not one of ${ALERT_STATUSES.join(', ')}`
      : !ALERT_OUTCOMES.includes(alert.outcome)
        ? `its outcome ${JSON.stringify(alert.outcome)} is not one of ${ALERT_OUTCOMES.join(', ')}`
        : undefined;
  if (problem !== undefined) {
    throw new OnsetError(
      'INVALID_PARAMETER_VALUE',
      `Alert ${alert.alertName} cannot be recorded: ${problem}; nothing was recorded`,
    );
  }
}

/** Migrates the monitoring tables of `database` (a no-op when they are up to date) and opens the alert history over it. */
export async function openAlertStore(database: SqlDatabase): Promise<AlertStore> {
  await migrate(database, MONITORING_MIGRATIONS);
  return new SqlAlertStore(database.withTables<AlertTables>());
}

/** `AlertStore` over SQLite or PostgreSQL (see `SqlDatabase`), in the table of `migrations.ts`. */
export class SqlAlertStore implements AlertStore {
  readonly #database: SqlDatabase<AlertTables>;
  readonly #db: Kysely<AlertTables>;

  constructor(database: SqlDatabase<AlertTables>) {
    this.#database = database;
    this.#db = database.db;
  }

  async recordAlerts(alerts: readonly ReceivedAlert[]): Promise<void> {
    if (alerts.length === 0) return;
    for (const alert of alerts) checkAlert(alert);
    try {
      await this.#database.transaction((trx) =>
        trx.insertInto('alert_history').values(alerts.map(toRow)).execute(),
      );
    } catch (error) {
      if (this.#database.isUniqueViolation(error)) {
        throw new OnsetError(
          'RESOURCE_ALREADY_EXISTS',
          `An alert with one of the ids ${alerts.map((alert) => alert.alertId).join(', ')} is already recorded; nothing was recorded`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  async getAlert(alertId: string): Promise<ReceivedAlert> {
    const row = await this.#db
      .selectFrom('alert_history')
      .selectAll()
      .where('alert_id', '=', alertId)
      .executeTakeFirst();
    if (!row)
      throw new OnsetError('RESOURCE_DOES_NOT_EXIST', `No alert with alert_id ${alertId} is recorded`);
    return toAlert(row);
  }

  async listAlerts(query: AlertQuery): Promise<Page<ReceivedAlert>> {
    if (query.status !== undefined && !ALERT_STATUSES.includes(query.status)) {
      throw new OnsetError(
        'INVALID_PARAMETER_VALUE',
        `Unknown alert status "${query.status}"; known: ${ALERT_STATUSES.join(', ')}`,
      );
    }
    const limit = resolveMaxResults(query.maxResults, LIST_ALERTS_DEFAULT, LIST_ALERTS_MAX);
    const offset = decodePageToken(query.pageToken);
    let select = this.#db.selectFrom('alert_history').selectAll();
    if (query.status !== undefined) select = select.where('status', '=', query.status);
    if (query.pipelineRunId !== undefined) select = select.where('pipeline_run_id', '=', query.pipelineRunId);
    const rows = await select
      .orderBy('alert_id', 'desc')
      .limit(limit + 1)
      .offset(offset)
      .execute();
    const page = toPage(rows, offset, limit);
    return { items: page.items.map(toAlert), nextPageToken: page.nextPageToken };
  }
}

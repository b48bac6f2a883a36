import { randomBytes } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { invalidParameter, OnsetError } from '../../../errors.js';
import { migrate } from '../../../store/migrations.js';
import { decodePageToken, type Page, resolveMaxResults, toPage } from '../../../store/paging.js';
import type { SqlDatabase } from '../../../store/sql-database.js';
import { timePartOf } from '../../prediction-log/prediction-id.js';
import { MONITORING_MIGRATIONS } from '../../prediction-log/sql/migrations.js';
import {
  CHECK_KINDS,
  CHECK_STATUSES,
  type CheckKind,
  type CheckQuery,
  type CheckStatus,
  type JsonObject,
  type MonitoringCheck,
  type MonitoringCheckStore,
  type MonitoringCheckSummary,
  type NewMonitoringCheck,
} from '../monitoring-check-store.js';
import type { MonitoringChecksTable, MonitoringCheckTables } from './schema.js';

export const LIST_CHECKS_DEFAULT = 100;
export const LIST_CHECKS_MAX = 1_000;

/** The longest error message kept (a job clips longer ones before storing them). */
export const MAX_CHECK_ERROR_LENGTH = 10_000;
/** The largest document (summary or result) kept, as JSON text: a drift result is about 50 KB. */
const MAX_DOCUMENT_BYTES = 8 * 1024 * 1024;
/** The longest model name or version accepted. */
const MAX_NAME_LENGTH = 1_000;

const CHECK_ID = /^[0-9a-f]{32}$/;

/** A new check id: the start time (12 hex digits), then 80 random bits. */
function newCheckId(startedAt: number): string {
  return timePartOf(startedAt) + randomBytes(10).toString('hex');
}

/**
 * Checks that `value` is JSON the store can keep exactly: objects, arrays, strings, booleans, null and
 * finite numbers (JSON.stringify would write NaN as null and drop undefined, storing something else than
 * was given). The error names where the bad value is.
 */
function checkJson(value: unknown, path: string): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      throw invalidParameter(`${path} is ${value}: a check's documents hold finite numbers only (use null)`);
    }
    return;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) checkJson(value[i], `${path}[${i}]`);
    return;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, item] of Object.entries(value)) checkJson(item, `${path}.${key}`);
    return;
  }
  throw invalidParameter(
    `${path} is ${value === undefined ? 'undefined' : `a ${typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value}`}: a check's documents are plain JSON`,
  );
}

/** The document as JSON text, or null; refused when it is not plain JSON or too large. */
function documentText(document: JsonObject | null, what: string): string | null {
  if (document === null) return null;
  if (typeof document !== 'object' || Array.isArray(document)) {
    throw invalidParameter(`The check's ${what} must be a JSON object or null`);
  }
  checkJson(document, what);
  const text = JSON.stringify(document);
  if (Buffer.byteLength(text) > MAX_DOCUMENT_BYTES) {
    throw invalidParameter(
      `The check's ${what} is ${Buffer.byteLength(text)} bytes of JSON; at most ${MAX_DOCUMENT_BYTES} are kept`,
    );
  }
  return text;
}

const isTime = (value: number) => Number.isSafeInteger(value) && value >= 0;

/** Refuses what the table must not hold, naming the field; nothing is written when this throws. */
function validate(check: NewMonitoringCheck): void {
  if (!CHECK_KINDS.includes(check.kind)) {
    throw invalidParameter(
      `Unknown check kind "${String(check.kind)}"; the kinds are ${CHECK_KINDS.join(', ')}`,
    );
  }
  if (!CHECK_STATUSES.includes(check.status)) {
    throw invalidParameter(
      `Unknown check status "${String(check.status)}"; the statuses are ${CHECK_STATUSES.join(', ')}`,
    );
  }
  for (const [field, value] of [
    ['model name', check.model?.name],
    ['model version', check.model?.version],
  ] as const) {
    if (typeof value !== 'string' || value === '' || value.length > MAX_NAME_LENGTH) {
      throw invalidParameter(
        `A check's ${field} must be a string of 1 to ${MAX_NAME_LENGTH} characters, got ${JSON.stringify(value)}`,
      );
    }
  }
  if (check.model.runId !== null && (typeof check.model.runId !== 'string' || check.model.runId === '')) {
    throw invalidParameter(
      `A check's run id must be a string or null, got ${JSON.stringify(check.model.runId)}`,
    );
  }
  const { from, to } = check.window ?? {};
  if (!isTime(from) || !isTime(to) || from > to) {
    throw invalidParameter(
      `A check's window must run from one time to a later one (whole ms since the Unix epoch), got ${from} to ${to}`,
    );
  }
  if (!isTime(check.startedAt) || !isTime(check.finishedAt) || check.startedAt > check.finishedAt) {
    throw invalidParameter(
      `A check must finish when or after it started (whole ms since the Unix epoch), got ${check.startedAt} to ${check.finishedAt}`,
    );
  }
  if (check.status === 'failed') {
    if (
      typeof check.error !== 'string' ||
      check.error === '' ||
      check.error.length > MAX_CHECK_ERROR_LENGTH
    ) {
      throw invalidParameter(
        `A failed check needs its error message (1 to ${MAX_CHECK_ERROR_LENGTH} characters)`,
      );
    }
  } else if (check.error !== null) {
    throw invalidParameter('A succeeded check has no error message (null)');
  }
}

function parseDocument(text: string | null): JsonObject | null {
  return text === null ? null : (JSON.parse(text) as JsonObject);
}

function toSummary(row: Omit<Selectable<MonitoringChecksTable>, 'result_json'>): MonitoringCheckSummary {
  return {
    checkId: row.check_id,
    kind: row.kind as CheckKind,
    model: { name: row.model_name, version: row.model_version, runId: row.run_id },
    window: { from: Number(row.window_from), to: Number(row.window_to) },
    startedAt: Number(row.started_at),
    finishedAt: Number(row.finished_at),
    status: row.status as CheckStatus,
    error: row.error_message,
    summary: parseDocument(row.summary_json),
  };
}

/**
 * Migrates the monitoring tables of `database` (a no-op when they are up to date) and opens the check
 * store over it.
 */
export async function openMonitoringCheckStore(database: SqlDatabase): Promise<MonitoringCheckStore> {
  await migrate(database, MONITORING_MIGRATIONS);
  return new SqlMonitoringCheckStore(database.withTables<MonitoringCheckTables>());
}

/** `MonitoringCheckStore` over SQLite or PostgreSQL, in the table of migration 0002. */
export class SqlMonitoringCheckStore implements MonitoringCheckStore {
  readonly #db: Kysely<MonitoringCheckTables>;

  constructor(database: SqlDatabase<MonitoringCheckTables>) {
    this.#db = database.db;
  }

  async recordCheck(check: NewMonitoringCheck): Promise<MonitoringCheck> {
    validate(check);
    const summaryJson = documentText(check.summary, 'summary');
    const resultJson = documentText(check.result, 'result');
    const checkId = newCheckId(check.startedAt);
    await this.#db
      .insertInto('monitoring_checks')
      .values({
        check_id: checkId,
        kind: check.kind,
        model_name: check.model.name,
        model_version: check.model.version,
        run_id: check.model.runId,
        window_from: check.window.from,
        window_to: check.window.to,
        started_at: check.startedAt,
        finished_at: check.finishedAt,
        status: check.status,
        error_message: check.error,
        summary_json: summaryJson,
        result_json: resultJson,
      })
      .execute();
    // What was stored, read back as a reader will see it.
    return this.getCheck(checkId);
  }

  async getCheck(checkId: string): Promise<MonitoringCheck> {
    const row = CHECK_ID.test(checkId)
      ? await this.#db
          .selectFrom('monitoring_checks')
          .selectAll()
          .where('check_id', '=', checkId)
          .executeTakeFirst()
      : undefined;
    if (!row) {
      throw new OnsetError(
        'RESOURCE_DOES_NOT_EXIST',
        `No monitoring check has the id ${JSON.stringify(checkId)}`,
      );
    }
    return { ...toSummary(row), result: parseDocument(row.result_json) };
  }

  async listChecks(query: CheckQuery = {}): Promise<Page<MonitoringCheckSummary>> {
    if (query.kind !== undefined && !CHECK_KINDS.includes(query.kind)) {
      throw invalidParameter(
        `Unknown check kind "${String(query.kind)}"; the kinds are ${CHECK_KINDS.join(', ')}`,
      );
    }
    const limit = resolveMaxResults(query.maxResults, LIST_CHECKS_DEFAULT, LIST_CHECKS_MAX);
    const offset = decodePageToken(query.pageToken);
    let select = this.#db
      .selectFrom('monitoring_checks')
      .select([
        'check_id',
        'kind',
        'model_name',
        'model_version',
        'run_id',
        'window_from',
        'window_to',
        'started_at',
        'finished_at',
        'status',
        'error_message',
        'summary_json',
      ]);
    if (query.kind !== undefined) select = select.where('kind', '=', query.kind);
    if (query.modelName !== undefined) select = select.where('model_name', '=', query.modelName);
    if (query.modelVersion !== undefined) select = select.where('model_version', '=', query.modelVersion);
    const rows = await select
      .orderBy('check_id', 'desc')
      .limit(limit + 1)
      .offset(offset)
      .execute();
    const page = toPage(rows, offset, limit);
    return { items: page.items.map(toSummary), nextPageToken: page.nextPageToken };
  }

  async deleteChecksBefore(timestamp: number): Promise<number> {
    if (!Number.isFinite(timestamp)) {
      throw invalidParameter(`deleteChecksBefore needs a time (ms), got ${timestamp}`);
    }
    const result = await this.#db
      .deleteFrom('monitoring_checks')
      .where('started_at', '<', timestamp)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

import {
  type Expression,
  type Kysely,
  type Selectable,
  type SelectQueryBuilder,
  type SqlBool,
  sql,
} from 'kysely';
import { FEATURE_NAMES, type FeatureName } from '../../../data/schema.js';
import { OnsetError } from '../../../errors.js';
import { migrate } from '../../../store/migrations.js';
import {
  decodePageToken,
  type Page,
  type PageRequest,
  resolveMaxResults,
  toPage,
} from '../../../store/paging.js';
import { chunks, type SqlDatabase } from '../../../store/sql-database.js';
import { patientFilterMayHold, patientFilterRuns } from '../patient-filter.js';
import { PREDICTION_ID_PATTERN, predictionIdFloor, timePartOf } from '../prediction-id.js';
import type {
  ColumnWindow,
  ColumnWindowOptions,
  FeedbackInput,
  FeedbackOutcome,
  FeedbackProblem,
  FeedbackResult,
  Label,
  LabelledPrediction,
  LogColumn,
  LoggedModel,
  LoggedPrediction,
  PredictionLogStore,
  PredictionSource,
  PredictionWindow,
  WindowQuery,
} from '../prediction-log-store.js';
import { FEATURE_COUNT, NUMBERS_PER_PREDICTION, type PredictionColumns } from '../prediction-log-store.js';
import { MONITORING_MIGRATIONS } from './migrations.js';
import type { MonitoringTables, PredictionLogTable } from './schema.js';

export const LIST_PREDICTIONS_DEFAULT = 100;
export const LIST_PREDICTIONS_MAX = 1_000;

/** Rows per query of `readColumns` (see there). */
const READ_PAGE_ROWS = 10_000;

/** Rows per DELETE of the retention: each is one short write, with a turn of the event loop between. */
const DELETE_ROWS = 1_000;

/** The log's columns in insert order: the prediction, then one column per feature, named as the feature. */
const INSERT_COLUMNS = [
  'prediction_id',
  'timestamp',
  'model_id',
  'source',
  'patient_key',
  'probability',
  'diagnosis',
  'latency_ms',
  ...FEATURE_NAMES,
];

/** The SQL column of each `LogColumn` that is not a feature. */
const PLAIN_COLUMNS = {
  timestamp: 'p.timestamp',
  probability: 'p.probability',
  diagnosis: 'p.diagnosis',
  latencyMs: 'p.latency_ms',
  label: 'f.diagnosis',
} as const;

/** A log row with its model's columns (see `#selectPredictions`). */
type Row = Selectable<PredictionLogTable> & {
  model_name: string | null;
  model_version: string | null;
  model_run_id: string | null;
  model_uri: string;
  model_checksum: string | null;
};
type LabelledRow = Row & { label_diagnosis: number; label_recorded_at: number };

/** What makes two models the same, NULLs included (a UNIQUE index over the columns would not see them). */
function modelKey(model: LoggedModel): string {
  return JSON.stringify([model.name, model.version, model.runId, model.uri, model.checksum]);
}

function toPrediction(row: Row): LoggedPrediction {
  const features = new Float64Array(FEATURE_NAMES.length);
  FEATURE_NAMES.forEach((name, j) => {
    const value = row[name];
    features[j] = value === null ? Number.NaN : Number(value);
  });
  return {
    predictionId: row.prediction_id,
    timestamp: Number(row.timestamp),
    model: {
      name: row.model_name,
      version: row.model_version,
      runId: row.model_run_id,
      uri: row.model_uri,
      checksum: row.model_checksum,
    },
    features,
    probability: Number(row.probability),
    diagnosis: Number(row.diagnosis) === 1 ? 1 : 0,
    latencyMs: Number(row.latency_ms),
    source: row.source as PredictionSource,
    patientKey: row.patient_key,
  };
}

function toLabel(diagnosis: number, recordedAt: number): Label {
  return { diagnosis: Number(diagnosis) === 1 ? 1 : 0, recordedAt: Number(recordedAt) };
}

function notFound(predictionId: string): OnsetError {
  return new OnsetError(
    'RESOURCE_DOES_NOT_EXIST',
    `No prediction with prediction_id ${predictionId} is logged`,
  );
}

/** Patient filters' id ranges per query of a patient lookup. */
const RANGES_PER_QUERY = 50;

/** A stored patient filter (see `patient-filter.ts`). */
interface StoredFilter {
  readonly firstId: string;
  readonly lastId: string;
  readonly filter: Uint8Array;
}

/** The patient filters of the log, newest (by last id) first. */
async function patientFilters(db: Kysely<MonitoringTables>): Promise<StoredFilter[]> {
  const rows = await db
    .selectFrom('prediction_patient_filters')
    .select(['first_id', 'last_id', 'bloom'])
    .orderBy('last_id', 'desc')
    .execute();
  return rows.map((row) => ({ firstId: row.first_id, lastId: row.last_id, filter: row.bloom }));
}

/**
 * The newest `wanted` predictions of `patientKey`, newest first: `read(ranges)` reads, newest first and
 * at most `wanted`, the key's predictions within a condition on `p.prediction_id`, and is asked only
 * about the filters that may hold the key, the newest first. It stops once no filter left can hold a
 * prediction newer than the `wanted`th found (ranges of different writers may overlap).
 */
async function newestOfPatient<T extends { prediction_id: string }>(
  filters: readonly StoredFilter[],
  patientKey: string,
  wanted: number,
  read: (ranges: Expression<SqlBool>) => Promise<T[]>,
): Promise<T[]> {
  const candidates = filters.filter((stored) => patientFilterMayHold(stored.filter, patientKey));
  let found: T[] = [];
  const seen = new Set<string>();
  for (let start = 0; start < candidates.length; start += RANGES_PER_QUERY) {
    if (found.length >= wanted && found[wanted - 1]!.prediction_id >= candidates[start]!.lastId) break;
    const ranges = candidates
      .slice(start, start + RANGES_PER_QUERY)
      .map((stored) => sql<SqlBool>`p.prediction_id BETWEEN ${stored.firstId} AND ${stored.lastId}`);
    for (const row of await read(sql<SqlBool>`(${sql.join(ranges, sql` OR `)})`)) {
      if (seen.has(row.prediction_id)) continue;
      seen.add(row.prediction_id);
      found.push(row);
    }
    found.sort((a, b) => (a.prediction_id < b.prediction_id ? 1 : -1));
    // What falls beyond `wanted` never comes back: later rows only push it further.
    if (found.length > wanted) found = found.slice(0, wanted);
  }
  return found;
}

/** A number as the log stores it: NaN (a missing value) as NULL, which SQLite stores for NaN anyway. */
const stored = (value: number) => (Number.isNaN(value) ? null : value);

/** The predictions of `window`, as a condition on `p`, the log. */
function inWindow(window: PredictionWindow): Expression<SqlBool> {
  const conditions = [
    // Ids begin with their time: a time window is a range of the primary key.
    ...(window.from === undefined
      ? []
      : [sql<SqlBool>`p.prediction_id >= ${predictionIdFloor(window.from)}`]),
    ...(window.to === undefined ? [] : [sql<SqlBool>`p.prediction_id < ${predictionIdFloor(window.to)}`]),
    ...(window.modelName === undefined && window.modelVersion === undefined
      ? []
      : [
          sql<SqlBool>`p.model_id IN (SELECT model_id FROM prediction_models WHERE ${sql.join(
            [
              ...(window.modelName === undefined ? [] : [sql`name = ${window.modelName}`]),
              ...(window.modelVersion === undefined ? [] : [sql`version = ${window.modelVersion}`]),
            ],
            sql` AND `,
          )})`,
        ]),
  ];
  return conditions.length === 0 ? sql<SqlBool>`1 = 1` : sql<SqlBool>`${sql.join(conditions, sql` AND `)}`;
}

/** A turn of the event loop (a SQLite statement runs on it: the retention leaves room for requests). */
const yieldTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Migrates the monitoring tables of `database` (a no-op when they are up to date) and opens the
 * prediction log store over it.
 */
export async function openPredictionLogStore(database: SqlDatabase): Promise<PredictionLogStore> {
  await migrate(database, MONITORING_MIGRATIONS);
  return new SqlPredictionLogStore(database.withTables<MonitoringTables>());
}

/** `PredictionLogStore` over SQLite or PostgreSQL (see `SqlDatabase`), in the tables of `migrations.ts`. */
export class SqlPredictionLogStore implements PredictionLogStore {
  readonly #database: SqlDatabase<MonitoringTables>;
  readonly #db: Kysely<MonitoringTables>;

  /** Model ids by `modelKey`, found or made once per model. */
  readonly #modelIds = new Map<string, number>();

  constructor(database: SqlDatabase<MonitoringTables>) {
    this.#database = database;
    this.#db = database.db;
  }

  /** The id of `model` in `prediction_models`, adding it the first time (once, whoever adds it at once). */
  async #modelId(model: LoggedModel): Promise<number> {
    const key = modelKey(model);
    let id = this.#modelIds.get(key);
    if (id === undefined) {
      await this.#db
        .insertInto('prediction_models')
        .values({
          model_key: key,
          name: model.name,
          version: model.version,
          run_id: model.runId,
          uri: model.uri,
          checksum: model.checksum,
        })
        .onConflict((conflict) => conflict.column('model_key').doNothing())
        .execute();
      const row = await this.#db
        .selectFrom('prediction_models')
        .select('model_id')
        .where('model_key', '=', key)
        .executeTakeFirstOrThrow();
      id = Number(row.model_id);
      this.#modelIds.set(key, id);
    }
    return id;
  }

  /** The log's rows with their models' columns. */
  #selectPredictions() {
    return this.#db
      .selectFrom('prediction_log as p')
      .innerJoin('prediction_models as m', 'm.model_id', 'p.model_id')
      .selectAll('p')
      .select([
        'm.name as model_name',
        'm.version as model_version',
        'm.run_id as model_run_id',
        'm.uri as model_uri',
        'm.checksum as model_checksum',
      ]);
  }

  async appendPredictions(predictions: PredictionColumns): Promise<void> {
    const { count, ids, numbers, features, patientKeys, sources, modelIndex } = predictions;
    // The log's order and its time windows rest on ids that begin with their time. A batch is made
    // within a few milliseconds: each time's digits are made once.
    let timePart = '';
    let timePartAt = Number.NaN;
    for (let i = 0; i < count; i++) {
      const id = ids[i]!;
      const timestamp = numbers[i * NUMBERS_PER_PREDICTION]!;
      if (timestamp !== timePartAt) {
        timePartAt = timestamp;
        timePart = timePartOf(timestamp);
      }
      if (!PREDICTION_ID_PATTERN.test(id) || !id.startsWith(timePart)) {
        throw new OnsetError(
          'INVALID_PARAMETER_VALUE',
          `Prediction id ${id} was not made for its time ${timestamp}: make ids with newPredictionId(timestamp); nothing was logged`,
        );
      }
    }
    const modelIds: number[] = [];
    for (const model of predictions.models) modelIds.push(await this.#modelId(model));
    // The filters first: a prediction is never found before its filter is (a filter whose predictions
    // did not land only costs a lookup a few rows read).
    const runs = patientFilterRuns(
      count,
      (i) => ids[i]!,
      (i) => patientKeys[i]!,
    );
    if (runs.length > 0) {
      await this.#db
        .insertInto('prediction_patient_filters')
        .values(runs.map((run) => ({ first_id: run.firstId, last_id: run.lastId, bloom: run.filter })))
        .execute();
    }
    // Through the database's bulk path, from the columns: the log is appended to on every prediction.
    await this.#database.insertRows('prediction_log', INSERT_COLUMNS, count, (i, values, o) => {
      const at = i * NUMBERS_PER_PREDICTION;
      values[o] = ids[i];
      values[o + 1] = numbers[at];
      values[o + 2] = modelIds[modelIndex[i]!];
      values[o + 3] = sources[i];
      values[o + 4] = patientKeys[i];
      values[o + 5] = numbers[at + 1];
      values[o + 6] = numbers[at + 3];
      values[o + 7] = numbers[at + 2];
      const first = i * FEATURE_COUNT;
      for (let j = 0; j < FEATURE_COUNT; j++) values[o + 8 + j] = stored(features[first + j]!);
    });
  }

  async listPredictions(query: WindowQuery): Promise<Page<LoggedPrediction>> {
    const limit = resolveMaxResults(query.maxResults, LIST_PREDICTIONS_DEFAULT, LIST_PREDICTIONS_MAX);
    const offset = decodePageToken(query.pageToken);
    const rows = await this.#selectPredictions()
      .where(inWindow(query))
      .orderBy('p.prediction_id')
      .limit(limit + 1)
      .offset(offset)
      .execute();
    const page = toPage(rows, offset, limit);
    return { items: page.items.map(toPrediction), nextPageToken: page.nextPageToken };
  }

  async countPredictions(window: PredictionWindow): Promise<number> {
    const row = await this.#db
      .selectFrom('prediction_log as p')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where(inWindow(window))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async readColumns<C extends LogColumn>(
    window: PredictionWindow,
    columns: readonly C[],
    options: ColumnWindowOptions = {},
  ): Promise<ColumnWindow<C>> {
    const wanted = [...new Set(columns)];
    const unknown = wanted.filter(
      (column) => !(column in PLAIN_COLUMNS) && !FEATURE_NAMES.includes(column as FeatureName),
    );
    if (unknown.length > 0) {
      throw new OnsetError(
        'INVALID_PARAMETER_VALUE',
        `Unknown prediction log column(s) ${unknown.join(', ')}: the columns are the features (${FEATURE_NAMES.join(', ')}) and ${Object.keys(PLAIN_COLUMNS).join(', ')}`,
      );
    }
    if (options.maxRows !== undefined && (!Number.isInteger(options.maxRows) || options.maxRows < 1)) {
      throw new OnsetError(
        'INVALID_PARAMETER_VALUE',
        `maxRows must be a whole number of at least 1, got ${options.maxRows}`,
      );
    }
    const pageRows = options.pageRows ?? READ_PAGE_ROWS;
    if (!Number.isInteger(pageRows) || pageRows < 1) {
      throw new OnsetError(
        'INVALID_PARAMETER_VALUE',
        `pageRows must be a whole number of at least 1, got ${pageRows}`,
      );
    }
    const selected = [
      ...wanted.map((column, i) =>
        sql
          .raw<number | null>(
            column in PLAIN_COLUMNS ? PLAIN_COLUMNS[column as keyof typeof PLAIN_COLUMNS] : `p."${column}"`,
          )
          .as(`c${i}`),
      ),
      // Last: where the next page begins.
      sql.raw<string>('p.prediction_id').as('id'),
    ];
    const from = this.#db.selectFrom('prediction_log as p');
    const joined = options.labelledOnly
      ? from.innerJoin('prediction_feedback as f', 'f.prediction_id', 'p.prediction_id')
      : from.leftJoin('prediction_feedback as f', 'f.prediction_id', 'p.prediction_id');
    // The latest maxRows: read newest first, then put back in time order.
    const newestFirst = options.maxRows !== undefined;
    const idAt = wanted.length;
    // Read a page at a time (keyed on the id, which orders the log), each page's rows made into numbers
    // before the next is read: a drift window is 100,000 rows of 33 columns, and reading them in one
    // query held them all as row arrays at once, growing the server's heap by tens of MB for good. Rows
    // come as arrays, not objects: an object per row took three times as long to read as the values.
    const pages: Float64Array[][] = [];
    let total = 0;
    let after: string | undefined;
    for (;;) {
      const want = newestFirst ? Math.min(pageRows, options.maxRows! - total) : pageRows;
      if (want <= 0) break;
      let query = joined.select(selected).where(inWindow(window));
      if (after !== undefined) query = query.where('p.prediction_id', newestFirst ? '<' : '>', after);
      const rows = await this.#database.selectRows(
        query
          .orderBy('p.prediction_id', newestFirst ? 'desc' : 'asc')
          .limit(want)
          .compile(),
      );
      if (rows.length === 0) break;
      pages.push(
        wanted.map((_, i) => {
          const values = new Float64Array(rows.length);
          for (let r = 0; r < rows.length; r++) {
            const value = rows[r]![i];
            values[r] = value === null || value === undefined ? Number.NaN : Number(value);
          }
          return values;
        }),
      );
      total += rows.length;
      after = String(rows[rows.length - 1]![idAt]);
      if (rows.length < want) break;
    }
    const result = {} as { [K in C]: Float64Array };
    wanted.forEach((column, i) => {
      const values = new Float64Array(total);
      let at = 0;
      for (const page of pages) {
        const read = page[i]!;
        if (newestFirst) {
          // Newest first: the last row read is the oldest, and goes first.
          for (let r = 0; r < read.length; r++) values[total - 1 - (at + r)] = read[r]!;
        } else {
          values.set(read, at);
        }
        at += read.length;
      }
      result[column] = values;
    });
    return { rows: total, columns: result };
  }

  async getPrediction(predictionId: string): Promise<LoggedPrediction> {
    const row = await this.#selectPredictions()
      .where('p.prediction_id', '=', predictionId)
      .executeTakeFirst();
    if (!row) throw notFound(predictionId);
    return toPrediction(row);
  }

  async findByPatientKey(patientKey: string, page: PageRequest = {}): Promise<Page<LoggedPrediction>> {
    const limit = resolveMaxResults(page.maxResults, LIST_PREDICTIONS_DEFAULT, LIST_PREDICTIONS_MAX);
    const offset = decodePageToken(page.pageToken);
    const wanted = offset + limit + 1;
    const rows = await newestOfPatient(await patientFilters(this.#db), patientKey, wanted, (ranges) =>
      this.#selectPredictions()
        .where('p.patient_key', '=', patientKey)
        .where(ranges)
        .orderBy('p.prediction_id', 'desc')
        .limit(wanted)
        .execute(),
    );
    const found = toPage(rows.slice(offset), offset, limit);
    return { items: found.items.map(toPrediction), nextPageToken: found.nextPageToken };
  }

  async deletePredictions(predictionIds: readonly string[]): Promise<number> {
    if (predictionIds.length === 0) return 0;
    const deleted = await this.#database.transaction(async (trx) => {
      let deleted = 0;
      for (const part of chunks([...new Set(predictionIds)])) {
        // The labels go with them (ON DELETE CASCADE).
        const result = await trx
          .deleteFrom('prediction_log')
          .where('prediction_id', 'in', part)
          .executeTakeFirst();
        deleted += Number(result.numDeletedRows);
      }
      return deleted;
    });
    if (deleted > 0) await this.#pruneFilters();
    return deleted;
  }

  /**
   * Deletes, DELETE_ROWS at a time, the oldest predictions that `where` selects, until none is left or
   * `budget` are gone; each piece is its own short write, so serving and logging go on meanwhile.
   */
  async #deleteOldest(
    where: (
      query: SelectQueryBuilder<MonitoringTables, 'prediction_log', { prediction_id: string }>,
    ) => SelectQueryBuilder<MonitoringTables, 'prediction_log', { prediction_id: string }>,
    budget = Number.POSITIVE_INFINITY,
  ): Promise<number> {
    let deleted = 0;
    while (deleted < budget) {
      const take = Math.min(DELETE_ROWS, budget - deleted);
      const oldest = where(this.#db.selectFrom('prediction_log').select('prediction_id'))
        .orderBy('prediction_id')
        .limit(take);
      const result = await this.#db
        .deleteFrom('prediction_log')
        .where('prediction_id', 'in', oldest)
        .executeTakeFirst();
      const count = Number(result.numDeletedRows);
      deleted += count;
      if (count < take) break;
      await yieldTurn();
    }
    if (deleted > 0) await this.#pruneFilters();
    return deleted;
  }

  /**
   * Deletes the patient filters whose predictions are all gone: those that end before the oldest
   * prediction left. An empty log keeps its filters (one being appended now may be among them); they
   * only cost a lookup a few rows read, until the next deletion.
   */
  async #pruneFilters(): Promise<void> {
    const oldest = await this.#db
      .selectFrom('prediction_log')
      .select('prediction_id')
      .orderBy('prediction_id')
      .limit(1)
      .executeTakeFirst();
    if (oldest === undefined) return;
    await this.#db
      .deleteFrom('prediction_patient_filters')
      .where('last_id', '<', oldest.prediction_id)
      .execute();
  }

  deleteOlderThan(timestamp: number): Promise<number> {
    return this.#deleteOldest((query) => query.where('prediction_id', '<', predictionIdFloor(timestamp)));
  }

  async deleteBeyondRows(maxRows: number): Promise<number> {
    if (!Number.isInteger(maxRows) || maxRows < 0) {
      throw new OnsetError(
        'INVALID_PARAMETER_VALUE',
        `maxRows must be a whole number of at least 0, got ${maxRows}`,
      );
    }
    const excess = (await this.countPredictions({})) - maxRows;
    // Predictions appended meanwhile are newer than those counted: only the oldest go.
    return excess > 0 ? this.#deleteOldest((query) => query, excess) : 0;
  }

  async recordFeedback(records: readonly FeedbackInput[]): Promise<FeedbackResult> {
    try {
      return await this.#recordFeedbackOnce(records);
    } catch (error) {
      // Another writer labelled one of these predictions between our read and our insert (PostgreSQL's
      // READ COMMITTED; SQLite's write lock prevents it): read again, which now finds the label.
      if (!this.#database.isUniqueViolation(error)) throw error;
      return this.#recordFeedbackOnce(records);
    }
  }

  #recordFeedbackOnce(records: readonly FeedbackInput[]): Promise<FeedbackResult> {
    return this.#database.transaction(async (trx) => {
      const ids = [
        ...new Set(records.flatMap((r) => ('predictionId' in r.target ? [r.target.predictionId] : []))),
      ];
      const known = new Set<string>();
      for (const part of chunks(ids)) {
        const rows = await trx
          .selectFrom('prediction_log')
          .select('prediction_id')
          .where('prediction_id', 'in', part)
          .execute();
        for (const row of rows) known.add(row.prediction_id);
      }
      const latestOfKey = new Map<string, string | undefined>();
      let filters: StoredFilter[] | undefined;
      for (const record of records) {
        if (!('patientKey' in record.target) || latestOfKey.has(record.target.patientKey)) continue;
        const { patientKey } = record.target;
        filters ??= await patientFilters(trx);
        const [latest] = await newestOfPatient(filters, patientKey, 1, (ranges) =>
          trx
            .selectFrom('prediction_log as p')
            .select('p.prediction_id')
            .where('p.patient_key', '=', patientKey)
            .where(ranges)
            .orderBy('p.prediction_id', 'desc')
            .limit(1)
            .execute(),
        );
        latestOfKey.set(patientKey, latest?.prediction_id);
      }
      const resolved = records.map((record) =>
        'predictionId' in record.target
          ? known.has(record.target.predictionId)
            ? record.target.predictionId
            : undefined
          : latestOfKey.get(record.target.patientKey),
      );
      const labels = new Map<string, Label>();
      for (const part of chunks([...new Set(resolved.filter((id) => id !== undefined))])) {
        const rows = await trx
          .selectFrom('prediction_feedback')
          .selectAll()
          .where('prediction_id', 'in', part)
          .execute();
        for (const row of rows) labels.set(row.prediction_id, toLabel(row.diagnosis, row.recorded_at));
      }
      const now = Date.now();
      const problems: FeedbackProblem[] = [];
      const outcomes: FeedbackOutcome[] = [];
      /** The records of this call that label a prediction first, by prediction id. */
      const firstInCall = new Map<string, number>();
      records.forEach((record, index) => {
        const predictionId = resolved[index];
        if (predictionId === undefined) {
          problems.push({ index, reason: 'unknown' });
          return;
        }
        const recorded = labels.get(predictionId);
        const earlierIndex = firstInCall.get(predictionId);
        if (recorded !== undefined && recorded.diagnosis !== record.diagnosis) {
          problems.push({
            index,
            reason: 'conflict',
            predictionId,
            recorded,
            ...(earlierIndex === undefined ? {} : { earlierIndex }),
          });
          return;
        }
        if (recorded !== undefined) {
          outcomes.push({
            predictionId,
            diagnosis: record.diagnosis,
            status: 'unchanged',
            recordedAt: recorded.recordedAt,
          });
          return;
        }
        labels.set(predictionId, { diagnosis: record.diagnosis, recordedAt: now });
        firstInCall.set(predictionId, index);
        outcomes.push({ predictionId, diagnosis: record.diagnosis, status: 'recorded', recordedAt: now });
      });
      if (problems.length > 0) return { ok: false, problems };
      const inserts = outcomes
        .filter((outcome) => outcome.status === 'recorded')
        .map((outcome) => ({
          prediction_id: outcome.predictionId,
          diagnosis: outcome.diagnosis,
          recorded_at: outcome.recordedAt,
        }));
      for (const part of chunks(inserts)) await trx.insertInto('prediction_feedback').values(part).execute();
      return { ok: true, outcomes };
    });
  }

  async getLabel(predictionId: string): Promise<Label | undefined> {
    const row = await this.#db
      .selectFrom('prediction_feedback')
      .selectAll()
      .where('prediction_id', '=', predictionId)
      .executeTakeFirst();
    return row ? toLabel(row.diagnosis, row.recorded_at) : undefined;
  }

  async listLabelledPredictions(query: WindowQuery): Promise<Page<LabelledPrediction>> {
    const limit = resolveMaxResults(query.maxResults, LIST_PREDICTIONS_DEFAULT, LIST_PREDICTIONS_MAX);
    const offset = decodePageToken(query.pageToken);
    const rows = (await this.#selectPredictions()
      .innerJoin('prediction_feedback as f', 'f.prediction_id', 'p.prediction_id')
      .select(['f.diagnosis as label_diagnosis', 'f.recorded_at as label_recorded_at'])
      .where(inWindow(query))
      .orderBy('p.prediction_id')
      .limit(limit + 1)
      .offset(offset)
      .execute()) as LabelledRow[];
    const page = toPage(rows, offset, limit);
    return {
      items: page.items.map((row) => ({
        ...toPrediction(row),
        label: toLabel(row.label_diagnosis, row.label_recorded_at),
      })),
      nextPageToken: page.nextPageToken,
    };
  }
}

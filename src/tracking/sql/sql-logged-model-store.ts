import { randomUUID } from 'node:crypto';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { invalidParameter } from '../../errors.js';
import { decodePageToken, type Page, resolveMaxResults, toPage } from '../../store/paging.js';
import { chunks, type SqlDatabase } from '../../store/sql-database.js';
import { joinUri, resolvedLocation, storedLocation } from '../artifact-paths.js';
import {
  LOGGED_MODEL_STATUSES,
  type LoggedModel,
  type LoggedModelMetric,
  type LoggedModelStatus,
  type Param,
  type Tag,
} from '../entities.js';
import type {
  LoggedModelDataset,
  LoggedModelInput,
  LoggedModelOrder,
  LoggedModelQuery,
  LoggedModelStore,
} from '../logged-model-store.js';
import type { OrderBy } from '../search/filter-ast.js';
import { type LoggedModelRow, loggedModelToEntity, metricColumns } from './rows.js';
import { randomRunName } from './run-names.js';
import type { TrackingTables } from './schema.js';
import type { SearchParser } from './search-parser.js';
import { and, compileFilter, type SearchSpec } from './search-sql.js';
import { notActive, notFound, validateKey, validateMetric, validateName } from './validation.js';

/** MLflow 3's default page of a logged-model search (its proto's), and the most Onset answers at once. */
export const SEARCH_LOGGED_MODELS_DEFAULT_MAX_RESULTS = 50;
export const SEARCH_LOGGED_MODELS_MAX_RESULTS = 1_000;
/** Longest tag or param value of a logged model (MLflow's column is unbounded text). */
export const LOGGED_MODEL_VALUE_LIMIT = 65_535;
/** Longest name, model type or source run id of a logged model (MLflow's columns). */
const LOGGED_MODEL_NAME_LIMIT = 500;

export interface SqlLoggedModelStoreOptions {
  /** Artifact root URI: a model's files go under its experiment's location, as relative locations. */
  readonly artifactRoot: string;
  readonly parser: SearchParser;
}

const EXPERIMENT_ID = /^\d{1,9}$/;

function modelNotFound(modelId: string) {
  return notFound(`Logged model with ID '${modelId}' not found.`);
}

function validateValue(kind: 'param' | 'tag', key: string, value: unknown): void {
  if (typeof value !== 'string') {
    throw invalidParameter(`Invalid value for ${kind} "${key}" of a logged model: a string is required`);
  }
  if (value.length > LOGGED_MODEL_VALUE_LIMIT) {
    throw invalidParameter(
      `Invalid value for ${kind} "${key}" of a logged model: ${value.length} characters, at most ${LOGGED_MODEL_VALUE_LIMIT} allowed`,
    );
  }
}

/** Tags, last value of a key winning. */
function checkedTags(tags: readonly Tag[]): Tag[] {
  const byKey = new Map<string, string>();
  for (const tag of tags) {
    validateKey('tag', tag?.key);
    validateValue('tag', tag.key, tag.value);
    byKey.set(tag.key, tag.value);
  }
  return [...byKey].map(([key, value]) => ({ key, value }));
}

/** Params, one value per key (two values of a key are refused: params are write-once). */
function checkedParams(params: readonly Param[]): Param[] {
  const byKey = new Map<string, string>();
  for (const param of params) {
    validateKey('param', param?.key);
    validateValue('param', param.key, param.value);
    const previous = byKey.get(param.key);
    if (previous !== undefined && previous !== param.value) {
      throw invalidParameter(
        `Param "${param.key}" is given twice with different values ("${previous}", "${param.value}"): params are write-once`,
      );
    }
    byKey.set(param.key, param.value);
  }
  return [...byKey].map(([key, value]) => ({ key, value }));
}

function optionalText(what: string, value: string | undefined): string | null {
  if (value === undefined || value === '') return null;
  if (typeof value !== 'string' || value.length > LOGGED_MODEL_NAME_LIMIT) {
    throw invalidParameter(
      `Invalid ${what}: a string of at most ${LOGGED_MODEL_NAME_LIMIT} characters is required`,
    );
  }
  return value;
}

const ATTRIBUTE = (column: string, type: 'string' | 'number') => ({ column: sql.ref(`lm.${column}`), type });

/** The attributes a logged-model search filters and orders by (see the parser's `logged_models`). */
const LOGGED_MODEL_ATTRIBUTES = {
  name: ATTRIBUTE('name', 'string'),
  model_id: ATTRIBUTE('model_id', 'string'),
  model_type: ATTRIBUTE('model_type', 'string'),
  status: ATTRIBUTE('status', 'string'),
  source_run_id: ATTRIBUTE('source_run_id', 'string'),
  creation_timestamp: ATTRIBUTE('creation_time', 'number'),
  last_updated_timestamp: ATTRIBUTE('last_updated_time', 'number'),
} as const;

/** A metric row (under `alias`) on one of `datasets`: any of them, by name and, when given, digest. */
function onDatasets(alias: string, datasets: readonly LoggedModelDataset[]): RawBuilder<boolean> {
  if (datasets.length === 0) return sql<boolean>`(1 = 1)`;
  const each = datasets.map((dataset) =>
    dataset.digest === undefined
      ? sql<boolean>`${sql.ref(`${alias}.dataset_name`)} = ${dataset.name}`
      : sql<boolean>`(${sql.ref(`${alias}.dataset_name`)} = ${dataset.name} AND ${sql.ref(`${alias}.dataset_digest`)} = ${dataset.digest})`,
  );
  return sql<boolean>`(${sql.join(each, sql` OR `)})`;
}

/** The search spec of one query: metric comparisons consider only the metrics on its datasets. */
function loggedModelSearch(datasets: readonly LoggedModelDataset[]): SearchSpec {
  const byModel = (alias: string) => sql<boolean>`${sql.ref(`${alias}.model_id`)} = lm.model_id`;
  return {
    target: 'logged_models',
    attributes: LOGGED_MODEL_ATTRIBUTES,
    params: { table: 'logged_model_params', correlate: byModel },
    tags: { table: 'logged_model_tags', correlate: byModel },
    metrics: {
      table: 'logged_model_metrics',
      correlate: (alias) => sql<boolean>`${byModel(alias)} AND ${onDatasets(alias, datasets)}`,
    },
  };
}

/**
 * LoggedModelStore over SQLite or PostgreSQL, in the tracking tables' database (`0005_logged_models`). A
 * model's files go to `<experiment artifact location>/models/<model id>/artifacts`, as MLflow's, kept
 * relative to the artifact root as experiments' locations are. Every write first updates the model's row,
 * which checks that it exists and locks it.
 */
export class SqlLoggedModelStore implements LoggedModelStore {
  readonly #database: SqlDatabase<TrackingTables>;
  readonly #db: Kysely<TrackingTables>;
  readonly #artifactRoot: string;
  readonly #parser: SearchParser;

  constructor(database: SqlDatabase<TrackingTables>, options: SqlLoggedModelStoreOptions) {
    this.#database = database;
    this.#db = database.db;
    this.#artifactRoot = options.artifactRoot;
    this.#parser = options.parser;
  }

  async createLoggedModel(input: LoggedModelInput): Promise<LoggedModel> {
    const name = input.name === undefined || input.name === '' ? randomRunName() : input.name;
    validateName('logged model', name, LOGGED_MODEL_NAME_LIMIT);
    const modelType = optionalText('model_type', input.modelType);
    const sourceRunId = optionalText('source_run_id', input.sourceRunId);
    const params = checkedParams(input.params ?? []);
    const tags = checkedTags(input.tags ?? []);
    const experimentId = String(input.experimentId);
    const modelId = `m-${randomUUID().replaceAll('-', '')}`;
    const now = Date.now();
    await this.#database.transaction(async (trx) => {
      const experiment = EXPERIMENT_ID.test(experimentId)
        ? await trx
            .selectFrom('experiments')
            .select(['experiment_id', 'artifact_location', 'lifecycle_stage'])
            .where('experiment_id', '=', Number(experimentId))
            .executeTakeFirst()
        : undefined;
      if (!experiment) throw notFound(`No Experiment with id=${experimentId} exists`);
      if (experiment.lifecycle_stage !== 'active') {
        throw notActive('experiment', experimentId, 'log a model in');
      }
      const location = joinUri(
        resolvedLocation(this.#artifactRoot, experiment.artifact_location),
        `models/${modelId}/artifacts`,
      );
      await trx
        .insertInto('logged_models')
        .values({
          model_id: modelId,
          experiment_id: experiment.experiment_id,
          name,
          artifact_location: storedLocation(this.#artifactRoot, location),
          creation_time: now,
          last_updated_time: now,
          status: 'PENDING',
          lifecycle_stage: 'active',
          model_type: modelType,
          source_run_id: sourceRunId,
          status_message: null,
        })
        .execute();
      await this.#insertParams(trx, modelId, params);
      await this.#upsertTags(trx, modelId, tags);
    });
    return this.getLoggedModel(modelId);
  }

  async getLoggedModel(modelId: string): Promise<LoggedModel> {
    const row = await this.#db
      .selectFrom('logged_models')
      .selectAll()
      .where('model_id', '=', String(modelId))
      .where('lifecycle_stage', '=', 'active')
      .executeTakeFirst();
    if (!row) throw modelNotFound(modelId);
    return (await this.#models([row]))[0]!;
  }

  async finalizeLoggedModel(modelId: string, status: LoggedModelStatus): Promise<LoggedModel> {
    if (!LOGGED_MODEL_STATUSES.includes(status)) {
      throw invalidParameter(
        `Invalid status ${JSON.stringify(status)} of a logged model: allowed are ${LOGGED_MODEL_STATUSES.join(', ')}`,
      );
    }
    await this.#database.transaction(async (trx) => {
      await this.#touch(trx, modelId, { status });
    });
    return this.getLoggedModel(modelId);
  }

  async deleteLoggedModel(modelId: string): Promise<void> {
    const result = await this.#db
      .updateTable('logged_models')
      .set({ lifecycle_stage: 'deleted', last_updated_time: Date.now() })
      .where('model_id', '=', String(modelId))
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw modelNotFound(modelId);
  }

  async setLoggedModelTags(modelId: string, tags: readonly Tag[]): Promise<void> {
    const checked = checkedTags(tags);
    await this.#database.transaction(async (trx) => {
      await this.#touch(trx, modelId);
      await this.#upsertTags(trx, modelId, checked);
    });
  }

  async deleteLoggedModelTag(modelId: string, key: string): Promise<void> {
    await this.#database.transaction(async (trx) => {
      await this.#touch(trx, modelId);
      const result = await trx
        .deleteFrom('logged_model_tags')
        .where('model_id', '=', modelId)
        .where('key', '=', String(key))
        .executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) {
        throw notFound(`No tag with key '${key}' found for model with ID '${modelId}'.`);
      }
    });
  }

  async logLoggedModelParams(modelId: string, params: readonly Param[]): Promise<void> {
    const checked = checkedParams(params);
    await this.#database.transaction(async (trx) => {
      await this.#touch(trx, modelId);
      await this.#insertParams(trx, modelId, checked);
    });
  }

  async logLoggedModelMetrics(metrics: readonly LoggedModelMetric[]): Promise<void> {
    for (const metric of metrics) {
      validateMetric(metric);
      for (const [what, value] of [
        ['dataset_name', metric.datasetName],
        ['dataset_digest', metric.datasetDigest],
      ] as const) {
        if (value !== null && (typeof value !== 'string' || value.length > LOGGED_MODEL_NAME_LIMIT)) {
          throw invalidParameter(
            `Invalid ${what} of metric "${metric.key}": a string of at most 500 characters`,
          );
        }
      }
    }
    if (metrics.length === 0) return;
    await this.#database.transaction(async (trx) => {
      await this.#checkExist(
        trx,
        metrics.map((metric) => metric.modelId),
      );
      const rows = metrics.map((metric) => ({
        model_id: metric.modelId,
        key: metric.key,
        timestamp: metric.timestamp,
        step: metric.step,
        run_id: metric.runId,
        dataset_name: metric.datasetName,
        dataset_digest: metric.datasetDigest,
        ...metricColumns(metric.value),
      }));
      for (const chunk of chunks(rows, 200)) {
        await trx
          .insertInto('logged_model_metrics')
          .values(chunk)
          .onConflict((oc) => oc.columns(['model_id', 'key', 'timestamp', 'step', 'run_id']).doNothing())
          .execute();
      }
    });
  }

  async checkLoggedModelsExist(modelIds: readonly string[]): Promise<void> {
    await this.#checkExist(this.#db, modelIds);
  }

  async searchLoggedModels(query: LoggedModelQuery): Promise<Page<LoggedModel>> {
    const limit = resolveMaxResults(
      query.maxResults,
      SEARCH_LOGGED_MODELS_DEFAULT_MAX_RESULTS,
      SEARCH_LOGGED_MODELS_MAX_RESULTS,
    );
    const offset = decodePageToken(query.pageToken);
    const experimentIds = query.experimentIds.map((id) => {
      if (!EXPERIMENT_ID.test(String(id))) {
        throw invalidParameter(`Invalid experiment id "${id}": experiment ids are non-negative integers`);
      }
      return Number(id);
    });
    const datasets = query.datasets ?? [];
    for (const dataset of datasets) {
      if (typeof dataset?.name !== 'string' || dataset.name === '') {
        throw invalidParameter('`dataset_name` in the `datasets` clause must be specified.');
      }
    }
    const filter = query.filter?.trim() ? this.#parser.parseFilter('logged_models', query.filter) : [];
    const order = (query.orderBy ?? []).map((clause) => this.#orderClause(clause));
    if (experimentIds.length === 0) return { items: [], nextPageToken: null };
    const conditions = [
      sql<boolean>`lm.lifecycle_stage = 'active'`,
      sql<boolean>`lm.experiment_id IN (${sql.join(experimentIds)})`,
      ...compileFilter(this.#database, loggedModelSearch(datasets), filter),
    ];
    // Datasets without a metric filter: the models with any metric on them (as MLflow).
    if (datasets.length > 0 && !filter.some((comparison) => comparison.entity === 'metric')) {
      conditions.push(
        sql<boolean>`EXISTS (SELECT 1 FROM logged_model_metrics dm WHERE dm.model_id = lm.model_id AND ${onDatasets('dm', datasets)})`,
      );
    }
    const terms = order.flatMap((clause) => this.#orderTerms(clause));
    if (!order.some((clause) => clause.by.entity === 'attribute' && clause.by.key === 'creation_timestamp')) {
      terms.push(sql`lm.creation_time DESC`);
    }
    terms.push(sql`lm.model_id ASC`);
    const { rows } = await sql<LoggedModelRow>`SELECT lm.* FROM logged_models lm WHERE ${and(conditions)}
      ORDER BY ${sql.join(terms)} LIMIT ${limit + 1} OFFSET ${offset}`.execute(this.#db);
    const page = toPage(rows, offset, limit);
    return { items: await this.#models(page.items), nextPageToken: page.nextPageToken };
  }

  // ---------------------------------------------------------------- helpers

  /** An ordering, checked: an attribute, or a metric (the only entities MLflow orders logged models by). */
  #orderClause(clause: LoggedModelOrder): { by: OrderBy; order: LoggedModelOrder } {
    if (typeof clause?.field !== 'string' || clause.field.trim() === '') {
      throw invalidParameter('Invalid order_by: field_name is required, e.g. "metrics.accuracy"');
    }
    const [by] = this.#parser.parseOrderBy('logged_models', [clause.field]);
    if (by!.entity !== 'metric' && (clause.datasetName !== undefined || clause.datasetDigest !== undefined)) {
      throw invalidParameter(
        `Invalid order_by "${clause.field}": dataset_name and dataset_digest apply to metrics only`,
      );
    }
    if (clause.datasetDigest !== undefined && clause.datasetName === undefined) {
      throw invalidParameter(`Invalid order_by "${clause.field}": dataset_digest needs dataset_name`);
    }
    // The direction is the clause's own field, not written in field_name.
    return { by: { ...by!, ascending: clause.ascending }, order: clause };
  }

  /** ORDER BY terms of one clause; missing values last either way, then (metrics) NaN before them. */
  #orderTerms({ by, order }: { by: OrderBy; order: LoggedModelOrder }): RawBuilder<unknown>[] {
    const direction = sql.raw(by.ascending ? 'ASC' : 'DESC');
    if (by.entity === 'attribute') {
      const attribute = LOGGED_MODEL_ATTRIBUTES[by.key as keyof typeof LOGGED_MODEL_ATTRIBUTES];
      const value =
        attribute.type === 'string' ? this.#database.orderText(attribute.column) : attribute.column;
      return [sql`CASE WHEN ${attribute.column} IS NULL THEN 1 ELSE 0 END`, sql`${value} ${direction}`];
    }
    // The model's latest value of the metric (by timestamp, then step), on the dataset when given.
    const dataset = [
      ...(order.datasetName === undefined ? [] : [sql<boolean>`om.dataset_name = ${order.datasetName}`]),
      ...(order.datasetDigest === undefined
        ? []
        : [sql<boolean>`om.dataset_digest = ${order.datasetDigest}`]),
    ];
    const latest = (column: 'value' | 'is_nan') =>
      sql`(SELECT ${sql.ref(`om.${column}`)} FROM logged_model_metrics om
        WHERE om.model_id = lm.model_id AND om.key = ${by.key} AND ${and(dataset)}
        ORDER BY om.timestamp DESC, om.step DESC LIMIT 1)`;
    return [
      sql`CASE WHEN ${latest('is_nan')} IS NULL THEN 2 WHEN ${latest('is_nan')} = 1 THEN 1 ELSE 0 END`,
      sql`${latest('value')} ${direction}`,
    ];
  }

  /** Marks the (active) model updated now, locking its row; RESOURCE_DOES_NOT_EXIST when there is none. */
  async #touch(
    trx: Kysely<TrackingTables>,
    modelId: string,
    changes: { status?: LoggedModelStatus } = {},
  ): Promise<void> {
    const result = await trx
      .updateTable('logged_models')
      .set({ ...changes, last_updated_time: Date.now() })
      .where('model_id', '=', String(modelId))
      .where('lifecycle_stage', '=', 'active')
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw modelNotFound(modelId);
  }

  async #checkExist(db: Kysely<TrackingTables>, modelIds: readonly string[]): Promise<void> {
    const wanted = [...new Set(modelIds.map(String))];
    const found = new Set<string>();
    for (const chunk of chunks(wanted)) {
      const rows = await db
        .selectFrom('logged_models')
        .select('model_id')
        .where('model_id', 'in', chunk)
        .where('lifecycle_stage', '=', 'active')
        .execute();
      for (const row of rows) found.add(row.model_id);
    }
    const missing = wanted.find((id) => !found.has(id));
    if (missing !== undefined) throw modelNotFound(missing);
  }

  /** Params are write-once: new keys are inserted, then every key's stored value must be the given one. */
  async #insertParams(trx: Kysely<TrackingTables>, modelId: string, params: readonly Param[]): Promise<void> {
    for (const chunk of chunks(params, 200)) {
      await trx
        .insertInto('logged_model_params')
        .values(chunk.map((param) => ({ model_id: modelId, key: param.key, value: param.value })))
        .onConflict((oc) => oc.columns(['model_id', 'key']).doNothing())
        .execute();
      const stored = await trx
        .selectFrom('logged_model_params')
        .select(['key', 'value'])
        .where('model_id', '=', modelId)
        .where(
          'key',
          'in',
          chunk.map((param) => param.key),
        )
        .execute();
      const values = new Map(stored.map((row) => [row.key, row.value]));
      for (const param of chunk) {
        if (values.get(param.key) !== param.value) {
          throw invalidParameter(
            `Changing param values is not allowed: param "${param.key}" of logged model ${modelId} was logged with value "${values.get(param.key)}", and cannot be changed to "${param.value}"`,
          );
        }
      }
    }
  }

  async #upsertTags(trx: Kysely<TrackingTables>, modelId: string, tags: readonly Tag[]): Promise<void> {
    for (const chunk of chunks(tags, 200)) {
      await trx
        .insertInto('logged_model_tags')
        .values(chunk.map((tag) => ({ model_id: modelId, key: tag.key, value: tag.value })))
        .onConflict((oc) =>
          oc.columns(['model_id', 'key']).doUpdateSet({ value: (eb) => eb.ref('excluded.value') }),
        )
        .execute();
    }
  }

  /** Models with their tags, params and metrics, in the rows' order. */
  async #models(rows: readonly LoggedModelRow[]): Promise<LoggedModel[]> {
    const tags = new Map<string, Tag[]>();
    const params = new Map<string, Param[]>();
    const metrics = new Map<string, LoggedModelMetric[]>();
    const add = <T>(map: Map<string, T[]>, id: string, item: T) =>
      map.set(id, [...(map.get(id) ?? []), item]);
    for (const ids of chunks(rows.map((row) => row.model_id))) {
      const [tagRows, paramRows, metricRows] = await Promise.all([
        this.#db
          .selectFrom('logged_model_tags')
          .selectAll()
          .where('model_id', 'in', ids)
          .orderBy('key')
          .execute(),
        this.#db
          .selectFrom('logged_model_params')
          .selectAll()
          .where('model_id', 'in', ids)
          .orderBy('key')
          .execute(),
        this.#db
          .selectFrom('logged_model_metrics')
          .selectAll()
          .where('model_id', 'in', ids)
          .orderBy('key')
          .orderBy('step')
          .orderBy('timestamp')
          .orderBy('run_id')
          .execute(),
      ]);
      for (const row of tagRows) add(tags, row.model_id, { key: row.key, value: row.value });
      for (const row of paramRows) add(params, row.model_id, { key: row.key, value: row.value });
      for (const row of metricRows) {
        add(metrics, row.model_id, {
          modelId: row.model_id,
          key: row.key,
          value: Number(row.is_nan) === 1 ? Number.NaN : Number(row.value),
          timestamp: Number(row.timestamp),
          step: Number(row.step),
          runId: row.run_id,
          datasetName: row.dataset_name,
          datasetDigest: row.dataset_digest,
        });
      }
    }
    return rows.map((row) =>
      loggedModelToEntity(row, this.#artifactRoot, {
        tags: tags.get(row.model_id) ?? [],
        params: params.get(row.model_id) ?? [],
        metrics: metrics.get(row.model_id) ?? [],
      }),
    );
  }
}

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { invalidParameter } from '../../errors.js';
import {
  decodePageToken,
  type Page,
  type PageRequest,
  resolveMaxResults,
  toPage,
} from '../../store/paging.js';
import { currentProcess, type OwnerProcess, processIsAlive } from '../../util/process.js';
import { pythonJsonDumps } from '../../util/python-json.js';
import { checkArtifactLocation, joinUri, resolvedLocation, storedLocation } from '../artifact-paths.js';
import {
  DATASET_CONTEXT_TAG,
  type DatasetInput,
  type DatasetSummary,
  type Experiment,
  type Metric,
  type ModelInput,
  type ModelOutput,
  type Param,
  RUN_STATUSES,
  type Run,
  type RunInfo,
  type Tag,
  type ViewType,
} from '../entities.js';
import type {
  ExperimentInput,
  ExperimentQuery,
  RunBatch,
  RunInput,
  RunQuery,
  RunUpdate,
  TrackingStore,
} from '../tracking-store.js';
import {
  datasetInputToEntity,
  type ExperimentRow,
  experimentToEntity,
  metricColumns,
  metricToEntity,
  type RunRow,
  runInfoToEntity,
  tagToEntity,
} from './rows.js';
import { randomRunName } from './run-names.js';

/** Tag on the runs an experiment's deletion deleted: its restore brings back exactly these. */
const DELETED_WITH_EXPERIMENT_TAG = 'onset.deleted_with_experiment';

import { chunks, type SqlDatabase } from '../../store/sql-database.js';
import type { TrackingTables } from './schema.js';
import type { SearchParser } from './search-parser.js';
import { and, compileFilter, compileOrderBy, type SearchSpec } from './search-sql.js';
import {
  alreadyExists,
  invalidState,
  LIMITS,
  notActive,
  notFound,
  validateBatch,
  validateDatasetInputs,
  validateName,
  validateTag,
  validateTags,
} from './validation.js';

/** The tag MLflow keeps a run's name in, mirrored from the `name` column. */
export const RUN_NAME_TAG = 'mlflow.runName';
/** Tags recording which process owns a run (see `failAbandonedRuns`). */
export const OWNER_PID_TAG = 'onset.pid';
export const OWNER_HOST_TAG = 'onset.host';
export const OWNER_STARTED_TAG = 'onset.process_start';
export const FAILURE_REASON_TAG = 'onset.failure_reason';
/** The tag MLflow keeps the JSON list of a run's logged models in (`runs/log-model`). */
export const LOGGED_MODELS_TAG = 'mlflow.log-model.history';
/**
 * The longest the log-model history may grow, in characters. MLflow bounds it only by its database's
 * column (unbounded on SQLite); an MLmodel is a few KB, so this holds hundreds.
 */
export const LOGGED_MODEL_HISTORY_LIMIT = 1_000_000;
/** How many dataset summaries `searchDatasets` returns at most (MLflow's limit). */
export const DATASET_SUMMARIES_LIMIT = 1_000;
/** The kinds of the `inputs` table's ends (MLflow's names). */
const INPUT_SOURCE_DATASET = 'DATASET';
const INPUT_DESTINATION_RUN = 'RUN';
/** A run's use of a logged model, and a model a run produced: MLflow 3's kinds of `inputs` edges. */
const MODEL_INPUT_EDGE = { source_type: 'RUN_INPUT', destination_type: 'MODEL_INPUT' } as const;
const MODEL_OUTPUT_EDGE = { source_type: 'RUN_OUTPUT', destination_type: 'MODEL_OUTPUT' } as const;

function checkModelIds(models: readonly { readonly modelId: unknown }[], what: string): void {
  if (!Array.isArray(models)) throw invalidParameter(`Invalid ${what}: a list is required`);
  for (const model of models) {
    if (typeof model?.modelId !== 'string' || model.modelId.length === 0 || model.modelId.length > 64) {
      throw invalidParameter(`Invalid ${what}: model_id must be a non-empty string of at most 64 characters`);
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export interface SqlTrackingStoreOptions {
  /** Artifact root URI: experiments default to `<artifactRoot>/<experimentId>`. */
  readonly artifactRoot: string;
  readonly parser: SearchParser;
  /**
   * Recorded as the `onset.pid`, `onset.host` and `onset.process_start` tags of every run this store
   * creates. Defaults to this process; a server creating runs for remote clients passes `null` (their runs
   * are never auto-failed).
   */
  readonly ownerProcess?: OwnerProcess | null;
  /** This machine's name, compared with `onset.host` by failAbandonedRuns. Defaults to `os.hostname()`. */
  readonly host?: string;
  /** Whether an owner process still runs on this machine. Defaults to `processIsAlive`. */
  readonly isProcessAlive?: (owner: Pick<OwnerProcess, 'pid' | 'started'>) => boolean;
}

export const SEARCH_RUNS_DEFAULT_MAX_RESULTS = 1_000;
export const SEARCH_RUNS_MAX_RESULTS = 50_000;
export const SEARCH_EXPERIMENTS_DEFAULT_MAX_RESULTS = 1_000;
export const SEARCH_EXPERIMENTS_MAX_RESULTS = 50_000;
export const METRIC_HISTORY_MAX_RESULTS = 25_000;

function byKey(a: { key: string }, b: { key: string }): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

const EXPERIMENT_ID = /^\d{1,9}$/;

function lifecycleCondition(
  column: RawBuilder<unknown>,
  viewType: ViewType | undefined,
): RawBuilder<boolean> {
  switch (viewType ?? 'ACTIVE_ONLY') {
    case 'ACTIVE_ONLY':
      return sql<boolean>`${column} = 'active'`;
    case 'DELETED_ONLY':
      return sql<boolean>`${column} = 'deleted'`;
    case 'ALL':
      return sql<boolean>`(1 = 1)`;
    default:
      throw invalidParameter(`Invalid view type "${viewType}": allowed are ACTIVE_ONLY, DELETED_ONLY, ALL`);
  }
}

const RUN_START_TIME = { column: sql.ref('r.start_time'), type: 'number' } as const;
const RUN_ID = { column: sql.ref('r.run_uuid'), type: 'string' } as const;

/**
 * searchRuns: attributes (with MLflow's synonyms), params, tags and latest metrics. `artifact_uri` compares
 * as the URI the runs answer with: a stored relative location is under `artifactRoot`.
 */
export const runSearch = (artifactRoot: string): SearchSpec => ({
  target: 'runs',
  attributes: {
    run_id: RUN_ID,
    run_uuid: RUN_ID,
    run_name: { column: sql.ref('r.name'), type: 'string' },
    status: { column: sql.ref('r.status'), type: 'string' },
    user_id: { column: sql.ref('r.user_id'), type: 'string' },
    start_time: RUN_START_TIME,
    created: RUN_START_TIME,
    end_time: { column: sql.ref('r.end_time'), type: 'number' },
    artifact_uri: {
      column: sql`(CASE WHEN r.artifact_uri LIKE '%:%' THEN r.artifact_uri
        ELSE ${`${artifactRoot.replace(/\/+$/, '')}/`} || r.artifact_uri END)`,
      type: 'string',
    },
    lifecycle_stage: { column: sql.ref('r.lifecycle_stage'), type: 'string' },
    experiment_id: { column: sql.ref('r.experiment_id'), type: 'number' },
  },
  params: {
    table: 'params',
    correlate: (alias) => sql<boolean>`${sql.ref(`${alias}.run_uuid`)} = r.run_uuid`,
  },
  tags: { table: 'tags', correlate: (alias) => sql<boolean>`${sql.ref(`${alias}.run_uuid`)} = r.run_uuid` },
  metrics: {
    table: 'latest_metrics',
    correlate: (alias) => sql<boolean>`${sql.ref(`${alias}.run_uuid`)} = r.run_uuid`,
  },
  datasets: (key, alias, predicate) => {
    const input = sql.ref(`${alias}i.input_id`);
    const uses = sql`inputs ${sql.raw(`${alias}i`)} WHERE ${sql.ref(`${alias}i.source_type`)} = ${INPUT_SOURCE_DATASET}
      AND ${sql.ref(`${alias}i.destination_type`)} = ${INPUT_DESTINATION_RUN}
      AND ${sql.ref(`${alias}i.destination_id`)} = r.run_uuid`;
    if (key === 'context') {
      // The context is a tag of the run's use of the dataset, not of the dataset.
      return sql<boolean>`(EXISTS (SELECT 1 FROM input_tags ${sql.raw(`${alias}t`)}, ${uses}
        AND ${sql.ref(`${alias}t.input_id`)} = ${input} AND ${sql.ref(`${alias}t.name`)} = ${DATASET_CONTEXT_TAG}
        AND ${predicate(sql.ref(`${alias}t.value`))}))`;
    }
    const column = sql.ref(`${alias}d.${key === 'name' ? 'name' : 'digest'}`);
    return sql<boolean>`(EXISTS (SELECT 1 FROM datasets ${sql.raw(`${alias}d`)}, ${uses}
      AND ${sql.ref(`${alias}d.dataset_uuid`)} = ${sql.ref(`${alias}i.source_id`)} AND ${predicate(column)}))`;
  },
});

const EXPERIMENT_CREATION_TIME = { column: sql.ref('e.creation_time'), type: 'number' } as const;
const EXPERIMENT_LAST_UPDATE_TIME = { column: sql.ref('e.last_update_time'), type: 'number' } as const;
const EXPERIMENT_ID_ATTRIBUTE = { column: sql.ref('e.experiment_id'), type: 'number' } as const;

/** searchExperiments: `name`, `creation_time`, `last_update_time`, `experiment_id`, `tags.<key>`. */
export const EXPERIMENT_SEARCH: SearchSpec = {
  target: 'experiments',
  attributes: {
    name: { column: sql.ref('e.name'), type: 'string' },
    experiment_id: EXPERIMENT_ID_ATTRIBUTE,
    creation_time: EXPERIMENT_CREATION_TIME,
    last_update_time: EXPERIMENT_LAST_UPDATE_TIME,
    lifecycle_stage: { column: sql.ref('e.lifecycle_stage'), type: 'string' },
  },
  tags: {
    table: 'experiment_tags',
    correlate: (alias) => sql<boolean>`${sql.ref(`${alias}.experiment_id`)} = e.experiment_id`,
  },
};

/**
 * TrackingStore over SQLite or PostgreSQL (see `SqlDatabase`). Metric searches and run listings read the
 * `latest_metrics` table that logBatch keeps up to date in the same transaction as the history.
 *
 * Abandoned runs: every run created through this store records its owner process as tags `onset.pid`,
 * `onset.host` and `onset.process_start` (option `ownerProcess`); `failAbandonedRuns` marks FAILED the
 * RUNNING runs owned by a process of this host that no longer runs: gone, a zombie, or its pid now held by
 * a process that started later (see `processIsAlive`). Runs of other hosts, or without owner tags, are
 * left alone: their liveness cannot be known here.
 */
export class SqlTrackingStore implements TrackingStore {
  readonly #database: SqlDatabase<TrackingTables>;
  readonly #db: Kysely<TrackingTables>;
  readonly #artifactRoot: string;
  readonly #runSearch: SearchSpec;
  readonly #parser: SearchParser;
  readonly #owner: OwnerProcess | null;
  readonly #host: string;
  readonly #isProcessAlive: (owner: Pick<OwnerProcess, 'pid' | 'started'>) => boolean;

  constructor(database: SqlDatabase<TrackingTables>, options: SqlTrackingStoreOptions) {
    this.#database = database;
    this.#db = database.db;
    this.#artifactRoot = options.artifactRoot;
    this.#runSearch = runSearch(options.artifactRoot);
    this.#parser = options.parser;
    this.#host = options.host ?? hostname();
    this.#owner =
      options.ownerProcess === undefined ? { ...currentProcess(), host: this.#host } : options.ownerProcess;
    this.#isProcessAlive = options.isProcessAlive ?? processIsAlive;
  }

  // ---------------------------------------------------------------- experiments

  async createExperiment(input: ExperimentInput): Promise<string> {
    validateName('experiment', input.name);
    const tags = input.tags ?? [];
    validateTags(tags, `experiment "${input.name}"`);
    if (input.artifactLocation !== undefined && typeof input.artifactLocation !== 'string') {
      throw invalidParameter('Invalid artifactLocation: a URI string is required');
    }
    if (input.artifactLocation) checkArtifactLocation(this.#artifactRoot, input.artifactLocation);
    const now = Date.now();
    try {
      return await this.#database.transaction(async (trx) => {
        const { experiment_id: id } = await trx
          .insertInto('experiments')
          .values({
            name: input.name,
            artifact_location: input.artifactLocation
              ? storedLocation(this.#artifactRoot, input.artifactLocation)
              : '',
            lifecycle_stage: 'active',
            creation_time: now,
            last_update_time: now,
          })
          .returning('experiment_id')
          .executeTakeFirstOrThrow();
        if (!input.artifactLocation) {
          await trx
            .updateTable('experiments')
            .set({ artifact_location: String(id) })
            .where('experiment_id', '=', id)
            .execute();
        }
        if (tags.length > 0) {
          const unique = new Map(tags.map((tag) => [tag.key, tag.value]));
          await trx
            .insertInto('experiment_tags')
            .values([...unique].map(([key, value]) => ({ experiment_id: id, key, value })))
            .execute();
        }
        return String(id);
      });
    } catch (error) {
      if (this.#database.isUniqueViolation(error)) {
        throw alreadyExists(
          `Experiment "${input.name}" already exists (perhaps deleted: restore it or choose another name)`,
        );
      }
      throw error;
    }
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    const row = await this.#experimentRow(this.#db, experimentId);
    return (await this.#experiments([row]))[0]!;
  }

  async getExperimentByName(name: string): Promise<Experiment> {
    const row = await this.#db
      .selectFrom('experiments')
      .selectAll()
      .where('name', '=', String(name))
      .executeTakeFirst();
    if (!row) throw notFound(`Could not find experiment with name ${name}`);
    return (await this.#experiments([row]))[0]!;
  }

  async searchExperiments(query: ExperimentQuery): Promise<Page<Experiment>> {
    const limit = resolveMaxResults(
      query.maxResults,
      SEARCH_EXPERIMENTS_DEFAULT_MAX_RESULTS,
      SEARCH_EXPERIMENTS_MAX_RESULTS,
    );
    const offset = decodePageToken(query.pageToken);
    const filter = query.filter?.trim() ? this.#parser.parseFilter('experiments', query.filter) : [];
    const orderBy = query.orderBy?.length ? this.#parser.parseOrderBy('experiments', query.orderBy) : [];
    const conditions = [
      lifecycleCondition(sql.ref('e.lifecycle_stage'), query.viewType),
      ...compileFilter(this.#database, EXPERIMENT_SEARCH, filter),
    ];
    const order = compileOrderBy(this.#database, EXPERIMENT_SEARCH, orderBy);
    const terms = [...order.terms];
    if (orderBy.length === 0) terms.push(sql`e.creation_time DESC`);
    terms.push(sql`e.experiment_id ASC`);
    const { rows } = await sql<ExperimentRow>`SELECT e.* FROM experiments e ${sql.join(order.joins, sql` `)}
      WHERE ${and(conditions)} ORDER BY ${sql.join(terms)} LIMIT ${limit + 1} OFFSET ${offset}`.execute(
      this.#db,
    );
    const page = toPage(rows, offset, limit);
    return { items: await this.#experiments(page.items), nextPageToken: page.nextPageToken };
  }

  async renameExperiment(experimentId: string, newName: string): Promise<void> {
    validateName('experiment', newName);
    try {
      await this.#database.transaction(async (trx) => {
        const row = await this.#experimentRow(trx, experimentId);
        if (row.lifecycle_stage !== 'active') {
          throw invalidState(`Cannot rename experiment ${experimentId}: it is deleted (restore it first)`);
        }
        await trx
          .updateTable('experiments')
          .set({ name: newName, last_update_time: Date.now() })
          .where('experiment_id', '=', row.experiment_id)
          .execute();
      });
    } catch (error) {
      if (this.#database.isUniqueViolation(error)) {
        throw alreadyExists(
          `Cannot rename experiment ${experimentId}: an experiment named "${newName}" exists`,
        );
      }
      throw error;
    }
  }

  /** Deletes the experiment and, as MLflow, its active runs (restoreExperiment brings both back). */
  async deleteExperiment(experimentId: string): Promise<void> {
    await this.#database.transaction(async (trx) => {
      const row = await this.#experimentRow(trx, experimentId);
      if (row.lifecycle_stage === 'deleted') return;
      const now = Date.now();
      await trx
        .updateTable('experiments')
        .set({ lifecycle_stage: 'deleted', last_update_time: now })
        .where('experiment_id', '=', row.experiment_id)
        .execute();
      // Mark the runs this deletion takes, so a restore brings back exactly these (not runs deleted alone).
      await sql`INSERT INTO tags (run_uuid, key, value)
        SELECT run_uuid, ${DELETED_WITH_EXPERIMENT_TAG}, 'true' FROM runs
        WHERE experiment_id = ${row.experiment_id} AND lifecycle_stage = 'active'`.execute(trx);
      await trx
        .updateTable('runs')
        .set({ lifecycle_stage: 'deleted', deleted_time: now })
        .where('experiment_id', '=', row.experiment_id)
        .where('lifecycle_stage', '=', 'active')
        .execute();
    });
  }

  /** Restores the experiment and the runs its deletion deleted (not runs deleted on their own before). */
  async restoreExperiment(experimentId: string): Promise<void> {
    await this.#database.transaction(async (trx) => {
      const row = await this.#experimentRow(trx, experimentId);
      if (row.lifecycle_stage === 'active') return;
      await trx
        .updateTable('runs')
        .set({ lifecycle_stage: 'active', deleted_time: null })
        .where('experiment_id', '=', row.experiment_id)
        .where('lifecycle_stage', '=', 'deleted')
        .where((eb) =>
          eb.exists(
            eb
              .selectFrom('tags')
              .select('tags.run_uuid')
              .whereRef('tags.run_uuid', '=', 'runs.run_uuid')
              .where('tags.key', '=', DELETED_WITH_EXPERIMENT_TAG),
          ),
        )
        .execute();
      await sql`DELETE FROM tags WHERE key = ${DELETED_WITH_EXPERIMENT_TAG}
        AND run_uuid IN (SELECT run_uuid FROM runs WHERE experiment_id = ${row.experiment_id})`.execute(trx);
      await trx
        .updateTable('experiments')
        .set({ lifecycle_stage: 'active', last_update_time: Date.now() })
        .where('experiment_id', '=', row.experiment_id)
        .execute();
    });
  }

  async setExperimentTag(experimentId: string, tag: Tag): Promise<void> {
    validateTag(tag);
    await this.#database.transaction(async (trx) => {
      const row = await this.#experimentRow(trx, experimentId);
      if (row.lifecycle_stage !== 'active') {
        throw notActive('experiment', experimentId, 'tag');
      }
      await trx
        .insertInto('experiment_tags')
        .values({ experiment_id: row.experiment_id, key: tag.key, value: tag.value })
        .onConflict((oc) => oc.columns(['experiment_id', 'key']).doUpdateSet({ value: tag.value }))
        .execute();
    });
  }

  async deleteExperimentTag(experimentId: string, key: string): Promise<void> {
    await this.#database.transaction(async (trx) => {
      const row = await this.#experimentRow(trx, experimentId);
      if (row.lifecycle_stage !== 'active') throw notActive('experiment', experimentId, 'delete a tag of');
      const result = await trx
        .deleteFrom('experiment_tags')
        .where('experiment_id', '=', row.experiment_id)
        .where('key', '=', String(key))
        .executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) {
        throw notFound(`No tag with name: ${key} in experiment with id ${experimentId}`);
      }
    });
  }

  // ---------------------------------------------------------------- runs

  async createRun(input: RunInput): Promise<Run> {
    const tags = input.tags ?? [];
    validateTags(tags, 'a new run');
    const runName = input.runName ?? tags.find((tag) => tag.key === RUN_NAME_TAG)?.value ?? randomRunName();
    validateName('run', runName, LIMITS.tagValueLength);
    const startTime = input.startTime ?? Date.now();
    if (!Number.isSafeInteger(startTime)) {
      throw invalidParameter(
        `Invalid startTime ${input.startTime}: an integer (ms since the epoch) is required`,
      );
    }
    const runId = randomUUID().replaceAll('-', '');
    const allTags = new Map(tags.map((tag) => [tag.key, tag.value]));
    allTags.set(RUN_NAME_TAG, runName);
    const owner = input.owner === undefined ? this.#owner : input.owner;
    if (owner) {
      allTags.set(OWNER_PID_TAG, String(owner.pid));
      allTags.set(OWNER_HOST_TAG, owner.host);
      if (owner.started !== undefined) allTags.set(OWNER_STARTED_TAG, owner.started);
    }
    await this.#database.transaction(async (trx) => {
      const experiment = await this.#experimentRow(trx, input.experimentId);
      if (experiment.lifecycle_stage !== 'active') {
        throw notActive('experiment', input.experimentId, 'create a run in');
      }
      await trx
        .insertInto('runs')
        .values({
          run_uuid: runId,
          name: runName,
          experiment_id: experiment.experiment_id,
          user_id: input.userId ?? '',
          status: 'RUNNING',
          start_time: startTime,
          end_time: null,
          artifact_uri: storedLocation(
            this.#artifactRoot,
            joinUri(resolvedLocation(this.#artifactRoot, experiment.artifact_location), `${runId}/artifacts`),
          ),
          lifecycle_stage: 'active',
          deleted_time: null,
        })
        .execute();
      await trx
        .insertInto('tags')
        .values([...allTags].map(([key, value]) => ({ run_uuid: runId, key, value })))
        .execute();
    });
    return this.getRun(runId);
  }

  async getRun(runId: string): Promise<Run> {
    const row = await this.#runRow(this.#db, runId);
    return (await this.#runs([row]))[0]!;
  }

  async updateRun(runId: string, update: RunUpdate): Promise<RunInfo> {
    if (update.status !== undefined && !RUN_STATUSES.includes(update.status)) {
      throw invalidParameter(`Invalid run status "${update.status}": allowed are ${RUN_STATUSES.join(', ')}`);
    }
    if (update.endTime !== undefined && update.endTime !== null && !Number.isSafeInteger(update.endTime)) {
      throw invalidParameter(
        `Invalid endTime ${update.endTime}: an integer (ms since the epoch) is required`,
      );
    }
    if (update.runName !== undefined) validateName('run', update.runName, LIMITS.tagValueLength);
    return this.#database.transaction(async (trx) => {
      const row = await this.#runRow(trx, runId);
      if (row.lifecycle_stage !== 'active') {
        throw notActive('run', runId, 'update');
      }
      const changes: Partial<RunRow> = {};
      if (update.status !== undefined) {
        changes.status = update.status;
        const terminal = update.status !== 'RUNNING' && update.status !== 'SCHEDULED';
        if (update.endTime === undefined) changes.end_time = terminal ? (row.end_time ?? Date.now()) : null;
      }
      if (update.endTime !== undefined) changes.end_time = update.endTime;
      if (update.runName !== undefined) {
        changes.name = update.runName;
        await this.#upsertTags(trx, runId, [{ key: RUN_NAME_TAG, value: update.runName }]);
      }
      if (Object.keys(changes).length > 0) {
        await trx.updateTable('runs').set(changes).where('run_uuid', '=', runId).execute();
      }
      return runInfoToEntity({ ...row, ...changes }, this.#artifactRoot);
    });
  }

  async deleteRun(runId: string): Promise<void> {
    await this.#database.transaction(async (trx) => {
      const row = await this.#runRow(trx, runId);
      if (row.lifecycle_stage === 'deleted') return;
      await trx
        .updateTable('runs')
        .set({ lifecycle_stage: 'deleted', deleted_time: Date.now() })
        .where('run_uuid', '=', runId)
        .execute();
    });
  }

  async restoreRun(runId: string): Promise<void> {
    await this.#database.transaction(async (trx) => {
      await this.#runRow(trx, runId);
      await trx
        .updateTable('runs')
        .set({ lifecycle_stage: 'active', deleted_time: null })
        .where('run_uuid', '=', runId)
        .execute();
    });
  }

  async logBatch(runId: string, batch: RunBatch): Promise<void> {
    const { metrics, params, tags } = validateBatch(batch);
    await this.#database.transaction(async (trx) => {
      await this.#activeRun(trx, runId, 'log to');
      if (params.length > 0) await this.#insertParams(trx, runId, params);
      if (metrics.length > 0) await this.#insertMetrics(trx, runId, metrics);
      if (tags.length > 0) await this.#upsertTags(trx, runId, tags);
    });
  }

  async deleteTag(runId: string, key: string): Promise<void> {
    await this.#database.transaction(async (trx) => {
      await this.#activeRun(trx, runId, 'delete a tag of');
      const result = await trx
        .deleteFrom('tags')
        .where('run_uuid', '=', runId)
        .where('key', '=', String(key))
        .executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) {
        throw notFound(`No tag with name: ${key} in run with id ${runId}`);
      }
    });
  }

  async getMetricHistory(runId: string, key: string, page: PageRequest = {}): Promise<Page<Metric>> {
    const limit = resolveMaxResults(page.maxResults, METRIC_HISTORY_MAX_RESULTS, METRIC_HISTORY_MAX_RESULTS);
    const offset = decodePageToken(page.pageToken);
    await this.#runRow(this.#db, runId);
    const rows = await this.#db
      .selectFrom('metrics')
      .select(['key', 'value', 'timestamp', 'step', 'is_nan'])
      .where('run_uuid', '=', runId)
      .where('key', '=', String(key))
      .orderBy('step')
      .orderBy('timestamp')
      .orderBy('id')
      .limit(limit + 1)
      .offset(offset)
      .execute();
    const result = toPage(rows, offset, limit);
    return { items: result.items.map(metricToEntity), nextPageToken: result.nextPageToken };
  }

  async searchRuns(query: RunQuery): Promise<Page<Run>> {
    const limit = resolveMaxResults(
      query.maxResults,
      SEARCH_RUNS_DEFAULT_MAX_RESULTS,
      SEARCH_RUNS_MAX_RESULTS,
    );
    const offset = decodePageToken(query.pageToken);
    const { experimentIds, spec, conditions } = this.#runConditions(query);
    const orderBy = query.orderBy?.length ? this.#parser.parseOrderBy('runs', query.orderBy) : [];
    const order = compileOrderBy(this.#database, spec, orderBy);
    if (experimentIds.length === 0) return { items: [], nextPageToken: null };
    const terms = [...order.terms];
    if (!order.attributes.has(RUN_START_TIME)) terms.push(sql`r.start_time DESC`);
    terms.push(sql`r.run_uuid ASC`);
    const { rows } = await sql<RunRow>`SELECT r.* FROM runs r ${sql.join(order.joins, sql` `)}
      WHERE r.experiment_id IN (${sql.join(experimentIds)}) AND ${and(conditions)}
      ORDER BY ${sql.join(terms)} LIMIT ${limit + 1} OFFSET ${offset}`.execute(this.#db);
    const page = toPage(rows, offset, limit);
    return { items: await this.#runs(page.items), nextPageToken: page.nextPageToken };
  }

  async countRuns(query: RunQuery): Promise<number> {
    const offset = decodePageToken(query.pageToken);
    const { experimentIds, conditions } = this.#runConditions(query);
    if (experimentIds.length === 0) return 0;
    const { rows } = await sql<{ count: number | string | bigint }>`SELECT COUNT(*) AS count FROM runs r
      WHERE r.experiment_id IN (${sql.join(experimentIds)}) AND ${and(conditions)}`.execute(this.#db);
    return Math.max(0, Number(rows[0]?.count ?? 0) - offset);
  }

  /** The experiments and WHERE conditions of a run search (its filter parsed and compiled). */
  #runConditions(query: RunQuery) {
    const experimentIds = query.experimentIds.map((id) => {
      if (!EXPERIMENT_ID.test(String(id))) {
        throw invalidParameter(`Invalid experiment id "${id}": experiment ids are non-negative integers`);
      }
      return Number(id);
    });
    const filter = query.filter?.trim() ? this.#parser.parseFilter('runs', query.filter) : [];
    const spec = query.artifactRoot === undefined ? this.#runSearch : runSearch(query.artifactRoot);
    const conditions = [
      lifecycleCondition(sql.ref('r.lifecycle_stage'), query.viewType),
      ...compileFilter(this.#database, spec, filter),
    ];
    return { experimentIds, spec, conditions };
  }

  async logInputs(
    runId: string,
    inputs: readonly DatasetInput[],
    models: readonly ModelInput[] = [],
  ): Promise<void> {
    validateDatasetInputs(inputs);
    checkModelIds(models, 'model input');
    // The first input of each (name, digest) counts, as in MLflow.
    const unique = new Map<string, DatasetInput>();
    for (const input of inputs) {
      const key = JSON.stringify([input.dataset.name, input.dataset.digest]);
      if (!unique.has(key)) unique.set(key, input);
    }
    await this.#database.transaction(async (trx) => {
      const run = await this.#activeRun(trx, runId, 'log inputs to');
      await this.#insertModelEdges(
        trx,
        MODEL_INPUT_EDGE,
        runId,
        models.map((model) => ({ modelId: model.modelId, step: 0 })),
      );
      if (unique.size === 0) return;
      const experimentId = Number(run.experiment_id);
      const datasetRows = [...unique.values()].map(({ dataset }) => ({
        dataset_uuid: randomUUID().replaceAll('-', ''),
        experiment_id: experimentId,
        name: dataset.name,
        digest: dataset.digest,
        dataset_source_type: dataset.sourceType,
        dataset_source: dataset.source,
        dataset_schema: dataset.schema,
        dataset_profile: dataset.profile,
      }));
      // A dataset this experiment already has (or that a concurrent call just stored) is kept as it is.
      for (const chunk of chunks(datasetRows, 200)) {
        await trx
          .insertInto('datasets')
          .values(chunk)
          .onConflict((oc) => oc.columns(['experiment_id', 'name', 'digest']).doNothing())
          .execute();
      }
      const uuids = new Map<string, string>();
      for (const names of chunks([...new Set(datasetRows.map((row) => row.name))])) {
        const stored = await trx
          .selectFrom('datasets')
          .select(['dataset_uuid', 'name', 'digest'])
          .where('experiment_id', '=', experimentId)
          .where('name', 'in', names)
          .execute();
        for (const row of stored) uuids.set(JSON.stringify([row.name, row.digest]), row.dataset_uuid);
      }
      const edges = [...unique].map(([key, input]) => ({ datasetUuid: uuids.get(key)!, input }));
      for (const chunk of chunks(edges, 200)) {
        const inserted = await trx
          .insertInto('inputs')
          .values(
            chunk.map((edge) => ({
              source_type: INPUT_SOURCE_DATASET,
              source_id: edge.datasetUuid,
              destination_type: INPUT_DESTINATION_RUN,
              destination_id: runId,
            })),
          )
          .onConflict((oc) =>
            oc.columns(['source_type', 'source_id', 'destination_type', 'destination_id']).doNothing(),
          )
          .returning(['input_id', 'source_id'])
          .execute();
        // Only a new use records its tags: logging a dataset the run already uses changes nothing.
        const byDataset = new Map(chunk.map((edge) => [edge.datasetUuid, edge.input]));
        const tagRows = inserted.flatMap((row) => {
          const tags = new Map(byDataset.get(row.source_id)!.tags.map((tag) => [tag.key, tag.value]));
          return [...tags].map(([name, value]) => ({ input_id: Number(row.input_id), name, value }));
        });
        for (const tagChunk of chunks(tagRows)) await trx.insertInto('input_tags').values(tagChunk).execute();
      }
    });
  }

  async logOutputs(runId: string, models: readonly ModelOutput[]): Promise<void> {
    checkModelIds(models, 'model output');
    for (const model of models) {
      if (!Number.isSafeInteger(model.step)) {
        throw invalidParameter(
          `Invalid step ${model.step} of model output ${model.modelId}: an integer is required`,
        );
      }
    }
    await this.#database.transaction(async (trx) => {
      await this.#activeRun(trx, runId, 'log outputs to');
      await this.#insertModelEdges(trx, MODEL_OUTPUT_EDGE, runId, models);
    });
  }

  /** Edges from a run to logged models, each pair once (the first logged counts). */
  async #insertModelEdges(
    trx: Kysely<TrackingTables>,
    kind: typeof MODEL_INPUT_EDGE | typeof MODEL_OUTPUT_EDGE,
    runId: string,
    models: readonly ModelOutput[],
  ): Promise<void> {
    const rows = models.map((model) => ({
      ...kind,
      source_id: runId,
      destination_id: model.modelId,
      step: model.step,
    }));
    for (const chunk of chunks(rows, 200)) {
      await trx
        .insertInto('inputs')
        .values(chunk)
        .onConflict((oc) =>
          oc.columns(['source_type', 'source_id', 'destination_type', 'destination_id']).doNothing(),
        )
        .execute();
    }
  }

  async recordLoggedModel(runId: string, model: Readonly<Record<string, unknown>>): Promise<void> {
    if (typeof model !== 'object' || model === null || Array.isArray(model)) {
      throw invalidParameter('Invalid logged model: a JSON object (the MLmodel as JSON) is required');
    }
    await this.#database.transaction(async (trx) => {
      await this.#activeRun(trx, runId, 'log a model to');
      // Lock the run's row first, so that concurrent appends to its history take turns.
      await trx
        .updateTable('runs')
        .set({ lifecycle_stage: sql<string>`lifecycle_stage` })
        .where('run_uuid', '=', runId)
        .execute();
      const previous = await trx
        .selectFrom('tags')
        .select('value')
        .where('run_uuid', '=', runId)
        .where('key', '=', LOGGED_MODELS_TAG)
        .executeTakeFirst();
      let history: unknown[] = [];
      if (previous) {
        const parsed = parseJson(previous.value);
        if (!Array.isArray(parsed)) {
          throw invalidState(
            `Cannot record a logged model on run ${runId}: its ${LOGGED_MODELS_TAG} tag is not a JSON list; delete the tag or set it to []`,
          );
        }
        history = parsed;
      }
      const value = pythonJsonDumps([...history, model]);
      if (value.length > LOGGED_MODEL_HISTORY_LIMIT) {
        throw invalidParameter(
          `Cannot record a logged model on run ${runId}: its ${LOGGED_MODELS_TAG} tag would hold ${value.length} characters, at most ${LOGGED_MODEL_HISTORY_LIMIT} allowed`,
        );
      }
      await this.#upsertTags(trx, runId, [{ key: LOGGED_MODELS_TAG, value }]);
    });
  }

  async searchDatasets(experimentIds: readonly string[]): Promise<readonly DatasetSummary[]> {
    const ids = experimentIds.map((id) => {
      if (!EXPERIMENT_ID.test(String(id))) {
        throw invalidParameter(`Invalid experiment id "${id}": experiment ids are non-negative integers`);
      }
      return Number(id);
    });
    if (ids.length === 0) return [];
    const { rows } = await sql<{
      experiment_id: number;
      name: string;
      digest: string;
      context: string | null;
    }>`SELECT s.* FROM (SELECT DISTINCT d.experiment_id, d.name, d.digest, t.value AS context
        FROM datasets d
        JOIN inputs i ON i.source_type = ${INPUT_SOURCE_DATASET} AND i.source_id = d.dataset_uuid
        LEFT JOIN input_tags t ON t.input_id = i.input_id AND t.name = ${DATASET_CONTEXT_TAG}
        WHERE d.experiment_id IN (${sql.join(ids)})) s
      ORDER BY s.experiment_id, ${this.#database.orderText(sql.ref('s.name'))},
        ${this.#database.orderText(sql.ref('s.digest'))}, CASE WHEN s.context IS NULL THEN 0 ELSE 1 END,
        ${this.#database.orderText(sql.ref('s.context'))}
      LIMIT ${DATASET_SUMMARIES_LIMIT}`.execute(this.#db);
    return rows.map((row) => ({
      experimentId: String(row.experiment_id),
      name: row.name,
      digest: row.digest,
      context: row.context,
    }));
  }

  async failAbandonedRuns(reason: string): Promise<number> {
    const candidates = await this.#db
      .selectFrom('runs as r')
      .innerJoin('tags as pid', (join) =>
        join.onRef('pid.run_uuid', '=', 'r.run_uuid').on('pid.key', '=', OWNER_PID_TAG),
      )
      .innerJoin('tags as host', (join) =>
        join.onRef('host.run_uuid', '=', 'r.run_uuid').on('host.key', '=', OWNER_HOST_TAG),
      )
      .leftJoin('tags as started', (join) =>
        join.onRef('started.run_uuid', '=', 'r.run_uuid').on('started.key', '=', OWNER_STARTED_TAG),
      )
      .where('r.status', '=', 'RUNNING')
      .where('host.value', '=', this.#host)
      .select(['r.run_uuid as runId', 'pid.value as pid', 'started.value as started'])
      .execute();
    const abandoned = candidates.filter((candidate) => {
      const pid = Number(candidate.pid);
      if (!Number.isSafeInteger(pid) || pid <= 0) return false;
      return !this.#isProcessAlive({ pid, started: candidate.started ?? undefined });
    });
    const value = String(reason).slice(0, LIMITS.tagValueLength);
    let failed = 0;
    for (const { runId } of abandoned) {
      await this.#database.transaction(async (trx) => {
        const result = await trx
          .updateTable('runs')
          .set({ status: 'FAILED', end_time: Date.now() })
          .where('run_uuid', '=', runId)
          .where('status', '=', 'RUNNING')
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) === 0) return;
        await this.#upsertTags(trx, runId, [{ key: FAILURE_REASON_TAG, value }]);
        failed += 1;
      });
    }
    return failed;
  }

  /** Closes the database (shared with the other stores over it). */
  close(): Promise<void> {
    return this.#database.close();
  }

  // ---------------------------------------------------------------- helpers

  async #experimentRow(db: Kysely<TrackingTables>, experimentId: string): Promise<ExperimentRow> {
    const id = String(experimentId);
    const row = EXPERIMENT_ID.test(id)
      ? await db
          .selectFrom('experiments')
          .selectAll()
          .where('experiment_id', '=', Number(id))
          .executeTakeFirst()
      : undefined;
    if (!row) throw notFound(`No Experiment with id=${experimentId} exists`);
    return row;
  }

  async #experiments(rows: readonly ExperimentRow[]): Promise<Experiment[]> {
    const tags = new Map<number, Tag[]>();
    for (const chunk of chunks(rows.map((row) => Number(row.experiment_id)))) {
      const tagRows = await this.#db
        .selectFrom('experiment_tags')
        .selectAll()
        .where('experiment_id', 'in', chunk)
        .orderBy('key')
        .execute();
      for (const tag of tagRows) {
        const id = Number(tag.experiment_id);
        const list = tags.get(id) ?? [];
        list.push(tagToEntity(tag));
        tags.set(id, list);
      }
    }
    return rows.map((row) =>
      experimentToEntity(row, tags.get(Number(row.experiment_id)) ?? [], this.#artifactRoot),
    );
  }

  async #runRow(db: Kysely<TrackingTables>, runId: string): Promise<RunRow> {
    const row = await db
      .selectFrom('runs')
      .selectAll()
      .where('run_uuid', '=', String(runId))
      .executeTakeFirst();
    if (!row) throw notFound(`Run with id=${runId} not found`);
    return row;
  }

  async #activeRun(db: Kysely<TrackingTables>, runId: string, action: string): Promise<RunRow> {
    const row = await this.#runRow(db, runId);
    if (row.lifecycle_stage !== 'active') throw notActive('run', runId, action);
    return row;
  }

  /** Loads params, tags and latest metrics of `rows` in a few queries, keeping the rows' order. */
  async #runs(rows: readonly RunRow[]): Promise<Run[]> {
    const data = new Map<string, { metrics: Metric[]; params: Param[]; tags: Tag[] }>();
    for (const row of rows) data.set(row.run_uuid, { metrics: [], params: [], tags: [] });
    for (const ids of chunks(rows.map((row) => row.run_uuid))) {
      const [metrics, params, tags] = await Promise.all([
        this.#db
          .selectFrom('latest_metrics')
          .selectAll()
          .where('run_uuid', 'in', ids)
          // (run_uuid, key) is each table's primary key: reading in its order needs no sort.
          .orderBy('run_uuid')
          .orderBy('key')
          .execute(),
        this.#db
          .selectFrom('params')
          .selectAll()
          .where('run_uuid', 'in', ids)
          .orderBy('run_uuid')
          .orderBy('key')
          .execute(),
        this.#db
          .selectFrom('tags')
          .selectAll()
          .where('run_uuid', 'in', ids)
          .orderBy('run_uuid')
          .orderBy('key')
          .execute(),
      ]);
      for (const metric of metrics) data.get(metric.run_uuid)?.metrics.push(metricToEntity(metric));
      for (const param of params) data.get(param.run_uuid)?.params.push(tagToEntity(param));
      for (const tag of tags) data.get(tag.run_uuid)?.tags.push(tagToEntity(tag));
    }
    const runIds = rows.map((row) => row.run_uuid);
    const [inputs, models] = await Promise.all([this.#runInputs(runIds), this.#runModels(runIds)]);
    return rows.map((row) => ({
      info: runInfoToEntity(row, this.#artifactRoot),
      data: data.get(row.run_uuid)!,
      inputs: {
        datasetInputs: inputs.get(row.run_uuid) ?? [],
        modelInputs: models.inputs.get(row.run_uuid) ?? [],
      },
      outputs: { modelOutputs: models.outputs.get(row.run_uuid) ?? [] },
    }));
  }

  /** The logged models runs used and produced, each run's in the order logged. */
  async #runModels(runIds: readonly string[]): Promise<{
    inputs: Map<string, ModelInput[]>;
    outputs: Map<string, ModelOutput[]>;
  }> {
    const inputs = new Map<string, ModelInput[]>();
    const outputs = new Map<string, ModelOutput[]>();
    for (const ids of chunks(runIds)) {
      const rows = await this.#db
        .selectFrom('inputs')
        .select(['source_type', 'source_id', 'destination_id', 'step'])
        .where('source_type', 'in', [MODEL_INPUT_EDGE.source_type, MODEL_OUTPUT_EDGE.source_type])
        .where('source_id', 'in', ids)
        .orderBy('input_id')
        .execute();
      for (const row of rows) {
        if (row.source_type === MODEL_INPUT_EDGE.source_type) {
          inputs.set(row.source_id, [...(inputs.get(row.source_id) ?? []), { modelId: row.destination_id }]);
        } else {
          const output = { modelId: row.destination_id, step: Number(row.step) };
          outputs.set(row.source_id, [...(outputs.get(row.source_id) ?? []), output]);
        }
      }
    }
    return { inputs, outputs };
  }

  /** The dataset inputs of runs, each run's in the order they were logged, their tags by name. */
  async #runInputs(runIds: readonly string[]): Promise<Map<string, DatasetInput[]>> {
    const inputs = new Map<string, DatasetInput[]>();
    for (const ids of chunks(runIds)) {
      const rows = await this.#db
        .selectFrom('inputs as i')
        .innerJoin('datasets as d', 'd.dataset_uuid', 'i.source_id')
        .where('i.source_type', '=', INPUT_SOURCE_DATASET)
        .where('i.destination_type', '=', INPUT_DESTINATION_RUN)
        .where('i.destination_id', 'in', ids)
        .select([
          'i.input_id',
          'i.destination_id',
          'd.name',
          'd.digest',
          'd.dataset_source_type',
          'd.dataset_source',
          'd.dataset_schema',
          'd.dataset_profile',
        ])
        .orderBy('i.input_id')
        .execute();
      if (rows.length === 0) continue;
      const tags = new Map<number, Tag[]>();
      for (const inputIds of chunks(rows.map((row) => Number(row.input_id)))) {
        const tagRows = await this.#db
          .selectFrom('input_tags')
          .selectAll()
          .where('input_id', 'in', inputIds)
          .orderBy('input_id')
          .orderBy('name')
          .execute();
        for (const tag of tagRows) {
          const id = Number(tag.input_id);
          tags.set(id, [...(tags.get(id) ?? []), { key: tag.name, value: tag.value }]);
        }
      }
      for (const row of rows) {
        const input = datasetInputToEntity(row, tags.get(Number(row.input_id)) ?? []);
        inputs.set(row.destination_id, [...(inputs.get(row.destination_id) ?? []), input]);
      }
    }
    return inputs;
  }

  /** Params are write-once: insert the new keys, then compare every key's stored value with the given one. */
  async #insertParams(trx: Kysely<TrackingTables>, runId: string, params: readonly Param[]): Promise<void> {
    const sorted = [...params].sort(byKey);
    await trx
      .insertInto('params')
      .values(sorted.map((param) => ({ run_uuid: runId, key: param.key, value: param.value })))
      .onConflict((oc) => oc.columns(['run_uuid', 'key']).doNothing())
      .execute();
    const stored = await trx
      .selectFrom('params')
      .select(['key', 'value'])
      .where('run_uuid', '=', runId)
      .where(
        'key',
        'in',
        sorted.map((param) => param.key),
      )
      .execute();
    const storedValues = new Map(stored.map((row) => [row.key, row.value]));
    for (const param of sorted) {
      const value = storedValues.get(param.key);
      if (value !== param.value) {
        throw invalidParameter(
          `Changing param values is not allowed: param "${param.key}" of run ${runId} was logged with value ` +
            `"${value}", and cannot be changed to "${param.value}" (params are write-once)`,
        );
      }
    }
  }

  /** Appends to the histories and moves each key's latest value forward (higher step, then timestamp). */
  async #insertMetrics(
    trx: Kysely<TrackingTables>,
    runId: string,
    metrics: readonly Metric[],
  ): Promise<void> {
    const rows = metrics.map((metric) => ({
      run_uuid: runId,
      key: metric.key,
      timestamp: metric.timestamp,
      step: metric.step,
      ...metricColumns(metric.value),
    }));
    for (const chunk of chunks(rows)) await trx.insertInto('metrics').values(chunk).execute();
    const latest = new Map<string, (typeof rows)[number]>();
    for (const row of rows) {
      const current = latest.get(row.key);
      if (
        !current ||
        row.step > current.step ||
        (row.step === current.step && row.timestamp >= current.timestamp)
      ) {
        latest.set(row.key, row);
      }
    }
    const sorted = [...latest.values()].sort(byKey);
    for (const chunk of chunks(sorted)) {
      await trx
        .insertInto('latest_metrics')
        .values(chunk)
        .onConflict((oc) =>
          oc
            .columns(['run_uuid', 'key'])
            .doUpdateSet({
              value: (eb) => eb.ref('excluded.value'),
              timestamp: (eb) => eb.ref('excluded.timestamp'),
              step: (eb) => eb.ref('excluded.step'),
              is_nan: (eb) => eb.ref('excluded.is_nan'),
            })
            .where(
              sql<boolean>`excluded.step > latest_metrics.step OR (excluded.step = latest_metrics.step AND excluded.timestamp >= latest_metrics.timestamp)`,
            ),
        )
        .execute();
    }
  }

  async #upsertTags(trx: Kysely<TrackingTables>, runId: string, tags: readonly Tag[]): Promise<void> {
    const sorted = [...tags].sort(byKey);
    await trx
      .insertInto('tags')
      .values(sorted.map((tag) => ({ run_uuid: runId, key: tag.key, value: tag.value })))
      .onConflict((oc) =>
        oc.columns(['run_uuid', 'key']).doUpdateSet({ value: (eb) => eb.ref('excluded.value') }),
      )
      .execute();
    const name = tags.find((tag) => tag.key === RUN_NAME_TAG);
    if (name) await trx.updateTable('runs').set({ name: name.value }).where('run_uuid', '=', runId).execute();
  }
}

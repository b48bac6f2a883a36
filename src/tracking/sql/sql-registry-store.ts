import { type Kysely, sql } from 'kysely';
import { invalidParameter } from '../../errors.js';
import { decodePageToken, type Page, resolveMaxResults, toPage } from '../../store/paging.js';
import { chunks, type SqlDatabase } from '../../store/sql-database.js';
import {
  MODEL_STAGES,
  type ModelFile,
  type ModelStage,
  type ModelVersion,
  type RegisteredModel,
  type StageTransition,
  type Tag,
} from '../entities.js';
import { checkedManifest, manifestDigest } from '../model-files.js';
import {
  CHAMPION_ALIAS,
  type ModelVersionInput,
  type RegisteredModelInput,
  type RegistryStore,
  type StageTransitionInput,
} from '../registry-store.js';
import type { SearchQuery } from '../tracking-store.js';
import {
  encodeMetricsJson,
  type ModelVersionRow,
  modelVersionToEntity,
  type RegisteredModelRow,
  registeredModelToEntity,
  stageTransitionToEntity,
  tagToEntity,
} from './rows.js';
import type { TrackingTables } from './schema.js';
import type { SearchParser } from './search-parser.js';
import { and, compileFilter, compileOrderBy, type SearchSpec } from './search-sql.js';
import {
  alreadyExists,
  notFound,
  validateKey,
  validateName,
  validateTag,
  validateTags,
} from './validation.js';

/** MLflow's limits for registry searches. */
export const SEARCH_REGISTERED_MODELS_DEFAULT_MAX_RESULTS = 100;
export const SEARCH_REGISTERED_MODELS_MAX_RESULTS = 1_000;
export const SEARCH_MODEL_VERSIONS_DEFAULT_MAX_RESULTS = 10_000;
export const SEARCH_MODEL_VERSIONS_MAX_RESULTS = 200_000;

const MODEL_NAME_LIMIT = 256;

export interface SqlRegistryStoreOptions {
  readonly parser: SearchParser;
}

const MODEL_NAME = { column: sql.ref('m.name'), type: 'string' } as const;
const MODEL_CREATION = { column: sql.ref('m.creation_time'), type: 'number' } as const;
const MODEL_UPDATED = { column: sql.ref('m.last_updated_time'), type: 'number' } as const;

/** searchRegisteredModels: `name`, `creation_timestamp`, `last_updated_timestamp`, `tags.<key>`. */
export const REGISTERED_MODEL_SEARCH: SearchSpec = {
  target: 'registered_models',
  attributes: {
    name: MODEL_NAME,
    creation_timestamp: MODEL_CREATION,
    last_updated_timestamp: MODEL_UPDATED,
  },
  tags: {
    table: 'registered_model_tags',
    correlate: (alias) => sql<boolean>`${sql.ref(`${alias}.name`)} = m.name`,
  },
};

const VERSION_NUMBER = { column: sql.ref('v.version'), type: 'number' } as const;
const VERSION_SOURCE = { column: sql.ref('v.source'), type: 'string' } as const;
const VERSION_CREATION = { column: sql.ref('v.creation_time'), type: 'number' } as const;

/** searchModelVersions: `name`, `version_number`, `run_id`, `source_path`, stage, user, times, `tags.<key>`. */
export const MODEL_VERSION_SEARCH: SearchSpec = {
  target: 'model_versions',
  attributes: {
    name: { column: sql.ref('v.name'), type: 'string' },
    version_number: VERSION_NUMBER,
    version: VERSION_NUMBER,
    run_id: { column: sql.ref('v.run_id'), type: 'string' },
    source_path: VERSION_SOURCE,
    source: VERSION_SOURCE,
    current_stage: { column: sql.ref('v.current_stage'), type: 'string' },
    user_id: { column: sql.ref('v.user_id'), type: 'string' },
    status: { column: sql.ref('v.status'), type: 'string' },
    creation_timestamp: VERSION_CREATION,
    last_updated_timestamp: { column: sql.ref('v.last_updated_time'), type: 'number' },
  },
  tags: {
    table: 'model_version_tags',
    correlate: (alias) =>
      sql<boolean>`${sql.ref(`${alias}.name`)} = v.name AND ${sql.ref(`${alias}.version`)} = v.version`,
  },
};

/** Stages are matched case-insensitively (`production` → `Production`), as MLflow. */
export function canonicalStage(stage: string): ModelStage {
  const found = MODEL_STAGES.find((known) => known.toLowerCase() === String(stage).toLowerCase());
  if (!found)
    throw invalidParameter(`Invalid model stage "${stage}": allowed are ${MODEL_STAGES.join(', ')}`);
  return found;
}

function parseVersion(name: string, version: string): number {
  const text = String(version);
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1) {
    throw invalidParameter(
      `Model version must be an integer, got '${version}' (versions of model "${name}" are positive integers)`,
    );
  }
  return Number(text);
}

const ALIAS_PATTERN = /^[\w-]+$/;

/** Aliases are letters, digits, `_` and `-`; `latest` and `v<number>` are reserved (they name versions). */
function validateAlias(alias: string): void {
  if (typeof alias !== 'string' || !ALIAS_PATTERN.test(alias) || alias.length > 255) {
    throw invalidParameter(
      `Invalid alias ${JSON.stringify(alias)}: 1 to 255 letters, digits, underscores or dashes are allowed`,
    );
  }
  if (alias.toLowerCase() === 'latest' || /^v\d+$/i.test(alias)) {
    throw invalidParameter(`Invalid alias "${alias}": "latest" and "v<number>" are reserved`);
  }
}

/**
 * RegistryStore over SQLite or PostgreSQL. Every write transaction first updates the registered model's
 * row (its `last_updated_time`), which both checks that the model exists and locks it, so concurrent
 * version creations and stage transitions of one model serialise. Renames cascade to versions, tags,
 * aliases and the stage history through `ON UPDATE CASCADE` foreign keys; deleting a version deletes its
 * tags and aliases (the stage history is kept while the model exists). Version numbers are never reused.
 */
export class SqlRegistryStore implements RegistryStore {
  readonly #database: SqlDatabase<TrackingTables>;
  readonly #db: Kysely<TrackingTables>;
  readonly #parser: SearchParser;

  constructor(database: SqlDatabase<TrackingTables>, options: SqlRegistryStoreOptions) {
    this.#database = database;
    this.#db = database.db;
    this.#parser = options.parser;
  }

  async createRegisteredModel(input: RegisteredModelInput): Promise<RegisteredModel> {
    validateName('registered model', input.name, MODEL_NAME_LIMIT);
    const tags = input.tags ?? [];
    validateTags(tags, `registered model "${input.name}"`);
    const now = Date.now();
    try {
      await this.#database.transaction(async (trx) => {
        await trx
          .insertInto('registered_models')
          .values({
            name: input.name,
            creation_time: now,
            last_updated_time: now,
            description: input.description ?? '',
            next_version: 1,
          })
          .execute();
        if (tags.length > 0) {
          const unique = new Map(tags.map((tag) => [tag.key, tag.value]));
          await trx
            .insertInto('registered_model_tags')
            .values([...unique].map(([key, value]) => ({ name: input.name, key, value })))
            .execute();
        }
      });
    } catch (error) {
      if (this.#database.isUniqueViolation(error)) {
        throw alreadyExists(`Registered Model (name=${input.name}) already exists.`);
      }
      throw error;
    }
    return this.getRegisteredModel(input.name);
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel> {
    const row = await this.#db
      .selectFrom('registered_models')
      .selectAll()
      .where('name', '=', String(name))
      .executeTakeFirst();
    if (!row) throw notFound(`Registered Model with name=${name} not found`);
    return (await this.#models(this.#db, [row]))[0]!;
  }

  async searchRegisteredModels(query: SearchQuery): Promise<Page<RegisteredModel>> {
    const limit = resolveMaxResults(
      query.maxResults,
      SEARCH_REGISTERED_MODELS_DEFAULT_MAX_RESULTS,
      SEARCH_REGISTERED_MODELS_MAX_RESULTS,
    );
    const offset = decodePageToken(query.pageToken);
    const filter = query.filter?.trim() ? this.#parser.parseFilter('registered_models', query.filter) : [];
    const orderBy = query.orderBy?.length
      ? this.#parser.parseOrderBy('registered_models', query.orderBy)
      : [];
    const conditions = compileFilter(this.#database, REGISTERED_MODEL_SEARCH, filter);
    const order = compileOrderBy(this.#database, REGISTERED_MODEL_SEARCH, orderBy);
    const terms = [...order.terms, sql`${this.#database.orderText(sql.ref('m.name'))} ASC`];
    const { rows } = await sql<RegisteredModelRow>`SELECT m.* FROM registered_models m
      ${sql.join(order.joins, sql` `)} WHERE ${and(conditions)}
      ORDER BY ${sql.join(terms)} LIMIT ${limit + 1} OFFSET ${offset}`.execute(this.#db);
    const page = toPage(rows, offset, limit);
    return { items: await this.#models(this.#db, page.items), nextPageToken: page.nextPageToken };
  }

  async renameRegisteredModel(name: string, newName: string): Promise<RegisteredModel> {
    validateName('registered model', newName, MODEL_NAME_LIMIT);
    try {
      await this.#database.transaction(async (trx) => {
        await this.#touchModel(trx, name);
        if (newName === name) return;
        await trx.updateTable('registered_models').set({ name: newName }).where('name', '=', name).execute();
      });
    } catch (error) {
      if (this.#database.isUniqueViolation(error)) {
        throw alreadyExists(
          `Registered Model (name=${newName}) already exists. (Cannot rename "${name}" to that name.)`,
        );
      }
      throw error;
    }
    return this.getRegisteredModel(newName);
  }

  async updateRegisteredModel(name: string, description: string): Promise<RegisteredModel> {
    if (typeof description !== 'string') throw invalidParameter('Invalid description: a string is required');
    await this.#database.transaction(async (trx) => {
      await this.#touchModel(trx, name);
      await trx.updateTable('registered_models').set({ description }).where('name', '=', name).execute();
    });
    return this.getRegisteredModel(name);
  }

  async deleteRegisteredModel(name: string): Promise<void> {
    const result = await this.#database.transaction((trx) =>
      trx.deleteFrom('registered_models').where('name', '=', String(name)).executeTakeFirst(),
    );
    if (Number(result.numDeletedRows) === 0) throw notFound(`Registered Model with name=${name} not found`);
  }

  async setRegisteredModelTag(name: string, tag: Tag): Promise<void> {
    validateTag(tag);
    await this.#database.transaction(async (trx) => {
      await this.#touchModel(trx, name);
      await trx
        .insertInto('registered_model_tags')
        .values({ name, key: tag.key, value: tag.value })
        .onConflict((oc) => oc.columns(['name', 'key']).doUpdateSet({ value: tag.value }))
        .execute();
    });
  }

  async deleteRegisteredModelTag(name: string, key: string): Promise<void> {
    validateKey('tag', key);
    await this.#database.transaction(async (trx) => {
      await this.#touchModel(trx, name);
      await trx.deleteFrom('registered_model_tags').where('name', '=', name).where('key', '=', key).execute();
    });
  }

  async getLatestVersions(name: string, stages?: readonly ModelStage[]): Promise<readonly ModelVersion[]> {
    const wanted = new Set((stages?.length ? stages : MODEL_STAGES).map(canonicalStage));
    const model = await this.getRegisteredModel(name);
    return model.latestVersions.filter((version) => wanted.has(version.currentStage));
  }

  async createModelVersion(input: ModelVersionInput): Promise<ModelVersion> {
    if (typeof input.source !== 'string' || input.source.length === 0) {
      throw invalidParameter('Invalid model version source: a non-empty URI is required');
    }
    if (input.storageLocation === null && input.files !== null) {
      throw invalidParameter('Invalid model version: files were given without a storage location');
    }
    const files =
      input.files === null ? null : checkedManifest(input.files, `A version of model "${input.name}"`);
    const metrics = input.metrics ?? {};
    for (const [key, value] of Object.entries(metrics)) {
      if (typeof value !== 'number') {
        throw invalidParameter(`Invalid metric "${key}" of the model version: a number is required`);
      }
    }
    if (input.runId !== undefined && input.runId !== null && typeof input.runId !== 'string') {
      throw invalidParameter('Invalid runId: a run id string or null is required');
    }
    const tags = input.tags ?? [];
    validateTags(tags, `a version of model "${input.name}"`);
    const now = Date.now();
    const version = await this.#database.transaction(async (trx) => {
      const counter = await trx
        .updateTable('registered_models')
        .set((eb) => ({ next_version: eb('next_version', '+', 1), last_updated_time: now }))
        .where('name', '=', String(input.name))
        .returning('next_version')
        .executeTakeFirst();
      if (!counter) throw notFound(`Registered Model with name=${input.name} not found`);
      const number = Number(counter.next_version) - 1;
      await trx
        .insertInto('model_versions')
        .values({
          name: input.name,
          version: number,
          creation_time: now,
          last_updated_time: now,
          description: input.description ?? '',
          user_id: input.userId ?? '',
          current_stage: 'None',
          source: input.source,
          storage_location: input.storageLocation,
          run_id: input.runId ?? null,
          status: 'READY',
          checksum: files === null ? '' : manifestDigest(files),
          metrics_json: encodeMetricsJson(metrics),
        })
        .execute();
      if (files !== null) await this.#insertFiles(trx, input.name, number, files);
      if (tags.length > 0) {
        const unique = new Map(tags.map((tag) => [tag.key, tag.value]));
        await trx
          .insertInto('model_version_tags')
          .values([...unique].map(([key, value]) => ({ name: input.name, version: number, key, value })))
          .execute();
      }
      return number;
    });
    return this.getModelVersion(input.name, String(version));
  }

  async getModelVersion(name: string, version: string): Promise<ModelVersion> {
    const row = await this.#versionRow(this.#db, name, version);
    return (await this.#versions(this.#db, [row]))[0]!;
  }

  async getModelFiles(name: string, version: string): Promise<readonly ModelFile[] | null> {
    const row = await this.#versionRow(this.#db, name, version);
    if (row.checksum === '') return null;
    const files = await this.#db
      .selectFrom('model_version_files')
      .select(['path', 'size', 'sha256'])
      .where('name', '=', row.name)
      .where('version', '=', row.version)
      .orderBy('path')
      .execute();
    return files.map((file) => ({
      path: file.path,
      size: file.size === null ? null : Number(file.size),
      sha256: file.sha256,
    }));
  }

  async versionsStoredAt(path: string): Promise<readonly ModelVersion[]> {
    const below = `${path}/`;
    const rows = await this.#db
      .selectFrom('model_versions')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb('storage_location', '=', path),
          eb(sql<string>`substr(storage_location, 1, ${below.length})`, '=', below),
          eb(
            sql<string>`substr(${below}, 1, length(storage_location) + 1)`,
            '=',
            sql<string>`storage_location || '/'`,
          ),
        ]),
      )
      .orderBy('name')
      .orderBy('version')
      .execute();
    return this.#versions(this.#db, rows);
  }

  async recordModelFiles(name: string, version: string, files: readonly ModelFile[]): Promise<ModelVersion> {
    const checked = checkedManifest(files, `Model "${name}" version ${version}`);
    await this.#database.transaction(async (trx) => {
      const row = await this.#versionRow(trx, name, version);
      if (row.storage_location === null) {
        throw invalidParameter(
          `Model "${name}" version ${version} is not in the artifact store (source ${row.source}); it has no files to record`,
        );
      }
      // The first record wins: only a version without files takes them (a concurrent reader may have
      // recorded the same files first).
      const claimed = await trx
        .updateTable('model_versions')
        .set({ checksum: manifestDigest(checked) })
        .where('name', '=', row.name)
        .where('version', '=', row.version)
        .where('checksum', '=', '')
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) === 1) await this.#insertFiles(trx, row.name, row.version, checked);
    });
    return this.getModelVersion(name, version);
  }

  async #insertFiles(
    db: Kysely<TrackingTables>,
    name: string,
    version: number,
    files: readonly ModelFile[],
  ): Promise<void> {
    for (const chunk of chunks(files)) {
      await db
        .insertInto('model_version_files')
        .values(
          chunk.map((file) => ({ name, version, path: file.path, size: file.size, sha256: file.sha256 })),
        )
        .execute();
    }
  }

  async searchModelVersions(query: SearchQuery): Promise<Page<ModelVersion>> {
    const limit = resolveMaxResults(
      query.maxResults,
      SEARCH_MODEL_VERSIONS_DEFAULT_MAX_RESULTS,
      SEARCH_MODEL_VERSIONS_MAX_RESULTS,
    );
    const offset = decodePageToken(query.pageToken);
    const filter = query.filter?.trim() ? this.#parser.parseFilter('model_versions', query.filter) : [];
    const orderBy = query.orderBy?.length ? this.#parser.parseOrderBy('model_versions', query.orderBy) : [];
    const conditions = compileFilter(this.#database, MODEL_VERSION_SEARCH, filter);
    const order = compileOrderBy(this.#database, MODEL_VERSION_SEARCH, orderBy);
    const terms = [
      ...order.terms,
      // MLflow's default order: the last updated first.
      ...(orderBy.length === 0 ? [sql`v.last_updated_time DESC`] : []),
      sql`${this.#database.orderText(sql.ref('v.name'))} ASC`,
      sql`v.version DESC`,
    ];
    const { rows } = await sql<ModelVersionRow>`SELECT v.* FROM model_versions v
      ${sql.join(order.joins, sql` `)} WHERE ${and(conditions)}
      ORDER BY ${sql.join(terms)} LIMIT ${limit + 1} OFFSET ${offset}`.execute(this.#db);
    const page = toPage(rows, offset, limit);
    return { items: await this.#versions(this.#db, page.items), nextPageToken: page.nextPageToken };
  }

  async updateModelVersion(name: string, version: string, description: string): Promise<ModelVersion> {
    if (typeof description !== 'string') throw invalidParameter('Invalid description: a string is required');
    await this.#database.transaction(async (trx) => {
      const now = await this.#touchModel(trx, name);
      const row = await this.#versionRow(trx, name, version);
      await trx
        .updateTable('model_versions')
        .set({ description, last_updated_time: now })
        .where('name', '=', name)
        .where('version', '=', row.version)
        .execute();
    });
    return this.getModelVersion(name, version);
  }

  async deleteModelVersion(name: string, version: string): Promise<void> {
    await this.#database.transaction(async (trx) => {
      await this.#touchModel(trx, name);
      const row = await this.#versionRow(trx, name, version);
      await trx
        .deleteFrom('model_versions')
        .where('name', '=', name)
        .where('version', '=', row.version)
        .execute();
      if (row.current_stage === 'Production') await this.#followProduction(trx, name);
    });
  }

  async setModelVersionTag(name: string, version: string, tag: Tag): Promise<void> {
    validateTag(tag);
    await this.#database.transaction(async (trx) => {
      await this.#touchModel(trx, name);
      const row = await this.#versionRow(trx, name, version);
      await trx
        .insertInto('model_version_tags')
        .values({ name, version: row.version, key: tag.key, value: tag.value })
        .onConflict((oc) => oc.columns(['name', 'version', 'key']).doUpdateSet({ value: tag.value }))
        .execute();
    });
  }

  async deleteModelVersionTag(name: string, version: string, key: string): Promise<void> {
    validateKey('tag', key);
    await this.#database.transaction(async (trx) => {
      await this.#touchModel(trx, name);
      const row = await this.#versionRow(trx, name, version);
      await trx
        .deleteFrom('model_version_tags')
        .where('name', '=', name)
        .where('version', '=', row.version)
        .where('key', '=', key)
        .execute();
    });
  }

  async transitionModelVersionStage(input: StageTransitionInput): Promise<ModelVersion> {
    const stage = canonicalStage(input.stage);
    if (input.archiveExistingVersions && stage !== 'Staging' && stage !== 'Production') {
      throw invalidParameter(
        `Cannot archive existing versions on a transition to "${stage}": ` +
          'archiveExistingVersions is only allowed for Staging and Production',
      );
    }
    await this.#database.transaction((trx) => this.#transition(trx, input, stage));
    return this.getModelVersion(input.name, input.version);
  }

  async #transition(
    trx: Kysely<TrackingTables>,
    input: StageTransitionInput,
    stage: ModelStage,
  ): Promise<void> {
    const user = input.user ?? '';
    const now = await this.#touchModel(trx, input.name);
    const row = await this.#versionRow(trx, input.name, input.version);
    // A version already in the stage stays there: no transition to record (Production -> Production).
    const moves = row.current_stage !== stage;
    const history = moves
      ? [
          {
            name: input.name,
            version: row.version,
            from_stage: row.current_stage,
            to_stage: stage,
            timestamp: now,
            user_id: user,
            reason: input.reason ?? '',
          },
        ]
      : [];
    if (moves) {
      await trx
        .updateTable('model_versions')
        .set({ current_stage: stage, last_updated_time: now })
        .where('name', '=', input.name)
        .where('version', '=', row.version)
        .execute();
    }
    if (input.archiveExistingVersions) {
      const others = await trx
        .selectFrom('model_versions')
        .select(['version', 'current_stage'])
        .where('name', '=', input.name)
        .where('current_stage', '=', stage)
        .where('version', '!=', row.version)
        .execute();
      if (others.length > 0) {
        await trx
          .updateTable('model_versions')
          .set({ current_stage: 'Archived', last_updated_time: now })
          .where('name', '=', input.name)
          .where(
            'version',
            'in',
            others.map((other) => other.version),
          )
          .execute();
        for (const other of others) {
          history.push({
            name: input.name,
            version: other.version,
            from_stage: other.current_stage,
            to_stage: 'Archived',
            timestamp: now,
            user_id: user,
            reason: `archive_existing_versions: version ${row.version} moved to ${stage}`,
          });
        }
      }
    }
    if (history.length > 0) await trx.insertInto('model_version_stage_transitions').values(history).execute();
    if (history.some((moved) => moved.from_stage === 'Production' || moved.to_stage === 'Production')) {
      await this.#followProduction(trx, input.name);
    }
  }

  /** The newest version in Production, if any (what `models:/NAME/Production` resolves to). */
  async #newestInProduction(
    db: Kysely<TrackingTables>,
    name: string,
  ): Promise<{ version: number } | undefined> {
    return db
      .selectFrom('model_versions')
      .select('version')
      .where('name', '=', name)
      .where('current_stage', '=', 'Production')
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  /**
   * After a version entered or left Production: points `champion` at the newest version in Production, or
   * removes it when none is left there.
   */
  async #followProduction(trx: Kysely<TrackingTables>, name: string): Promise<void> {
    const newest = await this.#newestInProduction(trx, name);
    if (newest === undefined) {
      await trx
        .deleteFrom('registered_model_aliases')
        .where('name', '=', name)
        .where('alias', '=', CHAMPION_ALIAS)
        .execute();
      return;
    }
    await trx
      .insertInto('registered_model_aliases')
      .values({ name, alias: CHAMPION_ALIAS, version: newest.version })
      .onConflict((oc) => oc.columns(['name', 'alias']).doUpdateSet({ version: newest.version }))
      .execute();
  }

  async getStageHistory(name: string, version?: string): Promise<readonly StageTransition[]> {
    await this.#modelRow(this.#db, name);
    let query = this.#db.selectFrom('model_version_stage_transitions').selectAll().where('name', '=', name);
    if (version !== undefined) {
      const number = parseVersion(name, version);
      query = query.where('version', '=', number);
      const rows = await query.orderBy('timestamp').orderBy('id').execute();
      if (rows.length === 0) await this.#versionRow(this.#db, name, version);
      return rows.map(stageTransitionToEntity);
    }
    const rows = await query.orderBy('timestamp').orderBy('id').execute();
    return rows.map(stageTransitionToEntity);
  }

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    validateAlias(alias);
    await this.#database.transaction(async (trx) => {
      await this.#touchModel(trx, name);
      const row = await this.#versionRow(trx, name, version);
      await trx
        .insertInto('registered_model_aliases')
        .values({ name, alias, version: row.version })
        .onConflict((oc) => oc.columns(['name', 'alias']).doUpdateSet({ version: row.version }))
        .execute();
    });
  }

  async deleteAlias(name: string, alias: string): Promise<void> {
    validateAlias(alias);
    await this.#database.transaction(async (trx) => {
      await this.#touchModel(trx, name);
      await trx
        .deleteFrom('registered_model_aliases')
        .where('name', '=', name)
        .where('alias', '=', String(alias))
        .execute();
    });
  }

  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    const row = await this.#db
      .selectFrom('registered_model_aliases as a')
      .innerJoin('model_versions as v', (join) =>
        join.onRef('v.name', '=', 'a.name').onRef('v.version', '=', 'a.version'),
      )
      .selectAll('v')
      .where('a.name', '=', String(name))
      .where('a.alias', '=', String(alias))
      .executeTakeFirst();
    if (!row) {
      // MLflow's code and words, for a model without the alias and for no such model alike.
      throw invalidParameter(
        `Registered model alias ${alias} not found. (Model "${name}" has no such alias.)`,
      );
    }
    return (await this.#versions(this.#db, [row]))[0]!;
  }

  // ---------------------------------------------------------------- helpers

  async #modelRow(db: Kysely<TrackingTables>, name: string): Promise<RegisteredModelRow> {
    const row = await db
      .selectFrom('registered_models')
      .selectAll()
      .where('name', '=', String(name))
      .executeTakeFirst();
    if (!row) throw notFound(`Registered Model with name=${name} not found`);
    return row;
  }

  /** Marks the model updated now, locking its row; RESOURCE_DOES_NOT_EXIST when there is no such model. */
  async #touchModel(trx: Kysely<TrackingTables>, name: string): Promise<number> {
    const now = Date.now();
    // Never earlier than the model's last change: on PostgreSQL a transaction that read the clock and then
    // waited for this row's lock would otherwise commit an older time after a newer one, and the stage
    // history (ordered by time) would show transitions out of the order they were made.
    const row = await trx
      .updateTable('registered_models')
      .set({
        last_updated_time: sql<number>`CASE WHEN last_updated_time > ${now} THEN last_updated_time ELSE ${now} END`,
      })
      .where('name', '=', String(name))
      .returning('last_updated_time')
      .executeTakeFirst();
    if (!row) throw notFound(`Registered Model with name=${name} not found`);
    return Number(row.last_updated_time);
  }

  async #versionRow(db: Kysely<TrackingTables>, name: string, version: string): Promise<ModelVersionRow> {
    const number = parseVersion(name, version);
    const row = await db
      .selectFrom('model_versions')
      .selectAll()
      .where('name', '=', String(name))
      .where('version', '=', number)
      .executeTakeFirst();
    if (!row) {
      await this.#modelRow(db, name);
      throw notFound(`Model Version (name=${name}, version=${version}) not found`);
    }
    return row;
  }

  /** Versions with their tags and aliases, in the rows' order. */
  async #versions(db: Kysely<TrackingTables>, rows: readonly ModelVersionRow[]): Promise<ModelVersion[]> {
    const id = (name: string, version: number | string) => `${version}\u0000${name}`;
    const tags = new Map<string, Tag[]>();
    const aliases = new Map<string, string[]>();
    const names = [...new Set(rows.map((row) => row.name))];
    const wanted = new Set(rows.map((row) => id(row.name, Number(row.version))));
    for (const chunk of chunks(names)) {
      const [tagRows, aliasRows] = await Promise.all([
        db.selectFrom('model_version_tags').selectAll().where('name', 'in', chunk).orderBy('key').execute(),
        db
          .selectFrom('registered_model_aliases')
          .selectAll()
          .where('name', 'in', chunk)
          .orderBy('alias')
          .execute(),
      ]);
      for (const tag of tagRows) {
        const key = id(tag.name, Number(tag.version));
        if (!wanted.has(key)) continue;
        tags.set(key, [...(tags.get(key) ?? []), tagToEntity(tag)]);
      }
      for (const alias of aliasRows) {
        const key = id(alias.name, Number(alias.version));
        if (!wanted.has(key)) continue;
        aliases.set(key, [...(aliases.get(key) ?? []), alias.alias]);
      }
    }
    return rows.map((row) => {
      const key = id(row.name, Number(row.version));
      return modelVersionToEntity(row, tags.get(key) ?? [], aliases.get(key) ?? []);
    });
  }

  /** Models with their tags, aliases and latest version per stage, in the rows' order. */
  async #models(db: Kysely<TrackingTables>, rows: readonly RegisteredModelRow[]): Promise<RegisteredModel[]> {
    const tags = new Map<string, Tag[]>();
    const aliases = new Map<string, { alias: string; version: string }[]>();
    const latest = new Map<string, ModelVersion[]>();
    for (const chunk of chunks(rows.map((row) => row.name))) {
      const [tagRows, aliasRows, latestRows] = await Promise.all([
        db
          .selectFrom('registered_model_tags')
          .selectAll()
          .where('name', 'in', chunk)
          .orderBy('key')
          .execute(),
        db
          .selectFrom('registered_model_aliases')
          .selectAll()
          .where('name', 'in', chunk)
          .orderBy('alias')
          .execute(),
        sql<ModelVersionRow & { first_in_stage: number }>`SELECT v.*,
            (SELECT MIN(f.version) FROM model_versions f
              WHERE f.name = v.name AND f.current_stage = v.current_stage) AS first_in_stage
          FROM model_versions v WHERE v.name IN (${sql.join(chunk)})
          AND v.version = (SELECT MAX(w.version) FROM model_versions w
            WHERE w.name = v.name AND w.current_stage = v.current_stage)`.execute(db),
      ]);
      for (const tag of tagRows) tags.set(tag.name, [...(tags.get(tag.name) ?? []), tagToEntity(tag)]);
      for (const alias of aliasRows) {
        aliases.set(alias.name, [
          ...(aliases.get(alias.name) ?? []),
          { alias: alias.alias, version: String(alias.version) },
        ]);
      }
      // MLflow's order: stages as its walk over the versions (oldest first) meets them, i.e. by the
      // oldest version in each stage; clients (and MLflow's tests) compare these lists in order.
      const versions = await this.#versions(
        db,
        [...latestRows.rows].sort((a, b) => Number(a.first_in_stage) - Number(b.first_in_stage)),
      );
      for (const version of versions)
        latest.set(version.name, [...(latest.get(version.name) ?? []), version]);
    }
    return rows.map((row) =>
      registeredModelToEntity(
        row,
        tags.get(row.name) ?? [],
        latest.get(row.name) ?? [],
        aliases.get(row.name) ?? [],
      ),
    );
  }
}

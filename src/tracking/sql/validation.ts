import { invalidParameter, OnsetError } from '../../errors.js';
import type { DatasetInput, Metric, Param, Tag } from '../entities.js';

/** MLflow's limits (2.x): per batch, and per key and value. */
export const LIMITS = {
  metricsPerBatch: 1_000,
  paramsPerBatch: 100,
  tagsPerBatch: 100,
  keyLength: 250,
  paramValueLength: 6_000,
  tagValueLength: 8_000,
} as const;

/** Keys may hold letters, digits, `_`, `-`, `.`, spaces, `/` and `:` (MLflow's rule), and no `..` path step. */
const KEY_PATTERN = /^[\w\-. /:]+$/;

export function validateKey(kind: 'metric' | 'param' | 'tag', key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw invalidParameter(`Invalid ${kind} key ${JSON.stringify(key)}: a non-empty string is required`);
  }
  if (key.length > LIMITS.keyLength) {
    throw invalidParameter(
      `Invalid ${kind} key "${key.slice(0, 40)}...": ${key.length} characters, at most ${LIMITS.keyLength} allowed`,
    );
  }
  if (!KEY_PATTERN.test(key) || key.split('/').includes('..') || key.startsWith('/')) {
    throw invalidParameter(
      `Invalid ${kind} key "${key}": only letters, digits, underscores, dashes, periods, spaces, colons and ` +
        'slashes are allowed, and it must not start with "/" or contain ".." steps',
    );
  }
}

function validateValue(kind: 'param' | 'tag', key: string, value: unknown, limit: number): void {
  if (typeof value !== 'string') {
    throw invalidParameter(`Invalid value for ${kind} "${key}": a string is required, got ${typeof value}`);
  }
  if (value.length > limit) {
    throw invalidParameter(
      `Invalid value for ${kind} "${key}": ${value.length} characters, at most ${limit} allowed`,
    );
  }
}

export function validateTag(tag: Tag): void {
  validateKey('tag', tag?.key);
  validateValue('tag', tag.key, tag.value, LIMITS.tagValueLength);
}

export function validateParam(param: Param): void {
  validateKey('param', param?.key);
  validateValue('param', param.key, param.value, LIMITS.paramValueLength);
}

/** Metric values are numbers, NaN and ±Infinity included (as MLflow); timestamps and steps are integers. */
export function validateMetric(metric: Metric): void {
  validateKey('metric', metric?.key);
  if (typeof metric.value !== 'number') {
    throw invalidParameter(
      `Invalid value for metric "${metric.key}": a number is required (NaN and ±Infinity allowed)`,
    );
  }
  if (!Number.isSafeInteger(metric.timestamp)) {
    throw invalidParameter(
      `Invalid timestamp ${metric.timestamp} for metric "${metric.key}": an integer (ms since the epoch) is required`,
    );
  }
  if (!Number.isSafeInteger(metric.step)) {
    throw invalidParameter(`Invalid step ${metric.step} for metric "${metric.key}": an integer is required`);
  }
}

export function validateTags(tags: readonly Tag[], where: string): void {
  if (tags.length > LIMITS.tagsPerBatch) {
    throw invalidParameter(
      `Too many tags for ${where}: ${tags.length}, at most ${LIMITS.tagsPerBatch} allowed`,
    );
  }
  for (const tag of tags) validateTag(tag);
}

export interface NormalizedBatch {
  readonly metrics: readonly Metric[];
  /** Deduplicated by key. */
  readonly params: readonly Param[];
  /** Deduplicated by key: the last value given wins. */
  readonly tags: readonly Tag[];
}

/** Checks a logBatch request against MLflow's limits and rules, before any write. */
export function validateBatch(batch: {
  metrics?: readonly Metric[];
  params?: readonly Param[];
  tags?: readonly Tag[];
}): NormalizedBatch {
  const metrics = batch.metrics ?? [];
  const params = batch.params ?? [];
  const tags = batch.tags ?? [];
  const over = (count: number, limit: number, what: string) => {
    if (count > limit) {
      throw invalidParameter(
        `A batch may hold at most ${limit} ${what}, got ${count}: split it into several logBatch calls`,
      );
    }
  };
  over(metrics.length, LIMITS.metricsPerBatch, 'metrics');
  over(params.length, LIMITS.paramsPerBatch, 'params');
  over(tags.length, LIMITS.tagsPerBatch, 'tags');
  for (const metric of metrics) validateMetric(metric);
  const paramsByKey = new Map<string, Param>();
  for (const param of params) {
    validateParam(param);
    const previous = paramsByKey.get(param.key);
    if (previous && previous.value !== param.value) {
      throw invalidParameter(
        `Param "${param.key}" is given twice in one batch with different values ("${previous.value}", ` +
          `"${param.value}"): params are write-once`,
      );
    }
    paramsByKey.set(param.key, { key: param.key, value: param.value });
  }
  const tagsByKey = new Map<string, Tag>();
  for (const tag of tags) {
    validateTag(tag);
    tagsByKey.set(tag.key, { key: tag.key, value: tag.value });
  }
  return { metrics, params: [...paramsByKey.values()], tags: [...tagsByKey.values()] };
}

/** MLflow's limits of dataset inputs (`mlflow/utils/validation.py`), in characters. */
export const DATASET_LIMITS = {
  perCall: 1_000,
  name: 500,
  digest: 36,
  source: 65_535,
  schema: 65_535,
  profile: 16_777_215,
  tagKey: 255,
  tagValue: 500,
} as const;

function checkText(what: string, value: unknown, limit: number, options: { empty: boolean }): void {
  if (typeof value !== 'string' || (!options.empty && value.length === 0)) {
    throw invalidParameter(
      `Invalid ${what} ${JSON.stringify(value)}: a${options.empty ? '' : ' non-empty'} string is required`,
    );
  }
  if (value.length > limit) {
    throw invalidParameter(`${what} exceeds the maximum length of ${limit} (${value.length} characters)`);
  }
}

/** Checks datasets to log against MLflow's rules and limits, before any write. */
export function validateDatasetInputs(inputs: readonly DatasetInput[]): void {
  if (!Array.isArray(inputs))
    throw invalidParameter('Invalid datasets: a list of dataset inputs is required');
  if (inputs.length > DATASET_LIMITS.perCall) {
    throw invalidParameter(
      `Too many datasets: ${inputs.length}, at most ${DATASET_LIMITS.perCall} per call allowed`,
    );
  }
  for (const input of inputs) {
    const dataset = input?.dataset;
    if (typeof dataset !== 'object' || dataset === null) {
      throw invalidParameter('Invalid dataset input: its dataset is required');
    }
    checkText('Dataset name', dataset.name, DATASET_LIMITS.name, { empty: false });
    checkText('Dataset digest', dataset.digest, DATASET_LIMITS.digest, { empty: false });
    checkText('Dataset source_type', dataset.sourceType, DATASET_LIMITS.source, { empty: false });
    checkText('Dataset source', dataset.source, DATASET_LIMITS.source, { empty: true });
    if (dataset.schema !== null) {
      checkText('Dataset schema', dataset.schema, DATASET_LIMITS.schema, { empty: true });
    }
    if (dataset.profile !== null) {
      checkText('Dataset profile', dataset.profile, DATASET_LIMITS.profile, { empty: true });
    }
    if (!Array.isArray(input.tags)) throw invalidParameter('Invalid dataset input tags: a list is required');
    for (const tag of input.tags) {
      checkText('InputTag key', tag?.key, DATASET_LIMITS.tagKey, { empty: false });
      checkText('InputTag value', tag.value, DATASET_LIMITS.tagValue, { empty: true });
    }
  }
}

/** A non-empty name (experiment, run, model), at most `limit` characters. */
export function validateName(kind: string, name: unknown, limit = 500): asserts name is string {
  if (typeof name !== 'string' || name.trim().length === 0) {
    throw invalidParameter(`Invalid ${kind} name ${JSON.stringify(name)}: a non-empty string is required`);
  }
  if (name.length > limit) {
    throw invalidParameter(`Invalid ${kind} name: ${name.length} characters, at most ${limit} allowed`);
  }
}

export function notFound(message: string): OnsetError {
  return new OnsetError('RESOURCE_DOES_NOT_EXIST', message);
}

export function alreadyExists(message: string): OnsetError {
  return new OnsetError('RESOURCE_ALREADY_EXISTS', message);
}

export function invalidState(message: string): OnsetError {
  return new OnsetError('INVALID_STATE', message);
}

/**
 * A write to a deleted run or experiment: INVALID_PARAMETER_VALUE with MLflow's words, as MLflow's stores
 * answer it (`_check_run_is_active`, `_check_experiment_is_active`).
 */
export function notActive(kind: 'run' | 'experiment', id: string, action: string): OnsetError {
  return invalidParameter(
    `The ${kind} ${id} must be in the 'active' state. Current state is deleted. (Cannot ${action} it: restore it first.)`,
  );
}

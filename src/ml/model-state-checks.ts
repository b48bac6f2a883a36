import { invalidParameter } from '../errors.js';
import type { LossHistory } from './gbdt/loss.js';

/**
 * Checks for saved model states (the `model` part of a model document): each says which field is wrong,
 * what it holds and what is expected. Every estimator's loader uses these.
 */

/** A saved array of finite numbers (integers when `integers`), or an error naming the field. */
export function finiteNumbers(
  where: string,
  key: string,
  value: unknown,
  integers = false,
): readonly number[] {
  if (
    !Array.isArray(value) ||
    value.some((v) => typeof v !== 'number' || !Number.isFinite(v) || (integers && !Number.isInteger(v)))
  ) {
    throw invalidParameter(
      `${where}: "${key}" must be an array of finite ${integers ? 'integers' : 'numbers'}`,
    );
  }
  return value as number[];
}

export function expectRecord(where: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidParameter(`${where} must be a JSON object, got ${describeJson(value)}`);
  }
  return value as Record<string, unknown>;
}

export function expectName(where: string, record: Record<string, unknown>, name: string): void {
  if (record.name !== name) {
    throw invalidParameter(`${where}: name must be "${name}", got ${describeJson(record.name)}`);
  }
}

export function expectVersion(where: string, record: Record<string, unknown>, version: number): void {
  if (record.version !== version) {
    throw invalidParameter(
      `${where}: unsupported version ${describeJson(record.version)}; this build reads version ${version}`,
    );
  }
}

export function expectNumber(where: string, record: Record<string, unknown>, key: string): number {
  const value = record[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalidParameter(`${where}: ${key} must be a finite number, got ${describeJson(value)}`);
  }
  return value;
}

export function expectPositiveInteger(where: string, record: Record<string, unknown>, key: string): number {
  const count = record[key];
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) {
    throw invalidParameter(`${where}: ${key} must be a positive integer, got ${describeJson(count)}`);
  }
  return count;
}

/** A boosted ensemble's `trees`: a non-empty array (each tree is checked by its family). */
export function expectTrees(where: string, record: Record<string, unknown>): readonly unknown[] {
  const trees = record.trees;
  if (!Array.isArray(trees) || trees.length === 0) {
    throw invalidParameter(`${where}: trees must be a non-empty array, got ${describeJson(trees)}`);
  }
  return trees;
}

/** `best_iteration` of a boosted ensemble: null (or absent) unless early stopping kept trees 0..it. */
export function expectBestIteration(
  where: string,
  record: Record<string, unknown>,
  treeCount: number,
): number | null {
  const best = record.best_iteration;
  if (best === null || best === undefined) return null;
  if (typeof best !== 'number' || !Number.isInteger(best) || best < 0 || best >= treeCount) {
    throw invalidParameter(
      `${where}: best_iteration ${describeJson(best)} must be null or a tree index below ${treeCount}`,
    );
  }
  return best;
}

/**
 * A boosted ensemble's `history` of per-round losses, returned as saved (so it is written back the same);
 * an absent history is an empty one.
 */
export function expectLossHistory(where: string, record: Record<string, unknown>): LossHistory {
  if (record.history === undefined) return { train_logloss: [] };
  const history = expectRecord(`${where}: history`, record.history);
  finiteNumbers(`${where}: history`, 'train_logloss', history.train_logloss);
  if (history.valid_logloss !== undefined) {
    finiteNumbers(`${where}: history`, 'valid_logloss', history.valid_logloss);
  }
  return history as unknown as LossHistory;
}

export function expectNumberArray(
  where: string,
  record: Record<string, unknown>,
  key: string,
  length: number,
): Float64Array {
  const value = record[key];
  if (!Array.isArray(value))
    throw invalidParameter(`${where}: ${key} must be an array of numbers, got ${describeJson(value)}`);
  if (value.length !== length) {
    throw invalidParameter(`${where}: ${key} has ${value.length} values; expected ${length} (featureCount)`);
  }
  const out = new Float64Array(length);
  value.forEach((item: unknown, k) => {
    if (typeof item !== 'number' || !Number.isFinite(item)) {
      throw invalidParameter(`${where}: ${key}[${k}] must be a finite number, got ${describeJson(item)}`);
    }
    out[k] = item;
  });
  return out;
}

function describeJson(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object' && value !== null) return 'an object';
  return JSON.stringify(value) ?? String(value);
}

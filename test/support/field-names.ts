/**
 * The field-name convention of Onset's JSON (HTTP answers and the CLI's `--json`): snake_case, as MLflow's
 * API and the prediction API write it. Data keys are not field names and stay as they are: feature names
 * (`FamilyHistoryParkinsons`), parameter names (`C`), metric names, tag keys.
 */
import { FEATURE_NAMES } from '../../src/data/schema.js';
import { ESTIMATORS } from '../../src/ml/estimator-registry.js';

/** `runId` -> `run_id`: a camelCase name as the JSON writes it (for type tests of the answer schemas). */
export type SnakeCase<S extends string> = S extends `${infer Head}${infer Tail}`
  ? `${Head extends Lowercase<Head> ? Head : `_${Lowercase<Head>}`}${SnakeCase<Tail>}`
  : S;

const SNAKE_CASE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

export function isSnakeCase(name: string): boolean {
  return SNAKE_CASE.test(name);
}

/** A run id (32 hex digits) keying a map, as `runs list`'s `child_run_counts` does: data, whatever its first digit. */
const RUN_ID = /^[0-9a-f]{32}$/;

/** Keys that are data, not field names: the features and every model family's parameters. */
export const DATA_KEYS: ReadonlySet<string> = new Set([
  ...FEATURE_NAMES,
  ...Object.values(ESTIMATORS).flatMap((entry) => Object.keys(entry.params)),
]);

/**
 * Where a JSON value (as a command printed it) has a field name that is not snake_case, as paths
 * (`.runs[].info.runId`), each once; keys in `DATA_KEYS` and run ids are allowed.
 */
export function jsonFieldProblems(value: unknown): string[] {
  const problems = new Set<string>();
  const walk = (item: unknown, path: string): void => {
    if (Array.isArray(item)) {
      for (const element of item) walk(element, `${path}[]`);
    } else if (item !== null && typeof item === 'object') {
      for (const [key, field] of Object.entries(item)) {
        if (!isSnakeCase(key) && !DATA_KEYS.has(key) && !RUN_ID.test(key)) problems.add(`${path}.${key}`);
        walk(field, `${path}.${key}`);
      }
    }
  };
  walk(value, '');
  return [...problems];
}

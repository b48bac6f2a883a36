/**
 * A parsed MLflow search filter: a conjunction (MLflow's grammar has AND only) of comparisons. The parser
 * (`filter-parser.ts`) produces it from strings such as
 * `metrics.roc_auc > 0.9 and params.max_depth = '6' and tags."mlflow.runName" LIKE 'gbdt%'`;
 * stores compile it to SQL.
 */

/** What a comparison's left side names. `attribute` covers run/experiment/model columns. */
export type FilterEntity = 'metric' | 'param' | 'tag' | 'attribute' | 'dataset';

export type Comparator =
  | '='
  | '!='
  | '>'
  | '>='
  | '<'
  | '<='
  | 'LIKE'
  | 'ILIKE'
  | 'IN'
  | 'NOT IN'
  | 'IS NULL'
  | 'IS NOT NULL';

export interface Comparison {
  readonly entity: FilterEntity;
  /** Metric/param/tag key, or the attribute name in canonical snake_case (e.g. `start_time`, `run_name`). */
  readonly key: string;
  readonly comparator: Comparator;
  /** A number (metrics, numeric attributes), a string, a list (IN / NOT IN), or null (IS [NOT] NULL). */
  readonly value: number | string | readonly string[] | null;
}

export type Filter = readonly Comparison[];

/** An `order_by` clause: `metrics.roc_auc DESC`, `attributes.start_time`, `params.depth ASC`. */
export interface OrderBy {
  readonly entity: FilterEntity;
  readonly key: string;
  readonly ascending: boolean;
}

/** Which kind of object a filter searches; each allows different entities, attributes and comparators. */
export type SearchTarget = 'runs' | 'experiments' | 'registered_models' | 'model_versions' | 'logged_models';

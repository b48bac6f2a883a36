import { type RawBuilder, sql } from 'kysely';
import { invalidParameter } from '../../errors.js';
import type { SqlDatabase } from '../../store/sql-database.js';

/** What compiling a search needs of the database: its dialect's text matching and ordering. */
type TextDialect = Pick<SqlDatabase, 'like' | 'ilike' | 'orderText'>;

import type { Comparator, Comparison, Filter, OrderBy, SearchTarget } from '../search/filter-ast.js';

/** A column a filter or order_by may name as `attributes.<key>` (or the bare key). */
export interface AttributeSpec {
  readonly column: RawBuilder<unknown>;
  readonly type: 'string' | 'number';
}

/** A key/value side table (tags, params, latest metrics) correlated with the searched row. */
export interface KeyValueSpec {
  readonly table: string;
  /** The join condition between the side table (under `alias`) and the searched row. */
  correlate(alias: string): RawBuilder<boolean>;
}

/**
 * A run's datasets: the condition that one of them (or a use of one, for `context`) satisfies
 * `predicate`, a comparison of the named column (see `filter-parser.ts`'s DATASET_KEYS).
 */
export type DatasetCondition = (
  key: 'name' | 'digest' | 'context',
  alias: string,
  predicate: (column: RawBuilder<unknown>) => RawBuilder<boolean>,
) => RawBuilder<boolean>;

/** What one search target allows: its attributes and side tables. */
export interface SearchSpec {
  readonly target: SearchTarget;
  /** Attribute names (canonical snake_case, plus accepted synonyms) → columns. */
  readonly attributes: Readonly<Record<string, AttributeSpec>>;
  readonly tags?: KeyValueSpec;
  readonly params?: KeyValueSpec;
  /** The latest_metrics table: one row per metric key with `value` and `is_nan`. */
  readonly metrics?: KeyValueSpec;
  readonly datasets?: DatasetCondition;
}

const NUMERIC_OPERATORS: Partial<Record<Comparator, string>> = {
  '=': '=',
  '!=': '<>',
  '>': '>',
  '>=': '>=',
  '<': '<',
  '<=': '<=',
};

const TRUE = sql<boolean>`(1 = 1)`;
const FALSE = sql<boolean>`(1 = 0)`;

function describe(comparison: Comparison): string {
  const prefix = comparison.entity === 'attribute' ? 'attributes' : `${comparison.entity}s`;
  return `${prefix}.${comparison.key} ${comparison.comparator}`;
}

function numberValue(comparison: Comparison): number {
  const { value } = comparison;
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || Number.isNaN(number)) {
    throw invalidParameter(
      `Invalid filter "${describe(comparison)} ${JSON.stringify(value)}": a number is required`,
    );
  }
  return number;
}

function stringValue(comparison: Comparison): string {
  const { value } = comparison;
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string') {
    throw invalidParameter(
      `Invalid filter "${describe(comparison)} ${JSON.stringify(value)}": a string is required`,
    );
  }
  return value;
}

function stringList(comparison: Comparison): readonly string[] {
  const { value } = comparison;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw invalidParameter(
      `Invalid filter "${describe(comparison)} ${JSON.stringify(value)}": a list of strings is required, ` +
        "e.g. ('a', 'b')",
    );
  }
  return value as readonly string[];
}

function unsupported(comparison: Comparison, allowed: readonly string[]): never {
  throw invalidParameter(
    `Invalid filter "${describe(comparison)}": comparator ${comparison.comparator} is not allowed here; ` +
      `allowed: ${allowed.join(', ')}`,
  );
}

const STRING_COMPARATORS = ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN', 'IS NULL', 'IS NOT NULL'];
const NUMBER_COMPARATORS = ['=', '!=', '>', '>=', '<', '<=', 'IS NULL', 'IS NOT NULL'];

/** Compiles one comparison of `expression` (a string or number column) with the comparison's value. */
export function compareColumn(
  database: TextDialect,
  expression: RawBuilder<unknown>,
  type: 'string' | 'number',
  comparison: Comparison,
): RawBuilder<boolean> {
  const { comparator } = comparison;
  if (comparator === 'IS NULL') return sql<boolean>`(${expression} IS NULL)`;
  if (comparator === 'IS NOT NULL') return sql<boolean>`(${expression} IS NOT NULL)`;
  if (type === 'number') {
    const operator = NUMERIC_OPERATORS[comparator];
    if (!operator) unsupported(comparison, NUMBER_COMPARATORS);
    return sql<boolean>`(${expression} ${sql.raw(operator)} ${numberValue(comparison)})`;
  }
  switch (comparator) {
    case '=':
      return sql<boolean>`(${expression} = ${stringValue(comparison)})`;
    case '!=':
      return sql<boolean>`(${expression} <> ${stringValue(comparison)})`;
    case 'LIKE':
      return database.like(expression, stringValue(comparison));
    case 'ILIKE':
      return database.ilike(expression, stringValue(comparison));
    case 'IN': {
      const values = stringList(comparison);
      return values.length === 0 ? FALSE : sql<boolean>`(${expression} IN (${sql.join(values)}))`;
    }
    case 'NOT IN': {
      const values = stringList(comparison);
      return values.length === 0 ? TRUE : sql<boolean>`(${expression} NOT IN (${sql.join(values)}))`;
    }
    default:
      return unsupported(comparison, STRING_COMPARATORS);
  }
}

/** A metric comparison on latest_metrics under `alias`: NaN values only satisfy `!=`. */
function compareMetric(alias: string, comparison: Comparison): RawBuilder<boolean> {
  const operator = NUMERIC_OPERATORS[comparison.comparator];
  if (!operator) unsupported(comparison, NUMBER_COMPARATORS);
  const value = sql.ref(`${alias}.value`);
  const isNan = sql.ref(`${alias}.is_nan`);
  const number = numberValue(comparison);
  if (comparison.comparator === '!=') return sql<boolean>`(${isNan} = 1 OR ${value} <> ${number})`;
  return sql<boolean>`(${isNan} = 0 AND ${value} ${sql.raw(operator)} ${number})`;
}

function sideTable(
  database: TextDialect,
  spec: KeyValueSpec,
  alias: string,
  comparison: Comparison,
  isMetric: boolean,
): RawBuilder<boolean> {
  const from = sql`${sql.raw(spec.table)} ${sql.raw(alias)}`;
  const keyMatches = sql<boolean>`${spec.correlate(alias)} AND ${sql.ref(`${alias}.key`)} = ${comparison.key}`;
  if (comparison.comparator === 'IS NULL') {
    return sql<boolean>`(NOT EXISTS (SELECT 1 FROM ${from} WHERE ${keyMatches}))`;
  }
  if (comparison.comparator === 'IS NOT NULL') {
    return sql<boolean>`(EXISTS (SELECT 1 FROM ${from} WHERE ${keyMatches}))`;
  }
  const predicate = isMetric
    ? compareMetric(alias, comparison)
    : compareColumn(database, sql.ref(`${alias}.value`), 'string', comparison);
  // OFFSET 0 keeps PostgreSQL from turning each EXISTS into a semi-join: a filter of 200 comparisons would
  // otherwise be planned as a 200-way join (seconds of planning); as a correlated subquery, each is one
  // index probe per candidate row. SQLite runs it the same way either way.
  return sql<boolean>`(EXISTS (SELECT 1 FROM ${from} WHERE ${keyMatches} AND ${predicate} LIMIT 1 OFFSET 0))`;
}

function allowedEntities(spec: SearchSpec): string {
  const entities = ['attributes'];
  if (spec.metrics) entities.push('metrics');
  if (spec.params) entities.push('params');
  if (spec.tags) entities.push('tags');
  if (spec.datasets) entities.push('datasets');
  return entities.join(', ');
}

function attribute(spec: SearchSpec, key: string, what: string): AttributeSpec {
  const found = Object.hasOwn(spec.attributes, key) ? spec.attributes[key] : undefined;
  if (!found) {
    throw invalidParameter(
      `Invalid ${what} attribute "${key}" for ${spec.target}: allowed attributes are ` +
        Object.keys(spec.attributes).join(', '),
    );
  }
  return found;
}

function sideSpec(spec: SearchSpec, entity: string, what: string): KeyValueSpec {
  const found =
    entity === 'metric'
      ? spec.metrics
      : entity === 'param'
        ? spec.params
        : entity === 'tag'
          ? spec.tags
          : undefined;
  if (!found) {
    throw invalidParameter(
      `Invalid ${what}: ${spec.target} cannot be searched by ${entity}s; allowed: ${allowedEntities(spec)}`,
    );
  }
  return found;
}

/** Compiles a parsed filter into SQL conditions (to be joined with AND). */
export function compileFilter(
  database: TextDialect,
  spec: SearchSpec,
  filter: Filter,
): RawBuilder<boolean>[] {
  return filter.map((comparison, index) => {
    if (comparison.entity === 'attribute') {
      const column = attribute(spec, comparison.key, 'filter');
      return compareColumn(database, column.column, column.type, comparison);
    }
    if (comparison.entity === 'dataset') {
      if (!spec.datasets) {
        throw invalidParameter(
          `Invalid filter "${describe(comparison)}": ${spec.target} cannot be searched by datasets; allowed: ${allowedEntities(spec)}`,
        );
      }
      return spec.datasets(comparison.key as 'name' | 'digest' | 'context', `f${index}`, (column) =>
        compareColumn(database, column, 'string', comparison),
      );
    }
    const side = sideSpec(spec, comparison.entity, `filter "${describe(comparison)}"`);
    return sideTable(database, side, `f${index}`, comparison, comparison.entity === 'metric');
  });
}

export interface CompiledOrder {
  readonly joins: RawBuilder<unknown>[];
  readonly terms: RawBuilder<unknown>[];
  /** Attribute columns already ordered on (their specs), to skip them among the tie-breakers. */
  readonly attributes: Set<AttributeSpec>;
}

/**
 * Compiles order_by clauses. Missing values sort last whatever the direction (as MLflow); for metrics,
 * NaN sorts after every number and before missing values. Text sorts byte-wise on both dialects.
 */
export function compileOrderBy(
  database: TextDialect,
  spec: SearchSpec,
  orderBy: readonly OrderBy[],
): CompiledOrder {
  const joins: RawBuilder<unknown>[] = [];
  const terms: RawBuilder<unknown>[] = [];
  const attributes = new Set<AttributeSpec>();
  orderBy.forEach((clause, index) => {
    const direction = sql.raw(clause.ascending ? 'ASC' : 'DESC');
    if (clause.entity === 'attribute') {
      const column = attribute(spec, clause.key, 'order_by');
      attributes.add(column);
      const value = column.type === 'string' ? database.orderText(column.column) : column.column;
      terms.push(sql`CASE WHEN ${column.column} IS NULL THEN 1 ELSE 0 END`, sql`${value} ${direction}`);
      return;
    }
    const side = sideSpec(spec, clause.entity, `order_by on ${clause.entity}s.${clause.key}`);
    const alias = `o${index}`;
    joins.push(
      sql`LEFT JOIN ${sql.raw(side.table)} ${sql.raw(alias)} ON ${side.correlate(alias)} AND ${sql.ref(`${alias}.key`)} = ${clause.key}`,
    );
    const value = sql.ref(`${alias}.value`);
    if (clause.entity === 'metric') {
      terms.push(
        sql`CASE WHEN ${sql.ref(`${alias}.is_nan`)} = 1 THEN 1 WHEN ${value} IS NULL THEN 2 ELSE 0 END`,
        sql`${value} ${direction}`,
      );
    } else {
      terms.push(
        sql`CASE WHEN ${value} IS NULL THEN 1 ELSE 0 END`,
        sql`${database.orderText(value)} ${direction}`,
      );
    }
  });
  return { joins, terms, attributes };
}

/** The condition of a list of conditions joined with AND (true when empty). */
export function and(conditions: readonly RawBuilder<boolean>[]): RawBuilder<boolean> {
  return conditions.length === 0 ? TRUE : sql<boolean>`${sql.join(conditions, sql` AND `)}`;
}

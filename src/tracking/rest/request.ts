import { invalidParameter } from '../../errors.js';

/** Reading MLflow request fields, with MLflow's leniency (int64 fields as numbers or numeric strings). */
export type Fields = Readonly<Record<string, unknown>>;

export function fieldsOf(value: unknown): Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Fields) : {};
}

export function requiredString(fields: Fields, name: string): string {
  const value = fields[name];
  if (value === undefined || value === null || value === '') {
    throw invalidParameter(`Missing value for required parameter '${name}'`);
  }
  if (typeof value !== 'string')
    throw invalidParameter(`Parameter '${name}' must be a string, got ${JSON.stringify(value)}`);
  return value;
}

export function optionalString(fields: Fields, name: string): string | undefined {
  const value = fields[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string')
    throw invalidParameter(`Parameter '${name}' must be a string, got ${JSON.stringify(value)}`);
  return value;
}

export function optionalInteger(fields: Fields, name: string): number | undefined {
  const value = fields[name];
  if (value === undefined || value === null || value === '') return undefined;
  const number = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number)) {
    throw invalidParameter(`Parameter '${name}' must be an integer, got ${JSON.stringify(value)}`);
  }
  return number;
}

/** A metric value: a number, or "NaN" / "Infinity" / "-Infinity" as protobuf JSON writes them. */
export function metricValue(fields: Fields, name: string): number {
  const value = fields[name];
  if (typeof value === 'number') return value;
  if (value === 'NaN') return Number.NaN;
  if (value === 'Infinity') return Number.POSITIVE_INFINITY;
  if (value === '-Infinity') return Number.NEGATIVE_INFINITY;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  if (value === undefined || value === null)
    throw invalidParameter(`Missing value for required parameter '${name}'`);
  throw invalidParameter(`Parameter '${name}' must be a number, got ${JSON.stringify(value)}`);
}

export function optionalBoolean(fields: Fields, name: string): boolean | undefined {
  const value = fields[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw invalidParameter(`Parameter '${name}' must be true or false, got ${JSON.stringify(value)}`);
}

/** A list parameter: an array, or (in query strings) one value or a repeated key. */
export function stringList(fields: Fields, name: string): string[] | undefined {
  const value = fields[name];
  if (value === undefined || value === null) return undefined;
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((item) => typeof item === 'string')) {
    throw invalidParameter(`Parameter '${name}' must be a list of strings`);
  }
  return list as string[];
}

export function keyValues(fields: Fields, name: string): { key: string; value: string }[] {
  const value = fields[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalidParameter(`Parameter '${name}' must be a list of {key, value}`);
  return value.map((item, i) => {
    const entry = fieldsOf(item);
    const key = entry.key;
    const text = entry.value;
    if (typeof key !== 'string' || key === '')
      throw invalidParameter(`${name}[${i}] needs a non-empty string 'key'`);
    if (typeof text !== 'string') throw invalidParameter(`${name}[${i}] (${key}) needs a string 'value'`);
    return { key, value: text };
  });
}

/** An id field MLflow clients send as a string or a number (MLflow's server stringifies both). */
export function optionalId(fields: Fields, name: string): string | undefined {
  const value = fields[name];
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return optionalString(fields, name);
}

/** A list of ids, each a string or an integer. */
export function idList(fields: Fields, name: string): string[] | undefined {
  const value = fields[name];
  if (value === undefined || value === null) return undefined;
  const list = Array.isArray(value) ? value : [value];
  return list.map((item, i) => {
    if (typeof item === 'number' && Number.isSafeInteger(item)) return String(item);
    if (typeof item === 'string') return item;
    throw invalidParameter(
      `Parameter '${name}'[${i}] must be an id (string or integer), got ${JSON.stringify(item)}`,
    );
  });
}

import { type Static, Type } from 'typebox';
import { Int64, int64, Required, SafeInteger } from '../../http/fields.js';
import { MODEL_STAGES, type ModelStage } from '../entities.js';

/**
 * The field types of MLflow's requests, with the leniency MLflow's server and clients rely on written into
 * the schemas (so `/docs` shows them), and the readers that turn an accepted value into the one Onset uses.
 * Query strings carry only strings (a list as one value or a repeated key); JSON bodies follow protobuf's
 * JSON mapping (int64 as a number or a string of digits).
 */

/** An optional string field (an empty one is kept: a tag's empty value, say). */
export const OptionalText = Type.Optional(Type.String());

/** An id MLflow clients send as a string or an integer (MLflow's server stringifies both). */
export const Id = Type.Union([Type.String(), SafeInteger], {
  description: 'an id (a string, or an integer)',
});

export const IdList = Type.Union([Type.Array(Id), Id], {
  description: 'a list of ids (strings or integers), or one id',
});

export function ids(value: Static<typeof IdList>): string[] {
  return (Array.isArray(value) ? value : [value]).map(String);
}

/** A list of strings: an array, or in a query string one value or a repeated key. */
export const StringList = Type.Union([Type.Array(Type.String()), Type.String()], {
  description: 'a list of strings (in a query string: one value or a repeated key)',
});

export function strings(value: Static<typeof StringList>): string[] {
  return Array.isArray(value) ? value : [value];
}

/** A metric value: a number, or "NaN" / "Infinity" / "-Infinity" as protobuf's JSON writes them, or a numeric string. */
export const MetricValue = Type.Union(
  [Type.Number(), Type.Enum(['NaN', 'Infinity', '-Infinity']), Type.String({ format: 'double' })],
  { description: 'a number, or "NaN", "Infinity", "-Infinity" or a number written as a string' },
);

export function metricValue(value: Static<typeof MetricValue>): number {
  return Number(value);
}

export const Bool = Type.Union([Type.Boolean(), Type.Enum(['true', 'false'])], {
  description: 'true or false (a boolean, or a string)',
});

export function bool(value: Static<typeof Bool> | undefined): boolean | undefined {
  return value === undefined ? undefined : value === true || value === 'true';
}

/** Tags and params: `[{ key, value }]`. */
export const KeyValues = Type.Array(Type.Object({ key: Required, value: Type.String() }));

/** A model version stage, in any case (MLflow accepts `production`). */
export const Stage = Type.String({
  pattern: `^(?:${MODEL_STAGES.map((stage) => [...stage].map((c) => `[${c.toLowerCase()}${c.toUpperCase()}]`).join('')).join('|')})$`,
  description: `a stage: ${MODEL_STAGES.join(', ')} (in any case)`,
});

export function stage(value: string): ModelStage {
  // The schema admits only the stages, in any case.
  return MODEL_STAGES.find((known) => known.toLowerCase() === value.toLowerCase())!;
}

/** Paging of a search: `max_results` and the `page_token` of the previous page (empty: the first). */
export const Paging = {
  max_results: Type.Optional(Int64),
  page_token: Type.Optional(Type.String()),
};

export function paging(input: {
  readonly max_results?: Static<typeof Int64>;
  readonly page_token?: string;
}): { maxResults?: number; pageToken?: string } {
  const maxResults = int64(input.max_results);
  return {
    ...(maxResults === undefined ? {} : { maxResults }),
    ...(input.page_token ? { pageToken: input.page_token } : {}),
  };
}

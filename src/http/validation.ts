import { Ajv, type ErrorObject } from 'ajv';
import type { FastifySchemaCompiler, FastifyServerOptions } from 'fastify';
import { type FieldProblem, InvalidRequestError, type ProblemReason } from './error-answer.js';

/**
 * Validation of every route's body, query and params against its TypeBox schema, and the 400 answer of a
 * request that fails it. Strict: no type coercion, no defaults filled in, no fields removed; every
 * problem is reported at once. Leniencies an API allows (MLflow's int64 as a string of digits, say) are
 * written into its schemas, so `/docs` shows them.
 */

/**
 * String formats the schemas use: `int64` and `double` are numbers written in a string (as protobuf's JSON
 * mapping writes them: an int64 is a safe integer); `binary` marks a body of raw bytes (nothing to check).
 */
const FORMATS = {
  int64: {
    type: 'string',
    validate: (text: string) => /^-?\d+$/.test(text) && Number.isSafeInteger(Number(text)),
  },
  double: { type: 'string', validate: (text: string) => text.trim() !== '' && Number.isFinite(Number(text)) },
  binary: true,
} as const;

/** A schema validator with Onset's settings (`verbose` keeps each failure's value and schema for the answer). */
export function createAjv(): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    coerceTypes: false,
    useDefaults: false,
    removeAdditional: false,
    strict: false,
    verbose: true,
  });
  for (const [name, format] of Object.entries(FORMATS)) ajv.addFormat(name, format);
  return ajv;
}

/** Fastify's validator compiler for one app: every route's schemas compiled once, by one validator. */
export function createValidatorCompiler(): FastifySchemaCompiler<object> {
  const ajv = createAjv();
  return ({ schema }) => ajv.compile(schema);
}

/** Words a problem in an API's own terms (e.g. a feature's range and unit), or leaves it to the default. */
export type Wording = (
  error: ErrorObject,
  path: readonly string[],
) => { readonly message: string; readonly reason: ProblemReason } | undefined;

interface SchemaNode {
  readonly type?: string | readonly string[];
  readonly format?: string;
  readonly pattern?: string;
  readonly description?: string;
  readonly const?: unknown;
  readonly enum?: readonly unknown[];
  readonly anyOf?: readonly SchemaNode[];
  readonly oneOf?: readonly SchemaNode[];
  readonly items?: SchemaNode;
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  null: 'null',
};
const PLURAL_WORDS: Readonly<Record<string, string>> = {
  string: 'strings',
  number: 'numbers',
  integer: 'integers',
  object: 'objects',
};
const FORMAT_WORDS: Readonly<Record<string, string>> = {
  int64: 'an integer written as a string',
  double: 'a number written as a string',
};

const valueText = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

/** What a schema allows, in words: its description when it has one, else built from its keywords. */
function allowed(schema: SchemaNode): string {
  if (schema.description !== undefined && (schema.anyOf ?? schema.oneOf ?? schema.pattern) !== undefined)
    return schema.description;
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return union.map(allowed).join(' or ');
  if ('const' in schema) return schema.const === '' ? 'an empty string' : JSON.stringify(schema.const);
  if (schema.enum) return `one of ${schema.enum.map(valueText).join(', ')}`;
  if (Array.isArray(schema.type)) return schema.type.map((type) => allowed({ type })).join(' or ');
  const type = String(schema.type);
  if (type === 'string' && schema.format !== undefined && FORMAT_WORDS[schema.format])
    return FORMAT_WORDS[schema.format]!;
  if (type === 'string' && schema.pattern !== undefined) return `a string matching ${schema.pattern}`;
  if (type === 'array' && schema.items) return `a list of ${plural(schema.items)}`;
  return TYPE_WORDS[type] ?? `of type ${type}`;
}

function plural(schema: SchemaNode): string {
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return union.map(plural).join(' or ');
  return PLURAL_WORDS[String(schema.type)] ?? 'values';
}

/** The default words of a problem. */
function defaultWording(error: ErrorObject): { message: string; reason: ProblemReason } {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { message: 'is required', reason: 'missing' };
    case 'minLength':
      // An empty string where a value is required is a missing value (MLflow's rule too).
      return error.data === '' && params.limit === 1
        ? { message: 'is required', reason: 'missing' }
        : { message: `must have at least ${String(params.limit)} characters`, reason: 'too_short' };
    case 'maxLength':
      return { message: `must have at most ${String(params.limit)} characters`, reason: 'too_long' };
    case 'minItems':
      return { message: `must have at least ${String(params.limit)} item(s)`, reason: 'too_few' };
    case 'maxItems':
      return { message: `must have at most ${String(params.limit)} item(s)`, reason: 'too_many' };
    case 'minProperties':
      return { message: `must have at least ${String(params.limit)} field(s)`, reason: 'too_few' };
    case 'maxProperties':
      return { message: `must have at most ${String(params.limit)} field(s)`, reason: 'too_many' };
    case 'additionalProperties':
      return { message: 'is not an allowed field', reason: 'unknown_field' };
    case 'type':
      return {
        message: `must be ${allowed({ type: String(params.type).split(',') })}`,
        reason: 'wrong_type',
      };
    case 'anyOf':
    case 'oneOf':
      return { message: `must be ${allowed(error.parentSchema as SchemaNode)}`, reason: 'wrong_type' };
    case 'enum':
    case 'const':
      return { message: `must be ${allowed(error.parentSchema as SchemaNode)}`, reason: 'not_allowed' };
    case 'pattern':
    case 'format':
      return { message: `must be ${allowed(error.parentSchema as SchemaNode)}`, reason: 'wrong_format' };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return {
        message: `must be ${String(params.comparison)} ${String(params.limit)}`,
        reason: 'out_of_range',
      };
    default:
      return { message: error.message ?? 'is invalid', reason: 'invalid' };
  }
}

interface Found {
  readonly problem: FieldProblem;
  /** The value that failed, for the messages that quote it (absent for a missing or unknown field). */
  readonly value?: unknown;
}

/**
 * A failed union (anyOf) reports its own error and every branch's. When one branch alone has the value's
 * type (an object where the union is "an object or null"), that branch's errors say what is wrong;
 * otherwise the union's error says it once ("must be a number or ...").
 */
function unionNoise(errors: readonly ErrorObject[]): Set<ErrorObject> {
  const noise = new Set<ErrorObject>();
  for (const union of errors) {
    if (union.keyword !== 'anyOf' && union.keyword !== 'oneOf') continue;
    const prefix = `${union.schemaPath}/`;
    const branches = new Map<string, ErrorObject[]>();
    for (const error of errors) {
      if (!error.schemaPath.startsWith(prefix)) continue;
      const branch = error.schemaPath.slice(prefix.length).split('/')[0]!;
      branches.set(branch, [...(branches.get(branch) ?? []), error]);
    }
    const fitting = [...branches.values()].filter(
      (branchErrors) =>
        !branchErrors.some((error) => error.keyword === 'type' && error.instancePath === union.instancePath),
    );
    const kept = fitting.length === 1 ? fitting[0]! : [union];
    for (const error of [union, ...[...branches.values()].flat()])
      if (!kept.includes(error)) noise.add(error);
  }
  return noise;
}

function find(errors: readonly ErrorObject[], wording: Wording | undefined, part: string): Found[] {
  const noise = unionNoise(errors);
  const found: Found[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    if (noise.has(error)) continue;
    const path = error.instancePath
      .split('/')
      .filter(Boolean)
      .map((step) => step.replaceAll('~1', '/').replaceAll('~0', '~'));
    const params = error.params as Record<string, unknown>;
    const named =
      error.keyword === 'required'
        ? String(params.missingProperty)
        : error.keyword === 'additionalProperties'
          ? String(params.additionalProperty)
          : undefined;
    const { message, reason } = wording?.(error, path) ?? defaultWording(error);
    const field = [...path, ...(named === undefined ? [] : [named])].join('.') || `(${part})`;
    const key = `${field}|${reason}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const quoted = named === undefined && reason !== 'missing';
    found.push({ problem: { field, message, reason }, ...(quoted ? { value: error.data } : {}) });
  }
  return found;
}

/**
 * Turns a validator's errors into one `{ field, message, reason }` per problem: the field as a dotted path
 * (`data.Age`, `tags.0.key`), what is wrong in words, and a reason from `PROBLEM_REASONS` (missing,
 * unknown_field, wrong_type, out_of_range, not_allowed, wrong_format, ...).
 */
export function fieldProblems(
  errors: readonly ErrorObject[],
  wording?: Wording,
  part = 'body',
): FieldProblem[] {
  return find(errors, wording, part).map((found) => found.problem);
}

/** Fastify's schema error formatter: the errors of the failed part (`body`, `querystring`, ...) to an error. */
export type SchemaErrorFormatter = NonNullable<FastifyServerOptions['schemaErrorFormatter']>;

/** How an API words its 400 answer. */
export interface InvalidRequestStyle {
  /**
   * What failed, named in the message: "Invalid prediction record: 2 problem(s); data.Age must be a
   * number; ...". Without it the message is MLflow's, one sentence per problem: "Missing value for
   * required parameter 'name'.", "Invalid value ten for parameter 'max_results' supplied: it must be ....".
   */
  readonly subject?: string;
  readonly wording?: Wording;
}

/** A value as MLflow's messages print it (Python's `str`): a string bare, anything else as JSON. */
const bare = (value: unknown) => {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

/** MLflow's words (its handlers' schema checks), which MLflow's clients and tests look for. */
function mlflowSentence(found: Found): string {
  const { field, message, reason } = found.problem;
  if (reason === 'missing') return `Missing value for required parameter '${field}'.`;
  if (!('value' in found)) return `Parameter '${field}' ${message}.`;
  return `Invalid value ${bare(found.value)} for parameter '${field}' supplied: it ${message}.`;
}

/**
 * The message of a 400 that names what failed: "Invalid prediction record: 2 problem(s); data.Age must be
 * a number; ..." (the first three problems).
 */
export function describeProblems(subject: string, problems: readonly FieldProblem[]): string {
  const shown = problems.slice(0, 3).map((p) => `${p.field} ${p.message}`);
  return `Invalid ${subject}: ${problems.length} problem(s); ${shown.join('; ')}${problems.length > 3 ? '; ...' : ''}`;
}

/**
 * The schema error formatter of a route (or of the app): a request that fails its schema becomes an
 * `InvalidRequestError`, which the app's error handler answers with 400 `{ error_code:
 * INVALID_PARAMETER_VALUE, message, errors: [{ field, message, reason }] }`.
 */
export function invalidRequest(style: InvalidRequestStyle = {}): SchemaErrorFormatter {
  return (errors, part) => {
    // Onset's validator compiler makes Ajv's errors (with their values and schemas: `verbose`).
    const found = find(errors as readonly ErrorObject[], style.wording, part);
    const problems = found.map((f) => f.problem);
    const message =
      style.subject === undefined
        ? found.map(mlflowSentence).join(' ')
        : describeProblems(style.subject, problems);
    return new InvalidRequestError(message, problems);
  };
}

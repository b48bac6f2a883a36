import type { FastifyInstance, preValidationHookHandler } from 'fastify';
import type { TSchema } from 'typebox';
import { InvalidRequestError } from '../../http/error-answer.js';
import { answers } from '../../http/route.js';

/** Where MLflow's REST API lives. */
export const MLFLOW_API = '/api/2.0/mlflow';
/**
 * Where MLflow's server answers its own UI; a few endpoints live only there (e.g. `get-history-bulk`), and
 * MLflow's REST tests call them there. Onset serves those at both prefixes.
 */
export const MLFLOW_AJAX_API = '/ajax-api/2.0/mlflow';

/** The `/docs` sections of MLflow's API. */
export type MlflowTag = 'tracking' | 'registry' | 'artifacts';

/**
 * The options of an MLflow GET endpoint: its input is the query string. Every MLflow endpoint, read or
 * write, needs the admin token when one is configured (see `Access`).
 */
export function mlflowRead<I extends TSchema, O extends TSchema>(
  tag: MlflowTag,
  summary: string,
  input: I,
  answer: O,
) {
  return {
    config: { access: 'admin' as const },
    schema: { tags: [tag], summary, querystring: input, response: answers(answer) },
  };
}

/**
 * The options of an MLflow POST, PATCH or DELETE endpoint: its input is the JSON body, with fields missing
 * from it read from the query string (see `mlflowInput`).
 */
export function mlflowWrite<I extends TSchema, O extends TSchema>(
  tag: MlflowTag,
  summary: string,
  input: I,
  answer: O,
) {
  return {
    config: { access: 'admin' as const },
    schema: {
      tags: [tag],
      summary,
      description: 'Fields may also be given in the query string; the body wins.',
      body: input,
      response: answers(answer),
    },
  };
}

/** MLflow's empty answer (`{}`), once `work` is done: what an endpoint that only changes something answers. */
export async function done(work: Promise<unknown>): Promise<Record<string, never>> {
  await work;
  return {};
}

type Fields = Record<string, unknown>;

function fieldsOf(value: unknown): Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...value } : {};
}

/** Drops null fields, at every depth: protobuf's JSON parser reads a null as an absent field. */
function withoutNulls(value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) withoutNulls(item);
  } else if (typeof value === 'object' && value !== null) {
    const fields = value as Fields;
    for (const key of Object.keys(fields)) {
      if (fields[key] === null) delete fields[key];
      else withoutNulls(fields[key]);
    }
  }
}

/**
 * MLflow's request rules, applied to every route declared in `scope` before its schema is checked: a GET
 * reads the query string; other methods read the JSON body (an object, or nothing), with the query string
 * as fallback; a null field is an absent one; and where the input declares `run_uuid` (MLflow's older name of `run_id`), it
 * stands for a missing `run_id`.
 */
export function mlflowInput(scope: FastifyInstance): void {
  scope.addHook('onRoute', (route) => {
    const schema = route.schema as { body?: TSchema; querystring?: TSchema } | undefined;
    const fromBody = schema?.body !== undefined;
    const input = (fromBody ? schema?.body : schema?.querystring) as { properties?: Fields } | undefined;
    const runUuid = input?.properties?.run_uuid !== undefined;
    const read: preValidationHookHandler = (request, _reply, done) => {
      const { body } = request;
      if (
        fromBody &&
        body !== undefined &&
        body !== null &&
        (typeof body !== 'object' || Array.isArray(body))
      ) {
        // A JSON array, string or number is no request message: never read it as an empty one.
        return done(
          new InvalidRequestError(
            `The request body must be a JSON object, got ${Array.isArray(body) ? 'an array' : `a ${typeof body}`}`,
            [{ field: '(body)', message: 'must be a JSON object', reason: 'wrong_type' }],
          ),
        );
      }
      const fields = fromBody
        ? { ...fieldsOf(request.query), ...fieldsOf(request.body) }
        : fieldsOf(request.query);
      withoutNulls(fields);
      if (runUuid && fields.run_id === undefined && fields.run_uuid !== undefined)
        fields.run_id = fields.run_uuid;
      if (fromBody) request.body = fields;
      else request.query = fields;
      done();
    };
    const existing = route.preValidation;
    route.preValidation =
      existing === undefined ? [read] : [...(Array.isArray(existing) ? existing : [existing]), read];
  });
}

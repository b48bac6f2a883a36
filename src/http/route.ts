import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import { type TSchema, Type } from 'typebox';
import { ERROR_ANSWER_ID, type ErrorAnswer } from './error-answer.js';

/**
 * How every Onset route is declared: with Fastify's own route options, on an app typed by TypeBox.
 *
 * ```ts
 * app.post('/api/onset/schedules', {
 *   config: { access: 'admin' },
 *   schema: { tags: ['pipelines'], summary: '...', body: NewSchedule, response: answers(ScheduleAnswer, 201) },
 * }, async (request, reply) => ...);   // request.body is Static<typeof NewSchedule>
 * ```
 *
 * - `config.access`: who may call it (see `Access`); `enforceAccess` checks it and refuses a route without one.
 * - `schema.tags`: the API it belongs to in `/docs` (tracking, registry, artifacts, pipelines, predictions,
 *   operations); `summary` says what it does.
 * - `schema.body` / `querystring` / `params`: a TypeBox schema for each part the handler reads (an undeclared
 *   part is `unknown` to the handler), validated before the handler runs; a failure answers 400 with every
 *   problem (see `validation.ts`). A POST, PUT or PATCH without a body says so with `...BODILESS`.
 * - `schema.response`: `answers(...)`: the success answer, and Onset's error answer for 4xx and 5xx. The
 *   handler's return value is type-checked against it.
 */
export type TypedApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** A route module: a Fastify plugin whose routes are typed by their TypeBox schemas. */
export type RoutePlugin<Options extends object> = FastifyPluginAsyncTypebox<Options>;

/** A non-JSON answer or body, e.g. `media('text/plain', Type.String())`. */
export function media<S extends TSchema>(type: string, schema: S) {
  return { content: { [type]: { schema } } };
}

type Answer = TSchema | ReturnType<typeof media>;

/**
 * The error answer, by reference to the shared schema `ERROR_ANSWER_ID` (the app adds it with
 * `app.addSchema(ERROR_ANSWER_SCHEMA)`): `/docs` lists it once instead of in every operation.
 */
const ErrorAnswerRef = Type.Unsafe<ErrorAnswer>({ $ref: `${ERROR_ANSWER_ID}#` });
type ErrorAnswers = { readonly '4xx': typeof ErrorAnswerRef; readonly '5xx': typeof ErrorAnswerRef };

/** A route's answers: `ok` with status 200 (or `status`), and Onset's error answer for 4xx and 5xx. */
export function answers<S extends Answer>(ok: S): { readonly 200: S } & ErrorAnswers;
export function answers<S extends Answer, C extends 201 | 202>(
  ok: S,
  status: C,
): { readonly [K in C]: S } & ErrorAnswers;
export function answers(ok: Answer, status = 200) {
  return { [status]: ok, '4xx': ErrorAnswerRef, '5xx': ErrorAnswerRef };
}

/** The `{}` answer of a route that only acknowledges (MLflow's empty response messages). */
export const Empty = Type.Object({}, { description: 'Done (an empty object)' });

/** Spread into the `schema` of a POST, PUT or PATCH that takes no body: says so in `/docs`. */
export const BODILESS = { 'x-bodiless': true } as const;

import { type Static, Type } from 'typebox';
import { OnsetError } from '../errors.js';

/** One problem of a request that failed its schema. */
export const FieldProblem = Type.Object({
  field: Type.String({ description: 'where, as a dotted path: `name`, `data.Age`, `tags.0.key`' }),
  message: Type.String(),
  reason: Type.String({
    description: 'missing, unknown_field, wrong_type, out_of_range, not_allowed, unknown_code, ...',
  }),
});
export type FieldProblem = Static<typeof FieldProblem>;

/**
 * Every error Onset answers: MLflow's `{ error_code, message }`, with `errors` (one per problem) when the
 * request failed its schema.
 */
export const ErrorAnswer = Type.Object(
  {
    error_code: Type.String({ description: "MLflow's error code, e.g. INVALID_PARAMETER_VALUE" }),
    message: Type.String(),
    errors: Type.Optional(Type.Array(FieldProblem)),
  },
  { description: 'An error' },
);
export type ErrorAnswer = Static<typeof ErrorAnswer>;

/** The id of the error answer among the app's shared schemas (routes refer to it; `/docs` shows it once). */
export const ERROR_ANSWER_ID = 'ErrorAnswer';

/** The error answer as a shared schema, for `app.addSchema`. */
export const ERROR_ANSWER_SCHEMA = { $id: ERROR_ANSWER_ID, ...ErrorAnswer };

/** A request that failed its route's schema: INVALID_PARAMETER_VALUE with every problem found. */
export class InvalidRequestError extends OnsetError {
  readonly problems: readonly FieldProblem[];

  constructor(message: string, problems: readonly FieldProblem[]) {
    super('INVALID_PARAMETER_VALUE', message, { details: { errors: problems } });
    this.name = 'InvalidRequestError';
    this.problems = problems;
  }
}

/** The answer body of an error. */
export function errorAnswer(error: OnsetError): ErrorAnswer {
  return error instanceof InvalidRequestError
    ? { error_code: error.code, message: error.message, errors: [...error.problems] }
    : { error_code: error.code, message: error.message };
}

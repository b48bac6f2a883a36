import { type Static, Type } from 'typebox';
import { OnsetError } from '../errors.js';

/**
 * Why a field of a request was refused: every reason an answer's `errors` can give, with what it means.
 * docs/http-api.md lists the same (a test compares them), so a client can rely on the list.
 */
export const PROBLEM_REASONS = {
  missing: 'a required field is absent (or an empty string)',
  unknown_field: 'a field the route does not take',
  wrong_type: 'a value of the wrong type (a string where a number is needed, ...)',
  out_of_range: 'a number outside what is allowed (for a feature: what is possible, not the training range)',
  unknown_code: 'a code a binary or categorical feature does not have',
  not_allowed: 'a value outside an enumeration',
  wrong_format: 'a string that is not the number, id or pattern it must hold',
  too_short: 'a string or list shorter than allowed',
  too_long: 'a string or list longer than allowed',
  too_few: 'fewer items than allowed (an empty batch)',
  too_many: 'more items than allowed (a batch over its limit)',
  features_outside_data: 'a prediction record whose features are not inside `data`',
  target_not_sent: '`Diagnosis`, the target, sent with a prediction record',
  confidential_field:
    '`DoctorInCharge` (confidential) sent with a prediction record; its value is never repeated',
  conflicting_patient_id: '`PatientID` and `patient_id` both given, and different',
  unknown_id:
    'an id that names nothing stored (a feedback for a prediction_id or patient_id not in the prediction log)',
  conflicting_value:
    'a value that contradicts one already recorded (a feedback diagnosis other than the one recorded for that prediction)',
  invalid: 'any other rule of the schema',
} as const;

export type ProblemReason = keyof typeof PROBLEM_REASONS;

/** One problem of a request that failed its schema. */
export const FieldProblem = Type.Object({
  field: Type.String({ description: 'where, as a dotted path: `name`, `data.Age`, `tags.0.key`' }),
  message: Type.String(),
  reason: Type.Unsafe<ProblemReason>({
    type: 'string',
    enum: Object.keys(PROBLEM_REASONS),
    description: 'why, one of a fixed list (see docs/http-api.md)',
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

/** The longest message an error answer carries, in characters. */
const MAX_MESSAGE = 2000;
/** A run of non-blank characters longer than this (an echoed value, mostly) is cut in an answer. */
const MAX_ECHO = 200;
const LONG_RUN = new RegExp(`\\S{${MAX_ECHO + 1},}`, 'g');

/**
 * A message as an answer may echo it: a long value the client sent (a 1 MB name, a key of a hostile
 * body) keeps its first characters and says how long it was, and the whole message is bounded, so an
 * error never sends back what it refused.
 */
export function clipEchoes(text: string): string {
  const clipped = text.replace(LONG_RUN, (run) => `${run.slice(0, MAX_ECHO / 2)}…(${run.length} characters)`);
  return clipped.length > MAX_MESSAGE ? `${clipped.slice(0, MAX_MESSAGE)}…` : clipped;
}

/**
 * Replaces the server's own paths (its home, its installation) in a text by names (`$ONSET_HOME`), so
 * an answer does not tell a client where the server keeps its files; longest paths first.
 */
export function pathHider(paths: Readonly<Record<string, string>>): (text: string) => string {
  const pairs = Object.entries(paths)
    .filter(([path]) => path.length > 1)
    .sort(([a], [b]) => b.length - a.length);
  return (text) => pairs.reduce((hidden, [path, name]) => hidden.split(path).join(name), text);
}

/** The answer body of an error; `hide` rewrites what it says (see `pathHider`). */
export function errorAnswer(error: OnsetError, hide: (text: string) => string = (text) => text): ErrorAnswer {
  const message = clipEchoes(hide(error.message));
  if (!(error instanceof InvalidRequestError)) return { error_code: error.code, message };
  const errors = error.problems.slice(0, 100).map((problem) => ({
    field: clipEchoes(problem.field),
    message: clipEchoes(hide(problem.message)),
    reason: problem.reason,
  }));
  return { error_code: error.code, message, errors };
}

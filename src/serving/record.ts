import { type Static, type TUnsafe, Type } from 'typebox';
import {
  CONFIDENTIAL_COLUMNS,
  checkFeatureValue,
  describeCodes,
  FEATURE_NAMES,
  FEATURES,
  type Feature,
  type FeatureName,
  type FeatureValueProblem,
  ID_COLUMN,
  MAX_PATIENT_ID_LENGTH,
  NUMBER_PATTERN,
  outsideTraining,
  parseNumber,
  type Range,
  SCHEMA_TRAINING_RANGES,
  TARGET_COLUMN,
  type TrainingRanges,
} from '../data/schema.js';
import type { FieldProblem, ProblemReason } from '../http/error-answer.js';

/**
 * A prediction record: the original service's shape, `{ "data": { <the 32 features> }, "patient_id": "..." }`,
 * and `checkRecord`, the one function that reads and judges it wherever a record comes from (the HTTP
 * routes, one by one or in a batch; the stream path; the UI's form).
 */

export { MAX_PATIENT_ID_LENGTH };

function featureSchema(feature: Feature): TUnsafe<number | string> {
  if (feature.kind === 'continuous') {
    const { limits, training } = feature;
    return Type.Unsafe<number | string>({
      anyOf: [
        { type: 'number', minimum: limits.min, maximum: limits.max },
        { type: 'string', pattern: NUMBER_PATTERN.source },
      ],
      description: `${feature.description} (${feature.unit}), a number or a numeric string: possible from ${limits.min} to ${limits.max}; the training data covers ${training.min} to ${training.max}, and a value beyond it is scored and named in out_of_distribution`,
    });
  }
  const codes = feature.codes.map((entry) => entry.code);
  return Type.Unsafe<number | string>({
    enum: [...codes, ...codes.map(String)],
    description: `${feature.description}: ${describeCodes(feature.codes)} (a number or a numeric string)`,
  });
}

/** Schema of the `data` object, derived from the feature schema (one property per feature, all required). */
export const FEATURES_SCHEMA = Type.Object(
  Object.fromEntries(FEATURES.map((feature) => [feature.name, featureSchema(feature)])),
  {
    additionalProperties: false,
    description: `The 32 features. A data file's ${ID_COLUMN} may be sent here too: it becomes the patient_id. ${TARGET_COLUMN} (the target) and ${CONFIDENTIAL_COLUMNS.join(', ')} (confidential) are refused.`,
  },
);

/**
 * The schema of one prediction record, for `/docs`: what `checkRecord` accepts. Every feature is
 * required, as a number or a numeric string (`"71"`, `"1"`), within what is possible.
 */
export const RECORD_SCHEMA = Type.Object(
  {
    data: FEATURES_SCHEMA,
    patient_id: Type.Optional(
      Type.String({ maxLength: MAX_PATIENT_ID_LENGTH, description: 'echoed back in the answer' }),
    ),
  },
  { $id: 'onset-prediction-record', additionalProperties: false },
);

export type PredictionRecord = Static<typeof RECORD_SCHEMA>;

/** A possible value outside the range the model was trained on: scored, and named in the answer. */
export interface OutOfDistribution {
  readonly feature: FeatureName;
  readonly value: number;
  readonly training_range: Range;
}

/** A record that can be scored. */
export interface CheckedRecord {
  /** The features in schema order. */
  readonly features: Float64Array;
  /** `patient_id`, or the data file's `PatientID`; null when neither was sent. */
  readonly patientId: string | null;
  /** The features whose values lie outside the training ranges, in schema order (usually none). */
  readonly outOfDistribution: OutOfDistribution[];
}

/** What `checkRecord` found: a record to score, or every problem that keeps it from being scored. */
export type RecordCheck =
  | { readonly ok: true; readonly record: CheckedRecord }
  | { readonly ok: false; readonly problems: readonly FieldProblem[] };

const FEATURE_INDEX: ReadonlyMap<string, number> = new Map(FEATURE_NAMES.map((name, j) => [name, j]));
/** Every column name of a data file, by its lower case: "age" is answered "did you mean Age?". */
const COLUMNS_BY_LOWER_CASE: ReadonlyMap<string, string> = new Map(
  [...FEATURE_NAMES, ID_COLUMN, TARGET_COLUMN, ...CONFIDENTIAL_COLUMNS].map((name) => [
    name.toLowerCase(),
    name,
  ]),
);
const CONFIDENTIAL: ReadonlySet<string> = new Set(CONFIDENTIAL_COLUMNS);

const HOW_TO_SEND = '{"data": {"Age": 71, "Gender": 0, ...the 32 features}, "patient_id": "P-1"}';

const REASON_OF_RULE: Readonly<Record<FeatureValueProblem['rule'], ProblemReason>> = {
  // 1e999 is a number JSON turns into infinity: beyond any limit.
  not_finite: 'out_of_range',
  out_of_range: 'out_of_range',
  not_binary: 'unknown_code',
  unknown_code: 'unknown_code',
};

function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value as a message quotes it: short, and as JSON (so `"71"` and `71` differ). */
function quote(value: unknown): string {
  const text = typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/**
 * Reads and judges one prediction record, whatever sent it: the one validation of records (the HTTP
 * routes, single and batch, the stream path and the UI use it).
 *
 * - Every feature is required, as a number or a numeric string (`71`, `"71"`, `"1"` for a code).
 * - What is impossible is a problem: a value outside the feature's limits (a negative age, a MoCA above
 *   30), a code the feature does not have, text that is not a number.
 * - What is possible but outside the range the model was trained on (`ranges`: the served model's, or
 *   the schema's) is scored and listed in `outOfDistribution`.
 * - A data file's row is recognized: its `PatientID` becomes the patient id; its `Diagnosis` (the target)
 *   and `DoctorInCharge` (confidential, whose value no message repeats) are refused with words that say
 *   why; features sent without the `data` wrapper get one problem that shows the shape to send.
 *
 * Every problem is found at once. `out` receives the features (a batch passes its rows' slices).
 */
export function checkRecord(
  input: unknown,
  ranges: TrainingRanges = SCHEMA_TRAINING_RANGES,
  out: Float64Array = new Float64Array(FEATURE_NAMES.length),
): RecordCheck {
  if (!isObject(input)) {
    return failed([
      { field: '(record)', message: `must be an object: ${HOW_TO_SEND}`, reason: 'wrong_type' },
    ]);
  }
  const data = input.data;
  if (data === undefined && Object.keys(input).some((key) => FEATURE_INDEX.has(key))) {
    return failed(flatRecordProblems(input));
  }
  const problems: FieldProblem[] = [];
  const ids = { given: undefined as string | undefined, fromColumn: undefined as string | undefined };
  for (const key of Object.keys(input)) {
    if (key === 'data') continue;
    if (key === 'patient_id') ids.given = readPatientId(input[key], 'patient_id', problems, false);
    else if (key === ID_COLUMN) ids.fromColumn = readPatientId(input[key], ID_COLUMN, problems, true);
    else if (FEATURE_INDEX.has(key))
      problems.push({ field: key, message: 'is a feature: it goes inside "data"', reason: 'unknown_field' });
    else problems.push(columnProblem(key, key));
  }
  if (data === undefined) {
    problems.push({ field: 'data', message: `is required: send ${HOW_TO_SEND}`, reason: 'missing' });
  } else if (!isObject(data)) {
    problems.push({
      field: 'data',
      message: `must be an object with the 32 features: ${HOW_TO_SEND}`,
      reason: 'wrong_type',
    });
  } else {
    readFeatures(data, out, problems, ids);
  }
  const patientId = ids.given ?? ids.fromColumn ?? null;
  if (ids.given !== undefined && ids.fromColumn !== undefined && ids.given !== ids.fromColumn) {
    problems.push({
      field: ID_COLUMN,
      message: `is ${quote(ids.fromColumn)} but patient_id is ${quote(ids.given)}: send one of them`,
      reason: 'conflicting_patient_id',
    });
  }
  if (problems.length > 0) return failed(problems);
  return { ok: true, record: { features: out, patientId, outOfDistribution: outliers(out, ranges) } };
}

function failed(problems: readonly FieldProblem[]): RecordCheck {
  return { ok: false, problems };
}

/** The 32 features of `data` into `out`, every problem into `problems`; a data file's other columns too. */
function readFeatures(
  data: Readonly<Record<string, unknown>>,
  out: Float64Array,
  problems: FieldProblem[],
  ids: { fromColumn: string | undefined },
): void {
  let found = 0;
  for (const key of Object.keys(data)) {
    const j = FEATURE_INDEX.get(key);
    if (j === undefined) {
      if (key === ID_COLUMN) ids.fromColumn = readPatientId(data[key], `data.${ID_COLUMN}`, problems, true);
      else problems.push(columnProblem(key, `data.${key}`));
      continue;
    }
    found++;
    out[j] = readValue(FEATURES[j]!, data[key], key, problems);
  }
  if (found === FEATURE_NAMES.length) return;
  for (const name of FEATURE_NAMES) {
    if (!Object.hasOwn(data, name))
      problems.push({ field: `data.${name}`, message: 'is required', reason: 'missing' });
  }
}

/** One feature's value: a number or a numeric string, possible for the feature; NaN with a problem if not. */
function readValue(feature: Feature, raw: unknown, name: string, problems: FieldProblem[]): number {
  let value: number | undefined;
  if (typeof raw === 'number') {
    value = raw;
  } else if (typeof raw === 'string') {
    if (raw.trim() === '') {
      problems.push({
        field: `data.${name}`,
        message: 'is empty: every feature is required',
        reason: 'missing',
      });
      return Number.NaN;
    }
    value = parseNumber(raw);
  }
  if (value === undefined) {
    const wanted =
      feature.kind === 'continuous'
        ? 'a number or a numeric string ("71")'
        : `one of the codes ${describeCodes(feature.codes)}, as a number or a numeric string`;
    problems.push({
      field: `data.${name}`,
      message: `must be ${wanted}; got ${quote(raw)}`,
      reason: 'wrong_type',
    });
    return Number.NaN;
  }
  const problem = checkFeatureValue(feature, value);
  if (problem !== undefined) {
    problems.push({
      field: `data.${name}`,
      message: `must be ${problem.requirement}; got ${quote(raw)}`,
      reason: REASON_OF_RULE[problem.rule],
    });
    return Number.NaN;
  }
  return value;
}

/** A patient id: a string (or, from a data file's PatientID, an integer), at most 128 characters. */
function readPatientId(
  raw: unknown,
  field: string,
  problems: FieldProblem[],
  integerAllowed: boolean,
): string | undefined {
  const text = typeof raw === 'number' && integerAllowed && Number.isSafeInteger(raw) ? String(raw) : raw;
  if (typeof text !== 'string') {
    problems.push({
      field,
      message: `must be a string${integerAllowed ? ' or an integer' : ''}`,
      reason: 'wrong_type',
    });
    return undefined;
  }
  if (text.length > MAX_PATIENT_ID_LENGTH) {
    problems.push({
      field,
      message: `must have at most ${MAX_PATIENT_ID_LENGTH} characters`,
      reason: 'too_long',
    });
    return undefined;
  }
  return text;
}

/** A field that is not a feature: the target, a confidential column, a misspelt feature, or unknown. */
function columnProblem(key: string, field: string): FieldProblem {
  if (key === TARGET_COLUMN) {
    return {
      field,
      message: 'is the target, not a feature: it is not sent for prediction (leave it out)',
      reason: 'target_not_sent',
    };
  }
  if (CONFIDENTIAL.has(key)) {
    // Its value is never repeated: not here, not in a log.
    return {
      field,
      message: 'is confidential and is not sent for prediction (leave it out)',
      reason: 'confidential_field',
    };
  }
  const near = COLUMNS_BY_LOWER_CASE.get(key.toLowerCase());
  return {
    field,
    message: `is not a feature of the schema${near ? ` (did you mean ${near}? names are case-sensitive)` : ''}; the features are listed at GET /docs and by onset data schema`,
    reason: 'unknown_field',
  };
}

/**
 * A record whose features are not inside `data` (a data file's row as it is): one problem that shows the
 * shape to send, with the row's own PatientID as its patient_id, and a word on the target and the
 * confidential column when the row has them.
 */
function flatRecordProblems(input: Readonly<Record<string, unknown>>): FieldProblem[] {
  const id = input[ID_COLUMN] ?? input.patient_id;
  const idText =
    (typeof id === 'string' || typeof id === 'number') && String(id).length <= 40
      ? JSON.stringify(String(id))
      : '"P-1"';
  const hasIdColumn = ID_COLUMN in input;
  const problems: FieldProblem[] = [
    {
      field: 'data',
      message: `is required: the features go inside "data", not at the top level of the record; send {"data": {"Age": ..., ...the 32 features}, "patient_id": ${idText}}${hasIdColumn ? ` (${ID_COLUMN} becomes patient_id)` : ''}`,
      reason: 'features_outside_data',
    },
  ];
  for (const key of [TARGET_COLUMN, ...CONFIDENTIAL_COLUMNS]) {
    if (key in input) problems.push(columnProblem(key, key));
  }
  return problems;
}

/** The features of a scored record whose values lie outside the training ranges. */
function outliers(features: Float64Array, ranges: TrainingRanges): OutOfDistribution[] {
  const found: OutOfDistribution[] = [];
  for (let j = 0; j < features.length; j++) {
    const range = ranges[j];
    const value = features[j]!;
    if (outsideTraining(range, value))
      found.push({ feature: FEATURE_NAMES[j]!, value, training_range: range! });
  }
  return found;
}

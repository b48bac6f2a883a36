import type { ErrorObject } from 'ajv';
import { describeCodes, FEATURE_NAMES, FEATURES, type Feature } from '../data/schema.js';

/**
 * The prediction record, the original service's shape: `{ "data": { <the 32 features> }, "patient_id": "..." }`.
 * Continuous features are numbers within the schema's range; binary and categorical codes are numbers or
 * numeric strings (`"1"`), as the original examples send them. Every feature is required and no other
 * field is allowed.
 */
export interface PredictionRecord {
  readonly data: Readonly<Record<string, number | string>>;
  readonly patient_id?: string;
}

/** Longest patient id accepted (ids are echoed back, never logged). */
export const MAX_PATIENT_ID_LENGTH = 128;

function featureSchema(feature: Feature): Record<string, unknown> {
  if (feature.kind === 'continuous') {
    return {
      type: 'number',
      minimum: feature.min,
      maximum: feature.max,
      description: `${feature.description} (${feature.unit}, ${feature.min} to ${feature.max})`,
    };
  }
  const codes = feature.codes.map((entry) => entry.code);
  return {
    enum: [...codes, ...codes.map(String)],
    description: `${feature.description}: ${describeCodes(feature.codes)}`,
  };
}

/** JSON Schema of the `data` object, derived from the feature schema (one property per feature). */
export const FEATURES_SCHEMA = {
  type: 'object',
  properties: Object.fromEntries(FEATURES.map((feature) => [feature.name, featureSchema(feature)])),
  required: [...FEATURE_NAMES],
  additionalProperties: false,
} as const;

/** JSON Schema of one prediction record. */
export const RECORD_SCHEMA = {
  $id: 'onset-prediction-record',
  type: 'object',
  properties: {
    data: FEATURES_SCHEMA,
    patient_id: {
      type: 'string',
      maxLength: MAX_PATIENT_ID_LENGTH,
      description: 'echoed back in the answer',
    },
  },
  required: ['data'],
  additionalProperties: false,
} as const;

/** A record's features in schema order (validated records only: codes given as strings become numbers). */
export function recordFeatures(
  record: PredictionRecord,
  out = new Float64Array(FEATURE_NAMES.length),
): Float64Array {
  const data = record.data;
  for (let j = 0; j < FEATURE_NAMES.length; j++) out[j] = Number(data[FEATURE_NAMES[j]!]);
  return out;
}

export interface FieldProblem {
  /** Where, as a dotted path: `data.Age`, `patient_id`, `records.3.data.MoCA`. */
  readonly field: string;
  readonly message: string;
  /** missing, unknown_field, wrong_type, out_of_range, unknown_code, ... */
  readonly reason: string;
}

const BY_NAME: ReadonlyMap<string, Feature> = new Map(FEATURES.map((feature) => [feature.name, feature]));

/** Turns the validator's errors into one `{ field, message, reason }` per problem, in the feature schema's words. */
export function fieldProblems(errors: readonly ErrorObject[], prefix = ''): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const path = error.instancePath.split('/').filter(Boolean);
    let field = path.join('.');
    let message: string;
    let reason: string;
    const params = error.params as Record<string, unknown>;
    switch (error.keyword) {
      case 'required':
        field = [...path, String(params.missingProperty)].join('.');
        message = 'is required';
        reason = 'missing';
        break;
      case 'additionalProperties':
        field = [...path, String(params.additionalProperty)].join('.');
        message =
          path.at(-1) === 'data'
            ? 'is not a feature of the schema (see GET /docs or onset data schema)'
            : 'is not an allowed field';
        reason = 'unknown_field';
        break;
      case 'minimum':
      case 'maximum': {
        const feature = BY_NAME.get(path.at(-1) ?? '');
        message =
          feature?.kind === 'continuous'
            ? `must be between ${feature.min} and ${feature.max} ${feature.unit}`
            : `must be ${error.keyword === 'minimum' ? '>=' : '<='} ${String(params.limit)}`;
        reason = 'out_of_range';
        break;
      }
      case 'enum': {
        const feature = BY_NAME.get(path.at(-1) ?? '');
        message =
          feature && feature.kind !== 'continuous'
            ? `must be one of the codes ${describeCodes(feature.codes)} (a number or a numeric string)`
            : 'is not an allowed value';
        reason = 'unknown_code';
        break;
      }
      case 'type':
        message = `must be ${params.type === 'number' ? 'a number' : `of type ${String(params.type)}`}`;
        reason = 'wrong_type';
        break;
      default:
        message = error.message ?? 'is invalid';
        reason = error.keyword;
    }
    const full = [prefix, field].filter(Boolean).join('.') || '(body)';
    const key = `${full}|${reason}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ field: full, message, reason });
  }
  return problems;
}

import { type Static, type TUnsafe, Type } from 'typebox';
import { describeCodes, FEATURE_NAMES, FEATURES, type Feature } from '../data/schema.js';
import type { Wording } from '../http/validation.js';

/** Longest patient id accepted (ids are echoed back, never logged). */
export const MAX_PATIENT_ID_LENGTH = 128;

function featureSchema(feature: Feature): TUnsafe<number | string> {
  if (feature.kind === 'continuous') {
    return Type.Unsafe<number | string>(
      Type.Number({
        minimum: feature.min,
        maximum: feature.max,
        description: `${feature.description} (${feature.unit}, ${feature.min} to ${feature.max})`,
      }),
    );
  }
  const codes = feature.codes.map((entry) => entry.code);
  return Type.Unsafe<number | string>({
    enum: [...codes, ...codes.map(String)],
    description: `${feature.description}: ${describeCodes(feature.codes)}`,
  });
}

/** Schema of the `data` object, derived from the feature schema (one property per feature, all required). */
export const FEATURES_SCHEMA = Type.Object(
  Object.fromEntries(FEATURES.map((feature) => [feature.name, featureSchema(feature)])),
  { additionalProperties: false },
);

/**
 * Schema of one prediction record, the original service's shape: `{ "data": { <the 32 features> },
 * "patient_id": "..." }`. Continuous features are numbers within the schema's range; binary and categorical
 * codes are numbers or numeric strings (`"1"`), as the original examples send them. Every feature is
 * required and no other field is allowed.
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

/** A record's features in schema order (validated records only: codes given as strings become numbers). */
export function recordFeatures(
  record: PredictionRecord,
  out = new Float64Array(FEATURE_NAMES.length),
): Float64Array {
  const data = record.data;
  for (let j = 0; j < FEATURE_NAMES.length; j++) out[j] = Number(data[FEATURE_NAMES[j]!]);
  return out;
}

const BY_NAME: ReadonlyMap<string, Feature> = new Map(FEATURES.map((feature) => [feature.name, feature]));

/** Words a record's problems in the feature schema's terms: a feature's range and unit, its codes. */
export const featureWording: Wording = (error, path) => {
  const feature = BY_NAME.get(path.at(-1) ?? '');
  switch (error.keyword) {
    case 'additionalProperties':
      return path.at(-1) === 'data'
        ? {
            message: 'is not a feature of the schema (see GET /docs or onset data schema)',
            reason: 'unknown_field',
          }
        : undefined;
    case 'minimum':
    case 'maximum':
      return feature?.kind === 'continuous'
        ? {
            message: `must be between ${feature.min} and ${feature.max} ${feature.unit}`,
            reason: 'out_of_range',
          }
        : undefined;
    case 'enum':
      return {
        message:
          feature && feature.kind !== 'continuous'
            ? `must be one of the codes ${describeCodes(feature.codes)} (a number or a numeric string)`
            : 'is not an allowed value',
        reason: 'unknown_code',
      };
    default:
      return undefined;
  }
};

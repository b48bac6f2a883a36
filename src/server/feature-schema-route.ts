import { Type } from 'typebox';
import {
  FEATURE_GROUP_LABELS,
  FEATURES,
  type Feature,
  type FeatureGroup,
  ID_COLUMN,
  TARGET,
} from '../data/schema.js';
import { answers, type RoutePlugin } from '../http/route.js';

const CodeLabelJson = Type.Object({ code: Type.Integer(), label: Type.String() });
const RangeJson = Type.Object({ min: Type.Number(), max: Type.Number() });

const FeatureJson = Type.Union([
  Type.Object({
    name: Type.String(),
    group: Type.String(),
    description: Type.String(),
    kind: Type.Literal('continuous'),
    unit: Type.String(),
    limits: Type.Object(RangeJson.properties, {
      description: 'what is possible: a value outside is refused (400)',
    }),
    training: Type.Object(RangeJson.properties, {
      description:
        "the documented data set's range: a value outside is scored and named in out_of_distribution (a served model may carry its own, see GET /model)",
    }),
    integer: Type.Boolean({ description: 'whole numbers in the source data (not enforced)' }),
  }),
  Type.Object({
    name: Type.String(),
    group: Type.String(),
    description: Type.String(),
    kind: Type.Union([Type.Literal('binary'), Type.Literal('categorical')]),
    codes: Type.Array(CodeLabelJson, { description: 'the codes the feature takes, with what each means' }),
  }),
]);

const FeatureSchemaJson = Type.Object({
  features: Type.Array(FeatureJson, { description: 'the 32 features, in the order models see them' }),
  groups: Type.Array(Type.Object({ group: Type.String(), label: Type.String() }), {
    description: 'the feature groups, in order, with their names for people',
  }),
  id_column: Type.String({ description: "a data file's patient id column (taken as patient_id)" }),
  target: Type.Object({ name: Type.String(), codes: Type.Array(CodeLabelJson), description: Type.String() }),
});

function featureJson(feature: Feature) {
  const common = { name: feature.name, group: feature.group, description: feature.description };
  if (feature.kind === 'continuous') {
    return {
      ...common,
      kind: feature.kind,
      unit: feature.unit,
      limits: { ...feature.limits },
      training: { ...feature.training },
      integer: feature.integer,
    };
  }
  return { ...common, kind: feature.kind, codes: feature.codes.map((entry) => ({ ...entry })) };
}

/** The answer is the same for the life of the process: built once. */
const ANSWER = {
  features: FEATURES.map(featureJson),
  groups: (Object.entries(FEATURE_GROUP_LABELS) as [FeatureGroup, string][]).map(([group, label]) => ({
    group,
    label,
  })),
  id_column: ID_COLUMN,
  target: {
    name: TARGET.name,
    codes: TARGET.codes.map((entry) => ({ ...entry })),
    description: TARGET.description,
  },
};

/**
 * `GET /schema`: the feature schema (src/data/schema.ts) as data, for clients that build a record, such as
 * the UI's prediction form: each feature's unit, possible and training ranges, and codes with their
 * labels. Public, as `/docs` (which documents the same in words) is: it holds no patient or model data.
 */
export const featureSchemaApi: RoutePlugin<Record<never, never>> = async (app) => {
  app.get(
    '/schema',
    {
      config: { access: 'public' },
      schema: {
        tags: ['predictions'],
        summary: 'The feature schema: what a prediction record holds (units, ranges, codes and their labels)',
        response: answers(FeatureSchemaJson),
      },
    },
    async (_request, reply) => {
      reply.header('x-content-type-options', 'nosniff').header('cache-control', 'no-cache');
      return ANSWER;
    },
  );
};

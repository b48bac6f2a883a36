/**
 * The feature schema: the single source of truth for every column of the Parkinson's disease data set.
 * Ingestion, validation, profiles, the generator, model documents, HTTP validation, OpenAPI, UI forms and
 * drift checks all derive from this module; nothing else lists the features.
 *
 * Ranges and codes are those documented with the Kaggle data set "Parkinson's Disease Dataset Analysis".
 */

export type FeatureGroup =
  | 'demographics'
  | 'lifestyle'
  | 'medical_history'
  | 'clinical_measurements'
  | 'cognitive_functional'
  | 'symptoms';

export type FeatureKind = 'continuous' | 'binary' | 'categorical';

/** A code of a binary or categorical feature and what it means. */
export interface CodeLabel {
  readonly code: number;
  readonly label: string;
}

interface FeatureCommon {
  readonly name: string;
  readonly group: FeatureGroup;
  readonly description: string;
}

/** An inclusive range of a continuous feature, in its unit. */
export interface Range {
  readonly min: number;
  readonly max: number;
}

export interface ContinuousFeature extends FeatureCommon {
  readonly kind: 'continuous';
  readonly unit: string;
  /**
   * What is possible: a scale's own bounds (MoCA 0 to 30) or what a living patient can measure (Age 0 to
   * 125). A value outside is an error wherever it comes from: a file, the HTTP API, a stream, a form.
   */
  readonly limits: Range;
  /**
   * The range of the data set the schema documents (the Kaggle file's), which is what a model trained on
   * it saw. A possible value outside it is accepted, and flagged as out of distribution where it is scored.
   * A model that recorded the ranges of its own training rows is judged by those instead (see
   * `TrainingRanges`).
   */
  readonly training: Range;
  /** Whole numbers in the source data (the generator writes them as integers). Not enforced on input. */
  readonly integer: boolean;
}

export interface BinaryFeature extends FeatureCommon {
  readonly kind: 'binary';
  /** Always codes 0 and 1, in that order. */
  readonly codes: readonly [CodeLabel, CodeLabel];
}

export interface CategoricalFeature extends FeatureCommon {
  readonly kind: 'categorical';
  readonly codes: readonly CodeLabel[];
}

export type Feature = ContinuousFeature | BinaryFeature | CategoricalFeature;

const NO_YES = [
  { code: 0, label: 'No' },
  { code: 1, label: 'Yes' },
] as const;

/** A continuous feature: `limits` is what is possible, `training` the documented data set's range. */
function continuous<const Name extends string>(
  name: Name,
  group: FeatureGroup,
  unit: string,
  limits: readonly [number, number],
  training: readonly [number, number],
  description: string,
  integer = false,
): ContinuousFeature & { readonly name: Name } {
  return {
    name,
    group,
    kind: 'continuous',
    unit,
    limits: { min: limits[0], max: limits[1] },
    training: { min: training[0], max: training[1] },
    integer,
    description,
  };
}

function yesNo<const Name extends string>(
  name: Name,
  group: FeatureGroup,
  description: string,
): BinaryFeature & { readonly name: Name } {
  return { name, group, kind: 'binary', codes: NO_YES, description };
}

function binary<const Name extends string>(
  name: Name,
  group: FeatureGroup,
  description: string,
  labels: readonly [string, string],
): BinaryFeature & { readonly name: Name } {
  const codes = [
    { code: 0, label: labels[0] },
    { code: 1, label: labels[1] },
  ] as const;
  return { name, group, kind: 'binary', codes, description };
}

/** A categorical feature coded 0, 1, 2, ... in the order of `labels`. */
function categorical<const Name extends string>(
  name: Name,
  group: FeatureGroup,
  description: string,
  labels: readonly string[],
): CategoricalFeature & { readonly name: Name } {
  return {
    name,
    group,
    kind: 'categorical',
    codes: labels.map((label, code) => ({ code, label })),
    description,
  };
}

/** The 32 features, in the column order of the Kaggle file. Models see features in this order. */
export const FEATURES = [
  // Limits are generous on purpose: they refuse only what cannot be (a negative age, a MoCA above 30, a
  // systolic pressure of 0), never a rare but real patient. Scores keep their scale's bounds.
  continuous('Age', 'demographics', 'years', [0, 125], [50, 90], 'Age of the patient', true),
  binary('Gender', 'demographics', 'Gender of the patient', ['Male', 'Female']),
  categorical('Ethnicity', 'demographics', 'Ethnicity of the patient', [
    'Caucasian',
    'African American',
    'Asian',
    'Other',
  ]),
  categorical('EducationLevel', 'demographics', 'Highest education level of the patient', [
    'None',
    'High School',
    "Bachelor's",
    'Higher',
  ]),
  continuous('BMI', 'lifestyle', 'kg/m²', [5, 250], [15, 40], 'Body mass index'),
  yesNo('Smoking', 'lifestyle', 'Smoking status'),
  continuous(
    'AlcoholConsumption',
    'lifestyle',
    'units/week',
    [0, 500],
    [0, 20],
    'Weekly alcohol consumption',
  ),
  // A week has 168 hours.
  continuous('PhysicalActivity', 'lifestyle', 'hours/week', [0, 168], [0, 10], 'Weekly physical activity'),
  continuous('DietQuality', 'lifestyle', 'score', [0, 10], [0, 10], 'Diet quality score'),
  continuous('SleepQuality', 'lifestyle', 'score', [0, 10], [4, 10], 'Sleep quality score'),
  yesNo('FamilyHistoryParkinsons', 'medical_history', "Family history of Parkinson's disease"),
  yesNo('TraumaticBrainInjury', 'medical_history', 'History of traumatic brain injury'),
  yesNo('Hypertension', 'medical_history', 'Presence of hypertension'),
  yesNo('Diabetes', 'medical_history', 'Presence of diabetes'),
  yesNo('Depression', 'medical_history', 'Presence of depression'),
  yesNo('Stroke', 'medical_history', 'History of stroke'),
  continuous(
    'SystolicBP',
    'clinical_measurements',
    'mmHg',
    [40, 300],
    [90, 180],
    'Systolic blood pressure',
    true,
  ),
  continuous(
    'DiastolicBP',
    'clinical_measurements',
    'mmHg',
    [20, 200],
    [60, 120],
    'Diastolic blood pressure',
    true,
  ),
  continuous(
    'CholesterolTotal',
    'clinical_measurements',
    'mg/dL',
    [40, 1000],
    [150, 300],
    'Total cholesterol',
  ),
  continuous(
    'CholesterolLDL',
    'clinical_measurements',
    'mg/dL',
    [0, 1000],
    [50, 200],
    'Low-density lipoprotein cholesterol',
  ),
  continuous(
    'CholesterolHDL',
    'clinical_measurements',
    'mg/dL',
    [0, 250],
    [20, 100],
    'High-density lipoprotein cholesterol',
  ),
  continuous(
    'CholesterolTriglycerides',
    'clinical_measurements',
    'mg/dL',
    [0, 10000],
    [50, 400],
    'Triglycerides',
  ),
  continuous(
    'UPDRS',
    'cognitive_functional',
    'score',
    [0, 199],
    [0, 199],
    "Unified Parkinson's Disease Rating Scale (higher means more severe)",
  ),
  continuous(
    'MoCA',
    'cognitive_functional',
    'score',
    [0, 30],
    [0, 30],
    'Montreal Cognitive Assessment (lower means more impairment)',
  ),
  continuous(
    'FunctionalAssessment',
    'cognitive_functional',
    'score',
    [0, 10],
    [0, 10],
    'Functional assessment (lower means more impairment)',
  ),
  yesNo('Tremor', 'symptoms', 'Presence of tremor'),
  yesNo('Rigidity', 'symptoms', 'Presence of muscle rigidity'),
  yesNo('Bradykinesia', 'symptoms', 'Presence of bradykinesia (slowness of movement)'),
  yesNo('PosturalInstability', 'symptoms', 'Presence of postural instability'),
  yesNo('SpeechProblems', 'symptoms', 'Presence of speech problems'),
  yesNo('SleepDisorders', 'symptoms', 'Presence of sleep disorders'),
  yesNo('Constipation', 'symptoms', 'Presence of constipation'),
] as const satisfies readonly Feature[];

export type FeatureName = (typeof FEATURES)[number]['name'];

export const FEATURE_NAMES: readonly FeatureName[] = FEATURES.map((feature) => feature.name);

/** The patient identifier column. Optional in input files; never a model input. */
export const ID_COLUMN = 'PatientID';

/** Longest patient id the APIs accept (ids are echoed back, never logged). */
export const MAX_PATIENT_ID_LENGTH = 128;

/** The binary target. */
export const TARGET = {
  name: 'Diagnosis',
  codes: [
    { code: 0, label: "No Parkinson's disease" },
    { code: 1, label: "Parkinson's disease" },
  ],
  description: "Diagnosis of Parkinson's disease",
} as const;

export const TARGET_COLUMN = TARGET.name;

/** Confidential: dropped at ingestion, never stored or logged. The generator writes this constant value. */
export const CONFIDENTIAL_COLUMNS = ['DoctorInCharge'] as const;
export const CONFIDENTIAL_PLACEHOLDER = 'DrXXXConfid';

/** Column order of the Kaggle file, which generated files reproduce exactly. */
export const KAGGLE_COLUMNS: readonly string[] = [
  ID_COLUMN,
  ...FEATURE_NAMES,
  TARGET_COLUMN,
  ...CONFIDENTIAL_COLUMNS,
];

export const FEATURE_GROUP_LABELS: Readonly<Record<FeatureGroup, string>> = {
  demographics: 'Demographics',
  lifestyle: 'Lifestyle',
  medical_history: 'Medical history',
  clinical_measurements: 'Clinical measurements',
  cognitive_functional: 'Cognitive and functional assessments',
  symptoms: 'Symptoms',
};

const BY_NAME: ReadonlyMap<string, Feature> = new Map(FEATURES.map((feature) => [feature.name, feature]));

export function isFeatureName(name: string): name is FeatureName {
  return BY_NAME.has(name);
}

export function getFeature(name: FeatureName): Feature {
  return BY_NAME.get(name)!;
}

/** The codes a binary or categorical feature accepts; undefined for continuous features. */
export function allowedCodes(feature: Feature): readonly number[] | undefined {
  return feature.kind === 'continuous' ? undefined : feature.codes.map((entry) => entry.code);
}

/**
 * Why `value` is not a possible value of `feature`, or undefined when it is possible: a continuous value
 * within the feature's limits, a code the feature has. A value outside the training range is possible
 * (see `outsideTraining`). NaN (missing) is not judged here.
 */
export function checkFeatureValue(feature: Feature, value: number): FeatureValueProblem | undefined {
  if (!Number.isFinite(value)) return valueProblem(feature, 'not_finite', 'a finite number');
  switch (feature.kind) {
    case 'continuous': {
      const { min, max } = feature.limits;
      return value < min || value > max
        ? valueProblem(
            feature,
            'out_of_range',
            `between ${min} and ${max} ${feature.unit} (what is possible)`,
          )
        : undefined;
    }
    case 'binary':
      return value !== 0 && value !== 1
        ? valueProblem(feature, 'not_binary', `0 or 1 (${describeCodes(feature.codes)})`)
        : undefined;
    case 'categorical':
      return feature.codes.some((entry) => entry.code === value)
        ? undefined
        : valueProblem(feature, 'unknown_code', `one of the codes ${describeCodes(feature.codes)}`);
  }
}

function valueProblem(
  feature: Feature,
  rule: FeatureValueProblem['rule'],
  requirement: string,
): FeatureValueProblem {
  return { rule, requirement, message: `${feature.name} must be ${requirement}` };
}

export interface FeatureValueProblem {
  readonly rule: 'not_finite' | 'out_of_range' | 'not_binary' | 'unknown_code';
  /** What the value must be, without the feature's name: "between 0 and 30 score (what is possible)". */
  readonly requirement: string;
  /** The whole sentence: "MoCA must be between 0 and 30 score (what is possible)". */
  readonly message: string;
}

/**
 * The training range of each feature, in schema order: undefined for binary and categorical features,
 * whose codes are all possible and all seen. The schema's own (`SCHEMA_TRAINING_RANGES`) are those of
 * the documented data set; a model may carry those of its own training rows.
 */
export type TrainingRanges = readonly (Range | undefined)[];

export const SCHEMA_TRAINING_RANGES: TrainingRanges = FEATURES.map((feature) =>
  feature.kind === 'continuous' ? feature.training : undefined,
);

/** Training ranges from observed ones (a model's training rows), the schema's where none was observed. */
export function trainingRangesFrom(observed: (name: FeatureName) => Range | undefined): TrainingRanges {
  return FEATURES.map((feature) =>
    feature.kind === 'continuous' ? (observed(feature.name) ?? feature.training) : undefined,
  );
}

/** Whether a possible value lies outside the range a model was trained on (never, for a code). */
/**
 * Every feature's valid values as an interval, in schema order (whole numbers only for coded features):
 * `checkFeatureValue` in a few comparisons, for readers that check millions of values. Codes that are not
 * a run of whole numbers get an empty interval, so each of their values goes to `checkFeatureValue`.
 */
export const VALID_INTERVALS: {
  readonly low: Float64Array;
  readonly high: Float64Array;
  readonly whole: Uint8Array;
} = (() => {
  const low = new Float64Array(FEATURES.length);
  const high = new Float64Array(FEATURES.length);
  const whole = new Uint8Array(FEATURES.length);
  FEATURES.forEach((feature: Feature, j) => {
    if (feature.kind === 'continuous') {
      low[j] = feature.limits.min;
      high[j] = feature.limits.max;
      return;
    }
    const codes = feature.codes.map((entry) => entry.code).sort((a, b) => a - b);
    const run = codes.every((code, k) => Number.isInteger(code) && code === codes[0]! + k);
    low[j] = run ? codes[0]! : Number.POSITIVE_INFINITY;
    high[j] = run ? codes[codes.length - 1]! : Number.NEGATIVE_INFINITY;
    whole[j] = 1;
  });
  return { low, high, whole };
})();

export function outsideTraining(range: Range | undefined, value: number): boolean {
  return range !== undefined && (value < range.min || value > range.max);
}

/**
 * A number as text, the way files and clients write them: digits with an optional sign, decimal point and
 * exponent ("71", "-0.5", "1e3"), spaces around allowed. Not "0x1F", "Infinity" or "".
 */
export const NUMBER_PATTERN = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/** The number a text holds (see `NUMBER_PATTERN`), or undefined when it holds none. */
export function parseNumber(text: string): number | undefined {
  return NUMBER_PATTERN.test(text) ? Number(text) : undefined;
}

/**
 * What a feature takes, in words: "0 to 125 years (trained on 50 to 90)", "0 to 30 score" (a scale whose
 * limits are its training range), "0 = Male, 1 = Female".
 */
export function describeValues(feature: Feature): string {
  if (feature.kind !== 'continuous') return describeCodes(feature.codes);
  const { limits, training } = feature;
  const same = limits.min === training.min && limits.max === training.max;
  return `${limits.min} to ${limits.max} ${feature.unit}${same ? '' : ` (trained on ${training.min} to ${training.max})`}`;
}

export function describeCodes(codes: readonly CodeLabel[]): string {
  return codes.map((entry) => `${entry.code} = ${entry.label}`).join(', ');
}

/** Label of a code of a binary or categorical feature, e.g. Ethnicity 2 -> "Asian". */
export function codeLabel(feature: BinaryFeature | CategoricalFeature, code: number): string | undefined {
  return feature.codes.find((entry) => entry.code === code)?.label;
}

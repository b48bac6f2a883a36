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

export interface ContinuousFeature extends FeatureCommon {
  readonly kind: 'continuous';
  readonly unit: string;
  /** Inclusive valid range. */
  readonly min: number;
  readonly max: number;
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

function continuous<const Name extends string>(
  name: Name,
  group: FeatureGroup,
  unit: string,
  min: number,
  max: number,
  description: string,
  integer = false,
): ContinuousFeature & { readonly name: Name } {
  return { name, group, kind: 'continuous', unit, min, max, integer, description };
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
  continuous('Age', 'demographics', 'years', 50, 90, 'Age of the patient', true),
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
  continuous('BMI', 'lifestyle', 'kg/m²', 15, 40, 'Body mass index'),
  yesNo('Smoking', 'lifestyle', 'Smoking status'),
  continuous('AlcoholConsumption', 'lifestyle', 'units/week', 0, 20, 'Weekly alcohol consumption'),
  continuous('PhysicalActivity', 'lifestyle', 'hours/week', 0, 10, 'Weekly physical activity'),
  continuous('DietQuality', 'lifestyle', 'score', 0, 10, 'Diet quality score'),
  continuous('SleepQuality', 'lifestyle', 'score', 4, 10, 'Sleep quality score'),
  yesNo('FamilyHistoryParkinsons', 'medical_history', "Family history of Parkinson's disease"),
  yesNo('TraumaticBrainInjury', 'medical_history', 'History of traumatic brain injury'),
  yesNo('Hypertension', 'medical_history', 'Presence of hypertension'),
  yesNo('Diabetes', 'medical_history', 'Presence of diabetes'),
  yesNo('Depression', 'medical_history', 'Presence of depression'),
  yesNo('Stroke', 'medical_history', 'History of stroke'),
  continuous('SystolicBP', 'clinical_measurements', 'mmHg', 90, 180, 'Systolic blood pressure', true),
  continuous('DiastolicBP', 'clinical_measurements', 'mmHg', 60, 120, 'Diastolic blood pressure', true),
  continuous('CholesterolTotal', 'clinical_measurements', 'mg/dL', 150, 300, 'Total cholesterol'),
  continuous(
    'CholesterolLDL',
    'clinical_measurements',
    'mg/dL',
    50,
    200,
    'Low-density lipoprotein cholesterol',
  ),
  continuous(
    'CholesterolHDL',
    'clinical_measurements',
    'mg/dL',
    20,
    100,
    'High-density lipoprotein cholesterol',
  ),
  continuous('CholesterolTriglycerides', 'clinical_measurements', 'mg/dL', 50, 400, 'Triglycerides'),
  continuous(
    'UPDRS',
    'cognitive_functional',
    'score',
    0,
    199,
    "Unified Parkinson's Disease Rating Scale (higher means more severe)",
  ),
  continuous(
    'MoCA',
    'cognitive_functional',
    'score',
    0,
    30,
    'Montreal Cognitive Assessment (lower means more impairment)',
  ),
  continuous(
    'FunctionalAssessment',
    'cognitive_functional',
    'score',
    0,
    10,
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

/** Why `value` is not a valid value of `feature`, or undefined when it is valid. NaN (missing) is not judged here. */
export function checkFeatureValue(feature: Feature, value: number): FeatureValueProblem | undefined {
  if (!Number.isFinite(value)) {
    return { rule: 'not_finite', message: `${feature.name} must be a finite number` };
  }
  switch (feature.kind) {
    case 'continuous':
      if (value < feature.min || value > feature.max) {
        return {
          rule: 'out_of_range',
          message: `${feature.name} must be between ${feature.min} and ${feature.max} ${feature.unit}`,
        };
      }
      return undefined;
    case 'binary':
      if (value !== 0 && value !== 1) {
        return {
          rule: 'not_binary',
          message: `${feature.name} must be 0 or 1 (${describeCodes(feature.codes)})`,
        };
      }
      return undefined;
    case 'categorical':
      if (!feature.codes.some((entry) => entry.code === value)) {
        return {
          rule: 'unknown_code',
          message: `${feature.name} must be one of the codes ${describeCodes(feature.codes)}`,
        };
      }
      return undefined;
  }
}

export interface FeatureValueProblem {
  readonly rule: 'not_finite' | 'out_of_range' | 'not_binary' | 'unknown_code';
  readonly message: string;
}

export function describeCodes(codes: readonly CodeLabel[]): string {
  return codes.map((entry) => `${entry.code} = ${entry.label}`).join(', ');
}

/** Label of a code of a binary or categorical feature, e.g. Ethnicity 2 -> "Asian". */
export function codeLabel(feature: BinaryFeature | CategoricalFeature, code: number): string | undefined {
  return feature.codes.find((entry) => entry.code === code)?.label;
}

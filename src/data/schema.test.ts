import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  allowedCodes,
  CONFIDENTIAL_COLUMNS,
  checkFeatureValue,
  describeValues,
  FEATURE_NAMES,
  FEATURES,
  type FeatureName,
  getFeature,
  ID_COLUMN,
  isFeatureName,
  KAGGLE_COLUMNS,
  outsideTraining,
  parseNumber,
  SCHEMA_TRAINING_RANGES,
  TARGET_COLUMN,
  trainingRangesFrom,
  VALID_INTERVALS,
} from './schema.js';

// The documented ranges, restated here on purpose: this test is the check on the schema's single source.
const DOCUMENTED_RANGES: Record<string, [number, number]> = {
  Age: [50, 90],
  BMI: [15, 40],
  AlcoholConsumption: [0, 20],
  PhysicalActivity: [0, 10],
  DietQuality: [0, 10],
  SleepQuality: [4, 10],
  SystolicBP: [90, 180],
  DiastolicBP: [60, 120],
  CholesterolTotal: [150, 300],
  CholesterolLDL: [50, 200],
  CholesterolHDL: [20, 100],
  CholesterolTriglycerides: [50, 400],
  UPDRS: [0, 199],
  MoCA: [0, 30],
  FunctionalAssessment: [0, 10],
};

describe('feature schema', () => {
  it('has the 32 features of the Kaggle file, unique, in its column order', () => {
    expect(FEATURES).toHaveLength(32);
    expect(new Set(FEATURE_NAMES).size).toBe(32);
    expect(KAGGLE_COLUMNS).toEqual([ID_COLUMN, ...FEATURE_NAMES, TARGET_COLUMN, 'DoctorInCharge']);
    expect(KAGGLE_COLUMNS).toHaveLength(35);
  });

  it('gives each continuous feature its documented range as its training range, and a unit', () => {
    const continuous = FEATURES.filter((feature) => feature.kind === 'continuous');
    expect(Object.fromEntries(continuous.map((f) => [f.name, [f.training.min, f.training.max]]))).toEqual(
      DOCUMENTED_RANGES,
    );
    for (const feature of continuous) expect(feature.unit).not.toBe('');
  });

  it('gives each continuous feature limits of what is possible, wider than or equal to its training range', () => {
    for (const feature of FEATURES) {
      if (feature.kind !== 'continuous') continue;
      expect(feature.limits.min).toBeLessThanOrEqual(feature.training.min);
      expect(feature.limits.max).toBeGreaterThanOrEqual(feature.training.max);
    }
    // Scales keep their own bounds; measurements of a living patient are wider than the data set's.
    expect(getFeature('MoCA')).toMatchObject({ limits: { min: 0, max: 30 }, training: { min: 0, max: 30 } });
    expect(getFeature('Age')).toMatchObject({ limits: { min: 0 }, training: { min: 50, max: 90 } });
    expect(describeValues(getFeature('Age'))).toBe('0 to 125 years (trained on 50 to 90)');
    expect(describeValues(getFeature('MoCA'))).toBe('0 to 30 score');
    expect(describeValues(getFeature('Gender'))).toBe('0 = Male, 1 = Female');
  });

  it('VALID_INTERVALS accepts exactly what checkFeatureValue accepts', () => {
    const { low, high, whole } = VALID_INTERVALS;
    FEATURES.forEach((feature, j) => {
      const edges = [low[j]!, high[j]!].filter(Number.isFinite);
      const values = [
        ...edges.flatMap((edge) => [edge, edge - 1, edge + 1, edge - 0.5, edge + 1e-9, edge - 1e-9]),
        ...[-1, 0, 0.5, 1, 2, 3, 4, 7, 50, 1e6, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY],
      ];
      for (const value of values) {
        const accepted = value >= low[j]! && value <= high[j]! && (whole[j] === 0 || Number.isInteger(value));
        expect([feature.name, value, accepted]).toEqual([
          feature.name,
          value,
          checkFeatureValue(feature, value) === undefined,
        ]);
      }
    });
  });

  it('tells a value outside the training range from an impossible one', () => {
    const age = getFeature('Age');
    const ageRange = SCHEMA_TRAINING_RANGES[FEATURE_NAMES.indexOf('Age')];
    for (const real of [45, 91, 30, 110]) {
      expect(checkFeatureValue(age, real)).toBeUndefined();
      expect(outsideTraining(ageRange, real)).toBe(true);
    }
    expect(outsideTraining(ageRange, 71)).toBe(false);
    expect(checkFeatureValue(age, -1)?.rule).toBe('out_of_range');
    expect(checkFeatureValue(getFeature('MoCA'), 31)).toMatchObject({
      rule: 'out_of_range',
      message: 'MoCA must be between 0 and 30 score (what is possible)',
    });
    // Codes have no training range: a known code is never out of distribution.
    expect(SCHEMA_TRAINING_RANGES[FEATURE_NAMES.indexOf('Ethnicity')]).toBeUndefined();
    const observed = trainingRangesFrom((name) => (name === 'Age' ? { min: 55, max: 80 } : undefined));
    expect(observed[FEATURE_NAMES.indexOf('Age')]).toEqual({ min: 55, max: 80 });
    expect(observed[FEATURE_NAMES.indexOf('BMI')]).toEqual({ min: 15, max: 40 });
  });

  it('reads numbers written as text, and nothing else', () => {
    expect(['71', ' 71 ', '-0.5', '+3', '.5', '5.', '1e3', '1.05E-05'].map(parseNumber)).toEqual([
      71, 71, -0.5, 3, 0.5, 5, 1000, 1.05e-5,
    ]);
    for (const text of ['', ' ', 'NaN', 'Infinity', '0x1F', '1,5', '7 years', 'e3', '--1'])
      expect(parseNumber(text)).toBeUndefined();
  });

  it('codes Ethnicity and EducationLevel as documented', () => {
    const ethnicity = getFeature('Ethnicity');
    const education = getFeature('EducationLevel');
    expect(ethnicity.kind).toBe('categorical');
    expect(ethnicity.kind !== 'continuous' && ethnicity.codes).toEqual([
      { code: 0, label: 'Caucasian' },
      { code: 1, label: 'African American' },
      { code: 2, label: 'Asian' },
      { code: 3, label: 'Other' },
    ]);
    expect(education.kind !== 'continuous' && education.codes.map((c) => c.label)).toEqual([
      'None',
      'High School',
      "Bachelor's",
      'Higher',
    ]);
  });

  it('makes every remaining feature binary 0/1', () => {
    const binary = FEATURES.filter((feature) => feature.kind === 'binary');
    expect(binary).toHaveLength(32 - 15 - 2);
    for (const feature of binary) expect(allowedCodes(feature)).toEqual([0, 1]);
  });

  it('assigns every feature to one of the six groups', () => {
    const groups = new Set(FEATURES.map((feature) => feature.group));
    expect([...groups]).toEqual([
      'demographics',
      'lifestyle',
      'medical_history',
      'clinical_measurements',
      'cognitive_functional',
      'symptoms',
    ]);
    expect(FEATURES.filter((f) => f.group === 'symptoms').map((f) => f.name)).toEqual([
      'Tremor',
      'Rigidity',
      'Bradykinesia',
      'PosturalInstability',
      'SpeechProblems',
      'SleepDisorders',
      'Constipation',
    ]);
  });

  it('keeps DoctorInCharge out of the features', () => {
    expect(CONFIDENTIAL_COLUMNS).toEqual(['DoctorInCharge']);
    expect(isFeatureName('DoctorInCharge')).toBe(false);
    expect(isFeatureName('PatientID')).toBe(false);
    expect(isFeatureName('Diagnosis')).toBe(false);
    expect(isFeatureName('MoCA')).toBe(true);
  });

  it('types feature names as a union of literals', () => {
    expectTypeOf<'MoCA'>().toExtend<FeatureName>();
    expectTypeOf<'DoctorInCharge'>().not.toExtend<FeatureName>();
  });

  it('judges values: limits inclusive, codes exact, non-finite rejected', () => {
    const age = getFeature('Age');
    expect(checkFeatureValue(age, 0)).toBeUndefined();
    expect(checkFeatureValue(age, 125)).toBeUndefined();
    expect(checkFeatureValue(age, 125.01)?.rule).toBe('out_of_range');
    expect(checkFeatureValue(age, Number.POSITIVE_INFINITY)?.rule).toBe('not_finite');
    expect(checkFeatureValue(getFeature('Tremor'), 0.5)?.rule).toBe('not_binary');
    expect(checkFeatureValue(getFeature('Ethnicity'), 3)).toBeUndefined();
    expect(checkFeatureValue(getFeature('Ethnicity'), -1)?.message).toContain('3 = Other');
  });
});

import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  allowedCodes,
  CONFIDENTIAL_COLUMNS,
  checkFeatureValue,
  FEATURE_NAMES,
  FEATURES,
  type FeatureName,
  getFeature,
  ID_COLUMN,
  isFeatureName,
  KAGGLE_COLUMNS,
  TARGET_COLUMN,
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

  it('gives each continuous feature its documented range and a unit', () => {
    const continuous = FEATURES.filter((feature) => feature.kind === 'continuous');
    expect(Object.fromEntries(continuous.map((f) => [f.name, [f.min, f.max]]))).toEqual(DOCUMENTED_RANGES);
    for (const feature of continuous) expect(feature.unit).not.toBe('');
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

  it('judges values: ranges inclusive, codes exact, non-finite rejected', () => {
    const age = getFeature('Age');
    expect(checkFeatureValue(age, 50)).toBeUndefined();
    expect(checkFeatureValue(age, 90)).toBeUndefined();
    expect(checkFeatureValue(age, 90.01)?.rule).toBe('out_of_range');
    expect(checkFeatureValue(age, Number.POSITIVE_INFINITY)?.rule).toBe('not_finite');
    expect(checkFeatureValue(getFeature('Tremor'), 0.5)?.rule).toBe('not_binary');
    expect(checkFeatureValue(getFeature('Ethnicity'), 3)).toBeUndefined();
    expect(checkFeatureValue(getFeature('Ethnicity'), -1)?.message).toContain('3 = Other');
  });
});

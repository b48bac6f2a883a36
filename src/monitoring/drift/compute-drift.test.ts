/**
 * Drift on generated patients: a model trained on one generated data set, compared with new patients
 * from the same generator (no drift) and with the same patients ten years older (Age drifts), on both
 * sides of Evidently's 1,000-row line.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createDataset, type Dataset } from '../../data/dataset.js';
import { generateDataset } from '../../data/generator/generator.js';
import { PROBABILITY_COLUMN, type ReferenceProfile } from '../../data/reference-profile.js';
import { FEATURE_NAMES, FEATURES, type FeatureName } from '../../data/schema.js';
import { isOnsetError } from '../../errors.js';
import type { FittedModel } from '../../ml/estimator.js';
import { featureMatrix, trainOnDataset } from '../../ml/train-on-dataset.js';
import { computeDrift, type DriftReport, type DriftWindow, driftOrder } from './compute-drift.js';
import { driftOptionsFromAssignments } from './drift-options.js';
import { driftReportJson } from './drift-report-json.js';

function transformed(
  dataset: Dataset,
  change: (name: FeatureName, value: number, row: number) => number,
): Dataset {
  const columns = {} as Record<FeatureName, Float64Array>;
  for (const name of FEATURE_NAMES)
    columns[name] = dataset.columns[name].map((value, row) => change(name, value, row));
  return createDataset({ columns, target: dataset.target, patientIds: dataset.patientIds });
}

const olderBy = (years: number) => (dataset: Dataset) =>
  transformed(dataset, (name, value) => (name === 'Age' ? value + years : value));

function windowOf(dataset: Dataset, model: FittedModel): DriftWindow {
  return {
    rowCount: dataset.rowCount,
    columns: dataset.columns,
    probabilities: model.predictProba(featureMatrix(dataset)),
  };
}

function drifted(report: DriftReport): string[] {
  return report.features.filter((feature) => feature.drifted).map((feature) => feature.column);
}

function trained(rows: number, seed: number): { profile: ReferenceProfile; model: FittedModel } {
  const result = trainOnDataset(generateDataset({ rows, seed }), { estimator: 'logistic', cvFolds: 3 });
  return { profile: result.referenceProfile, model: result.model };
}

describe('a small reference (at most 1,000 rows): KS, chi-square and z-tests at p < 0.05', () => {
  let profile: ReferenceProfile;
  let model: FittedModel;
  let same: Dataset;
  beforeAll(() => {
    ({ profile, model } = trained(800, 11));
    same = generateDataset({ rows: 400, seed: 12 });
  });

  it('uses the p-value tests Evidently chooses for each kind of feature', () => {
    const report = computeDrift(profile, windowOf(same, model));
    expect(report.reference.sampleRows).toBe(800);
    for (const feature of report.features) {
      const kind = FEATURES.find((entry) => entry.name === feature.column)!.kind;
      const expected = kind === 'continuous' ? 'ks' : kind === 'binary' ? 'z' : 'chisquare';
      expect(feature.test, feature.column).toBe(expected);
      expect(feature.threshold).toBe(0.05);
      expect(feature.testChosenBy).toBe('default');
    }
    expect(report.prediction?.test).toBe('ks');
  });

  it('finds no drift in new patients from the same population', () => {
    const report = computeDrift(profile, windowOf(same, model));
    expect(drifted(report)).toEqual([]);
    expect(report.dataset).toEqual({
      features: 32,
      driftedFeatures: 0,
      share: 0,
      driftShare: 0.5,
      drifted: false,
    });
    expect(report.prediction?.drifted).toBe(false);
    for (const feature of report.features) expect(feature.psi!, feature.column).toBeLessThan(0.1);
  });

  it('finds Age drifted, and only Age, when the patients are ten years older', () => {
    const report = computeDrift(profile, windowOf(olderBy(10)(same), model));
    expect(drifted(report)).toEqual(['Age']);
    const age = report.features.find((feature) => feature.column === 'Age')!;
    expect(age.score!).toBeLessThan(1e-10);
    expect(age.psi!).toBeGreaterThan(0.25);
    expect(age.current.mean! - age.reference.mean!).toBeCloseTo(10, 0);
    expect(report.dataset.drifted).toBe(false);
    expect(driftOrder(report.features)[0]!.column).toBe('Age');
  });
});

describe('a large reference (more than 1,000 rows): normed Wasserstein and Jensen-Shannon at 0.1', () => {
  let profile: ReferenceProfile;
  let model: FittedModel;
  let same: Dataset;
  beforeAll(() => {
    ({ profile, model } = trained(1500, 21));
    same = generateDataset({ rows: 700, seed: 22 });
  });

  it('uses the distances Evidently chooses', () => {
    const report = computeDrift(profile, windowOf(same, model));
    for (const feature of report.features) {
      const continuous = FEATURES.find((entry) => entry.name === feature.column)!.kind === 'continuous';
      expect(feature.test, feature.column).toBe(continuous ? 'wasserstein' : 'jensenshannon');
      expect(feature.threshold).toBe(0.1);
    }
    expect(report.prediction?.test).toBe('wasserstein');
  });

  it('finds no drift in new patients, and Age drifted when they are ten years older', () => {
    expect(drifted(computeDrift(profile, windowOf(same, model)))).toEqual([]);
    const older = computeDrift(profile, windowOf(olderBy(10)(same), model));
    expect(drifted(older)).toEqual(['Age']);
    const age = older.features.find((feature) => feature.column === 'Age')!;
    // The Wasserstein distance is the shift itself, in years; normed by the training spread of ages.
    expect(age.statistic!).toBeCloseTo(10, 0);
    expect(age.score!).toBeGreaterThan(0.5);
    // A quarter of the older patients are older than anyone in training: the bin above the range.
    const above = age.histogram[age.histogram.length - 1]!;
    expect(above.upper).toBeNull();
    expect(above.reference.count).toBe(0);
    expect(above.current.share).toBeGreaterThan(0.15);
  });

  it('calls the data set drifted when at least half of its features drift', () => {
    // Every continuous feature moved by half its training range, every code replaced by the first.
    const moved = transformed(same, (name, value, row) => {
      const feature = FEATURES.find((entry) => entry.name === name)!;
      if (feature.kind === 'continuous') return value + (feature.training.max - feature.training.min) / 2;
      return row % 2 === 0 ? feature.codes[0]!.code : value;
    });
    const report = computeDrift(profile, windowOf(moved, model));
    expect(report.dataset.driftedFeatures).toBeGreaterThanOrEqual(16);
    expect(report.dataset.drifted).toBe(true);
    expect(report.prediction?.drifted).toBe(true);
  });

  it('puts both sides of every histogram on the profile bins, the reference counted on every training row', () => {
    const report = computeDrift(profile, windowOf(same, model));
    for (const feature of [...report.features, report.prediction!]) {
      const referenceRows = feature.histogram.reduce((sum, bin) => sum + bin.reference.count, 0);
      const currentRows = feature.histogram.reduce((sum, bin) => sum + bin.current.count, 0);
      expect(referenceRows, feature.column).toBe(1500);
      expect(currentRows, feature.column).toBe(700);
    }
    const gender = report.features.find((feature) => feature.column === 'Gender')!;
    expect(gender.histogram.map((bin) => bin.label)).toEqual(['Male', 'Female']);
  });

  it('takes a test and a threshold per feature, and reports which were asked for', () => {
    const options = driftOptionsFromAssignments(
      ['Age=ks', 'Gender=chisquare', 'probability=psi'],
      ['BMI=0.001'],
    );
    const report = computeDrift(profile, windowOf(olderBy(5)(same), model), options);
    const byName = new Map(report.features.map((feature) => [feature.column, feature]));
    expect(byName.get('Age')).toMatchObject({
      test: 'ks',
      threshold: 0.05,
      testChosenBy: 'override',
      drifted: true,
    });
    expect(byName.get('Gender')).toMatchObject({ test: 'chisquare', testChosenBy: 'override' });
    expect(byName.get('BMI')).toMatchObject({
      test: 'wasserstein',
      threshold: 0.001,
      testChosenBy: 'default',
    });
    expect(report.prediction).toMatchObject({
      column: PROBABILITY_COLUMN,
      test: 'psi',
      testChosenBy: 'override',
    });
  });

  it('reports no prediction drift without probabilities, and refuses an empty window', () => {
    const { probabilities: _none, ...withoutProbabilities } = windowOf(same, model);
    expect(computeDrift(profile, withoutProbabilities).prediction).toBeNull();
    const columns = Object.fromEntries(FEATURE_NAMES.map((name) => [name, new Float64Array(0)])) as Record<
      FeatureName,
      Float64Array
    >;
    let error: unknown;
    try {
      computeDrift(profile, { rowCount: 0, columns });
    } catch (caught) {
      error = caught;
    }
    expect(isOnsetError(error) && error.code).toBe('INVALID_PARAMETER_VALUE');
    expect((error as Error).message).toMatch(/The current data has no rows/);
  });

  it('marks a feature with no current value as not tested, without failing the check', () => {
    const gap = transformed(same, (name, value) => (name === 'BMI' ? Number.NaN : value));
    const report = computeDrift(profile, { rowCount: gap.rowCount, columns: gap.columns });
    const bmi = report.features.find((feature) => feature.column === 'BMI')!;
    expect(bmi).toMatchObject({ score: null, drifted: false, psi: null });
    expect(bmi.note).toMatch(/current data has no value of BMI/);
    expect(bmi.current.missing).toBe(700);
  });

  it('has snake_case JSON with features in schema order', () => {
    const report = computeDrift(profile, windowOf(same, model));
    const json = driftReportJson(report, {
      model: { uri: 'models:/m/1', name: 'm', version: '1', runId: null, estimator: 'logistic' },
      referenceSource: 'test',
      currentSource: 'same',
      computedAt: '2026-01-01T00:00:00.000Z',
      seconds: 0.1,
    });
    expect(json.features.map((feature) => feature.column)).toEqual(FEATURE_NAMES);
    expect(json.dataset_drift).toEqual({
      drifted: false,
      drifted_features: 0,
      features: 32,
      share: 0,
      drift_share: 0.5,
    });
    expect(json.features[0]).toMatchObject({
      column: 'Age',
      test: 'wasserstein',
      score_kind: 'distance',
      drift_when: '>=',
    });
  });
});

describe('options are checked by name', () => {
  it('refuses an unknown feature, naming it and every known one (with a close match)', () => {
    expect(() => driftOptionsFromAssignments(['age=ks'], [])).toThrow(
      /Unknown feature "age" in --test age=ks \(did you mean Age\?\); the features are Age, Gender, .*Constipation, and probability is the model's prediction/,
    );
    expect(() => driftOptionsFromAssignments([], ['Weight=0.2'])).toThrow(
      /Unknown feature "Weight" in --threshold Weight=0.2/,
    );
  });

  it('refuses an unknown test with the list of tests, and a test that does not apply to the feature', () => {
    expect(() => driftOptionsFromAssignments(['Age=anderson'], [])).toThrow(
      /Unknown test "anderson" in --test Age=anderson; the tests are ks \(.*\), chisquare .* psi/,
    );
    expect(() => driftOptionsFromAssignments(['Gender=ks'], [])).toThrow(
      /The test ks applies to numerical columns, and Gender is categorical \(binary\) \(in --test Gender=ks\); its tests are chisquare, z, jensenshannon, psi/,
    );
  });

  it('refuses a malformed assignment and a threshold that is not a number of at least 0', () => {
    expect(() => driftOptionsFromAssignments(['Age'], [])).toThrow(
      /--test takes FEATURE=VALUE \(e.g. --test Age=ks\), got "Age"/,
    );
    expect(() => driftOptionsFromAssignments([], ['Age=high'])).toThrow(
      /The threshold of Age must be a number of at least 0, got "high" \(in --threshold Age=high\)/,
    );
    expect(() => driftOptionsFromAssignments([], ['Age=-1'])).toThrow(/at least 0, got "-1"/);
    expect(driftOptionsFromAssignments([], [], '0.25').driftShare).toBe(0.25);
    expect(driftOptionsFromAssignments([], []).driftShare).toBe(0.5);
    for (const bad of ['1.5', 'half', '', '0x1']) {
      expect(() => driftOptionsFromAssignments([], [], bad)).toThrow(
        `--drift-share takes a number from 0 to 1, got "${bad}"`,
      );
    }
  });

  it('refuses unknown names given to computeDrift directly', () => {
    const training = generateDataset({ rows: 50, seed: 1 });
    const profile = trainOnDataset(training, { estimator: 'logistic' }).referenceProfile;
    const window = { rowCount: training.rowCount, columns: training.columns };
    expect(() => computeDrift(profile, window, { tests: { Height: 'ks' } as never })).toThrow(
      /Unknown feature "Height"/,
    );
    expect(() => computeDrift(profile, window, { driftShare: 2 })).toThrow(
      /drift share must be a number from 0 to 1/,
    );
  });
});

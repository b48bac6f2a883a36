import { describe, expect, it } from 'vitest';
import { createDataset } from '../../data/dataset.js';
import { FEATURE_NAMES, type FeatureName } from '../../data/schema.js';
import { evaluateBinary } from '../metrics/index.js';
import { buildModelReport, MIN_SUBGROUP_ROWS, type SubgroupMetrics, subgroupGaps } from './model-report.js';

// Eight hand-made patients: Gender, Ethnicity, Age, label, and the model's probability.
//   row  gender  ethnicity         age  y  p     prediction at 0.5
//   0    male    Caucasian          55  1  0.91  1 (TP)
//   1    male    Caucasian          65  0  0.21  0 (TN)
//   2    female  African American   75  1  0.41  0 (FN)
//   3    female  African American   85  0  0.61  1 (FP)
//   4    male    Asian              52  1  0.81  1 (TP)
//   5    female  Other              68  0  0.11  0 (TN)
//   6    male    Caucasian          79  1  0.71  1 (TP)
//   7    female  Caucasian          90  0  0.31  0 (TN)
const gender = [0, 0, 1, 1, 0, 1, 0, 1];
const ethnicity = [0, 0, 1, 1, 2, 3, 0, 0];
const age = [55, 65, 75, 85, 52, 68, 79, 90];
const y = Float64Array.from([1, 0, 1, 0, 1, 0, 1, 0]);
const p = Float64Array.from([0.91, 0.21, 0.41, 0.61, 0.81, 0.11, 0.71, 0.31]);

function dataset() {
  const columns = {} as Record<FeatureName, Float64Array>;
  for (const name of FEATURE_NAMES) columns[name] = new Float64Array(8);
  columns.Gender = Float64Array.from(gender);
  columns.Ethnicity = Float64Array.from(ethnicity);
  columns.Age = Float64Array.from(age);
  return createDataset({ columns, target: y, patientIds: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'] });
}

describe('buildModelReport', () => {
  const report = buildModelReport({
    dataset: dataset(),
    estimator: 'gbdt',
    params: { max_depth: 2 },
    trainingMetrics: evaluateBinary(y, p),
    trainingProbabilities: p,
  });

  it('evaluates on the training rows when there was no cross-validation, and says so', () => {
    expect(report.evaluation.source).toBe('training');
    expect(report.metrics.cross_validation).toBeUndefined();
    expect(report.evaluation.rows).toBe(8);
  });

  it('counts the confusion matrix and the Brier score by hand', () => {
    expect(report.evaluation.confusion).toEqual({ tp: 3, fp: 1, tn: 3, fn: 1 });
    // Squared errors: .0081 .0441 .3481 .3721 .0361 .0121 .0841 .0961 -> 1.0008 / 8.
    expect(report.evaluation.brier).toBeCloseTo(0.1251, 12);
    // ROC AUC: of the 16 positive-negative pairs, 15 are ordered right; only 0.41 < 0.61 is not.
    expect(report.evaluation.roc.auc).toBeCloseTo(15 / 16, 12);
  });

  it("gives each ROC point its threshold, from which the UI's confusion matrix at any point follows", () => {
    const { fpr, tpr, thresholds } = report.evaluation.roc;
    expect(thresholds).toHaveLength(fpr.length);
    // The first point predicts nothing positive: its threshold is above every probability.
    expect(thresholds![0]).toBeGreaterThan(0.91);
    const { tp, fn, fp, tn } = report.evaluation.confusion;
    thresholds!.forEach((threshold, k) => {
      const positive = Array.from(p, (probability) => probability >= threshold);
      const truePositives = positive.filter((on, i) => on && y[i] === 1).length;
      const falsePositives = positive.filter((on, i) => on && y[i] === 0).length;
      expect(tpr[k]! * (tp + fn)).toBeCloseTo(truePositives, 9);
      expect(fpr[k]! * (fp + tn)).toBeCloseTo(falsePositives, 9);
    });
  });

  it('bins the calibration curve', () => {
    const filled = report.evaluation.calibration.filter((bin) => bin.count > 0);
    expect(filled.map((bin) => bin.count)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(filled[0]).toMatchObject({ count: 1, observedRate: 0 });
    expect(filled[0]!.meanPredicted).toBeCloseTo(0.11, 12);
    expect(filled[7]).toMatchObject({ count: 1, observedRate: 1 });
  });

  it('computes subgroup metrics with counts, by hand', () => {
    const group = (name: string, value: string) =>
      report.evaluation.subgroups.find((g) => g.group === name && g.value === value)!;
    expect(group('Gender', 'Male')).toMatchObject({
      count: 4,
      positives: 3,
      accuracy: 1,
      recall: 1,
      specificity: 1,
      roc_auc: 1,
    });
    expect(group('Gender', 'Male').brier).toBeCloseTo(0.1724 / 4, 12);
    const female = group('Gender', 'Female');
    expect(female).toMatchObject({ count: 4, positives: 1, accuracy: 0.5, recall: 0, precision: 0 });
    expect(female.specificity).toBeCloseTo(2 / 3, 12);
    expect(female.roc_auc).toBeCloseTo(2 / 3, 12);
    expect(female.brier).toBeCloseTo(0.8284 / 4, 12);
    expect(group('Ethnicity', 'Caucasian')).toMatchObject({ count: 4, accuracy: 1, roc_auc: 1 });
    expect(group('Ethnicity', 'African American')).toMatchObject({ count: 2, accuracy: 0, roc_auc: 0 });
    // One class only: no AUC.
    expect(group('Ethnicity', 'Asian')).toMatchObject({ count: 1, accuracy: 1, roc_auc: null });
    expect(group('Ethnicity', 'Other')).toMatchObject({
      count: 1,
      accuracy: 1,
      recall: 0,
      specificity: 1,
      roc_auc: null,
    });
    expect(group('Age', '50-59')).toMatchObject({ count: 2, positives: 2, accuracy: 1 });
    expect(group('Age', '60-69')).toMatchObject({ count: 2, positives: 0, accuracy: 1 });
    expect(group('Age', '70-79')).toMatchObject({ count: 2, accuracy: 0.5, recall: 0.5 });
    expect(group('Age', '80-90')).toMatchObject({ count: 2, accuracy: 0.5, specificity: 0.5 });
  });

  it('gives each subgroup bootstrap intervals, which hold what every resample must', () => {
    const male = report.evaluation.subgroups.find((g) => g.group === 'Gender' && g.value === 'Male')!;
    // Every row of Male is right: so is every resample.
    expect(male.intervals).toMatchObject({ accuracy: [1, 1], recall: [1, 1], specificity: [1, 1] });
    const female = report.evaluation.subgroups.find((g) => g.group === 'Gender' && g.value === 'Female')!;
    const [low, high] = female.intervals!.accuracy;
    expect(low).toBeLessThanOrEqual(female.accuracy);
    expect(high).toBeGreaterThanOrEqual(female.accuracy);
    expect(low).toBeLessThan(high);
    // One row of Asian: every resample is that row, and it has one class, so no AUC interval.
    const asian = report.evaluation.subgroups.find((g) => g.value === 'Asian')!;
    expect(asian.intervals).toMatchObject({ accuracy: [1, 1], roc_auc: null });
  });

  it('compares subgroups of enough rows only, and flags a gap beyond the bound', () => {
    const subgroups = [
      { group: 'Gender', value: 'Male', count: 100, recall: 0.9, specificity: 0.8, accuracy: 0.85 },
      { group: 'Gender', value: 'Female', count: 100, recall: 0.75, specificity: 0.82, accuracy: 0.8 },
      { group: 'Ethnicity', value: 'Asian', count: 100, recall: 0.9, specificity: 0.8, accuracy: 0.85 },
      { group: 'Ethnicity', value: 'Other', count: 29, recall: 0.1, specificity: 0.1, accuracy: 0.1 },
    ] as unknown as SubgroupMetrics[];
    const gaps = subgroupGaps(subgroups, 0.1);
    // Ethnicity has one subgroup of MIN_SUBGROUP_ROWS or more: nothing to compare.
    expect(MIN_SUBGROUP_ROWS).toBe(30);
    expect(gaps.map((g) => g.group)).toEqual(['Gender', 'Gender', 'Gender']);
    const recall = gaps.find((g) => g.metric === 'recall')!;
    expect(recall).toMatchObject({
      lowest: { value: 'Female', metric: 0.75 },
      highest: { value: 'Male', metric: 0.9 },
      flagged: true,
    });
    expect(recall.gap).toBeCloseTo(0.15, 12);
    expect(gaps.find((g) => g.metric === 'specificity')!.flagged).toBe(false);
    expect(subgroupGaps(subgroups, 0.2).some((g) => g.flagged)).toBe(false);
  });

  it('draws the decision curve: net benefit by hand, beside treating all', () => {
    const curve = report.evaluation.decision_curve!;
    expect(curve.thresholds).toHaveLength(99);
    const at = (pt: number) => curve.thresholds.indexOf(pt);
    // At 0.5: rows at 0.91, 0.81, 0.71 (positive) and 0.61 (negative) are treated.
    expect(curve.model[at(0.5)]).toBeCloseTo(3 / 8 - (1 / 8) * 1, 12);
    // At 0.2: the positives at 0.41, 0.71, 0.81 and 0.91 and the negatives at 0.21, 0.31 and 0.61.
    expect(curve.model[at(0.2)]).toBeCloseTo(4 / 8 - (3 / 8) * 0.25, 12);
    expect(curve.treat_all[at(0.2)]).toBeCloseTo(0.5 - 0.5 * 0.25, 12);
    expect(curve.treat_all[at(0.5)]).toBeCloseTo(0, 12);
  });

  it('describes the training data and keeps the parameters', () => {
    expect(report.data.rows).toBe(8);
    expect(report.data.fingerprint).toMatch(/^sha256:/);
    expect(report.data.profile.target!.classes.map((c) => c.count)).toEqual([4, 4]);
    expect(report.params).toEqual({ max_depth: 2 });
  });
});

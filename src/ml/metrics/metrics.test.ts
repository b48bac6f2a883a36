import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expectRefusal } from '../../../test/support/onset-error.js';
import {
  averagePrecision,
  BINARY_METRIC_NAMES,
  type BinaryMetrics,
  binaryCurves,
  brierDecomposition,
  brierScore,
  calibrationCurve,
  confusionMatrix,
  confusionMetrics,
  evaluateBinary,
  expectedCalibrationError,
  logLoss,
  precisionRecallCurve,
  rmse,
  rocAuc,
  rocCurve,
  summarizeFolds,
} from './index.js';

interface ThresholdCase {
  readonly threshold: number;
  readonly tp: number;
  readonly fp: number;
  readonly tn: number;
  readonly fn: number;
  readonly accuracy: number;
  readonly precision: number;
  readonly recall: number;
  readonly specificity: number;
  readonly f1: number;
}

interface CalibrationCase {
  readonly n_bins: number;
  readonly prob_true: number[];
  readonly prob_pred: number[];
  readonly counts: number[];
}

interface Curve {
  readonly [key: string]: number[];
}

interface FixtureCase {
  readonly name: string;
  readonly y_true: number[];
  readonly probability: number[];
  readonly threshold_metrics: ThresholdCase[];
  readonly log_loss: number;
  readonly log_loss_machine_eps: number;
  readonly brier: number;
  readonly rmse: number;
  readonly calibration: CalibrationCase[];
  readonly roc_auc?: number;
  readonly pr_auc?: number;
  readonly roc_curve?: Curve;
  readonly roc_curve_dropped?: Curve;
  readonly pr_curve?: Curve;
}

interface Fixture {
  readonly sklearn: string;
  readonly cases: FixtureCase[];
  readonly folds: {
    readonly cases: FixtureCase[];
    readonly summary: Record<string, { mean: number; std: number }>;
  };
}

const fixture = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/metrics/sklearn-metrics.json', import.meta.url), 'utf8'),
) as Fixture;

const TOLERANCE = 1e-12;

/** Absolute tolerance 1e-12 for values up to 1, relative 1e-12 above. */
function expectClose(actual: number, expected: number, label: string): void {
  const bound = TOLERANCE * Math.max(1, Math.abs(expected));
  if (!(Math.abs(actual - expected) <= bound)) {
    expect.fail(
      `${label}: got ${actual}, sklearn ${expected} (|diff| ${Math.abs(actual - expected)} > ${bound})`,
    );
  }
}

function expectCurve(actual: readonly number[], expected: readonly number[], label: string): void {
  expect(actual.length, `${label} length`).toBe(expected.length);
  expected.forEach((value, i) => {
    expectClose(actual[i]!, value, `${label}[${i}]`);
  });
}

function inputs(c: FixtureCase): [Float64Array, Float64Array] {
  return [Float64Array.from(c.y_true), Float64Array.from(c.probability)];
}

describe('fixture', () => {
  it('comes from scikit-learn 1.2 and covers the planned cases', () => {
    expect(fixture.sklearn).toMatch(/^1\.2\./);
    expect(fixture.cases.map((c) => c.name)).toEqual([
      'random_n500',
      'ties_rounded_1dp',
      'ties_rounded_2dp',
      'perfectly_separated',
      'perfectly_inverted',
      'all_same_probability',
      'tiny_n3',
      'exact_zero_and_one',
      'no_predicted_positive',
      'single_class_negative',
      'single_class_positive',
    ]);
  });
});

describe.each(fixture.cases.map((c) => [c.name, c] as const))('matches scikit-learn: %s', (_name, c) => {
  const [y, p] = inputs(c);
  const bothClasses = c.roc_auc !== undefined;

  it('confusion matrix and threshold metrics', () => {
    for (const t of c.threshold_metrics) {
      const matrix = confusionMatrix(y, p, t.threshold);
      expect({ tp: matrix.tp, fp: matrix.fp, tn: matrix.tn, fn: matrix.fn }).toEqual({
        tp: t.tp,
        fp: t.fp,
        tn: t.tn,
        fn: t.fn,
      });
      expect(matrix.n).toBe(c.y_true.length);
      const m = confusionMetrics(matrix);
      for (const key of ['accuracy', 'precision', 'recall', 'specificity', 'f1'] as const) {
        expectClose(m[key], t[key], `${key} @ ${t.threshold}`);
      }
    }
  });

  it('log loss (eps 1e-15 and machine epsilon), Brier score and RMSE', () => {
    expectClose(logLoss(y, p), c.log_loss, 'log_loss');
    expectClose(logLoss(y, p, { eps: Number.EPSILON }), c.log_loss_machine_eps, 'log_loss eps=auto');
    expectClose(brierScore(y, p), c.brier, 'brier');
    expectClose(rmse(y, p), c.rmse, 'rmse');
  });

  it('calibration curve', () => {
    for (const cal of c.calibration) {
      const curve = calibrationCurve(y, p, cal.n_bins);
      expectCurve(curve.probTrue, cal.prob_true, `prob_true (${cal.n_bins} bins)`);
      expectCurve(curve.probPred, cal.prob_pred, `prob_pred (${cal.n_bins} bins)`);
      expect(curve.bins.map((b) => b.count)).toEqual(cal.counts);
      expect(curve.bins.filter((b) => b.count === 0).every((b) => b.meanPredicted === null)).toBe(true);
    }
  });

  if (bothClasses) {
    it('ROC AUC, average precision and curves', () => {
      expectClose(rocAuc(y, p), c.roc_auc!, 'roc_auc');
      expectClose(averagePrecision(y, p), c.pr_auc!, 'pr_auc');
      const roc = rocCurve(y, p);
      expectCurve(roc.fpr, c.roc_curve!.fpr!, 'roc fpr');
      expectCurve(roc.tpr, c.roc_curve!.tpr!, 'roc tpr');
      expectCurve(roc.thresholds, c.roc_curve!.thresholds!, 'roc thresholds');
      const dropped = rocCurve(y, p, { dropIntermediate: true });
      expectCurve(dropped.fpr, c.roc_curve_dropped!.fpr!, 'roc (dropped) fpr');
      expectCurve(dropped.tpr, c.roc_curve_dropped!.tpr!, 'roc (dropped) tpr');
      expectCurve(dropped.thresholds, c.roc_curve_dropped!.thresholds!, 'roc (dropped) thresholds');
      const pr = precisionRecallCurve(y, p);
      expectCurve(pr.precision, c.pr_curve!.precision!, 'pr precision');
      expectCurve(pr.recall, c.pr_curve!.recall!, 'pr recall');
      expectCurve(pr.thresholds, c.pr_curve!.thresholds!, 'pr thresholds');
    });

    it('evaluateBinary and binaryCurves agree with the single metrics', () => {
      for (const t of c.threshold_metrics) {
        const m = evaluateBinary(y, p, { threshold: t.threshold });
        expect(m.threshold).toBe(t.threshold);
        expect([m.tp, m.fp, m.tn, m.fn]).toEqual([t.tp, t.fp, t.tn, t.fn]);
        expect(m.positives).toBe(t.tp + t.fn);
        expect(m.negatives).toBe(t.tn + t.fp);
        for (const key of ['accuracy', 'precision', 'recall', 'specificity', 'f1'] as const) {
          expectClose(m[key], t[key], `evaluateBinary ${key} @ ${t.threshold}`);
        }
        expectClose(m.roc_auc, c.roc_auc!, 'evaluateBinary roc_auc');
        expectClose(m.pr_auc, c.pr_auc!, 'evaluateBinary pr_auc');
        expectClose(m.log_loss, c.log_loss, 'evaluateBinary log_loss');
        expectClose(m.brier, c.brier, 'evaluateBinary brier');
        expectClose(m.rmse, c.rmse, 'evaluateBinary rmse');
      }
      const cal = c.calibration[0]!;
      const curves = binaryCurves(y, p, { calibrationBins: cal.n_bins });
      expectCurve(curves.roc.fpr, c.roc_curve!.fpr!, 'binaryCurves roc fpr');
      expectCurve(curves.precisionRecall.precision, c.pr_curve!.precision!, 'binaryCurves pr precision');
      expectCurve(curves.calibration.probTrue, cal.prob_true, 'binaryCurves prob_true');
    });
  } else {
    it('AUCs, curves and evaluateBinary throw with one class', () => {
      expectRefusal(() => rocAuc(y, p), /rocAuc: yTrue holds only (negatives|positives).*both classes/);
      expectRefusal(() => averagePrecision(y, p), /averagePrecision: yTrue holds only/);
      expectRefusal(() => rocCurve(y, p), /rocCurve: yTrue holds only/);
      expectRefusal(() => precisionRecallCurve(y, p), /precisionRecallCurve: yTrue holds only/);
      expectRefusal(() => evaluateBinary(y, p), /rocAuc: yTrue holds only/);
      expectRefusal(() => binaryCurves(y, p), /rocCurve: yTrue holds only/);
    });
  }
});

describe('summarizeFolds matches numpy mean and std (ddof=0)', () => {
  it('over five folds', () => {
    const perFold = fixture.folds.cases.map((c) => evaluateBinary(...inputs(c)));
    const summary = summarizeFolds(perFold);
    expect(Object.keys(summary)).toEqual([...BINARY_METRIC_NAMES]);
    for (const name of BINARY_METRIC_NAMES) {
      const expected = fixture.folds.summary[name]!;
      expectClose(summary[name].mean, expected.mean, `${name} mean`);
      expectClose(summary[name].std, expected.std, `${name} std`);
    }
  });

  it('gives std 0 for one fold and refuses none', () => {
    const one = evaluateBinary(Float64Array.of(0, 1, 1), Float64Array.of(0.2, 0.7, 0.4));
    const summary = summarizeFolds([one]);
    expect(summary.roc_auc).toEqual({ mean: 1, std: 0 });
    expectRefusal(() => summarizeFolds([]), /summarizeFolds: no folds/);
  });

  it('uses the population std, not the sample std', () => {
    const base = evaluateBinary(Float64Array.of(0, 1), Float64Array.of(0.2, 0.7));
    const folds: BinaryMetrics[] = [
      { ...base, accuracy: 0.5 },
      { ...base, accuracy: 1 },
    ];
    expect(summarizeFolds(folds).accuracy).toEqual({ mean: 0.75, std: 0.25 });
  });
});

describe('hand-checked values', () => {
  it('expected calibration error and the Brier decomposition', () => {
    // Bins (0.1, 0.2]: two rows at 0.15, one positive; (0.8, 0.9]: two rows at 0.85, both positive.
    const y = Float64Array.of(0, 1, 1, 1);
    const p = Float64Array.of(0.15, 0.15, 0.85, 0.85);
    // |0.5 - 0.15| and |1 - 0.85|, each weighted by half the rows.
    expect(expectedCalibrationError(y, p)).toBeCloseTo(0.5 * 0.35 + 0.5 * 0.15, 12);
    const parts = brierDecomposition(y, p);
    expect(parts.brier).toBeCloseTo((0.15 ** 2 + 0.85 ** 2 + 2 * 0.15 ** 2) / 4, 12);
    expect(parts.reliability).toBeCloseTo(0.5 * 0.35 ** 2 + 0.5 * 0.15 ** 2, 12);
    expect(parts.resolution).toBeCloseTo(0.5 * 0.25 ** 2 + 0.5 * 0.25 ** 2, 12);
    expect(parts.uncertainty).toBeCloseTo(0.75 * 0.25, 12);
    // One probability per bin: the decomposition is exact.
    expect(parts.reliability - parts.resolution + parts.uncertainty).toBeCloseTo(parts.brier, 12);
  });

  it('ROC AUC counts a tied (positive, negative) pair as 1/2', () => {
    // pairs (pos, neg): (0.5, 0.5) tie → 0.5; (0.5, 0.1) → 1; (0.9, 0.5) → 1; (0.9, 0.1) → 1
    expect(rocAuc(Float64Array.of(1, 0, 1, 0), Float64Array.of(0.5, 0.5, 0.9, 0.1))).toBe(3.5 / 4);
    expect(rocAuc(Float64Array.of(1, 0), Float64Array.of(0.3, 0.3))).toBe(0.5);
    expect(rocAuc(Float64Array.of(0, 1), Float64Array.of(0.9, 0.1))).toBe(0);
  });

  it('ROC AUC equals the brute-force pair count and ignores row order', () => {
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let trial = 0; trial < 20; trial++) {
      const n = 5 + Math.floor(random() * 60);
      const y = new Float64Array(n);
      const p = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        y[i] = i < 2 ? i : random() < 0.4 ? 1 : 0;
        p[i] = Math.round(random() * 8) / 8;
      }
      let wins = 0;
      let pairs = 0;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          if (y[i] !== 1 || y[j] !== 0) continue;
          pairs++;
          wins += p[i]! > p[j]! ? 1 : p[i] === p[j] ? 0.5 : 0;
        }
      }
      expectClose(rocAuc(y, p), wins / pairs, `trial ${trial}`);
      const reversed = rocAuc(y.slice().reverse(), p.slice().reverse());
      expectClose(reversed, wins / pairs, `trial ${trial} reversed`);
    }
  });

  it('average precision is the step-wise sum, not the trapezoid', () => {
    // sklearn's docstring example: precision [0.5, 0.667, 0.5, 1, 1], recall [1, 1, 0.5, 0.5, 0].
    const y = Float64Array.of(0, 0, 1, 1);
    const p = Float64Array.of(0.1, 0.4, 0.35, 0.8);
    expectClose(averagePrecision(y, p), 0.5 * 1 + 0.5 * (2 / 3), 'ap');
    expect(precisionRecallCurve(y, p).thresholds).toEqual([0.1, 0.35, 0.4, 0.8]);
  });

  it('a row exactly at the threshold is predicted positive', () => {
    const m = confusionMatrix(Float64Array.of(1, 0), Float64Array.of(0.3, 0.3), 0.3);
    expect([m.tp, m.fp, m.tn, m.fn]).toEqual([1, 1, 0, 0]);
    expect(confusionMatrix(Float64Array.of(1, 0), Float64Array.of(0.3, 0.3)).tp).toBe(0);
  });

  it('zero-division cases are 0 (scikit-learn zero_division=0)', () => {
    const none = confusionMetrics(confusionMatrix(Float64Array.of(1, 0), Float64Array.of(0.1, 0.2), 0.9));
    expect(none).toEqual({ accuracy: 0.5, precision: 0, recall: 0, specificity: 1, f1: 0 });
    const noPositives = confusionMetrics(confusionMatrix(Float64Array.of(0, 0), Float64Array.of(0.1, 0.8)));
    expect(noPositives).toEqual({ accuracy: 0.5, precision: 0, recall: 0, specificity: 0.5, f1: 0 });
    const noNegatives = confusionMetrics(confusionMatrix(Float64Array.of(1, 1), Float64Array.of(0.1, 0.8)));
    expect(noNegatives.specificity).toBe(0);
    expect(noNegatives.f1).toBeCloseTo(2 / 3, 15);
  });

  it('log loss clips certain mistakes to a finite cost and is defined with one class', () => {
    expectClose(logLoss(Float64Array.of(1), Float64Array.of(0)), -Math.log(1e-15), 'clip at 1e-15');
    expect(logLoss(Float64Array.of(0, 1), Float64Array.of(0, 1))).toBeLessThan(1e-14);
    expectClose(
      logLoss(Float64Array.of(1, 1), Float64Array.of(0.5, 0.25)),
      -(Math.log(0.5) + Math.log(0.25)) / 2,
      'mean',
    );
    expectRefusal(() => logLoss(Float64Array.of(1), Float64Array.of(0.5), { eps: 0 }), /eps is 0/);
  });

  it('calibration bins: edges, empty bins and the closed upper edge', () => {
    const y = Float64Array.of(0, 1, 1, 0, 1);
    const p = Float64Array.of(0, 0.1, 0.25, 0.5, 1);
    const curve = calibrationCurve(y, p, 4);
    expect(curve.bins.map((b) => [b.lower, b.upper, b.count])).toEqual([
      [0, 0.25, 3],
      [0.25, 0.5, 1],
      [0.5, 0.75, 0],
      [0.75, 1, 1],
    ]);
    expect(curve.bins[0]!.observedRate).toBeCloseTo(2 / 3, 15);
    expect(curve.bins[0]!.meanPredicted).toBeCloseTo(0.35 / 3, 15);
    expect(curve.bins[2]).toMatchObject({ count: 0, meanPredicted: null, observedRate: null });
    expect(curve.probTrue).toHaveLength(3);
    expect(calibrationCurve(y, p).bins).toHaveLength(10);
  });

  it('evaluateBinary returns exactly the documented keys', () => {
    const m = evaluateBinary(Float64Array.of(0, 1, 0, 1), Float64Array.of(0.1, 0.8, 0.6, 0.4));
    expect(Object.keys(m).sort()).toEqual(
      [...BINARY_METRIC_NAMES, 'threshold', 'tp', 'fp', 'tn', 'fn', 'positives', 'negatives', 'n'].sort(),
    );
    expect(m).toMatchObject({ threshold: 0.5, tp: 1, fp: 1, tn: 1, fn: 1, positives: 2, negatives: 2, n: 4 });
    expect(m.roc_auc).toBe(0.75);
  });

  it('sorts n log n: 200k rows in well under a second', () => {
    const n = 200_000;
    const y = new Float64Array(n);
    const p = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = i % 3 === 0 ? 1 : 0;
      p[i] = ((i * 7919) % 1000) / 1000;
    }
    const start = performance.now();
    const m = evaluateBinary(y, p);
    expect(performance.now() - start).toBeLessThan(2000);
    expect(m.n).toBe(n);
  });
});

describe('input validation', () => {
  const y = Float64Array.of(0, 1, 1);
  const p = Float64Array.of(0.2, 0.6, 0.9);

  it('names the first bad index', () => {
    expectRefusal(
      () => evaluateBinary(Float64Array.of(0, 2, 3), p),
      /evaluateBinary: yTrue\[1\] is 2; labels must be 0 or 1/,
    );
    expectRefusal(() => rocAuc(Float64Array.of(0, 1, Number.NaN), p), /yTrue\[2\] is NaN/);
    expectRefusal(
      () => logLoss(y, Float64Array.of(0.2, 1.5, -1)),
      /logLoss: probability\[1\] is 1.5; .*\[0, 1\]/,
    );
    expectRefusal(() => brierScore(y, Float64Array.of(-0.1, 0.5, 0.5)), /probability\[0\] is -0.1/);
    expectRefusal(() => rmse(y, Float64Array.of(0.1, Number.NaN, 0.5)), /probability\[1\] is NaN/);
    expectRefusal(
      () => calibrationCurve(y, Float64Array.of(0.1, 0.2, Infinity)),
      /probability\[2\] is Infinity/,
    );
  });

  it('refuses mismatched lengths and empty input', () => {
    expectRefusal(() => evaluateBinary(y, Float64Array.of(0.5)), /yTrue has 3 values but probability has 1/);
    expectRefusal(() => confusionMatrix(new Float64Array(0), new Float64Array(0)), /no rows/);
  });

  it('refuses bad thresholds and bin counts', () => {
    expectRefusal(() => evaluateBinary(y, p, { threshold: 1.2 }), /threshold is 1.2/);
    expectRefusal(() => confusionMatrix(y, p, Number.NaN), /threshold is NaN/);
    expectRefusal(() => evaluateBinary(y, p, { calibrationBins: 0 }), /calibrationBins is 0/);
    expectRefusal(() => calibrationCurve(y, p, 2.5), /calibrationBins is 2.5/);
    expectRefusal(() => binaryCurves(y, p, { calibrationBins: -1 }), /calibrationBins is -1/);
  });
});

import { describe, expect, it } from 'vitest';
import { expectRefusal } from '../../../test/support/onset-error.js';
import { rocAuc } from '../../ml/metrics/index.js';
import { Random } from '../../util/random.js';
import { ESTIMATED_METRICS } from '../metric-names.js';
import { needsCalibration } from './calibration-check.js';
import { CbpeEstimator, expectedRocAuc } from './cbpe.js';
import { realizedPerformance } from './realized.js';

const f = (values: number[]) => Float64Array.from(values);

/** `n` scores, with labels drawn from `truth(score)`: calibrated when `truth` is the identity. */
function draw(n: number, seed: number, truth: (p: number) => number = (p) => p) {
  const random = new Random(seed);
  const probability = new Float64Array(n);
  const label = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // Scores rounded to 2 decimals, so ties occur as they do with tree models.
    const p = Math.round(random.next() * 100) / 100;
    probability[i] = p;
    label[i] = random.next() < truth(p) ? 1 : 0;
  }
  const prediction = probability.map((p) => (p >= 0.5 ? 1 : 0));
  return { probability, label, prediction };
}

describe('expectedRocAuc', () => {
  it('equals the realized ROC AUC when the "probabilities" are the labels themselves (ties included)', () => {
    const { probability, label } = draw(2_000, 1);
    expect(expectedRocAuc(probability, label)).toBeCloseTo(rocAuc(label, probability), 12);
  });
});

describe('CbpeEstimator', () => {
  const reference = draw(4_000, 2);

  it('builds the expected confusion matrix from calibrated probabilities', () => {
    const estimator = CbpeEstimator.fit(reference, { calibration: 'none' });
    const estimate = estimator.estimate({ probability: f([0.9, 0.6, 0.3]) });
    const { tp, fp, tn, fn } = estimate.expectedConfusion;
    expect([tp, fp, tn, fn].map((x) => Number(x.toFixed(12)))).toEqual([1.5, 0.5, 0.7, 0.3]);
    const m = estimate.metrics;
    expect(m.accuracy.estimate).toBeCloseTo(2.2 / 3, 12);
    expect(m.recall.estimate).toBeCloseTo(1.5 / 1.8, 12);
    expect(m.specificity.estimate).toBeCloseTo(0.7 / 1.2, 12);
    // With c = p the expected squared error of each row is p(1 − p).
    expect(m.brier.estimate).toBeCloseTo((0.09 + 0.24 + 0.21) / 3, 12);
    // Ranked 0.9, 0.6, 0.3 with positive mass 0.9, 0.6, 0.3 and negative mass 0.1, 0.4, 0.7: the pairs
    // (higher positive, lower negative) 0.9 · (0.4 + 0.7) + 0.6 · 0.7, plus each row's tie with itself
    // counted 1/2, over 1.8 × 1.2 expected pairs.
    const auc = (0.9 * 1.1 + 0.6 * 0.7 + 0.5 * (0.09 + 0.24 + 0.21)) / (1.8 * 1.2);
    expect(m.roc_auc.estimate).toBeCloseTo(auc, 12);
    // The band is ±3 sampling errors, clipped to [0, 1].
    expect(m.accuracy.lower).toBeCloseTo(
      Math.max(0, m.accuracy.estimate! - 3 * m.accuracy.samplingError!),
      12,
    );
    expect(m.accuracy.upper).toBe(1);
  });

  it('estimates the realized metrics of calibrated scores closely', () => {
    const estimator = CbpeEstimator.fit(reference);
    const analysis = draw(5_000, 3);
    const estimate = estimator.estimate({ probability: analysis.probability });
    const realized = realizedPerformance(analysis);
    for (const name of ESTIMATED_METRICS) {
      const e = estimate.metrics[name];
      const r = realized.metrics[name].value!;
      expect(Math.abs(e.estimate! - r), name).toBeLessThan(0.02);
      expect(r, name).toBeGreaterThanOrEqual(e.lower!);
      expect(r, name).toBeLessThanOrEqual(e.upper!);
    }
  });

  it('calibrates miscalibrated scores on the reference (isotonic), and is wrong without it', () => {
    const overconfident = (p: number) => p * p;
    const skewedReference = draw(4_000, 4, overconfident);
    expect(needsCalibration(skewedReference.label, skewedReference.probability)).toBe(true);
    const calibrated = CbpeEstimator.fit(skewedReference);
    expect(calibrated.calibrated).toBe(true);
    const raw = CbpeEstimator.fit(skewedReference, { calibration: 'none' });

    const analysis = draw(5_000, 5, overconfident);
    const realized = realizedPerformance(analysis).metrics;
    const good = calibrated.estimate({ probability: analysis.probability }).metrics;
    const bad = raw.estimate({ probability: analysis.probability }).metrics;
    for (const name of ['roc_auc', 'recall'] as const) {
      expect(Math.abs(good[name].estimate! - realized[name].value!), name).toBeLessThan(0.015);
      expect(Math.abs(bad[name].estimate! - realized[name].value!), name).toBeGreaterThan(0.04);
    }
  });

  it('has sampling errors that match the spread of the metrics over reference-sized chunks', () => {
    // 100 chunks of 500 calibrated records: the standard deviation of each realized metric across chunks is
    // what the sampling error of a 500-record window predicts.
    const estimator = CbpeEstimator.fit(reference);
    const chunks = Array.from({ length: 100 }, (_, k) => realizedPerformance(draw(500, 100 + k)));
    const probe = estimator.estimate({ probability: draw(500, 99).probability });
    for (const name of ESTIMATED_METRICS) {
      const values = chunks.map((chunk) => chunk.metrics[name].value!);
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const spread = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
      const ratio = probe.metrics[name].samplingError! / spread;
      expect(ratio, `${name}: sampling error / observed spread`).toBeGreaterThan(0.8);
      expect(ratio, `${name}: sampling error / observed spread`).toBeLessThan(1.25);
    }
  });

  it('answers an empty window and one without expected negatives with undefined metrics and reasons', () => {
    const estimator = CbpeEstimator.fit(reference, { calibration: 'none' });
    const empty = estimator.estimate({ probability: f([]) });
    expect(empty.records).toBe(0);
    for (const name of ESTIMATED_METRICS) {
      expect(empty.metrics[name]).toMatchObject({
        estimate: null,
        undefinedReason: 'no predictions in the window',
      });
    }
    const certain = estimator.estimate({ probability: f([1, 1]) });
    expect(certain.metrics.roc_auc.estimate).toBeNull();
    expect(certain.metrics.roc_auc.undefinedReason).toMatch(/no negative/);
    expect(certain.metrics.specificity.estimate).toBeNull();
    expect(certain.metrics.recall.estimate).toBe(1);
  });

  it('judges the predictions as served when they are given', () => {
    const estimator = CbpeEstimator.fit(reference, { calibration: 'none' });
    // At 0.5 the record would be negative; the server answered 1 (another threshold).
    const served = estimator.estimate({ probability: f([0.4]), prediction: f([1]) });
    expect(served.expectedConfusion.tp).toBeCloseTo(0.4, 15);
    expect(served.expectedConfusion.fp).toBeCloseTo(0.6, 15);
  });

  it('round-trips through JSON and estimates the same', () => {
    const estimator = CbpeEstimator.fit(draw(1_000, 6, (p) => p * p));
    const copy = CbpeEstimator.fromJSON(JSON.parse(JSON.stringify(estimator)));
    expect(copy.toJSON()).toEqual(estimator.toJSON());
    const probability = draw(300, 7).probability;
    expect(copy.estimate({ probability })).toEqual(estimator.estimate({ probability }));
    expectRefusal(() => CbpeEstimator.fromJSON({ name: 'gbdt' }), 'not a CBPE state');
  });

  it('refuses a reference it cannot learn from, naming what is missing', () => {
    expectRefusal(
      () => CbpeEstimator.fit({ probability: f(Array(30).fill(0.9)), label: f(Array(30).fill(1)) }),
      'the reference has 30 records, 30 positive and 0 negative; it needs at least 20 records and 5 of each class',
    );
    expectRefusal(
      () => CbpeEstimator.fit({ probability: f([0.5, 2]), label: f([1, 0]) }),
      'probability[1] is 2',
    );
    expectRefusal(() => CbpeEstimator.fit(reference, { threshold: 1.5 }), 'threshold is 1.5');
    expectRefusal(
      () => CbpeEstimator.fit(reference, { calibration: 'platt' as 'none' }),
      "calibration is 'platt'; it must be one of auto, isotonic, none",
    );
  });
});

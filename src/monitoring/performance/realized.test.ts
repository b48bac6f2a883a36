import { describe, expect, it } from 'vitest';
import { expectRefusal } from '../../../test/support/onset-error.js';
import { parseWindow } from '../time-window.js';
import { realizedPerformance, rollingRealizedPerformance } from './realized.js';

const f = (values: number[]) => Float64Array.from(values);

describe('realizedPerformance', () => {
  it('measures accuracy, recall and specificity on the served predictions, AUC and Brier on the probabilities', () => {
    // 3 positives, 3 negatives; the served prediction of row 2 disagrees with its probability on purpose:
    // the confusion metrics judge what was answered.
    const result = realizedPerformance({
      probability: f([0.9, 0.8, 0.3, 0.6, 0.2, 0.1]),
      prediction: f([1, 1, 1, 1, 0, 0]),
      label: f([1, 1, 0, 1, 0, 0]),
    });
    expect(result).toMatchObject({ records: 6, positives: 3, negatives: 3 });
    const m = result.metrics;
    // tp 3, fp 1 (row 2), tn 2, fn 0
    expect(m.accuracy.value).toBeCloseTo(5 / 6, 15);
    expect(m.recall.value).toBe(1);
    expect(m.specificity.value).toBeCloseTo(2 / 3, 15);
    // Every positive (0.9, 0.8, 0.6) outranks every negative (0.3, 0.2, 0.1).
    expect(m.roc_auc).toEqual({ value: 1, undefinedReason: null });
    const brier = (0.01 + 0.04 + 0.09 + 0.16 + 0.04 + 0.01) / 6;
    expect(m.brier.value).toBeCloseTo(brier, 15);
  });

  it('computes the ECE over equal-width bins, with the reliability bins it comes from', () => {
    // Bin (0.1, 0.2]: 0.15, 0.15 with labels 0, 1 → |0.15 − 0.5| = 0.35, weight 2/4.
    // Bin (0.8, 0.9]: 0.85, 0.85 with labels 1, 1 → |0.85 − 1| = 0.15, weight 2/4.
    const result = realizedPerformance({
      probability: f([0.15, 0.15, 0.85, 0.85]),
      prediction: f([0, 0, 1, 1]),
      label: f([0, 1, 1, 1]),
    });
    expect(result.metrics.ece.value).toBeCloseTo(0.5 * 0.35 + 0.5 * 0.15, 12);
    expect(result.calibration).toHaveLength(10);
    expect(result.calibration[1]).toMatchObject({ count: 2, observedRate: 0.5 });
    expect(result.calibration[1]!.meanPredicted).toBeCloseTo(0.15, 15);
    expect(result.calibration[8]).toMatchObject({ count: 2, observedRate: 1 });
    expect(result.calibration[5]).toMatchObject({ count: 0, meanPredicted: null, observedRate: null });
  });

  it('says ROC AUC is undefined with one class rather than inventing 0.5, and keeps what is defined', () => {
    const onlyPositives = realizedPerformance({
      probability: f([0.9, 0.4]),
      prediction: f([1, 0]),
      label: f([1, 1]),
    });
    expect(onlyPositives.metrics.roc_auc.value).toBeNull();
    expect(onlyPositives.metrics.roc_auc.undefinedReason).toMatch(/only positives .* both classes/);
    expect(onlyPositives.metrics.specificity).toEqual({
      value: null,
      undefinedReason: 'no negative (0) among the labels',
    });
    expect(onlyPositives.metrics.recall.value).toBe(0.5);
    expect(onlyPositives.metrics.accuracy.value).toBe(0.5);

    const onlyNegatives = realizedPerformance({ probability: f([0.1]), prediction: f([0]), label: f([0]) });
    expect(onlyNegatives.metrics.roc_auc.undefinedReason).toMatch(/only negatives/);
    expect(onlyNegatives.metrics.recall.undefinedReason).toBe('no positive (1) among the labels');
    expect(onlyNegatives.metrics.specificity.value).toBe(1);
  });

  it('answers an empty window with every metric undefined, saying why', () => {
    const result = realizedPerformance({ probability: f([]), prediction: f([]), label: f([]) });
    expect(result.records).toBe(0);
    for (const metric of Object.values(result.metrics)) {
      expect(metric).toEqual({ value: null, undefinedReason: 'no labelled predictions' });
    }
    expect(result.calibration.every((bin) => bin.count === 0)).toBe(true);
  });

  it('refuses bad columns, naming the column and the index', () => {
    expectRefusal(
      () => realizedPerformance({ probability: f([0.5, 1.5]), prediction: f([1, 1]), label: f([1, 0]) }),
      'probability[1] is 1.5',
    );
    expectRefusal(
      () => realizedPerformance({ probability: f([0.5]), prediction: f([2]), label: f([1]) }),
      'prediction[0] is 2; classes must be 0 or 1',
    );
    expectRefusal(
      () => realizedPerformance({ probability: f([0.5]), prediction: f([1]), label: f([1, 0]) }),
      'label has 2 values but probability has 1',
    );
    expectRefusal(
      () =>
        realizedPerformance(
          { probability: f([0.5]), prediction: f([1]), label: f([1]) },
          { calibrationBins: 0 },
        ),
      'calibrationBins is 0',
    );
  });
});

describe('rollingRealizedPerformance', () => {
  const HOUR = 3_600_000;
  const now = 1_700_000_000_000;
  const rows = {
    // 30 min ago (right), 5 h ago (wrong), 2 days ago (right), in the future (left out), exactly 1 h ago (left out of 1h).
    timeMs: f([now - HOUR / 2, now - 5 * HOUR, now - 48 * HOUR, now + 1, now - HOUR]),
    probability: f([0.9, 0.8, 0.2, 0.9, 0.1]),
    prediction: f([1, 1, 0, 1, 0]),
    label: f([1, 0, 0, 0, 0]),
  };

  it('measures each window (now − duration, now] on prediction time', () => {
    const windows = ['1h', '24h', '7d'].map(parseWindow);
    const result = rollingRealizedPerformance(rows, windows, now);
    expect(result.map((w) => [w.window, w.performance.records])).toEqual([
      ['1h', 1],
      ['24h', 3],
      ['7d', 4],
    ]);
    expect(result[0]).toMatchObject({ fromMs: now - HOUR, toMs: now });
    expect(result[0]!.performance.metrics.accuracy.value).toBe(1);
    expect(result[0]!.performance.metrics.roc_auc.value).toBeNull();
    expect(result[1]!.performance.metrics.accuracy.value).toBeCloseTo(2 / 3, 15);
    expect(result[2]!.performance.metrics.accuracy.value).toBe(0.75);
    expect(result[2]!.performance.metrics.roc_auc.value).toBe(1);
  });

  it('refuses times that are not finite', () => {
    expectRefusal(
      () => rollingRealizedPerformance({ ...rows, timeMs: f([0, 0, Number.NaN, 0, 0]) }, [], now),
      'timeMs[2] is NaN',
    );
  });
});

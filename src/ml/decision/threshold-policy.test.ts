/**
 * Threshold policies: read and written back, refused with what was wrong, and each choice checked against
 * a brute-force search over every threshold that decides the patients differently.
 */
import { describe, expect, it } from 'vitest';
import { refusalOf } from '../../../test/support/onset-error.js';
import { stratifiedKFold } from '../../data/splits.js';
import { Random } from '../../util/random.js';
import {
  between,
  chooseThreshold,
  costPerPatient,
  decisionThreshold,
  formatThresholdPolicy,
  parseThresholdPolicy,
  type ThresholdPolicy,
  thresholdFigures,
} from './threshold-policy.js';

/** Probabilities on a coarse grid (many ties) and labels drawn from them. */
function heldOut(rows: number, seed: number): { probability: Float64Array; target: Float64Array } {
  const random = new Random(seed);
  const probability = new Float64Array(rows);
  const target = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    probability[i] = Math.round(random.next() * 40) / 40;
    target[i] = random.next() < probability[i]! ? 1 : 0;
  }
  return { probability, target };
}

/** Every threshold worth trying: each distinct probability (p >= it) and one above them all. */
function everyThreshold(probability: Float64Array): number[] {
  return [...new Set(probability), 1.01].sort((a, b) => a - b);
}

describe('parseThresholdPolicy', () => {
  it('reads each policy and writes it back', () => {
    const cases: [string, ThresholdPolicy][] = [
      ['0.5', { kind: 'fixed', threshold: 0.5 }],
      ['fixed:0.3', { kind: 'fixed', threshold: 0.3 }],
      ['sensitivity:0.95', { kind: 'min_sensitivity', sensitivity: 0.95 }],
      [' cost:5 ', { kind: 'cost_ratio', ratio: 5 }],
    ];
    for (const [text, policy] of cases) {
      expect(parseThresholdPolicy(text, '--threshold')).toEqual(policy);
      expect(parseThresholdPolicy(formatThresholdPolicy(policy), 'again')).toEqual(policy);
    }
  });

  it('refuses what is not a policy, saying the rule and the syntax', () => {
    const refusals: [string, string][] = [
      ['1.5', 'a fixed threshold is a number between 0 and 1'],
      ['0', 'a fixed threshold is a number between 0 and 1'],
      ['sensitivity:1.2', 'the minimum sensitivity is a number in (0, 1]'],
      ['sensitivity:high', 'the minimum sensitivity is a number in (0, 1]'],
      ['cost:-2', 'the cost ratio (of a missed diagnosis to a false one) is a positive number'],
      ['recall:0.9', '"recall" is not a policy (fixed, sensitivity or cost)'],
      ['cost:5:1', 'it has more than one ":"'],
    ];
    for (const [text, rule] of refusals) {
      const error = refusalOf(() => parseThresholdPolicy(text, '--threshold'));
      expect(error.message).toContain(`--threshold: "${text}" is not a threshold policy: ${rule}`);
      expect(error.message).toContain('sensitivity:0.95 or cost:5');
    }
  });
});

describe('chooseThreshold', () => {
  it('a minimum sensitivity: the best specificity any threshold keeping it gives', () => {
    for (const seed of [1, 2, 3]) {
      const data = heldOut(600, seed);
      for (const sensitivity of [0.8, 0.9, 0.95, 1]) {
        const chosen = chooseThreshold({ kind: 'min_sensitivity', sensitivity }, data);
        const figures = thresholdFigures(data.target, data.probability, chosen.value);
        expect(figures.sensitivity).toBeGreaterThanOrEqual(sensitivity);
        expect(chosen.held_out).toEqual(figures);
        const bestSpecificity = Math.max(
          ...everyThreshold(data.probability)
            .map((t) => thresholdFigures(data.target, data.probability, t))
            .filter((f) => f.sensitivity >= sensitivity)
            .map((f) => f.specificity),
        );
        expect(figures.specificity).toBe(bestSpecificity);
        // Halfway between two neighbouring probabilities, not on one.
        expect(data.probability.includes(chosen.value)).toBe(false);
        expect(chosen.reason).toContain(`out-of-fold sensitivity is at least ${sensitivity}`);
      }
    }
  });

  it('a cost ratio: the lowest cost of any threshold, and near 1 / (1 + ratio) for calibrated probabilities', () => {
    const data = heldOut(4000, 9);
    for (const ratio of [0.5, 1, 3, 10]) {
      const chosen = chooseThreshold({ kind: 'cost_ratio', ratio }, data);
      const lowest = Math.min(
        ...everyThreshold(data.probability).map((t) =>
          costPerPatient(data.target, data.probability, t, ratio),
        ),
      );
      expect(chosen.cost_per_patient).toBeCloseTo(lowest, 12);
      expect(costPerPatient(data.target, data.probability, chosen.value, ratio)).toBeCloseTo(lowest, 12);
      // The probabilities are calibrated (labels drawn from them): the cost is lowest near the Bayes threshold.
      expect(Math.abs(chosen.value - 1 / (1 + ratio))).toBeLessThan(0.08);
      expect(chosen.reason).toContain(`a missed diagnosis costs ${ratio} false ones`);
    }
  });

  it('cross-fits a chosen threshold: each fold decided at the threshold chosen on the other folds', () => {
    const data = heldOut(1500, 12);
    const policy: ThresholdPolicy = { kind: 'min_sensitivity', sensitivity: 0.9 };
    const chosen = chooseThreshold(policy, { ...data, crossFit: { folds: 5, seed: 7 } });
    expect(chosen.value).toBe(chooseThreshold(policy, data).value);
    const decided = new Float64Array(data.target.length);
    for (const split of stratifiedKFold(data.target, 5, 7)) {
      const t = chooseThreshold(policy, {
        probability: Float64Array.from(split.train, (i) => data.probability[i]!),
        target: Float64Array.from(split.train, (i) => data.target[i]!),
      }).value;
      for (const i of split.test) decided[i] = data.probability[i]! >= t ? 1 : 0;
    }
    expect(chosen.cross_fitted).toEqual({ ...thresholdFigures(data.target, decided, 0.5), folds: 5 });
    // Held out of the choice, the sensitivity lands near the target, not at or above it by construction.
    expect(Math.abs(chosen.cross_fitted!.sensitivity - 0.9)).toBeLessThan(0.03);
    // A fixed threshold has nothing to cross-fit.
    expect(
      chooseThreshold({ kind: 'fixed', threshold: 0.5 }, { ...data, crossFit: { folds: 5, seed: 7 } })
        .cross_fitted,
    ).toBeUndefined();
  });

  it('a fixed threshold is kept as named, with its held-out figures when there are any', () => {
    const data = heldOut(300, 4);
    const fixed = chooseThreshold({ kind: 'fixed', threshold: 0.3 }, data);
    expect(fixed.value).toBe(0.3);
    expect(fixed.held_out).toEqual(thresholdFigures(data.target, data.probability, 0.3));
    const alone = chooseThreshold({ kind: 'fixed', threshold: 0.5 }, undefined);
    expect(alone).toEqual({
      value: 0.5,
      policy: { kind: 'fixed', threshold: 0.5 },
      reason: 'the default threshold 0.5, named in advance',
    });
    expect(decisionThreshold({})).toBe(0.5);
    expect(decisionThreshold({ threshold: fixed })).toBe(0.3);
  });

  it('refuses a policy that needs out-of-fold probabilities without them', () => {
    const error = refusalOf(() => chooseThreshold({ kind: 'min_sensitivity', sensitivity: 0.95 }, undefined));
    expect(error.message).toContain('sensitivity:0.95 needs out-of-fold probabilities');
  });
});

describe('between', () => {
  it('gives the shortest decimal in the middle half of the gap', () => {
    expect(between(0.5, 0.6)).toBe(0.53);
    expect(between(0.51, 0.53)).toBe(0.52);
    expect(between(0.511, 0.512)).toBe(0.5113);
    expect(between(0.1, 0.9)).toBe(0.3);
    const random = new Random(3);
    for (let k = 0; k < 10_000; k++) {
      const low = random.next();
      const high = low + random.next() ** 6 * (1 - low);
      if (!(high > low)) continue;
      const t = between(low, high);
      expect(t).toBeGreaterThan(low);
      expect(t).toBeLessThanOrEqual(high);
    }
  });
});

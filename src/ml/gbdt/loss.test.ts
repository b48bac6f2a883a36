import { describe, expect, it } from 'vitest';
import { logit, sigmoid } from '../../math/sigmoid.js';
import { leafWeight, logisticGradients, meanLogLoss, nodeGain } from './loss.js';

/** The (weighted) log loss of one row at margin m. */
function rowLoss(m: number, y: number, positiveWeight: number): number {
  const p = 1 / (1 + Math.exp(-m));
  return y === 1 ? -positiveWeight * Math.log(p) : -Math.log(1 - p);
}

const margins = Float64Array.from([-4, -1.5, -0.2, 0, 0.3, 1, 2.5, 4]);
const labels = Float64Array.from([0, 1, 0, 1, 1, 0, 1, 0]);

describe('logisticGradients', () => {
  for (const positiveWeight of [1, 3.5]) {
    it(`equals finite-difference derivatives of the log loss (scale_pos_weight ${positiveWeight})`, () => {
      const grad = new Float64Array(margins.length);
      const hess = new Float64Array(margins.length);
      logisticGradients(margins, labels, positiveWeight, grad, hess);
      const step = 1e-4;
      margins.forEach((m, i) => {
        const y = labels[i]!;
        const up = rowLoss(m + step, y, positiveWeight);
        const mid = rowLoss(m, y, positiveWeight);
        const down = rowLoss(m - step, y, positiveWeight);
        expect(grad[i]).toBeCloseTo((up - down) / (2 * step), 7);
        expect(hess[i]).toBeCloseTo((up - 2 * mid + down) / (step * step), 5);
      });
    });
  }

  it('multiplies gradient and hessian of positive rows only by scale_pos_weight', () => {
    const g1 = new Float64Array(margins.length);
    const h1 = new Float64Array(margins.length);
    const g4 = new Float64Array(margins.length);
    const h4 = new Float64Array(margins.length);
    logisticGradients(margins, labels, 1, g1, h1);
    logisticGradients(margins, labels, 4, g4, h4);
    labels.forEach((y, i) => {
      const factor = y === 1 ? 4 : 1;
      expect(g4[i]).toBeCloseTo(g1[i]! * factor, 14);
      expect(h4[i]).toBeCloseTo(h1[i]! * factor, 14);
    });
    expect(g1[1]).toBeCloseTo(sigmoid(-1.5) - 1, 14);
    expect(g1[0]).toBeCloseTo(sigmoid(-4), 14);
  });

  it('keeps hessians at least 1e-16 (XGBoost’s clamp) where the sigmoid saturates', () => {
    const grad = new Float64Array(2);
    const hess = new Float64Array(2);
    logisticGradients(Float64Array.from([60, -60]), Float64Array.from([1, 0]), 1, grad, hess);
    expect(Array.from(hess)).toEqual([1e-16, 1e-16]);
  });
});

describe('meanLogLoss', () => {
  it('is the mean negative log-likelihood of the margins', () => {
    let expected = 0;
    margins.forEach((m, i) => {
      expected += rowLoss(m, labels[i]!, 1);
    });
    expect(meanLogLoss(margins, labels)).toBeCloseTo(expected / margins.length, 12);
  });

  it('stays finite for confidently wrong margins (probabilities clipped as XGBoost)', () => {
    const loss = meanLogLoss(Float64Array.from([1000, -1000]), Float64Array.from([0, 1]));
    expect(Number.isFinite(loss)).toBe(true);
    // Each row's probability is clipped to 1e-16 away from the wrong certainty.
    expect(loss).toBeCloseTo((-Math.log(1e-16) - Math.log(1 - (1 - 1e-16))) / 2, 10);
    expect(loss).toBeGreaterThan(36);
  });
});

describe('sigmoid and logit', () => {
  it('are inverses', () => {
    for (const p of [0.01, 0.3, 0.5, 0.9]) expect(sigmoid(logit(p))).toBeCloseTo(p, 14);
    expect(logit(0.5)).toBe(0);
  });
});

const plain = { reg_lambda: 1, reg_alpha: 0, max_delta_step: 0 };

describe('leafWeight (XGBoost CalcWeight before shrinkage)', () => {
  it('is -G/(H+lambda)', () => {
    expect(leafWeight(3, 2, plain)).toBeCloseTo(-1, 15);
    expect(leafWeight(-1, 1, { ...plain, reg_lambda: 3 })).toBeCloseTo(0.25, 15);
  });

  it('soft-thresholds G by reg_alpha', () => {
    const params = { ...plain, reg_alpha: 1 };
    expect(leafWeight(3, 2, params)).toBeCloseTo(-2 / 3, 15);
    expect(leafWeight(-3, 2, params)).toBeCloseTo(2 / 3, 15);
    expect(Math.abs(leafWeight(0.5, 2, params))).toBe(0);
    expect(Math.abs(leafWeight(-1, 2, params))).toBe(0);
  });

  it('clips the weight to ±max_delta_step', () => {
    expect(leafWeight(3, 2, { ...plain, max_delta_step: 0.5 })).toBe(-0.5);
    expect(leafWeight(-3, 2, { ...plain, max_delta_step: 0.5 })).toBe(0.5);
    expect(leafWeight(0.3, 2, { ...plain, max_delta_step: 0.5 })).toBeCloseTo(-0.1, 15);
    // L1 applies before the clip: T = 2, w = -2/3 -> -0.5.
    expect(leafWeight(3, 2, { ...plain, reg_alpha: 1, max_delta_step: 0.5 })).toBe(-0.5);
  });

  it('is 0 without hessian', () => {
    expect(leafWeight(5, 0, plain)).toBe(0);
  });
});

describe('nodeGain (XGBoost CalcGain: no 1/2 factor)', () => {
  it('is G^2/(H+lambda) without L1 or a step limit', () => {
    expect(nodeGain(3, 2, plain)).toBeCloseTo(3, 14);
    expect(nodeGain(-3, 2, { ...plain, reg_lambda: 0.5 })).toBeCloseTo(9 / 2.5, 14);
  });

  it('uses the L1-thresholded gradient with reg_alpha', () => {
    expect(nodeGain(3, 2, { ...plain, reg_alpha: 1 })).toBeCloseTo(4 / 3, 14);
    expect(nodeGain(0.5, 2, { ...plain, reg_alpha: 1 })).toBe(0);
  });

  it('with max_delta_step is -(2Gw + (H+lambda)w^2) at the clipped weight', () => {
    // w = -1 clipped to -0.5: -(2*3*(-0.5) + 3*0.25) = 2.25 (less than the unclipped 3).
    expect(nodeGain(3, 2, { ...plain, max_delta_step: 0.5 })).toBeCloseTo(2.25, 14);
    expect(nodeGain(-3, 2, { ...plain, max_delta_step: 0.5 })).toBeCloseTo(2.25, 14);
  });

  it('with max_delta_step and reg_alpha follows XGBoost 1.7 hist: the clipped weight, no L1 term', () => {
    // T = 2, w = -2/3 clipped to -0.5: -(2 * 3 * -0.5 + 3 * 0.25) = 2.25.
    expect(nodeGain(3, 2, { ...plain, reg_alpha: 1, max_delta_step: 0.5 })).toBeCloseTo(2.25, 14);
  });

  it('with a step limit that does not bind uses the L1-thresholded weight', () => {
    // w = -2/3 (not clipped): -(2 * 3 * -2/3 + 3 * 4/9) = 8/3, which XGBoost's evaluator reports.
    expect(nodeGain(3, 2, { ...plain, reg_alpha: 1, max_delta_step: 10 })).toBeCloseTo(8 / 3, 12);
  });

  it('is 0 without hessian', () => {
    expect(nodeGain(3, 0, plain)).toBe(0);
  });
});

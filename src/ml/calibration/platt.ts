import { invalidParameter } from '../../errors.js';
import { sigmoid, softplus } from '../../math/sigmoid.js';
import { checkFitRows, smoothedTargets } from './fit-rows.js';

/**
 * Platt scaling: P(y = 1 | score) = 1 / (1 + exp(a * score + b)), fitted as scikit-learn's
 * `_SigmoidCalibration` fits it (the calibrator of `CalibratedClassifierCV(method='sigmoid')`): the log
 * loss against Platt's smoothed targets, (N+ + 1) / (N+ + 2) for a positive and 1 / (N- + 2) for a
 * negative, so that a perfectly separated fold does not drive the sigmoid to a step. The score Onset gives
 * it is a model's log-odds.
 */
export class PlattCalibrator {
  private constructor(
    readonly a: number,
    readonly b: number,
  ) {}

  /** A calibrator from its two numbers (a saved pair); both finite. */
  static fromParameters(a: number, b: number): PlattCalibrator {
    if (!Number.isFinite(a) || !Number.isFinite(b)) {
      throw invalidParameter(`PlattCalibrator: a and b must be finite numbers, got ${a} and ${b}`);
    }
    return new PlattCalibrator(a, b);
  }

  /**
   * Fits by Newton's method with a backtracking line search (Lin, Lin and Weng's algorithm for Platt's
   * problem, which is convex), from scikit-learn's start: a = 0, b = log((N- + 1) / (N+ + 1)). Scores
   * must be finite and targets 0 or 1; at least one row.
   */
  static fit(score: Float64Array, target: Float64Array): PlattCalibrator {
    const n = score.length;
    checkFitRows('PlattCalibrator.fit', score, target);
    let positives = 0;
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(score[i]!) || (target[i] !== 0 && target[i] !== 1)) {
        throw invalidParameter(
          `PlattCalibrator.fit: row ${i} has score ${score[i]} and target ${target[i]}; scores must be finite and targets 0 or 1`,
        );
      }
      positives += target[i]!;
    }
    const negatives = n - positives;
    const t = smoothedTargets(target, positives);

    /** The objective at (a, b): the sum of -t log p - (1 - t) log(1 - p), computed without overflow. */
    const objective = (a: number, b: number): number => {
      let sum = 0;
      for (let i = 0; i < n; i++) {
        // p = 1 / (1 + exp(z)): -log p = log(1 + exp(z)), -log(1 - p) = log(1 + exp(-z)).
        const z = a * score[i]! + b;
        sum += t[i]! * softplus(z) + (1 - t[i]!) * softplus(-z);
      }
      return sum;
    };

    let a = 0;
    let b = Math.log((negatives + 1) / (positives + 1));
    let value = objective(a, b);
    for (let iteration = 0; iteration < 100; iteration++) {
      // Gradient and Hessian of the objective (a tiny ridge keeps the Hessian invertible).
      let ga = 0;
      let gb = 0;
      let haa = 1e-12;
      let hab = 0;
      let hbb = 1e-12;
      for (let i = 0; i < n; i++) {
        const f = score[i]!;
        const p = sigmoid(-(a * f + b));
        const d = t[i]! - p;
        ga += d * f;
        gb += d;
        const w = p * (1 - p);
        haa += w * f * f;
        hab += w * f;
        hbb += w;
      }
      if (Math.abs(ga) < 1e-10 && Math.abs(gb) < 1e-10) break;
      const determinant = haa * hbb - hab * hab;
      const stepA = -(hbb * ga - hab * gb) / determinant;
      const stepB = -(-hab * ga + haa * gb) / determinant;
      const slope = ga * stepA + gb * stepB;
      let scale = 1;
      let improved = false;
      while (scale >= 1e-10) {
        const nextA = a + scale * stepA;
        const nextB = b + scale * stepB;
        const next = objective(nextA, nextB);
        if (next <= value + 1e-4 * scale * slope) {
          a = nextA;
          b = nextB;
          improved = value - next > 1e-15 * Math.max(1, Math.abs(value));
          value = next;
          break;
        }
        scale /= 2;
      }
      if (!improved) break;
    }
    return new PlattCalibrator(a, b);
  }

  /** The calibrated probability of each score. */
  calibrate(score: Float64Array): Float64Array {
    const out = new Float64Array(score.length);
    for (let i = 0; i < score.length; i++) out[i] = this.calibrateOne(score[i]!);
    return out;
  }

  calibrateOne(score: number): number {
    return sigmoid(-(this.a * score + this.b));
  }
}

import { invalidParameter } from '../../errors.js';
import { choleskySolve } from '../../math/linalg.js';
import { createMatrix } from '../../math/matrix.js';
import { sigmoid, softplus } from '../../math/sigmoid.js';
import { checkFitRows, smoothedTargets } from './fit-rows.js';

/**
 * Logistic calibration on a monotone cubic of the probability: P(y = 1 | p) = σ(Σₖ cₖ · Bₖ(p)), where
 * B₀..B₃ are the cubic Bernstein polynomials on [0, 1] and c₀ ≤ c₁ ≤ c₂ ≤ c₃, which makes the curve
 * non-decreasing in p, so it never reverses how the model ranks two patients. Four numbers instead of
 * Platt's two: it can follow an S-shaped or lopsided miscalibration that one sigmoid cannot, such as a
 * linear probability model's clipped least-squares score.
 *
 * It is fitted like Platt scaling (`platt.ts`): the log loss against Platt's smoothed targets, so that
 * separated rows do not drive it to a step.
 */
export class MonotoneCubicCalibrator {
  private constructor(
    /** The Bernstein coefficients c₀ ≤ c₁ ≤ c₂ ≤ c₃: the calibrated log-odds at p = 0 is c₀, at p = 1 c₃. */
    readonly coefficients: readonly [number, number, number, number],
  ) {}

  /** A calibrator from its saved coefficients: four finite, non-decreasing numbers. */
  static fromCoefficients(coefficients: readonly number[]): MonotoneCubicCalibrator {
    if (
      coefficients.length !== 4 ||
      !coefficients.every(Number.isFinite) ||
      coefficients.some((c, k) => k > 0 && c < coefficients[k - 1]!)
    ) {
      throw invalidParameter(
        `MonotoneCubicCalibrator: coefficients must be four finite, non-decreasing numbers, got [${coefficients.join(', ')}]`,
      );
    }
    const [c0, c1, c2, c3] = coefficients as [number, number, number, number];
    return new MonotoneCubicCalibrator([c0, c1, c2, c3]);
  }

  /**
   * Fits by minimizing the smoothed log loss under the ordering. With c₀ free and the steps
   * dₖ = cₖ - cₖ₋₁ ≥ 0, the log-odds are linear in (c₀, d₁, d₂, d₃) with non-decreasing features, so the
   * problem is convex with three bounds. Its optimum is the unconstrained optimum on one face (some steps
   * held at 0, the others positive): each of the 8 faces is solved by Newton's method and the best
   * feasible one kept. Probabilities must lie in [0, 1] and targets be 0 or 1; at least one row.
   */
  static fit(probability: Float64Array, target: Float64Array): MonotoneCubicCalibrator {
    const n = probability.length;
    checkFitRows('MonotoneCubicCalibrator.fit', probability, target, 'probability');
    let positives = 0;
    for (let i = 0; i < n; i++) {
      const p = probability[i]!;
      if (!(p >= 0 && p <= 1) || (target[i] !== 0 && target[i] !== 1)) {
        throw invalidParameter(
          `MonotoneCubicCalibrator.fit: row ${i} has probability ${p} and target ${target[i]}; probabilities must lie in [0, 1] and targets be 0 or 1`,
        );
      }
      positives += target[i]!;
    }
    const smoothed = smoothedTargets(target, positives);
    const features = Float64Array.from({ length: n * 4 }, (_, j) => stepFeature(probability[j >> 2]!, j & 3));

    let best: { steps: Float64Array; loss: number } | undefined;
    for (let face = 0; face < 8; face++) {
      // Bit k - 1 of `face` frees step k; the intercept is always free.
      const free = [0, ...[1, 2, 3].filter((k) => face & (1 << (k - 1)))];
      const steps = newtonOnFace(features, smoothed, free);
      if (free.some((k) => k > 0 && steps[k]! < 0)) continue;
      const loss = smoothedLogLoss(features, smoothed, steps);
      if (best === undefined || loss < best.loss) best = { steps, loss };
    }
    // The face with every step at 0 (a constant) is always feasible.
    const [c0 = 0, d1 = 0, d2 = 0, d3 = 0] = best!.steps;
    return new MonotoneCubicCalibrator([c0, c0 + d1, c0 + d1 + d2, c0 + d1 + d2 + d3]);
  }

  /** The calibrated probability of each probability. */
  calibrate(probability: Float64Array): Float64Array {
    return Float64Array.from(probability, (p) => this.calibrateOne(p));
  }

  calibrateOne(probability: number): number {
    const p = Math.min(Math.max(probability, 0), 1);
    const [c0, c1, c2, c3] = this.coefficients;
    // In steps (equal coefficients give a step of exactly 0, so a flat stretch stays flat).
    return sigmoid(
      c0 + (c1 - c0) * stepFeature(p, 1) + (c2 - c1) * stepFeature(p, 2) + (c3 - c2) * stepFeature(p, 3),
    );
  }
}

/**
 * The k-th feature of the step parametrization: 1 for the intercept, and for a step k the probability
 * that a binomial(3, p) is at least k (a sum of Bernstein polynomials, non-decreasing in p).
 */
function stepFeature(p: number, k: number): number {
  switch (k) {
    case 0:
      return 1;
    case 1:
      return 1 - (1 - p) ** 3;
    case 2:
      return p * p * (3 - 2 * p);
    default:
      return p * p * p;
  }
}

function logOddsAt(features: Float64Array, row: number, steps: Float64Array): number {
  const base = row * 4;
  return (
    features[base]! * steps[0]! +
    features[base + 1]! * steps[1]! +
    features[base + 2]! * steps[2]! +
    features[base + 3]! * steps[3]!
  );
}

function smoothedLogLoss(features: Float64Array, smoothed: Float64Array, steps: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < smoothed.length; i++) {
    const z = logOddsAt(features, i, steps);
    sum += smoothed[i]! * softplus(-z) + (1 - smoothed[i]!) * softplus(z);
  }
  return sum;
}

/**
 * The minimum of the smoothed log loss over the parameters in `free`, the others held at 0: Newton's
 * method with a backtracking line search from a constant at the smoothed base rate. A tiny ridge keeps
 * the Hessian invertible when a feature is constant over the rows.
 */
function newtonOnFace(features: Float64Array, smoothed: Float64Array, free: readonly number[]): Float64Array {
  const n = smoothed.length;
  const m = free.length;
  const steps = new Float64Array(4);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += smoothed[i]!;
  mean /= n;
  steps[0] = Math.log(mean / (1 - mean));
  let value = smoothedLogLoss(features, smoothed, steps);
  for (let iteration = 0; iteration < 100; iteration++) {
    const gradient = new Float64Array(m);
    const hessian = new Float64Array(m * m);
    for (let i = 0; i < n; i++) {
      const q = sigmoid(logOddsAt(features, i, steps));
      const residual = q - smoothed[i]!;
      const weight = q * (1 - q);
      for (let a = 0; a < m; a++) {
        const fa = features[i * 4 + free[a]!]!;
        gradient[a]! += residual * fa;
        for (let b = 0; b <= a; b++) hessian[a * m + b]! += weight * fa * features[i * 4 + free[b]!]!;
      }
    }
    for (let a = 0; a < m; a++) {
      hessian[a * m + a]! += 1e-12 * n;
      for (let b = 0; b < a; b++) hessian[b * m + a] = hessian[a * m + b]!;
    }
    if (gradient.every((g) => Math.abs(g) < 1e-10 * n)) break;
    const direction = choleskySolve(createMatrix(hessian, m, m), gradient);
    if (direction === null) break;
    let slope = 0;
    for (let a = 0; a < m; a++) slope -= gradient[a]! * direction[a]!;
    let scale = 1;
    let improved = false;
    const trial = new Float64Array(4);
    while (scale >= 1e-10) {
      trial.set(steps);
      for (let a = 0; a < m; a++) trial[free[a]!]! -= scale * direction[a]!;
      const next = smoothedLogLoss(features, smoothed, trial);
      if (next <= value + 1e-4 * scale * slope) {
        improved = value - next > 1e-15 * Math.max(1, value);
        steps.set(trial);
        value = next;
        break;
      }
      scale /= 2;
    }
    if (!improved) break;
  }
  return steps;
}

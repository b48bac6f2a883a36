/**
 * The `binary:logistic` objective and XGBoost's second-order leaf weight and gain formulas
 * (src/tree/param.h in XGBoost: CalcWeight, CalcGain, CalcGainGivenWeight, ThresholdL1).
 */

export interface RegularizationParams {
  readonly reg_lambda: number;
  readonly reg_alpha: number;
  readonly max_delta_step: number;
}

/** XGBoost clamps hessians away from zero so leaf weights stay finite. */
const MIN_HESSIAN = 1e-16;

/**
 * Writes gradient and hessian of the log loss at `margin` for every row (positives weighted by
 * `positiveWeight`) and returns the unweighted mean log loss at `margin`, computed exactly as
 * `meanLogLoss` does, so one pass serves both the next tree and the loss history.
 */
export function logisticGradients(
  margin: Float64Array,
  y: Float64Array,
  positiveWeight: number,
  grad: Float64Array,
  hess: Float64Array,
): number {
  const eps = 1e-16;
  let total = 0;
  for (let i = 0; i < margin.length; i++) {
    const p = 1 / (1 + Math.exp(-margin[i]!));
    const positive = y[i] === 1;
    const weight = positive ? positiveWeight : 1;
    grad[i] = (p - y[i]!) * weight;
    hess[i] = Math.max(p * (1 - p), MIN_HESSIAN) * weight;
    const clipped = Math.min(Math.max(p, eps), 1 - eps);
    total -= positive ? Math.log(clipped) : Math.log(1 - clipped);
  }
  return total / margin.length;
}

/** Mean log loss of margins (as XGBoost's `logloss` metric: probabilities clipped to [1e-16, 1 - 1e-16]). */
export function meanLogLoss(margin: Float64Array, y: Float64Array): number {
  const eps = 1e-16;
  let total = 0;
  for (let i = 0; i < margin.length; i++) {
    const p = Math.min(Math.max(1 / (1 + Math.exp(-margin[i]!)), eps), 1 - eps);
    total -= y[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return total / margin.length;
}

function thresholdL1(g: number, alpha: number): number {
  if (g > alpha) return g - alpha;
  if (g < -alpha) return g + alpha;
  return 0;
}

/** The optimal leaf weight for gradient sum `g` and hessian sum `h` (before shrinkage). */
export function leafWeight(g: number, h: number, params: RegularizationParams): number {
  if (h <= 0) return 0;
  let weight = -thresholdL1(g, params.reg_alpha) / (h + params.reg_lambda);
  if (params.max_delta_step !== 0 && Math.abs(weight) > params.max_delta_step) {
    weight = Math.sign(weight) * params.max_delta_step;
  }
  return weight;
}

/** The structure score of a node: how much its optimal weight lowers the loss (twice, as XGBoost counts it). */
export function nodeGain(g: number, h: number, params: RegularizationParams): number {
  if (h <= 0) return 0;
  if (params.max_delta_step === 0) {
    const t = thresholdL1(g, params.reg_alpha);
    return (t * t) / (h + params.reg_lambda);
  }
  // With a step limit the gain follows the (clipped) weight. XGBoost 1.7's hist split evaluator computes
  // it as below, without an L1 term, and that is what decides its splits; Onset does the same.
  const w = leafWeight(g, h, params);
  return -(2 * g * w + (h + params.reg_lambda) * w * w);
}

/**
 * Per-round mean log loss of a boosted ensemble on its training rows and, when a validation set was
 * given, on the validation rows (the history gbdt and oblivious models keep).
 */
export interface LossHistory {
  readonly train_logloss: readonly number[];
  readonly valid_logloss?: readonly number[];
}

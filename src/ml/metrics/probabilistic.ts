import { invalidParameter } from '../../errors.js';
import { validateBinaryInputs } from './validate.js';

/** The default clip for `logLoss`: probabilities are clipped to `[1e-15, 1 - 1e-15]`. */
export const DEFAULT_LOG_LOSS_EPS = 1e-15;

export interface LogLossOptions {
  /**
   * Probabilities are clipped to `[eps, 1 - eps]` so a confident mistake costs a finite amount
   * (`-ln(1e-15) ≈ 34.5` per row at the default). Default `1e-15`, scikit-learn's historical default;
   * scikit-learn 1.2 defaults to `eps='auto'`, the float64 machine epsilon (`Number.EPSILON`).
   * Must be in (0, 0.5).
   */
  readonly eps?: number;
}

/**
 * Mean binary cross-entropy in nats, equal to scikit-learn's `log_loss(y, p, eps=eps, labels=[0, 1])`:
 * each probability is clipped to `[eps, 1 - eps]`, the pair `(1 - q, q)` renormalized to sum to 1, and
 * the loss is `-ln` of the probability given to the true label, averaged over rows. Defined with one class.
 */
export function logLoss(
  yTrue: Float64Array,
  probability: Float64Array,
  options: LogLossOptions = {},
): number {
  validateBinaryInputs(yTrue, probability, 'logLoss');
  const eps = options.eps ?? DEFAULT_LOG_LOSS_EPS;
  if (typeof eps !== 'number' || !(eps > 0 && eps < 0.5)) {
    throw invalidParameter(`logLoss: eps is ${eps}; it must be a number in (0, 0.5)`);
  }
  return logLossUnchecked(yTrue, probability, eps);
}

/** `logLoss` without validation. */
export function logLossUnchecked(yTrue: Float64Array, probability: Float64Array, eps: number): number {
  let sum = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const q = Math.min(Math.max(probability[i]!, eps), 1 - eps);
    const total = 1 - q + q;
    sum -= Math.log(yTrue[i] === 1 ? q / total : (1 - q) / total);
  }
  return sum / yTrue.length;
}

/** Brier score: the mean of `(probability - yTrue)^2`, in [0, 1]; scikit-learn's `brier_score_loss`. */
export function brierScore(yTrue: Float64Array, probability: Float64Array): number {
  validateBinaryInputs(yTrue, probability, 'brierScore');
  return brierUnchecked(yTrue, probability);
}

/** Root mean squared error of the probability against the 0/1 label: `sqrt(brierScore)`. */
export function rmse(yTrue: Float64Array, probability: Float64Array): number {
  validateBinaryInputs(yTrue, probability, 'rmse');
  return Math.sqrt(brierUnchecked(yTrue, probability));
}

/** `brierScore` without validation. */
export function brierUnchecked(yTrue: Float64Array, probability: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const d = probability[i]! - yTrue[i]!;
    sum += d * d;
  }
  return sum / yTrue.length;
}

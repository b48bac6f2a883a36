/** Numeric helpers shared by the generator and the estimators. */

/** The logistic function: a log-odds (margin) to a probability. XGBoost's formula, so predictions match it. */
export function sigmoid(logit: number): number {
  return 1 / (1 + Math.exp(-logit));
}

/** The log-odds of a probability. */
export function logit(probability: number): number {
  return Math.log(probability / (1 - probability));
}

/** log(1 + exp(z)) without overflow: the log loss of a log-odds z against a negative label. */
export function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

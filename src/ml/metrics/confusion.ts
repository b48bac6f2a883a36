import { validateBinaryInputs, validateThreshold } from './validate.js';

/** The default decision threshold: a row is predicted positive iff `probability >= 0.5`. */
export const DEFAULT_THRESHOLD = 0.5;

/**
 * A binary confusion matrix at one decision threshold. A row is predicted positive iff
 * `probability >= threshold`. Counts are row counts; `positives = tp + fn`, `negatives = tn + fp`,
 * `n = positives + negatives`.
 */
export interface ConfusionMatrix {
  readonly threshold: number;
  readonly tp: number;
  readonly fp: number;
  readonly tn: number;
  readonly fn: number;
  readonly positives: number;
  readonly negatives: number;
  readonly n: number;
}

/**
 * The metrics read from a confusion matrix, each in [0, 1]. A ratio whose denominator is 0 is 0, as in
 * scikit-learn with `zero_division=0`: precision is 0 when nothing is predicted positive, recall is 0
 * when there are no positives, specificity (the recall of class 0) is 0 when there are no negatives, and
 * F1 is 0 when precision + recall is 0.
 */
export interface ConfusionMetrics {
  readonly accuracy: number;
  readonly precision: number;
  readonly recall: number;
  readonly specificity: number;
  readonly f1: number;
}

/**
 * Counts true/false positives/negatives at `threshold` (default 0.5; a row is predicted positive iff
 * `probability >= threshold`). Validates the inputs (see `validateBinaryInputs`) and the threshold
 * (a number in [0, 1]).
 */
export function confusionMatrix(
  yTrue: Float64Array,
  probability: Float64Array,
  threshold: number = DEFAULT_THRESHOLD,
): ConfusionMatrix {
  validateBinaryInputs(yTrue, probability, 'confusionMatrix');
  validateThreshold(threshold, 'confusionMatrix');
  return countConfusion(yTrue, probability, threshold);
}

/** `confusionMatrix` without validation, for callers that have validated already. */
export function countConfusion(
  yTrue: Float64Array,
  probability: Float64Array,
  threshold: number,
): ConfusionMatrix {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const predicted = probability[i]! >= threshold;
    if (yTrue[i] === 1) {
      if (predicted) tp++;
      else fn++;
    } else if (predicted) fp++;
    else tn++;
  }
  return { threshold, tp, fp, tn, fn, positives: tp + fn, negatives: tn + fp, n: yTrue.length };
}

/** Accuracy, precision, recall (sensitivity), specificity and F1 of a confusion matrix (zero division → 0). */
export function confusionMetrics(matrix: ConfusionMatrix): ConfusionMetrics {
  const { tp, fp, tn, fn } = matrix;
  const precision = divide(tp, tp + fp);
  const recall = divide(tp, tp + fn);
  const specificity = divide(tn, tn + fp);
  // scikit-learn's F-beta with beta = 1: (1 + 1) * P * R / (P + R), 0 when P + R is 0.
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { accuracy: divide(tp + tn, tp + fp + tn + fn), precision, recall, specificity, f1 };
}

function divide(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

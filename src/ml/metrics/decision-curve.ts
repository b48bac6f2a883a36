import { validateBinaryInputs } from './validate.js';

/**
 * Decision-curve analysis (Vickers and Elkin, 2006): the net benefit of acting on the model at each
 * threshold probability pt, beside acting for every patient and for none. Net benefit counts true
 * positives and charges each false positive the odds pt / (1 - pt), the exchange a clinician accepts by
 * choosing pt: `TP / n - FP / n · pt / (1 - pt)`. Acting for none is 0 at every threshold.
 */
export interface DecisionCurve {
  readonly thresholds: readonly number[];
  /** The model's net benefit: patients with probability >= pt are treated. */
  readonly model: readonly number[];
  /** Treating everyone: prevalence - (1 - prevalence) · pt / (1 - pt). */
  readonly treat_all: readonly number[];
}

/** The thresholds of `decisionCurve`: 0.01 to 0.99 by 0.01. */
export const DECISION_THRESHOLDS: readonly number[] = Array.from({ length: 99 }, (_, k) => (k + 1) / 100);

export function decisionCurve(
  yTrue: Float64Array,
  probability: Float64Array,
  thresholds: readonly number[] = DECISION_THRESHOLDS,
): DecisionCurve {
  validateBinaryInputs(yTrue, probability, 'decisionCurve');
  const n = yTrue.length;
  let positives = 0;
  for (let i = 0; i < n; i++) positives += yTrue[i]!;
  const prevalence = positives / n;
  const model: number[] = [];
  const treatAll: number[] = [];
  for (const pt of thresholds) {
    const odds = pt / (1 - pt);
    let tp = 0;
    let fp = 0;
    for (let i = 0; i < n; i++) {
      if (probability[i]! < pt) continue;
      if (yTrue[i] === 1) tp++;
      else fp++;
    }
    model.push(tp / n - (fp / n) * odds);
    treatAll.push(prevalence - (1 - prevalence) * odds);
  }
  return { thresholds: [...thresholds], model, treat_all: treatAll };
}

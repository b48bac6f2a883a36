import { invalidParameter } from '../../errors.js';

/**
 * Checks the inputs every metric takes: `yTrue` and `probability` of equal, non-zero length, labels
 * exactly 0 or 1, probabilities finite and in [0, 1]. Throws an `INVALID_PARAMETER_VALUE` `OnsetError`
 * naming the first bad index (0-based) and what is allowed.
 *
 * @param where - the calling metric, used as the message prefix (e.g. `'rocAuc'`).
 */
export function validateBinaryInputs(yTrue: Float64Array, probability: Float64Array, where: string): void {
  if (yTrue.length !== probability.length) {
    throw invalidParameter(
      `${where}: yTrue has ${yTrue.length} values but probability has ${probability.length}; they must have the same length`,
    );
  }
  if (yTrue.length === 0) throw invalidParameter(`${where}: no rows; metrics need at least one row`);
  for (let i = 0; i < yTrue.length; i++) {
    const y = yTrue[i]!;
    if (y !== 0 && y !== 1) {
      throw invalidParameter(`${where}: yTrue[${i}] is ${y}; labels must be 0 or 1`, { index: i, value: y });
    }
    const p = probability[i]!;
    if (!(p >= 0 && p <= 1)) {
      throw invalidParameter(
        `${where}: probability[${i}] is ${p}; probabilities must be finite numbers in [0, 1]`,
        { index: i, value: p },
      );
    }
  }
}

/** Checks a decision threshold: a finite number in [0, 1]. */
export function validateThreshold(threshold: number, where: string): void {
  if (typeof threshold !== 'number' || !(threshold >= 0 && threshold <= 1)) {
    throw invalidParameter(`${where}: threshold is ${threshold}; it must be a number in [0, 1]`);
  }
}

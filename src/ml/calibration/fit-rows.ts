import { invalidParameter } from '../../errors.js';

/**
 * Refuses calibration rows a calibrator cannot be fitted on: none, or `values` (named `valuesName` in the
 * message) and targets of different lengths. `who` names the fit, as `PlattCalibrator.fit`.
 */
export function checkFitRows(
  who: string,
  values: Float64Array,
  target: Float64Array,
  valuesName = 'score',
): void {
  if (values.length === 0) throw invalidParameter(`${who}: no rows; give at least one`);
  if (target.length !== values.length) {
    throw invalidParameter(
      `${who}: ${valuesName} has ${values.length} values but target has ${target.length}; they must have the same length`,
    );
  }
}

/**
 * Platt's smoothed targets, what Platt scaling and the monotone cubic are fitted against:
 * (N+ + 1) / (N+ + 2) for a positive and 1 / (N- + 2) for a negative, so that perfectly separated rows do
 * not drive the fit to a step. `positives` is the number of targets that are 1.
 */
export function smoothedTargets(target: Float64Array, positives: number): Float64Array {
  const high = (positives + 1) / (positives + 2);
  const low = 1 / (target.length - positives + 2);
  return Float64Array.from(target, (y) => (y === 1 ? high : low));
}

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

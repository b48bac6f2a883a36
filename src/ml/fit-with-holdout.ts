import { trainTestSplit } from '../data/splits.js';
import { type Matrix, selectMatrixRows } from '../math/matrix.js';
import type { EstimatorName, FitOptions, FittedModel } from './estimator.js';
import { createEstimator, estimatorEntry } from './estimator-registry.js';

/** Share of the training rows held out as the validation set when early stopping is asked for. */
export const EARLY_STOPPING_HOLDOUT = 0.2;

/**
 * Fits an estimator by name. When the parameters ask for early stopping, a stratified 20% of the rows
 * (seeded by the family's `seedParam`) is held out as the validation set and the model is fitted on the rest.
 * `fitSeconds` times the fit alone.
 */
export function fitWithHoldout(
  estimator: EstimatorName,
  params: Readonly<Record<string, unknown>>,
  x: Matrix,
  y: Float64Array,
  options: Pick<FitOptions, 'onProgress'> = {},
): { model: FittedModel; fitSeconds: number; validationRows: number } {
  const instance = createEstimator(estimator, params);
  const resolved = instance.getParams();
  const earlyStopping =
    resolved.early_stopping_rounds !== undefined && resolved.early_stopping_rounds !== null;
  const started = performance.now();
  if (!earlyStopping) {
    const model = instance.fit(x, y, options);
    return { model, fitSeconds: (performance.now() - started) / 1000, validationRows: 0 };
  }
  const seedParam = estimatorEntry(estimator).seedParam;
  const seed = seedParam === undefined ? 0 : Number(resolved[seedParam]);
  const split = trainTestSplit(y, { testFraction: EARLY_STOPPING_HOLDOUT, seed });
  const model = instance.fit(
    selectMatrixRows(x, split.train),
    Float64Array.from(split.train, (i) => y[i]!),
    {
      ...options,
      validation: { x: selectMatrixRows(x, split.test), y: Float64Array.from(split.test, (i) => y[i]!) },
    },
  );
  return { model, fitSeconds: (performance.now() - started) / 1000, validationRows: split.test.length };
}

import { createMatrix, type Matrix } from '../../math/matrix.js';
import {
  type EstimatorName,
  type FittedModel,
  isMarginModel,
  isSingleRowModel,
  type ModelState,
  type SingleRowModel,
} from '../estimator.js';
import type { ParamValue } from '../params.js';
import type { Calibration } from './calibration.js';

/**
 * A fitted model whose probabilities pass through its calibration: what every path that scores patients
 * gets from a model document with one (HTTP, stream, batch, the UI, the gate). Margins and explanations
 * stay the model's own (`uncalibrated`): they explain its raw score, which calibration maps monotonically.
 */
export class CalibratedModel implements FittedModel, SingleRowModel {
  readonly estimator: EstimatorName;
  readonly params: Readonly<Record<string, ParamValue>>;
  readonly featureCount: number;
  /** The model's raw score, when it has one (the uncalibrated model's). */
  readonly predictMargin?: (x: Matrix) => Float64Array;

  constructor(
    readonly uncalibrated: FittedModel,
    readonly calibration: Calibration,
  ) {
    this.estimator = uncalibrated.estimator;
    this.params = uncalibrated.params;
    this.featureCount = uncalibrated.featureCount;
    if (isMarginModel(uncalibrated)) this.predictMargin = (x) => uncalibrated.predictMargin(x);
  }

  predictProba(x: Matrix): Float64Array {
    return this.calibration.apply(this.uncalibrated.predictProba(x));
  }

  predictProbaOne(values: ArrayLike<number>): number {
    return this.calibration.applyOne(this.uncalibratedOne(values));
  }

  /**
   * The interval a Venn-Abers calibration gives one row's probability (see `Calibration.intervalOne`);
   * undefined for the other methods.
   */
  probabilityIntervalOne(values: ArrayLike<number>): [number, number] | undefined {
    return this.calibration.method === 'venn_abers'
      ? this.calibration.intervalOne(this.uncalibratedOne(values))
      : undefined;
  }

  private uncalibratedOne(values: ArrayLike<number>): number {
    const model = this.uncalibrated;
    return isSingleRowModel(model)
      ? model.predictProbaOne(values)
      : model.predictProba(createMatrix(Float64Array.from(values), 1, values.length))[0]!;
  }

  toJSON(): ModelState {
    return this.uncalibrated.toJSON();
  }
}

/** The model behind any calibration: what explanations, margins and XGBoost exports are of. */
export function uncalibrated(model: FittedModel): FittedModel {
  return model instanceof CalibratedModel ? model.uncalibrated : model;
}

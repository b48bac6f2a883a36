import { stratifiedKFold } from '../../data/splits.js';
import { invalidParameter } from '../../errors.js';
import { percentileInterval } from '../../math/percentile-interval.js';
import { logit } from '../../math/sigmoid.js';
import { Random } from '../../util/random.js';
import {
  type BrierDecomposition,
  brierDecomposition,
  brierScore,
  type CalibrationBin,
  calibrationCurve,
  expectedCalibrationError,
  logLoss,
  rocAuc,
} from '../metrics/index.js';
import { IsotonicCalibrator } from './isotonic.js';
import { PlattCalibrator } from './platt.js';

/** The calibrators a model can carry. */
export const CALIBRATION_METHODS = ['platt', 'isotonic'] as const;
export type CalibrationMethod = (typeof CALIBRATION_METHODS)[number];

/**
 * What calibration to do: `auto` (the default) lets cross-validation choose among none and every
 * method; `none` keeps the model's own probabilities; a method name fits that one.
 */
export const CALIBRATION_CHOICES = ['auto', 'none', ...CALIBRATION_METHODS] as const;
export type CalibrationChoice = (typeof CALIBRATION_CHOICES)[number];

/** How much higher than the lowest held-out log loss a method's may be for `auto` to choose it by ECE. */
export const LOG_LOSS_TOLERANCE = 0.01;

/** Probabilities are kept this far from 0 and 1 before their log-odds are taken. */
const LOGIT_CLIP = 1e-15;

/** How one method did on the out-of-fold predictions, each fold calibrated by a fit on the others. */
export interface CalibrationCandidate {
  readonly method: 'none' | CalibrationMethod;
  readonly log_loss: number;
  readonly brier: number;
  readonly ece: number;
  readonly roc_auc: number | null;
}

/** A model's calibration as its model document keeps it. */
export interface CalibrationDocument {
  readonly method: 'none' | CalibrationMethod;
  /**
   * `cross_validation`: chosen among `candidates` by held-out ECE and log loss (see `chooseCalibration`);
   * `user`: named with `--calibration`.
   */
  readonly chosen_by: 'cross_validation' | 'user';
  /** Platt scaling of the model's log-odds: p = 1 / (1 + exp(a · logit + b)). */
  readonly platt?: { readonly a: number; readonly b: number };
  /** Isotonic regression of the model's probability: linear between the points, flat beyond them. */
  readonly isotonic?: { readonly thresholds: readonly number[]; readonly values: readonly number[] };
  /** What it was fitted on: every row's out-of-fold probability from cross-validation. */
  readonly fitted_on: {
    readonly source: 'out_of_fold';
    readonly rows: number;
    readonly folds: number;
    readonly seed: number;
  };
  readonly candidates: readonly CalibrationCandidate[];
}

/** A fitted calibration: the map from a model's probability to the calibrated one. */
export class Calibration {
  private constructor(
    readonly method: 'none' | CalibrationMethod,
    private readonly platt: PlattCalibrator | undefined,
    private readonly isotonic: IsotonicCalibrator | undefined,
  ) {}

  static readonly NONE = new Calibration('none', undefined, undefined);

  /** Fits `method` to probabilities and their labels. */
  static fit(
    method: 'none' | CalibrationMethod,
    probability: Float64Array,
    target: Float64Array,
  ): Calibration {
    switch (method) {
      case 'none':
        return Calibration.NONE;
      case 'platt':
        return new Calibration(
          'platt',
          PlattCalibrator.fit(Float64Array.from(probability, logOdds), target),
          undefined,
        );
      case 'isotonic':
        return new Calibration('isotonic', undefined, IsotonicCalibrator.fit(probability, target));
    }
  }

  /** The calibration a model document describes; `where` names the document in errors. */
  static fromDocument(document: CalibrationDocument, where: string): Calibration {
    try {
      switch (document.method) {
        case 'none':
          return Calibration.NONE;
        case 'platt': {
          const { a, b } = document.platt ?? { a: Number.NaN, b: Number.NaN };
          return new Calibration('platt', PlattCalibrator.fromParameters(a, b), undefined);
        }
        case 'isotonic': {
          const points = document.isotonic ?? { thresholds: [], values: [] };
          return new Calibration(
            'isotonic',
            undefined,
            IsotonicCalibrator.fromPoints(
              Float64Array.from(points.thresholds),
              Float64Array.from(points.values),
            ),
          );
        }
        default:
          throw invalidParameter(
            `unknown calibration method "${String((document as { method: unknown }).method)}" (known: none, ${CALIBRATION_METHODS.join(', ')})`,
          );
      }
    } catch (error) {
      throw invalidParameter(`${where}: its calibration cannot be read: ${(error as Error).message}`);
    }
  }

  /** Its parameters, as a model document keeps them. */
  parameters(): Pick<CalibrationDocument, 'platt' | 'isotonic'> {
    if (this.platt) return { platt: { a: this.platt.a, b: this.platt.b } };
    if (this.isotonic) {
      return {
        isotonic: {
          thresholds: Array.from(this.isotonic.thresholds),
          values: Array.from(this.isotonic.values),
        },
      };
    }
    return {};
  }

  /** The calibrated probability of each of a model's probabilities (a new array). */
  apply(probability: Float64Array): Float64Array {
    if (this.method === 'none') return probability;
    const out = new Float64Array(probability.length);
    for (let i = 0; i < probability.length; i++) out[i] = this.applyOne(probability[i]!);
    return out;
  }

  applyOne(probability: number): number {
    if (this.platt) return this.platt.calibrateOne(logOdds(probability));
    if (this.isotonic) return this.isotonic.calibrateOne(probability);
    return probability;
  }
}

/** The log-odds of a probability, kept finite. */
function logOdds(probability: number): number {
  return logit(Math.min(Math.max(probability, LOGIT_CLIP), 1 - LOGIT_CLIP));
}

/** What `chooseCalibration` decided, and the held-out probabilities it judged by. */
export interface CalibrationChoiceResult {
  readonly calibration: Calibration;
  readonly document: CalibrationDocument;
  /**
   * Every row's calibrated out-of-fold probability, the calibrator fitted on the other folds' rows: what
   * the calibrated model gives patients neither it nor its calibrator saw.
   */
  readonly heldOut: Float64Array;
}

/**
 * Chooses and fits a calibration from out-of-fold probabilities. Each candidate (none and every method
 * for `auto`, else the one named) is judged by cross-fitting: the rows are split into `folds` stratified
 * folds (`seed`), each fold calibrated by the method fitted on the other folds. `auto` takes the lowest
 * held-out expected calibration error among the methods whose held-out log loss is at most
 * `LOG_LOSS_TOLERANCE` above the lowest, the simpler method on a tie. The chosen method is then fitted on
 * every row.
 */
export function chooseCalibration(
  outOfFold: Float64Array,
  target: Float64Array,
  options: {
    readonly choice: Exclude<CalibrationChoice, 'none'>;
    readonly folds: number;
    readonly seed: number;
  },
): CalibrationChoiceResult {
  const methods: ('none' | CalibrationMethod)[] =
    options.choice === 'auto' ? ['none', ...CALIBRATION_METHODS] : [options.choice];
  const splits = stratifiedKFold(target, options.folds, options.seed);
  const heldOutOf = (method: 'none' | CalibrationMethod): Float64Array => {
    if (method === 'none') return outOfFold;
    const out = new Float64Array(outOfFold.length);
    for (const split of splits) {
      const fitted = Calibration.fit(
        method,
        Float64Array.from(split.train, (i) => outOfFold[i]!),
        Float64Array.from(split.train, (i) => target[i]!),
      );
      for (const i of split.test) out[i] = fitted.applyOne(outOfFold[i]!);
    }
    return out;
  };
  const judged = methods.map((method) => {
    const heldOut = heldOutOf(method);
    return { method, heldOut, candidate: candidateFigures(method, target, heldOut) };
  });
  // The lowest ECE among the methods whose log loss is within LOG_LOSS_TOLERANCE of the lowest (a
  // calibrator that is sure where it should not be scores well on ECE and badly on log loss); the
  // first, simplest, on a tie.
  const lowestLogLoss = Math.min(...judged.map((entry) => entry.candidate.log_loss));
  const best = judged
    .filter((entry) => entry.candidate.log_loss <= lowestLogLoss * (1 + LOG_LOSS_TOLERANCE))
    .reduce((chosen, next) => (next.candidate.ece < chosen.candidate.ece ? next : chosen));
  const calibration = Calibration.fit(best.method, outOfFold, target);
  return {
    calibration,
    heldOut: best.heldOut,
    document: {
      method: best.method,
      chosen_by: options.choice === 'auto' ? 'cross_validation' : 'user',
      ...calibration.parameters(),
      fitted_on: { source: 'out_of_fold', rows: outOfFold.length, folds: options.folds, seed: options.seed },
      candidates: judged.map((entry) => entry.candidate),
    },
  };
}

function candidateFigures(
  method: 'none' | CalibrationMethod,
  target: Float64Array,
  probability: Float64Array,
): CalibrationCandidate {
  const bothClasses = target.includes(0) && target.includes(1);
  return {
    method,
    log_loss: logLoss(target, probability),
    brier: brierScore(target, probability),
    ece: expectedCalibrationError(target, probability),
    roc_auc: bothClasses ? rocAuc(target, probability) : null,
  };
}

/** How calibrated a set of probabilities is: ECE with a bootstrap interval, Brier and its parts, the bins. */
export interface CalibrationFigures extends BrierDecomposition {
  readonly ece: number;
  /** The 2.5th and 97.5th percentiles of the ECE over bootstrap resamples of the rows. */
  readonly ece_interval: readonly [number, number];
  readonly bins: readonly CalibrationBin[];
}

/** Resamples of `calibrationFigures`' interval. */
export const ECE_BOOTSTRAP_RESAMPLES = 1000;

/**
 * The calibration figures of probabilities against labels: ECE (10 bins) with a 95% percentile bootstrap
 * interval (`ECE_BOOTSTRAP_RESAMPLES` resamples of the rows, seeded), the Brier score's decomposition and
 * the reliability diagram's bins.
 */
export function calibrationFigures(
  target: Float64Array,
  probability: Float64Array,
  seed: number,
): CalibrationFigures {
  const n = target.length;
  const random = new Random(seed);
  const resampledTarget = new Float64Array(n);
  const resampledProbability = new Float64Array(n);
  const eces = new Float64Array(ECE_BOOTSTRAP_RESAMPLES);
  for (let r = 0; r < ECE_BOOTSTRAP_RESAMPLES; r++) {
    for (let i = 0; i < n; i++) {
      const row = random.int(n);
      resampledTarget[i] = target[row]!;
      resampledProbability[i] = probability[row]!;
    }
    eces[r] = expectedCalibrationError(resampledTarget, resampledProbability);
  }
  return {
    ece: expectedCalibrationError(target, probability),
    ece_interval: percentileInterval(eces),
    ...brierDecomposition(target, probability),
    bins: calibrationCurve(target, probability).bins,
  };
}

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
import { MonotoneCubicCalibrator } from './monotone-cubic.js';
import { PlattCalibrator } from './platt.js';
import { VennAbersCalibrator } from './venn-abers.js';

/** The calibrators a model can carry. */
export const CALIBRATION_METHODS = ['platt', 'monotone_cubic', 'isotonic', 'venn_abers'] as const;
export type CalibrationMethod = (typeof CALIBRATION_METHODS)[number];

/** Each method in words, for the model card and other text a person reads. */
export const CALIBRATION_METHOD_NAMES: Readonly<Record<CalibrationMethod, string>> = {
  platt: 'Platt scaling',
  monotone_cubic: 'a monotone cubic',
  isotonic: 'isotonic regression',
  venn_abers: 'Venn-Abers',
};

/**
 * What calibration to do: `auto` (the default) lets cross-validation choose among none and every
 * method; `none` keeps the model's own probabilities; a method name fits that one.
 */
export const CALIBRATION_CHOICES = ['auto', 'none', ...CALIBRATION_METHODS] as const;
export type CalibrationChoice = (typeof CALIBRATION_CHOICES)[number];

/** How much higher than the lowest held-out log loss a method's may be for `auto` to choose it by ECE. */
export const LOG_LOSS_TOLERANCE = 0.01;
/**
 * How much lower than the model's own held-out ROC AUC a method's may be for `auto` to choose it: a
 * calibration should change what the probabilities mean, not how they rank patients (isotonic and
 * Venn-Abers make ties, which can cost more).
 */
export const ROC_AUC_TOLERANCE = 0.002;
/**
 * How much higher than the lowest held-out ECE a simpler method's may be for `auto` to prefer it: smaller
 * differences are within what resplitting the same rows into other calibration folds changes.
 */
export const ECE_TOLERANCE = 0.002;

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
  /**
   * Platt scaling: p = 1 / (1 + exp(a · s + b)), where s is the model's log-odds, or with `input:
   * 'probability'` the probability itself (for a clipped linear score).
   */
  readonly platt?: { readonly a: number; readonly b: number; readonly input?: PlattInput };
  /**
   * Logistic calibration on a monotone cubic of the probability p: log-odds Σₖ cₖ · Bₖ(p) over the cubic
   * Bernstein polynomials, c₀ ≤ c₁ ≤ c₂ ≤ c₃ (see `MonotoneCubicCalibrator`).
   */
  readonly monotone_cubic?: { readonly coefficients: readonly number[] };
  /** Isotonic regression of the model's probability: linear between the points, flat beyond them. */
  readonly isotonic?: { readonly thresholds: readonly number[]; readonly values: readonly number[] };
  /**
   * The inductive Venn-Abers predictor on the model's probability (see `VennAbersCalibrator`): the distinct
   * calibration probabilities and p0, p1 at each of the 2K + 1 places among them.
   */
  readonly venn_abers?: {
    readonly scores: readonly number[];
    readonly p0: readonly number[];
    readonly p1: readonly number[];
  };
  /** What it was fitted on: every row's out-of-fold probability from cross-validation. */
  readonly fitted_on: {
    readonly source: 'out_of_fold';
    readonly rows: number;
    readonly folds: number;
    readonly seed: number;
  };
  readonly candidates: readonly CalibrationCandidate[];
}

/** What Platt scaling is fitted on: the model's log-odds, or its probability itself as a score. */
export type PlattInput = 'log_odds' | 'probability';

/** A fitted calibrator of each kind, with what it needs. */
type CalibrationMap =
  | { readonly method: 'none' }
  | { readonly method: 'platt'; readonly platt: PlattCalibrator; readonly input: PlattInput }
  | { readonly method: 'monotone_cubic'; readonly cubic: MonotoneCubicCalibrator }
  | { readonly method: 'isotonic'; readonly isotonic: IsotonicCalibrator }
  | { readonly method: 'venn_abers'; readonly vennAbers: VennAbersCalibrator };

/** A fitted calibration: the map from a model's probability to the calibrated one. */
export class Calibration {
  private constructor(private readonly map: CalibrationMap) {}

  static readonly NONE = new Calibration({ method: 'none' });

  get method(): 'none' | CalibrationMethod {
    return this.map.method;
  }

  /**
   * Fits `method` to probabilities and their labels. Platt scaling is fitted both on the log-odds (right
   * for models whose probability is a logistic of a score) and on the probability itself (right for a
   * clipped linear score, whose log-odds are distorted), and keeps the one with the lower log loss: two
   * parameters either way.
   */
  static fit(
    method: 'none' | CalibrationMethod,
    probability: Float64Array,
    target: Float64Array,
  ): Calibration {
    switch (method) {
      case 'none':
        return Calibration.NONE;
      case 'platt': {
        const fits = (['log_odds', 'probability'] as const).map((input) => {
          const platt = PlattCalibrator.fit(plattScores(probability, input), target);
          const calibration = new Calibration({ method: 'platt', platt, input });
          return { calibration, loss: logLoss(target, calibration.apply(probability)) };
        });
        return fits[1]!.loss < fits[0]!.loss ? fits[1]!.calibration : fits[0]!.calibration;
      }
      case 'monotone_cubic':
        return new Calibration({
          method: 'monotone_cubic',
          cubic: MonotoneCubicCalibrator.fit(probability, target),
        });
      case 'isotonic':
        return new Calibration({ method: 'isotonic', isotonic: IsotonicCalibrator.fit(probability, target) });
      case 'venn_abers':
        return new Calibration({
          method: 'venn_abers',
          vennAbers: VennAbersCalibrator.fit(probability, target),
        });
    }
  }

  /** The calibration a model document describes; `where` names the document in errors. */
  static fromDocument(document: CalibrationDocument, where: string): Calibration {
    try {
      switch (document.method) {
        case 'none':
          return Calibration.NONE;
        case 'platt': {
          const { a, b, input } = document.platt ?? { a: Number.NaN, b: Number.NaN };
          if (input !== undefined && input !== 'log_odds' && input !== 'probability') {
            throw invalidParameter(`unknown Platt input "${String(input)}" (known: log_odds, probability)`);
          }
          return new Calibration({
            method: 'platt',
            platt: PlattCalibrator.fromParameters(a, b),
            input: input ?? 'log_odds',
          });
        }
        case 'monotone_cubic':
          return new Calibration({
            method: 'monotone_cubic',
            cubic: MonotoneCubicCalibrator.fromCoefficients(document.monotone_cubic?.coefficients ?? []),
          });
        case 'isotonic': {
          const points = document.isotonic ?? { thresholds: [], values: [] };
          return new Calibration({
            method: 'isotonic',
            isotonic: IsotonicCalibrator.fromPoints(
              Float64Array.from(points.thresholds),
              Float64Array.from(points.values),
            ),
          });
        }
        case 'venn_abers': {
          const table = document.venn_abers ?? { scores: [], p0: [], p1: [] };
          return new Calibration({
            method: 'venn_abers',
            vennAbers: VennAbersCalibrator.fromTable(
              Float64Array.from(table.scores),
              Float64Array.from(table.p0),
              Float64Array.from(table.p1),
            ),
          });
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
  parameters(): Pick<CalibrationDocument, 'platt' | 'monotone_cubic' | 'isotonic' | 'venn_abers'> {
    const map = this.map;
    switch (map.method) {
      case 'none':
        return {};
      case 'platt':
        // The log-odds input is what documents without `input` mean.
        return {
          platt: {
            a: map.platt.a,
            b: map.platt.b,
            ...(map.input === 'probability' ? { input: map.input } : {}),
          },
        };
      case 'monotone_cubic':
        return { monotone_cubic: { coefficients: [...map.cubic.coefficients] } };
      case 'isotonic':
        return {
          isotonic: {
            thresholds: Array.from(map.isotonic.thresholds),
            values: Array.from(map.isotonic.values),
          },
        };
      case 'venn_abers': {
        const { p0, p1 } = map.vennAbers.table();
        return {
          venn_abers: { scores: Array.from(map.vennAbers.scores), p0: Array.from(p0), p1: Array.from(p1) },
        };
      }
    }
  }

  /**
   * The calibration as a map of the model's log-odds, calibrated log-odds = scale · log-odds + shift,
   * when it is one (Platt scaling of the log-odds); undefined otherwise. A tree ensemble can carry it in
   * its own numbers: its leaves scaled and its base margin moved.
   */
  logOddsMap(): { readonly scale: number; readonly shift: number } | undefined {
    const map = this.map;
    if (map.method !== 'platt' || map.input !== 'log_odds') return undefined;
    // p = 1 / (1 + exp(a · s + b)): its log-odds are -a · s - b.
    return { scale: -map.platt.a, shift: -map.platt.b };
  }

  /** The calibrated probability of each of a model's probabilities (a new array). */
  apply(probability: Float64Array): Float64Array {
    if (this.map.method === 'none') return probability;
    const out = new Float64Array(probability.length);
    for (let i = 0; i < probability.length; i++) out[i] = this.applyOne(probability[i]!);
    return out;
  }

  /**
   * The Venn-Abers pair (p0, p1) of a model's probability, one of which is calibrated whatever the data's
   * distribution; undefined for the other methods, which give one probability.
   */
  intervalOne(probability: number): [number, number] | undefined {
    return this.map.method === 'venn_abers' ? this.map.vennAbers.interval(probability) : undefined;
  }

  applyOne(probability: number): number {
    const map = this.map;
    switch (map.method) {
      case 'none':
        return probability;
      case 'platt':
        return map.platt.calibrateOne(map.input === 'log_odds' ? logOdds(probability) : probability);
      case 'monotone_cubic':
        return map.cubic.calibrateOne(probability);
      case 'isotonic':
        return map.isotonic.calibrateOne(probability);
      case 'venn_abers':
        return map.vennAbers.calibrateOne(probability);
    }
  }
}

/** What Platt scaling is fitted on, for each probability. */
function plattScores(probability: Float64Array, input: PlattInput): Float64Array {
  return input === 'log_odds' ? Float64Array.from(probability, logOdds) : probability;
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
 * `LOG_LOSS_TOLERANCE` above the lowest and whose held-out ROC AUC is at most `ROC_AUC_TOLERANCE` below
 * the model's own, preferring the simpler method (none, Platt, monotone cubic, isotonic,
 * Venn-Abers) within `ECE_TOLERANCE` of it. The chosen method is then fitted on
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
  // Among the methods whose log loss is within LOG_LOSS_TOLERANCE of the lowest (a calibrator that is
  // sure where it should not be scores well on ECE and badly on log loss), the simplest (first) whose ECE
  // is within ECE_TOLERANCE of the lowest.
  // Nor may it rank patients worse than the model does by more than ROC_AUC_TOLERANCE.
  // (The model's own probabilities always keep it, so some method is left.)
  const ownAuc = judged[0]!.method === 'none' ? judged[0]!.candidate.roc_auc : null;
  const ranking = judged.filter(
    ({ candidate }) =>
      ownAuc === null || candidate.roc_auc === null || candidate.roc_auc >= ownAuc - ROC_AUC_TOLERANCE,
  );
  const lowestLogLoss = Math.min(...ranking.map((entry) => entry.candidate.log_loss));
  const eligible = ranking.filter(
    (entry) => entry.candidate.log_loss <= lowestLogLoss * (1 + LOG_LOSS_TOLERANCE),
  );
  const lowestEce = Math.min(...eligible.map((entry) => entry.candidate.ece));
  const best = eligible.find((entry) => entry.candidate.ece <= lowestEce + ECE_TOLERANCE)!;
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

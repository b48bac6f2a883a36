import { invalidParameter } from '../../errors.js';
import type { Matrix } from '../../math/matrix.js';
import { Random } from '../../util/random.js';
import { type CrossValidationResult, crossValidate } from '../cross-validate.js';
import type { EstimatorName } from '../estimator.js';
import { createEstimator } from '../estimator-registry.js';
import {
  type BinaryMetricName,
  lowerIsBetter,
  SELECTION_METRICS,
  type SelectionMetric,
} from '../metrics/index.js';
import { canRunFoldsInParallel, ParallelFoldExecutor } from '../parallel/fold-executor.js';
import type { ParamValue } from '../params.js';
import { randomSampler, type Sampler, type ScoredTrial, tpeSampler } from './samplers.js';
import { type SearchSpace, searchSpaceOf } from './search-space.js';

export interface TuneOptions {
  readonly trials: number;
  /** Stratified folds each trial is cross-validated on (the same folds for every trial). */
  readonly folds: number;
  readonly seed: number;
  readonly metric?: SelectionMetric;
  readonly sampler?: 'tpe' | 'random';
  /** Parameters held fixed in every trial (e.g. from --param); they are not searched. */
  readonly fixed?: Readonly<Record<string, unknown>>;
  /** A search space to use instead of the family's declared one. */
  readonly space?: SearchSpace;
  /** Cross-validate each trial's folds on two cores (default: when the machine has them). Same results. */
  readonly parallel?: boolean;

  readonly onTrial?: (trial: TrialResult, done: number, total: number, best: TrialResult) => void;
}

export interface TrialResult {
  readonly trial: number;
  readonly params: Readonly<Record<string, ParamValue>>;
  /** The metric's cross-validated mean (as measured: log loss stays a loss). */
  readonly value: number;
  readonly accuracy: number;
  readonly roc_auc: number;
  readonly log_loss: number;
  readonly seconds: number;
}

export interface TuneResult {
  readonly estimator: EstimatorName;
  readonly metric: SelectionMetric;
  readonly sampler: string;
  readonly folds: number;
  readonly seed: number;
  readonly trials: readonly TrialResult[];
  readonly best: TrialResult;
  /** The full cross-validation of the best trial. */
  readonly bestCrossValidation: CrossValidationResult;
}

/**
 * Searches a family's declared space: each trial's parameters are proposed by the sampler (TPE after
 * random start-up trials, or random search), cross-validated on `x`/`y` only, and scored by the metric's
 * mean over the folds. Deterministic for a seed. Multi-fidelity variants (successive halving on boosting
 * rounds, or re-cross-validating the best trials) were measured and not adopted: docs/models.md,
 * "Tuning variants that were not adopted".
 */
export function tune(estimator: EstimatorName, x: Matrix, y: Float64Array, options: TuneOptions): TuneResult {
  if (!Number.isInteger(options.trials) || options.trials < 1) {
    throw invalidParameter(`The number of tuning trials must be a positive integer, got ${options.trials}`);
  }
  const metric = options.metric ?? 'roc_auc';
  if (!SELECTION_METRICS.includes(metric)) {
    throw invalidParameter(`Cannot tune for "${metric}"; choose one of ${SELECTION_METRICS.join(', ')}`);
  }
  const fixed = options.fixed ?? {};
  const space = Object.fromEntries(
    Object.entries(options.space ?? searchSpaceOf(estimator)).filter(([name]) => !(name in fixed)),
  );
  // Fail on bad fixed parameters before any trial runs.
  createEstimator(estimator, fixed);
  const sampler: Sampler = options.sampler === 'random' ? randomSampler : tpeSampler();
  const random = new Random(options.seed);
  const sign = lowerIsBetter(metric) ? -1 : 1;

  const executor =
    (options.parallel ?? canRunFoldsInParallel()) ? new ParallelFoldExecutor(x, y, options.folds) : undefined;
  try {
    return search(estimator, x, y, options, metric, space, fixed, sampler, random, sign, executor);
  } finally {
    void executor?.close();
  }
}

function search(
  estimator: EstimatorName,
  x: Matrix,
  y: Float64Array,
  options: TuneOptions,
  metric: SelectionMetric,
  space: SearchSpace,
  fixed: Readonly<Record<string, unknown>>,
  sampler: Sampler,
  random: Random,
  sign: number,
  executor: ParallelFoldExecutor | undefined,
): TuneResult {
  const trials: TrialResult[] = [];
  const history: ScoredTrial[] = [];
  let best: TrialResult | undefined;
  let bestCrossValidation: CrossValidationResult | undefined;
  for (let trial = 1; trial <= options.trials; trial++) {
    const proposed = sampler.propose(space, history, random);
    const params = createEstimator(estimator, { ...fixed, ...proposed }).getParams();
    const started = performance.now();
    const cv = crossValidate(estimator, params, x, y, {
      folds: options.folds,
      seed: options.seed,
      ...(executor ? { executor } : {}),
    });
    const result: TrialResult = {
      trial,
      params,
      value: cv.summary[metric as BinaryMetricName].mean,
      accuracy: cv.summary.accuracy.mean,
      roc_auc: cv.summary.roc_auc.mean,
      log_loss: cv.summary.log_loss.mean,
      seconds: (performance.now() - started) / 1000,
    };
    trials.push(result);
    history.push({ params: proposed, score: sign * result.value });
    if (best === undefined || sign * result.value > sign * best.value) {
      best = result;
      bestCrossValidation = cv;
    }
    options.onTrial?.(result, trial, options.trials, best);
  }
  return {
    estimator,
    metric,
    sampler: sampler.name,
    folds: options.folds,
    seed: options.seed,
    trials,
    best: best!,
    bestCrossValidation: bestCrossValidation!,
  };
}

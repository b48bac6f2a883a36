/**
 * Simulated traffic where the truth is known, for checking performance estimation (CBPE): the generator's
 * label model gives P(diagnosis | features) exactly, so an analysis set can be drawn under covariate shift
 * (features move, the conditional stays) or under concept shift (the conditional changes), and the labels
 * drawn from it are what feedback would bring. Used by test/monitoring/cbpe-simulation.test.ts and
 * bench/cbpe-accuracy.ts.
 */
import { createDataset, type Dataset, toRowMajor } from '../../src/data/dataset.js';
import { GENERATOR_CONSTANTS } from '../../src/data/generator/constants.js';
import { generateDataset } from '../../src/data/generator/generator.js';
import { type LabelModel, labelLogit } from '../../src/data/generator/model.js';
import { FEATURE_NAMES, type FeatureName, getFeature } from '../../src/data/schema.js';
import { createMatrix } from '../../src/math/matrix.js';
import { sigmoid } from '../../src/math/sigmoid.js';
import type { FittedModel } from '../../src/ml/estimator.js';
import { gbdt } from '../../src/ml/gbdt/gbdt.js';
import { DEFAULT_THRESHOLD } from '../../src/ml/metrics/confusion.js';
import {
  CbpeEstimator,
  type CbpeOptions,
  type PerformanceEstimate,
} from '../../src/monitoring/performance/cbpe.js';
import { type RealizedPerformance, realizedPerformance } from '../../src/monitoring/performance/realized.js';
import { Random } from '../../src/util/random.js';

/** How the analysis window differs from the reference. */
export type Shift =
  /** Covariate shift: features moved by `deltas` (clipped to what is possible), labels from the true P(y | x). */
  | { readonly kind: 'covariate'; readonly deltas: Readonly<Partial<Record<FeatureName, number>>> }
  /** Concept shift: features as in the reference, labels from a changed conditional `labelModel`. */
  | { readonly kind: 'concept'; readonly labelModel: LabelModel };

export interface SimulationOptions {
  readonly seed: number;
  readonly trainRows?: number;
  readonly referenceRows?: number;
  readonly analysisRows?: number;
  readonly shift: Shift;
  /** CBPE's calibration of the reference (default `auto`). */
  readonly calibration?: CbpeOptions['calibration'];
}

export interface SimulationResult {
  readonly estimate: PerformanceEstimate;
  readonly realized: RealizedPerformance;
  /** The reference-period positive rate and the analysis one, to show the shift moved the population. */
  readonly referencePositiveRate: number;
  readonly analysisPositiveRate: number;
  readonly calibrated: boolean;
}

/** A gradient-boosted model trained on generated patients, as a pipeline would train one. */
export function trainModel(seed: number, rows: number): FittedModel {
  const train = generateDataset({ rows, seed });
  const x = createMatrix(toRowMajor(train), train.rowCount, FEATURE_NAMES.length);
  return gbdt({ n_estimators: 60, max_depth: 3, learning_rate: 0.2, seed }).fit(x, train.target!);
}

/** The model's probabilities on a data set. */
export function probabilities(model: FittedModel, dataset: Dataset): Float64Array {
  return model.predictProba(createMatrix(toRowMajor(dataset), dataset.rowCount, FEATURE_NAMES.length));
}

/** Moves continuous features by `deltas`, clipped to each feature's possible range (its limits). */
export function shiftFeatures(
  dataset: Dataset,
  deltas: Readonly<Partial<Record<FeatureName, number>>>,
): Dataset {
  const columns = { ...dataset.columns } as Record<FeatureName, Float64Array>;
  for (const [name, delta] of Object.entries(deltas) as [FeatureName, number][]) {
    const feature = getFeature(name);
    if (feature.kind !== 'continuous')
      throw new Error(`${name} is not continuous; only continuous features shift`);
    const { min, max } = feature.limits;
    columns[name] = columns[name].map((value) => Math.min(max, Math.max(min, value + delta)));
  }
  return createDataset({ columns, target: dataset.target, patientIds: dataset.patientIds });
}

/** Labels drawn from `P(y = 1 | x) = sigmoid(labelLogit(model, x))`. */
export function drawLabels(dataset: Dataset, model: LabelModel, random: Random): Float64Array {
  const labels = new Float64Array(dataset.rowCount);
  for (let i = 0; i < dataset.rowCount; i++) {
    const p = sigmoid(labelLogit(model, (name) => dataset.columns[name][i]!));
    labels[i] = random.next() < p ? 1 : 0;
  }
  return labels;
}

/**
 * Trains a model, fits CBPE on a held-out reference set, draws an analysis window under `shift`, and
 * returns the estimate (from probabilities only) beside the realized performance (with the drawn labels).
 */
export function simulate(options: SimulationOptions): SimulationResult {
  const { seed, shift } = options;
  const model = trainModel(seed, options.trainRows ?? 4_000);

  const reference = generateDataset({ rows: options.referenceRows ?? 4_000, seed: seed + 1 });
  const estimator = CbpeEstimator.fit(
    { probability: probabilities(model, reference), label: reference.target! },
    { calibration: options.calibration ?? 'auto' },
  );

  const drawn = generateDataset({ rows: options.analysisRows ?? 5_000, seed: seed + 2 });
  const random = new Random(seed + 3);
  const analysis = shift.kind === 'covariate' ? shiftFeatures(drawn, shift.deltas) : drawn;
  const labels = drawLabels(
    analysis,
    shift.kind === 'covariate' ? GENERATOR_CONSTANTS.labelModel : shift.labelModel,
    random,
  );
  const probability = probabilities(model, analysis);
  const prediction = probability.map((p) => (p >= DEFAULT_THRESHOLD ? 1 : 0));
  return {
    estimate: estimator.estimate({ probability, prediction }),
    realized: realizedPerformance({ probability, prediction, label: labels }),
    referencePositiveRate: mean(reference.target!),
    analysisPositiveRate: mean(labels),
    calibrated: estimator.calibrated,
  };
}

/** The generator's label model with the motor symptoms' weights reversed: a changed P(y | x). */
export function reversedSymptomsModel(): LabelModel {
  const symptoms = new Set<FeatureName>(['Tremor', 'Rigidity', 'Bradykinesia', 'PosturalInstability']);
  const model = GENERATOR_CONSTANTS.labelModel;
  return {
    intercept: model.intercept + 8,
    terms: model.terms.map((term) =>
      symptoms.has(term.feature) ? { ...term, weights: term.weights.map((w) => -w) } : term,
    ),
  };
}

function mean(values: Float64Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

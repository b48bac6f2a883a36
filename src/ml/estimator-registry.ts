import { FEATURES } from '../data/schema.js';
import { invalidParameter } from '../errors.js';
import type { Estimator, EstimatorName, FittedModel } from './estimator.js';
import { gbdt, loadGbdtModel } from './gbdt/gbdt.js';
import { GBDT_PARAM_SPECS } from './gbdt/params.js';
import { LINEAR_PARAM_SPECS, linearRegression, loadLinearModel } from './linear/linear-regression.js';
import {
  LOGISTIC_PARAM_SPECS,
  loadLogisticModel,
  logisticRegression,
} from './logistic/logistic-regression.js';
import { loadObliviousModel, oblivious } from './oblivious/oblivious.js';
import { OBLIVIOUS_PARAM_SPECS } from './oblivious/params.js';
import type { ParamSpecs } from './params.js';

/** Column indices of the schema's categorical features (Ethnicity = 2, EducationLevel = 3). */
const CATEGORICAL_FEATURES = FEATURES.flatMap((feature, index) =>
  feature.kind === 'categorical' ? [index] : [],
);

interface EstimatorEntry {
  readonly description: string;
  /** Whether the family's models learn from and score rows with missing (NaN) feature values. */
  readonly handlesMissingValues: boolean;
  readonly params: ParamSpecs;
  /** The parameter seeding the family's randomness (sampling, permutations, noise); none when it has none. */
  readonly seedParam?: string;
  readonly create: (params?: Readonly<Record<string, unknown>>) => Estimator;
  readonly load: (state: unknown) => FittedModel;
}

/** Every model family Onset trains, by name: how to create, describe and load it. */
export const ESTIMATORS: Readonly<Record<EstimatorName, EstimatorEntry>> = {
  linear: {
    description:
      'ordinary least squares on the 0/1 target, score clipped to [0, 1] (scikit-learn LinearRegression)',
    handlesMissingValues: false,
    params: LINEAR_PARAM_SPECS,
    create: linearRegression,
    load: loadLinearModel,
  },
  logistic: {
    description:
      'L2-regularized logistic regression on standardized features (scikit-learn LogisticRegression)',
    handlesMissingValues: false,
    params: LOGISTIC_PARAM_SPECS,
    create: logisticRegression,
    load: loadLogisticModel,
  },
  gbdt: {
    description: "gradient-boosted trees following XGBoost's hist method for binary:logistic",
    handlesMissingValues: true,
    params: GBDT_PARAM_SPECS,
    seedParam: 'seed',
    create: gbdt,
    load: loadGbdtModel,
  },
  oblivious: {
    description:
      'CatBoost-style gradient boosting with symmetric trees; categorical features by ordered target statistics',
    handlesMissingValues: true,
    params: OBLIVIOUS_PARAM_SPECS,
    seedParam: 'random_seed',
    create: (params) => oblivious(params, { categoricalFeatures: CATEGORICAL_FEATURES }),
    load: loadObliviousModel,
  },
};

export const ESTIMATOR_NAMES = Object.keys(ESTIMATORS) as EstimatorName[];

export function isEstimatorName(name: string): name is EstimatorName {
  return Object.hasOwn(ESTIMATORS, name);
}

/** The estimator entry for a name, or an error listing the known names. */
export function estimatorEntry(name: string): EstimatorEntry {
  if (!isEstimatorName(name)) {
    throw invalidParameter(`Unknown model family "${name}"; known families: ${ESTIMATOR_NAMES.join(', ')}`);
  }
  return ESTIMATORS[name];
}

/** Creates an estimator by name with validated parameters. */
export function createEstimator(name: string, params: Readonly<Record<string, unknown>> = {}): Estimator {
  return estimatorEntry(name).create(params);
}

/** Loads a fitted model from its name-tagged state (the `model` field of a model document). */
export function loadModelState(state: unknown): FittedModel {
  const name = typeof state === 'object' && state !== null ? (state as { name?: unknown }).name : undefined;
  if (typeof name !== 'string') throw invalidParameter('Model state has no "name" naming its family');
  return estimatorEntry(name).load(state);
}

/**
 * How a data file must treat missing feature values for this family: `allow` keeps them (trees route
 * them), `reject` makes each one an error naming its row and column (linear models cannot use them).
 */
export function missingValuePolicy(estimator: string): 'allow' | 'reject' {
  return estimatorEntry(estimator).handlesMissingValues ? 'allow' : 'reject';
}

import { OnsetError } from '../../errors.js';
import {
  DEFAULT_THRESHOLD_POLICY,
  formatThresholdPolicy,
  parseThresholdPolicy,
  THRESHOLD_POLICY_SYNTAX,
} from '../../ml/decision/threshold-policy.js';
import type { EstimatorName } from '../../ml/estimator.js';
import { SELECTION_METRICS } from '../../ml/metrics/index.js';
import { DEFAULT_EXPERIMENT } from '../../tracking/training-logger.js';
import { definePipeline, type ParamSpec, type PipelineDefinition } from '../pipeline.js';
import {
  gateBlock,
  loadBlock,
  promoteBlock,
  registerBlock,
  selectBlock,
  splitBlock,
  trainBlock,
} from './training-blocks.js';

/** The registered model the built-in pipelines train and promote. */
export const DEFAULT_MODEL_NAME = 'parkinson-disease-prediction';

const DATA_PARAMS: Record<string, ParamSpec> = {
  data: {
    type: 'string',
    default: '',
    description: 'labelled CSV file (Kaggle layout); empty: the built-in generated data',
  },
  rows: { type: 'integer', default: 2105, min: 20, max: 1_000_000, description: 'rows of the built-in data' },
  data_seed: { type: 'integer', default: 42, description: 'seed of the built-in data' },
};

const METRIC_PARAM: Record<string, ParamSpec> = {
  metric: {
    type: 'string',
    default: 'roc_auc',
    choices: SELECTION_METRICS,
    description:
      'primary metric: what tuning optimizes, what selects the best family and what the gate compares',
  },
};

/** The parameters of a training pipeline: its data, metric, split, folds, tuning and where it registers. */
export const TRAINING_PARAMS: Readonly<Record<string, ParamSpec>> = {
  ...DATA_PARAMS,
  ...METRIC_PARAM,
  holdout: {
    type: 'number',
    default: 0.2,
    min: 0.05,
    max: 0.5,
    description: 'share of rows held out for comparison',
  },
  seed: { type: 'integer', default: 42, description: 'seed of the split, the folds and the search' },
  cv: { type: 'integer', default: 5, min: 2, max: 20, description: 'cross-validation folds' },
  trials: {
    type: 'integer',
    default: 0,
    min: 0,
    max: 1000,
    description: 'tuning trials per family (0: defaults)',
  },
  threshold: {
    type: 'string',
    default: formatThresholdPolicy(DEFAULT_THRESHOLD_POLICY),
    description: `how each model's decision threshold is chosen on its calibrated out-of-fold probabilities: ${THRESHOLD_POLICY_SYNTAX}; the gate compares challenger and champion at their own thresholds on the policy's metric`,
    check: (value) => {
      try {
        parseThresholdPolicy(value, 'threshold');
        return undefined;
      } catch (error) {
        return (error as Error).message;
      }
    },
  },
  model_name: {
    type: 'string',
    default: DEFAULT_MODEL_NAME,
    description: 'registered model to add the version to',
  },
  experiment: {
    type: 'string',
    default: DEFAULT_EXPERIMENT,
    description: 'experiment the training runs go to',
  },
};

/** The promotion gate's parameters. */
export const GATE_PARAMS: Readonly<Record<string, ParamSpec>> = {
  margin: {
    type: 'number',
    default: 0,
    min: 0,
    max: 1,
    description: 'how much the challenger must beat Production by',
  },
  golden: {
    type: 'string',
    default: '',
    description: 'folder of golden cases (*.csv); empty: the shipped set',
  },
  subgroup_gap: {
    type: 'number',
    default: 0,
    min: 0,
    max: 1,
    description:
      'keep the challenger out of Production when its accuracy, sensitivity or specificity on the judged rows differs by more than this between subgroups (sex, ethnicity, age band; 30 rows or more); 0: no such check',
  },
};

/** The families `train-all` trains on the same folds. */
export const FAMILIES: readonly EstimatorName[] = ['linear', 'logistic', 'gbdt', 'oblivious'];

function trainOne(estimator: EstimatorName): PipelineDefinition {
  return definePipeline({
    name: `train-${estimator}`,
    description: `load, split, cross-validate and fit ${estimator}, log the run, register a version`,
    params: TRAINING_PARAMS,
    blocks: [loadBlock, splitBlock, trainBlock(estimator), registerBlock(`train-${estimator}`)],
  });
}

/** Onset's built-in pipelines, by name. */
export const BUILT_IN_PIPELINES: readonly PipelineDefinition[] = [
  ...FAMILIES.map(trainOne),
  definePipeline({
    name: 'train-all',
    description:
      'the four families on the same folds; the best by the primary metric is registered and goes through the promotion gate',
    params: { ...TRAINING_PARAMS, ...GATE_PARAMS },
    // The longest training first: it has one core while the others share the second.
    blocks: [
      loadBlock,
      splitBlock,
      ...[...FAMILIES].reverse().map(trainBlock),
      selectBlock,
      registerBlock('select'),
      gateBlock,
    ],
  }),
  definePipeline({
    name: 'promote',
    description: 'the promotion gate alone: judge a registered version on labelled data against Production',
    params: {
      ...DATA_PARAMS,
      data_seed: {
        type: 'integer',
        default: 2024,
        description: 'seed of the built-in data (unseen by built-in training)',
      },
      ...METRIC_PARAM,
      model_name: { type: 'string', default: DEFAULT_MODEL_NAME, description: 'registered model' },
      version: {
        type: 'string',
        default: '',
        description: 'version, stage or @alias to judge; empty: the newest not in Production or Archived',
      },
      ...GATE_PARAMS,
    },
    blocks: [loadBlock, promoteBlock],
  }),
];

/** The pipeline called `name`; the error lists the known ones. */
export function findPipeline(
  name: string,
  pipelines: readonly PipelineDefinition[] = BUILT_IN_PIPELINES,
): PipelineDefinition {
  const found = pipelines.find((pipeline) => pipeline.name === name);
  if (!found) {
    throw new OnsetError(
      'RESOURCE_DOES_NOT_EXIST',
      `No pipeline "${name}"; known pipelines: ${pipelines.map((pipeline) => pipeline.name).join(', ')}`,
    );
  }
  return found;
}

import { type ParamSpecs, type ParamsOf, resolveParams } from '../params.js';

/**
 * XGBoost's parameters for the `hist` tree method and `binary:logistic`, with XGBoost's names, aliases,
 * meanings and defaults (XGBoost 1.7 documentation, "XGBoost Parameters").
 */
export const GBDT_PARAM_SPECS = {
  n_estimators: {
    type: 'integer',
    default: 100,
    min: 1,
    max: 100_000,
    description: 'Number of boosting rounds (trees)',
    aliases: ['num_boost_round'],
  },
  learning_rate: {
    type: 'number',
    default: 0.3,
    min: 0,
    max: 1,
    minExclusive: true,
    description: 'Step size shrinkage applied to each new tree',
    aliases: ['eta'],
  },
  max_depth: { type: 'integer', default: 6, min: 1, max: 16, description: 'Maximum depth of a tree' },
  min_child_weight: {
    type: 'number',
    default: 1,
    min: 0,
    description: 'Minimum sum of hessians needed in a child',
  },
  reg_lambda: {
    type: 'number',
    default: 1,
    min: 0,
    description: 'L2 regularization of leaf weights',
    aliases: ['lambda'],
  },
  reg_alpha: {
    type: 'number',
    default: 0,
    min: 0,
    description: 'L1 regularization of leaf weights',
    aliases: ['alpha'],
  },
  gamma: {
    type: 'number',
    default: 0,
    min: 0,
    description: 'Minimum loss reduction needed to make a split',
    aliases: ['min_split_loss'],
  },
  subsample: {
    type: 'number',
    default: 1,
    min: 0,
    max: 1,
    minExclusive: true,
    description: 'Share of rows sampled for each tree',
  },
  colsample_bytree: {
    type: 'number',
    default: 1,
    min: 0,
    max: 1,
    minExclusive: true,
    description: 'Share of features sampled for each tree',
  },
  colsample_bylevel: {
    type: 'number',
    default: 1,
    min: 0,
    max: 1,
    minExclusive: true,
    description: 'Share of the tree’s features sampled for each depth level',
  },
  max_delta_step: {
    type: 'number',
    default: 0,
    min: 0,
    description: 'Maximum absolute leaf weight before shrinkage (0 means no limit)',
  },
  scale_pos_weight: {
    type: 'number',
    default: 1,
    min: 0,
    minExclusive: true,
    description: 'Weight of positive rows relative to negative rows',
  },
  max_bin: {
    type: 'integer',
    default: 256,
    min: 2,
    max: 65_535,
    description: 'Maximum number of histogram bins per feature',
  },
  base_score: {
    type: 'number',
    default: 0.5,
    min: 0,
    max: 1,
    minExclusive: true,
    maxExclusive: true,
    description: 'Initial prediction (a probability), as XGBoost 1.7',
  },
  early_stopping_rounds: {
    type: 'integer',
    default: null,
    nullable: true,
    min: 1,
    description:
      'Stop when the validation log loss has not improved for this many rounds (needs a validation set)',
  },
  seed: {
    type: 'integer',
    default: 0,
    description: 'Random seed for row and feature sampling',
    aliases: ['random_state'],
  },
} as const satisfies ParamSpecs;

export type GbdtParams = ParamsOf<typeof GBDT_PARAM_SPECS>;

export function resolveGbdtParams(input: Readonly<Record<string, unknown>> = {}): GbdtParams {
  return resolveParams('gbdt', GBDT_PARAM_SPECS, input);
}

import { type ParamSpecs, type ParamsOf, resolveParams } from '../params.js';

/**
 * CatBoost's parameters for symmetric (oblivious) trees and the `Logloss` objective, with CatBoost's names,
 * aliases, meanings and defaults (CatBoost documentation, "Training parameters"), limited to what this
 * implementation does. `boost_from_average` defaults to false, as CatBoost's does for `Logloss`.
 */
export const OBLIVIOUS_PARAM_SPECS = {
  iterations: {
    type: 'integer',
    default: 1000,
    min: 1,
    max: 100_000,
    description: 'Number of boosting iterations (trees)',
    aliases: ['n_estimators', 'num_boost_round', 'num_trees'],
  },
  learning_rate: {
    type: 'number',
    default: 0.03,
    min: 0,
    max: 1,
    minExclusive: true,
    description: 'Step size shrinkage applied to each new tree',
    aliases: ['eta'],
  },
  depth: {
    type: 'integer',
    default: 6,
    min: 1,
    max: 10,
    description: 'Depth of every symmetric tree (one split per level, 2^depth leaves)',
    aliases: ['max_depth'],
  },
  l2_leaf_reg: {
    type: 'number',
    default: 3,
    min: 0,
    minExclusive: true,
    description: 'L2 regularization of leaf values (lambda in -G/(H + lambda))',
    aliases: ['reg_lambda'],
  },
  border_count: {
    type: 'integer',
    default: 254,
    min: 1,
    max: 65_533,
    description:
      'Maximum number of split borders per feature (quantiles of the training values); a feature with missing values gets one more, at its minimum, to separate them',
    aliases: ['max_bin'],
  },
  random_strength: {
    type: 'number',
    default: 1,
    min: 0,
    description:
      'Scale of the Gaussian noise added to split scores, shrinking over the iterations as CatBoost does (0 turns it off)',
  },
  rsm: {
    type: 'number',
    default: 1,
    min: 0,
    max: 1,
    minExclusive: true,
    description: 'Share of features sampled for each depth level (random subspace method)',
    aliases: ['colsample_bylevel'],
  },
  permutation_count: {
    type: 'integer',
    default: 4,
    min: 1,
    max: 64,
    description:
      'Number of random permutations behind the ordered target statistics of categorical features; each iteration uses one at random',
  },
  scale_pos_weight: {
    type: 'number',
    default: 1,
    min: 0,
    minExclusive: true,
    description: 'Weight of positive rows relative to negative rows',
  },
  boost_from_average: {
    type: 'boolean',
    default: false,
    description: 'Start from the log-odds of the training positive share instead of 0',
  },
  early_stopping_rounds: {
    type: 'integer',
    default: null,
    nullable: true,
    min: 1,
    description:
      'Stop when the validation log loss has not improved for this many iterations and keep the best iteration (needs a validation set)',
    aliases: ['od_wait'],
  },
  random_seed: {
    type: 'integer',
    default: 0,
    description: 'Random seed for permutations, feature sampling and split-score noise',
    aliases: ['random_state', 'seed'],
  },
} as const satisfies ParamSpecs;

export type ObliviousParams = ParamsOf<typeof OBLIVIOUS_PARAM_SPECS>;

export function resolveObliviousParams(input: Readonly<Record<string, unknown>> = {}): ObliviousParams {
  return resolveParams('oblivious', OBLIVIOUS_PARAM_SPECS, input);
}

import { invalidParameter } from '../../errors.js';
import { GbdtModel, treeFromState } from './gbdt.js';
import { resolveGbdtParams } from './params.js';
import type { FlatTree } from './tree.js';

/**
 * XGBoost's JSON model format (`Booster.save_model("model.json")`), both ways, for `binary:logistic`
 * gradient-boosted trees with numeric splits. Reference: XGBoost's `doc/model.schema` (version 1.7).
 */

/** The XGBoost version written into exported documents; XGBoost 1.7 and newer load it. */
export const XGBOOST_FORMAT_VERSION = [1, 7, 4] as const;

export interface XgboostExportOptions {
  /** Feature names, in model order (written as `feature_names`). */
  readonly featureNames?: readonly string[];
  /** XGBoost feature types per feature: `float` or `int`. */
  readonly featureTypes?: readonly ('float' | 'int')[];
}

/** Whether a parsed JSON value looks like an XGBoost model document. */
export function isXgboostJson(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'learner' in value && 'version' in value;
}

/** Writes a gbdt model as XGBoost JSON text. */
export function toXgboostJson(model: GbdtModel, options: XgboostExportOptions = {}): string {
  const featureCount = model.featureCount;
  if (options.featureNames && options.featureNames.length !== featureCount) {
    throw invalidParameter(
      `XGBoost export: ${options.featureNames.length} feature names for ${featureCount} features`,
    );
  }
  const trees = model.trees.map((tree, id) => treeJson(tree, id, featureCount));
  const learner = [
    `"attributes":{}`,
    ...(options.featureNames ? [`"feature_names":${JSON.stringify(options.featureNames)}`] : []),
    ...(options.featureTypes ? [`"feature_types":${JSON.stringify(options.featureTypes)}`] : []),
    `"gradient_booster":{"model":{"gbtree_model_param":{"num_parallel_tree":"1","num_trees":"${trees.length}","size_leaf_vector":"0"},"tree_info":[${trees.map(() => 0).join(',')}],"trees":[${trees.join(',')}]},"name":"gbtree"}`,
    // boost_from_average "0": the base score is explicit. With "1", XGBoost 1.7 resets it to 0.5 on load.
    `"learner_model_param":{"base_score":"${floatText(model.baseScore)}","boost_from_average":"0","num_class":"0","num_feature":"${featureCount}","num_target":"1"}`,
    `"objective":{"name":"binary:logistic","reg_loss_param":{"scale_pos_weight":"${floatText(model.params.scale_pos_weight)}"}}`,
  ];
  return `{"learner":{${learner.join(',')}},"version":[${XGBOOST_FORMAT_VERSION.join(',')}]}`;
}

function treeJson(tree: FlatTree, id: number, featureCount: number): string {
  const n = tree.left.length;
  const ints = (values: ArrayLike<number>) => `[${Array.from(values).join(',')}]`;
  const floats = (values: ArrayLike<number>) => `[${Array.from(values, floatText).join(',')}]`;
  return (
    `{"base_weights":${floats(tree.baseWeight)},"categories":[],"categories_nodes":[],"categories_segments":[],"categories_sizes":[],` +
    `"default_left":${ints(tree.defaultLeft)},"id":${id},"left_children":${ints(tree.left)},"loss_changes":${floats(tree.lossChange)},` +
    `"parents":${ints(tree.parent)},"right_children":${ints(tree.right)},"split_conditions":${floats(tree.condition)},` +
    `"split_indices":${ints(tree.feature)},"split_type":${ints(new Uint8Array(n))},"sum_hessian":${floats(tree.sumHessian)},` +
    `"tree_param":{"num_deleted":"0","num_feature":"${featureCount}","num_nodes":"${n}","size_leaf_vector":"0"}}`
  );
}

/**
 * A float32 value as XGBoost's JSON reader accepts it: the shortest decimal (at most 9 significant
 * digits) that reads back as the same float32, always with a decimal point or an exponent. XGBoost
 * rejects a bare integer where a float is expected, and silently falls back to the default for a
 * `base_score` written with 17 digits.
 */
export function floatText(value: number): string {
  if (!Number.isFinite(value)) throw invalidParameter(`Cannot write ${value} into an XGBoost model`);
  const target = Math.fround(value);
  let text = String(target);
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = String(Number(target.toPrecision(digits)));
    if (Math.fround(Number(candidate)) === target) {
      text = candidate;
      break;
    }
  }
  return /[.eE]/.test(text) ? text : `${text}.0`;
}

/**
 * Reads an XGBoost JSON model (already parsed, or decoded from UBJSON) into a gbdt model, with its feature
 * names when present; `where` names the model in errors.
 */
export function fromXgboostJson(
  value: unknown,
  where = 'XGBoost model',
): {
  model: GbdtModel;
  featureNames: readonly string[] | undefined;
} {
  const learner = field(value, 'learner', where);
  const objective = field(learner, 'objective', `${where} learner`);
  const objectiveName = field(objective, 'name', `${where} objective`);
  if (objectiveName !== 'binary:logistic') {
    throw invalidParameter(
      `${where}: objective "${String(objectiveName)}" is not supported; Onset reads binary:logistic models`,
    );
  }
  const booster = field(learner, 'gradient_booster', `${where} learner`);
  const boosterName = field(booster, 'name', `${where} gradient_booster`);
  if (boosterName !== 'gbtree') {
    throw invalidParameter(
      `${where}: booster "${String(boosterName)}" is not supported; Onset reads gbtree models`,
    );
  }
  const modelParams = field(learner, 'learner_model_param', `${where} learner`);
  const featureCount = Number(field(modelParams, 'num_feature', `${where} learner_model_param`));
  if (!Number.isInteger(featureCount) || featureCount < 1) {
    throw invalidParameter(`${where}: num_feature must be a positive integer`);
  }
  const numClass = Number((modelParams as Record<string, unknown>).num_class ?? 0);
  if (numClass > 1) throw invalidParameter(`${where}: ${numClass} classes; Onset reads binary models`);
  const baseScoreText = String(field(modelParams, 'base_score', `${where} learner_model_param`));
  // XGBoost 3.1 writes the intercept as a list, one value per target ("[5E-1]").
  const listed = /^\[(.*)\]$/.exec(baseScoreText)?.[1];
  if (listed?.includes(',')) {
    throw invalidParameter(
      `${where}: base_score ${baseScoreText} has several targets; Onset reads single-output models`,
    );
  }
  const baseScore = Number(listed ?? baseScoreText);
  if (!(baseScore > 0 && baseScore < 1)) {
    throw invalidParameter(
      `${where}: base_score ${baseScoreText} must be a probability strictly between 0 and 1`,
    );
  }
  const gbtree = field(booster, 'model', `${where} gradient_booster`);
  const treesJson = field(gbtree, 'trees', `${where} gradient_booster.model`);
  if (!Array.isArray(treesJson) || treesJson.length === 0)
    throw invalidParameter(`${where}: the model has no trees`);

  const trees = treesJson.map((tree: unknown, t: number) =>
    readTree(tree, featureCount, `${where}: tree ${t}`),
  );
  const scalePosWeight = Number(
    ((objective as Record<string, unknown>).reg_loss_param as Record<string, unknown> | undefined)
      ?.scale_pos_weight ?? 1,
  );
  const names = (learner as Record<string, unknown>).feature_names;
  let featureNames: string[] | undefined;
  if (Array.isArray(names) && names.length > 0) {
    if (names.length !== featureCount || !names.every((n) => typeof n === 'string')) {
      throw invalidParameter(
        `${where}: feature_names has ${names.length} entries for ${featureCount} features`,
      );
    }
    featureNames = names as string[];
  }
  const model = new GbdtModel({
    params: resolveGbdtParams({
      n_estimators: trees.length,
      base_score: baseScore,
      scale_pos_weight: scalePosWeight,
    }),
    featureCount,
    baseScore,
    trees,
    bestIteration: null,
    history: { train_logloss: [] },
  });
  return { model, featureNames };
}

function readTree(value: unknown, featureCount: number, where: string): FlatTree {
  if (typeof value !== 'object' || value === null) throw invalidParameter(`${where} is not an object`);
  const tree = value as Record<string, unknown>;
  const categories = tree.categories;
  const splitTypes = tree.split_type;
  if (
    (Array.isArray(categories) && categories.length > 0) ||
    (Array.isArray(splitTypes) && splitTypes.some((t) => t !== 0))
  ) {
    throw invalidParameter(`${where} has categorical splits; Onset reads models with numeric splits only`);
  }
  const param = tree.tree_param as Record<string, unknown> | undefined;
  if (param && Number(param.size_leaf_vector ?? 0) > 1) {
    throw invalidParameter(`${where} has vector leaves; Onset reads single-output models only`);
  }
  const defaultLeft = tree.default_left;
  return treeFromState(
    {
      left_children: tree.left_children as number[],
      right_children: tree.right_children as number[],
      parents: tree.parents as number[],
      split_indices: tree.split_indices as number[],
      split_conditions: tree.split_conditions as number[],
      // Older writers store booleans.
      default_left: Array.isArray(defaultLeft) ? defaultLeft.map(Number) : (defaultLeft as number[]),
      loss_changes: tree.loss_changes as number[],
      sum_hessian: tree.sum_hessian as number[],
      base_weights: tree.base_weights as number[],
    },
    featureCount,
    where,
  );
}

function field(value: unknown, key: string, where: string): unknown {
  if (typeof value !== 'object' || value === null || !(key in value)) {
    throw invalidParameter(
      `${where} has no "${key}"; is this an XGBoost JSON model (save_model("model.json"))?`,
    );
  }
  return (value as Record<string, unknown>)[key];
}

import { FEATURE_NAMES } from '../../data/schema.js';
import { invalidParameter } from '../../errors.js';
import { GbdtModel } from '../gbdt/gbdt.js';
import type { FlatTree } from '../gbdt/tree.js';
import { parseUbjson } from '../gbdt/ubjson.js';
import { fromXgboostJson, XGBOOST_FORMAT_VERSION } from '../gbdt/xgboost-json.js';
import { createModelDocument, exportXgboost } from '../model-document.js';
import { MLFLOW_FORMAT_VERSION } from './mlmodel-file.js';
import { flavorFile, type ModelDirectoryFile, type ModelFlavor, parseJsonFile } from './model-flavor.js';

/**
 * MLflow's `xgboost` flavor (`mlflow/xgboost/__init__.py`): an XGBoost model file named by `data`, saved
 * in `model_format` json, ubj or xgb (XGBoost's legacy binary, which Onset does not read), loaded in
 * Python as `model_class` (`xgboost.core.Booster`, or a scikit-learn wrapper such as
 * `xgboost.sklearn.XGBClassifier`).
 *
 * Written for gbdt models, as XGBoost JSON, with MLflow's `python_function` flavor (loader
 * `mlflow.xgboost`) and the environment files MLflow writes, so that `mlflow.xgboost.load_model` and
 * `mlflow.pyfunc.load_model` load an Onset model in Python unchanged. Read for any `binary:logistic`
 * booster whose feature names are the schema's (in any order).
 */

/** The XGBoost file an Onset model directory holds; not `model.json`, which is the Onset document's. */
export const XGBOOST_MODEL_FILE = 'xgboost.json';
/** The environment files of MLflow's python_function flavor. */
export const CONDA_FILE = 'conda.yaml';
export const PYTHON_ENV_FILE = 'python_env.yaml';
export const REQUIREMENTS_FILE = 'requirements.txt';

const XGBOOST_VERSION = XGBOOST_FORMAT_VERSION.join('.');
/** The Python the environment names: the one the MLflow client check ran with (Debian 12's). */
const PYTHON_VERSION = '3.11.2';
/** The packages that load the model in Python, pinned to the versions checked (as MLflow pins them). */
const REQUIREMENTS = [`mlflow==${MLFLOW_FORMAT_VERSION}`, `xgboost==${XGBOOST_VERSION}`];

export const xgboostFlavor: ModelFlavor = {
  name: 'xgboost',

  write({ model }) {
    if (model.estimator !== 'gbdt') return undefined;
    const files: ModelDirectoryFile[] = [
      { path: XGBOOST_MODEL_FILE, content: exportXgboost(model, 'The model') },
      ...environmentFiles(),
    ];
    return {
      flavors: {
        xgboost: {
          code: null,
          data: XGBOOST_MODEL_FILE,
          model_class: 'xgboost.core.Booster',
          model_format: 'json',
          xgb_version: XGBOOST_VERSION,
        },
        python_function: {
          data: XGBOOST_MODEL_FILE,
          env: { conda: CONDA_FILE, virtualenv: PYTHON_ENV_FILE },
          loader_module: 'mlflow.xgboost',
          python_version: PYTHON_VERSION,
        },
      },
      files,
    };
  },

  async read(configuration, directory, mlmodel) {
    const data = flavorFile(configuration, 'xgboost', directory);
    const where = `${directory.where}/${data}`;
    const format =
      typeof configuration.model_format === 'string'
        ? configuration.model_format
        : (/\.([a-z]+)$/.exec(data)?.[1] ?? 'unknown');
    if (format !== 'json' && format !== 'ubj') {
      const what =
        format === 'xgb'
          ? "XGBoost's legacy binary format (model_format xgb, mlflow.xgboost's default)"
          : `model_format ${JSON.stringify(format)}`;
      throw invalidParameter(
        `${directory.where} holds an XGBoost model in ${what}, which Onset does not read; log it with mlflow.xgboost.log_model(model, ..., model_format="json") or "ubj"`,
        { reason: 'unsupported model format', flavor: 'xgboost', model_format: format },
      );
    }
    const bytes = await directory.read(data);
    const value = format === 'json' ? parseJsonFile(bytes, where) : parseUbjson(bytes, where);
    const modelClass = typeof configuration.model_class === 'string' ? configuration.model_class : undefined;
    const { model, featureNames } = fromXgboostJson(value, where);
    const { trees, note } = treesPredicted(value, model, modelClass ?? 'xgboost.core.Booster', where);
    const order = schemaOrder(featureNames, where);
    const imported = new GbdtModel({
      params: { ...model.params, n_estimators: trees.length },
      featureCount: FEATURE_NAMES.length,
      baseScore: model.baseScore,
      trees: trees.map((tree) => renumbered(tree, order)),
      bestIteration: null,
      history: model.history,
    });
    const details: Record<string, string> = { flavor: 'xgboost', data, model_format: format };
    const text = (key: string, value: unknown) => {
      if (typeof value === 'string' || typeof value === 'number') details[key] = String(value);
    };
    text('model_class', modelClass);
    text('xgb_version', configuration.xgb_version);
    for (const key of [
      'mlflow_version',
      'run_id',
      'artifact_path',
      'model_uuid',
      'utc_time_created',
    ] as const) {
      text(key, mlmodel[key]);
    }
    details.feature_order = order.every((to, from) => to === from)
      ? 'schema order'
      : 'mapped to schema order';
    if (note) details.trees = note;
    const document = createModelDocument(imported, {
      dataset_fingerprint: null,
      rows: null,
      fit_seconds: null,
      fitted_at: null,
      imported_from: 'mlflow-xgboost',
      imported_source: directory.where,
      imported_details: details,
    });
    return { document, model: imported, format: 'mlflow-xgboost' };
  },
};

/** MLflow's environment files for the python_function flavor, naming the packages that load the model. */
function environmentFiles(): ModelDirectoryFile[] {
  const requirements = REQUIREMENTS.join('\n');
  return [
    {
      path: CONDA_FILE,
      content: [
        'channels:',
        '- conda-forge',
        'dependencies:',
        `- python=${PYTHON_VERSION}`,
        '- pip',
        '- pip:',
        ...REQUIREMENTS.map((requirement) => `  - ${requirement}`),
        'name: mlflow-env',
        '',
      ].join('\n'),
    },
    {
      path: PYTHON_ENV_FILE,
      content: [
        `python: ${PYTHON_VERSION}`,
        'build_dependencies:',
        '- pip',
        '- setuptools',
        '- wheel',
        'dependencies:',
        `- -r ${REQUIREMENTS_FILE}`,
        '',
      ].join('\n'),
    },
    // MLflow writes requirements.txt without a final newline.
    { path: REQUIREMENTS_FILE, content: requirements },
  ];
}

/**
 * The trees the model's Python class predicts with. A `Booster` uses them all; XGBoost's scikit-learn
 * wrappers (`xgboost.sklearn.*`) stop at the best iteration of early stopping (`best_iteration` in the
 * booster's attributes), which is what their `predict_proba` answers. The wrappers also keep their
 * `missing` value: one other than NaN turns real values into missing ones, which Onset does not do.
 */
function treesPredicted(
  value: unknown,
  model: GbdtModel,
  modelClass: string,
  where: string,
): { trees: readonly FlatTree[]; note: string | undefined } {
  if (!modelClass.startsWith('xgboost.sklearn.')) return { trees: model.trees, note: undefined };
  const learner = (value as { learner: Record<string, unknown> }).learner;
  const attributes = (learner.attributes ?? {}) as Record<string, unknown>;
  const missing = /"missing":\s*([^,}]+)/.exec(String(attributes.scikit_learn ?? ''))?.[1]?.trim();
  if (missing !== undefined && missing !== 'NaN' && missing !== 'null') {
    throw invalidParameter(
      `${where}: the ${modelClass} treats ${missing} as a missing value (missing=${missing}); Onset treats only absent values as missing, so it would predict otherwise. Train with the default missing=np.nan`,
    );
  }
  if (attributes.best_iteration === undefined) return { trees: model.trees, note: undefined };
  const best = Number(attributes.best_iteration);
  const booster = learner.gradient_booster as { model?: { gbtree_model_param?: Record<string, unknown> } };
  const perRound = Number(booster.model?.gbtree_model_param?.num_parallel_tree ?? 1);
  if (!Number.isInteger(best) || best < 0 || !Number.isInteger(perRound) || perRound < 1) {
    throw invalidParameter(`${where}: invalid best_iteration ${String(attributes.best_iteration)}`);
  }
  const count = Math.min(model.trees.length, (best + 1) * perRound);
  if (count === model.trees.length) return { trees: model.trees, note: undefined };
  return {
    trees: model.trees.slice(0, count),
    note: `the first ${count} of ${model.trees.length} trees (best_iteration ${best}, as ${modelClass}.predict_proba)`,
  };
}

/**
 * For each of the model's features, its index in the schema: the model's feature names must be exactly
 * the schema's, in any order. A model without names, or with a feature missing, extra or twice, is
 * refused with the names that differ.
 */
function schemaOrder(names: readonly string[] | undefined, where: string): number[] {
  const expected = FEATURE_NAMES.length;
  if (names === undefined) {
    throw invalidParameter(
      `${where}: the model has no feature names (it was trained on an array, not a DataFrame), so Onset cannot tell its columns apart; train it on a pandas DataFrame whose columns are the ${expected} schema features (onset data schema)`,
      { reason: 'unnamed features' },
    );
  }
  const index = new Map<string, number>(FEATURE_NAMES.map((name, i) => [name, i]));
  const seen = new Set<string>();
  const duplicated = names.filter((name) => seen.has(name) || !seen.add(name));
  const missing = FEATURE_NAMES.filter((name) => !seen.has(name));
  const extra = names.filter((name) => !index.has(name));
  if (missing.length > 0 || extra.length > 0 || duplicated.length > 0) {
    const problems = [
      ...(missing.length > 0 ? [`missing ${missing.join(', ')}`] : []),
      ...(extra.length > 0 ? [`not in the schema ${extra.join(', ')}`] : []),
      ...(duplicated.length > 0 ? [`twice ${duplicated.join(', ')}`] : []),
    ];
    throw invalidParameter(
      `${where}: its ${names.length} features are not the ${expected} schema features: ${problems.join('; ')}. Onset serves models of exactly the schema features, in any order (onset data schema)`,
      { reason: 'features differ from the schema', missing, extra, duplicated },
    );
  }
  return names.map((name) => index.get(name)!);
}

/** A tree with its split features renumbered (`order[model feature]` is the schema feature). */
function renumbered(tree: FlatTree, order: readonly number[]): FlatTree {
  const feature = Int32Array.from(tree.feature, (value, node) =>
    tree.left[node] === -1 ? value : order[value]!,
  );
  return { ...tree, feature };
}

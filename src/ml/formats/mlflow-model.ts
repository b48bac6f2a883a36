import { randomUUID } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { invalidParameter, OnsetError } from '../../errors.js';
import { looksLikeUbjson, parseUbjson } from '../gbdt/ubjson.js';
import { type LoadedModel, parseModel } from '../model-document.js';
import {
  type FlavorConfiguration,
  isRecord,
  MLFLOW_FORMAT_VERSION,
  MLMODEL_FILE,
  type Mlmodel,
  mlflowTime,
  parseMlmodel,
  schemaSignature,
  stringifyMlmodel,
} from './mlmodel-file.js';
import {
  listed,
  type ModelDirectory,
  type ModelDirectoryFile,
  type ModelFlavor,
  type ModelToWrite,
  parseJsonFile,
  type ReadModelDirectoryFile,
} from './model-flavor.js';
import { ONSET_DOCUMENT_FILE, onsetFlavor } from './onset-flavor.js';
import { xgboostFlavor } from './xgboost-flavor.js';

/**
 * Onset's models as MLflow model directories, both ways: the files of the directory for an Onset model
 * (`mlflowModelFiles`), and the servable model in a directory of any origin (`loadModelDirectory`).
 */

/** The flavors Onset writes and reads, in the order a reader prefers them (the lossless one first). */
export const MODEL_FLAVORS: readonly ModelFlavor[] = [onsetFlavor, xgboostFlavor];

export interface MlflowModelOptions {
  /** When the directory is made (MLmodel's `utc_time_created`). */
  readonly createdAt: Date;
  /** MLmodel's `model_uuid`: 32 lower-case hex digits, new for every directory (`newModelUuid()`). */
  readonly modelUuid: string;
  /** The run the model is logged to (MLmodel's `run_id`), with its path in the run's artifacts. */
  readonly runId?: string;
  readonly artifactPath?: string;
}

/** A new MLflow model uuid (a random uuid4 as 32 hex digits, as MLflow's `uuid.uuid4().hex`). */
export function newModelUuid(): string {
  return randomUUID().replaceAll('-', '');
}

/**
 * The files of an MLflow model directory holding an Onset model: `MLmodel` (with the schema's signature),
 * the onset flavor's `model.json` (the document, unchanged), and for gbdt models the xgboost flavor's
 * `xgboost.json` with the python_function flavor and its environment files (`conda.yaml`,
 * `python_env.yaml`, `requirements.txt`). Sorted by path; the same inputs give the same bytes.
 */
export function mlflowModelFiles(model: ModelToWrite, options: MlflowModelOptions): ModelDirectoryFile[] {
  if (!/^[0-9a-f]{32}$/.test(options.modelUuid)) {
    throw invalidParameter(
      `Invalid model uuid ${JSON.stringify(options.modelUuid)}: 32 lower-case hex digits`,
    );
  }
  const flavors: Record<string, FlavorConfiguration> = {};
  const files: ModelDirectoryFile[] = [];
  for (const flavor of MODEL_FLAVORS) {
    const written = flavor.write(model);
    if (written === undefined) continue;
    Object.assign(flavors, written.flavors);
    files.push(...written.files);
  }
  // As MLflow: the size of the model's data files (not of MLmodel or the environment files).
  const dataFiles = new Set(Object.values(flavors).map((configuration) => configuration.data));
  const modelSize = files
    .filter((file) => dataFiles.has(file.path))
    .reduce((total, file) => total + Buffer.byteLength(file.content), 0);
  const mlmodel: Mlmodel = {
    ...(options.artifactPath === undefined ? {} : { artifact_path: options.artifactPath }),
    ...(options.runId === undefined ? {} : { run_id: options.runId }),
    flavors,
    mlflow_version: MLFLOW_FORMAT_VERSION,
    model_size_bytes: modelSize,
    model_uuid: options.modelUuid,
    signature: schemaSignature(),
    utc_time_created: mlflowTime(options.createdAt),
  };
  files.push({ path: MLMODEL_FILE, content: stringifyMlmodel(mlmodel) });
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Loads the model a directory holds, for serving and explaining:
 * - an MLflow model (`MLmodel`) with the onset flavor: the Onset document it holds;
 * - an MLflow model with the xgboost flavor (model_format json or ubj) of a `binary:logistic` booster
 *   whose feature names are the schema's (any order): an Onset gbdt model with a document that says it
 *   was imported, from `where`;
 * - a folder without `MLmodel` but with `model.json` (runs logged before Onset wrote MLflow models), or a
 *   single file (`files` is `['']`): an Onset document or an XGBoost model (JSON or UBJ), as a model file.
 * Anything else (a pickled scikit-learn model, a Python model, another flavor, XGBoost's legacy binary
 * format, features that are not the schema's) is an OnsetError INVALID_PARAMETER_VALUE whose message says
 * what the directory holds and why Onset cannot serve it, with `details.reason`.
 *
 * @param files the relative paths of the directory's files (`/`-separated)
 * @param read reads one of them; only the files the model needs are read
 * @param where the directory in messages (a path, `runs:/...`, `Model NAME version N`)
 */
export async function loadModelDirectory(
  files: readonly string[],
  read: ReadModelDirectoryFile,
  where: string,
): Promise<LoadedModel> {
  const directory: ModelDirectory = { files, read, where };
  if (files.length === 1 && files[0] === '') return parseModelBytes(await read(''), where);
  if (files.includes(MLMODEL_FILE)) {
    const text = new TextDecoder().decode(await read(MLMODEL_FILE));
    const mlmodel = parseMlmodel(text, `${where}/${MLMODEL_FILE}`);
    for (const flavor of MODEL_FLAVORS) {
      const configuration = mlmodel.flavors[flavor.name];
      if (configuration !== undefined) return flavor.read(configuration, directory, mlmodel);
    }
    throw unservable(mlmodel, directory);
  }
  if (files.includes(ONSET_DOCUMENT_FILE)) {
    return parseModelBytes(await read(ONSET_DOCUMENT_FILE), `${where}/${ONSET_DOCUMENT_FILE}`);
  }
  throw invalidParameter(
    `${where} holds no model Onset can read: no MLmodel file (an MLflow model) and no ${ONSET_DOCUMENT_FILE} (its files: ${listed(files)})`,
    { reason: 'not a model directory' },
  );
}

/** A model file's bytes: an Onset document or XGBoost model as JSON, or an XGBoost model as UBJSON. */
export function parseModelBytes(bytes: Uint8Array, where: string): LoadedModel {
  const value = looksLikeUbjson(bytes) ? parseUbjson(bytes, where) : parseJsonFile(bytes, where);
  return parseModel(value, where);
}

/**
 * Loads the model at a local path: a model directory (MLflow's, or a run's folder with `model.json`, as
 * `loadModelDirectory` reads them) or a model file (an Onset document, or an XGBoost model as JSON or UBJ).
 */
export async function loadModelPath(path: string): Promise<LoadedModel> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new OnsetError('RESOURCE_DOES_NOT_EXIST', `Model file not found: ${path}`);
    }
    throw invalidParameter(`Cannot read the model at ${path}: ${(error as Error).message}`);
  }
  if (isDirectory) {
    const directory = await localModelDirectory(path);
    return loadModelDirectory(directory.files, directory.read, path);
  }
  return parseModelBytes(await readFile(path), path);
}

/** The files of a local directory, for `loadModelDirectory` (symbolic links are not followed). */
export async function localModelDirectory(path: string): Promise<ModelDirectory> {
  const entries = await readdir(path, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(path, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort();
  return { files, read: (file) => readFile(join(path, ...file.split('/'))), where: path };
}

/** Why Onset cannot serve an MLflow model of other flavors, in words a data scientist knows. */
function unservable(mlmodel: Mlmodel, directory: ModelDirectory): never {
  const names = Object.keys(mlmodel.flavors);
  const pyfunc = mlmodel.flavors.python_function;
  const loader =
    isRecord(pyfunc) && typeof pyfunc.loader_module === 'string' ? pyfunc.loader_module : undefined;
  let what: string;
  if (isRecord(mlmodel.flavors.sklearn)) {
    const pickled = mlmodel.flavors.sklearn.pickled_model;
    what = `a scikit-learn model pickled by Python (sklearn flavor${typeof pickled === 'string' ? `, ${pickled}` : ''}); Onset does not run Python pickles`;
  } else if (isRecord(pyfunc) && (loader === 'mlflow.pyfunc.model' || 'python_model' in pyfunc)) {
    what =
      'a custom Python model (python_function flavor with a pickled PythonModel); Onset runs no Python code';
  } else {
    const described = names.map((name) =>
      name === 'python_function' && loader ? `python_function (loader ${loader})` : name,
    );
    what = `a model of the flavor${names.length === 1 ? '' : 's'} ${described.join(', ')}, which Onset does not read`;
  }
  throw invalidParameter(
    `${directory.where} holds an MLflow model Onset cannot serve: ${what}. Onset serves MLflow models with the onset flavor (its own) or the xgboost flavor (a binary:logistic booster saved as json or ubj, with the schema's features)`,
    { reason: 'unsupported flavors', flavors: names },
  );
}

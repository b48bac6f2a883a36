import { invalidParameter } from '../../errors.js';
import type { FittedModel } from '../estimator.js';
import type { LoadedModel, ModelDocument } from '../model-document.js';
import type { FlavorConfiguration, Mlmodel } from './mlmodel-file.js';

/**
 * The model format seam: a flavor is one way an MLflow model directory holds a model (MLflow's word for
 * it), written into a directory next to the others and read back from its entry in `MLmodel`. Flavors
 * are sibling files (`onset-flavor.ts`, `xgboost-flavor.ts`); `mlflow-model.ts` composes them.
 */
export interface ModelFlavor {
  /** The flavor's key under `flavors:` in `MLmodel`. */
  readonly name: string;
  /**
   * The flavor's `MLmodel` entries and files for a model, or undefined when this flavor cannot hold it
   * (the xgboost flavor holds gbdt models only). The entries may include other flavors the files serve
   * (`python_function`).
   */
  write(model: ModelToWrite): FlavorFiles | undefined;
  /**
   * Loads the model from the flavor's configuration; an OnsetError (INVALID_PARAMETER_VALUE) saying why
   * when this directory's model is not one Onset can serve.
   */
  read(configuration: FlavorConfiguration, directory: ModelDirectory, mlmodel: Mlmodel): Promise<LoadedModel>;
}

/** An Onset model to write: its document and the fitted model the document holds. */
export interface ModelToWrite {
  readonly document: ModelDocument;
  readonly model: FittedModel;
}

/** A file of a model directory: its path relative to the directory (`/`-separated) and its text. */
export interface ModelDirectoryFile {
  readonly path: string;
  readonly content: string;
}

/** What a flavor adds to a model directory. */
export interface FlavorFiles {
  readonly flavors: Readonly<Record<string, FlavorConfiguration>>;
  readonly files: readonly ModelDirectoryFile[];
}

/** Reads one file of a model directory by its relative path. */
export type ReadModelDirectoryFile = (path: string) => Promise<Uint8Array>;

/** A model directory as a reader sees it, wherever it is stored. */
export interface ModelDirectory {
  /** The relative paths of its files (`/`-separated, no directories). */
  readonly files: readonly string[];
  readonly read: ReadModelDirectoryFile;
  /** The directory in messages: a path, a run artifact, a registered version. */
  readonly where: string;
}

/**
 * The file a flavor's `data` entry (or `key`) names, checked to be a relative path the directory holds.
 * MLflow resolves it against the directory, so `./model.json` and `model.json` are the same file.
 */
export function flavorFile(
  configuration: FlavorConfiguration,
  flavor: string,
  directory: ModelDirectory,
  key = 'data',
): string {
  const value = configuration[key];
  if (typeof value !== 'string' || value === '') {
    throw invalidParameter(`${directory.where}: the ${flavor} flavor in MLmodel names no ${key} file`);
  }
  const path = value.replace(/^(\.\/)+/, '');
  const segments = path.split('/');
  if (path.startsWith('/') || segments.some((segment) => segment === '..' || segment === '')) {
    throw invalidParameter(
      `${directory.where}: the ${flavor} flavor's ${key} ${JSON.stringify(value)} is not a path inside the model directory`,
    );
  }
  if (!directory.files.includes(path)) {
    throw invalidParameter(
      `${directory.where}: the ${flavor} flavor's ${key} file ${path} is not in the directory (its files: ${listed(directory.files)})`,
    );
  }
  return path;
}

/** A list of paths for a message, cut after 20. */
export function listed(paths: readonly string[]): string {
  const shown = paths.slice(0, 20).join(', ');
  return paths.length > 20 ? `${shown}, ... (${paths.length} files)` : shown || 'none';
}

/** Parses a file's bytes as JSON (UTF-8), naming it in the error. */
export function parseJsonFile(bytes: Uint8Array, where: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw invalidParameter(`${where} is not valid JSON (${(error as Error).message})`);
  }
}

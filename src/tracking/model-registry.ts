import { invalidParameter, OnsetError } from '../errors.js';
import { loadModelDirectory } from '../ml/formats/mlflow-model.js';
import type { LoadedModel } from '../ml/model-document.js';
import { pythonJsonDumps } from '../util/python-json.js';
import { joinArtifactPath, runArtifactPrefix } from './artifact-paths.js';
import type { ArtifactStore } from './artifacts/artifact-store.js';
import { safeArtifactDirectory } from './artifacts/path-safety.js';
import { MODEL_STAGES, type ModelFile, type ModelStage, type ModelVersion, type Tag } from './entities.js';
import type { LoggedModelStore } from './logged-model-store.js';
import { MAX_MODEL_FILES } from './model-files.js';
import type { RegistryStore } from './registry-store.js';
import type { TrackingStore } from './tracking-store.js';

/** The run metrics a model version keeps a snapshot of, when the run has them. */
export const SNAPSHOT_METRICS = [
  'cv_roc_auc',
  'cv_accuracy',
  'cv_log_loss',
  'cv_brier',
  'training_roc_auc',
  'holdout_roc_auc',
  'holdout_accuracy',
] as const;

export interface RegistryStores {
  readonly tracking: TrackingStore;
  readonly registry: RegistryStore;
  readonly artifacts: ArtifactStore;
  /** MLflow 3's logged models; without it, `models:/m-...` sources and `model_id` are refused. */
  readonly loggedModels?: LoggedModelStore;
}

/** The scheme of MLflow's artifact proxy: `mlflow-artifacts:/<path under the artifact root>`. */
export const PROXIED_ARTIFACTS_SCHEME = 'mlflow-artifacts:';

/** A `models:/` URI: a registered model and a version number, a stage, or an alias (`@champion`). */
export interface RegistryReference {
  readonly name: string;
  /** `3`, `Production` (any case), or `@champion`. */
  readonly reference: string;
}

/**
 * Parses `models:/NAME/VERSION`, `models:/NAME/STAGE` and `models:/NAME@ALIAS`; undefined for a URI of
 * another scheme, INVALID_PARAMETER_VALUE for a malformed `models:/` one.
 */
export function parseRegistryUri(uri: string): RegistryReference | undefined {
  if (!uri.startsWith('models:/')) return undefined;
  const rest = uri.slice('models:/'.length);
  const alias = /^([^/@]+)@([\w.-]+)$/.exec(rest);
  if (alias) return { name: alias[1]!, reference: `@${alias[2]}` };
  const stage = /^([^/@]+)\/([\w.-]+)$/.exec(rest);
  if (stage) return { name: stage[1]!, reference: stage[2]! };
  throw invalidParameter(
    `Invalid model URI "${uri}": write models:/NAME/STAGE, models:/NAME/VERSION or models:/NAME@ALIAS`,
  );
}

/** `models:/<model id>`: an MLflow 3 logged model (ids are `m-` and 32 hex digits). */
const LOGGED_MODEL_URI = /^models:\/(m-[0-9a-f]{32})$/;

const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:/i;

/** MLflow's refusal of a local source that is not inside the run's artifacts (its words). */
function localSourceRefused(source: string): OnsetError {
  return invalidParameter(
    `Invalid model version source: '${source}'. To use a local path as a model version source, the run_id request parameter has to be specified and the local path has to be contained within the artifact directory of the run specified by the run_id.`,
  );
}

/** Where a version's files are: in the artifact store (and, for a `models:/` source, the files it copies). */
interface ResolvedSource {
  readonly storageLocation: string | null;
  /** The files of the version a `models:/` source names (undefined: look at the storage location). */
  readonly files?: readonly ModelFile[] | null;
  /** The run a logged model (`models:/m-...`) came from. */
  readonly runId?: string | null;
}

/**
 * Where a model version source is in the artifact store, relative to its root: `runs:/<run id>/<path>`
 * (in that run's artifacts), `mlflow-artifacts:/<path>` (MLflow's proxy, with or without a host), an
 * artifact URI under the root (`file:///...`, `s3://bucket/prefix/...`), `models:/<name>/<version>` (that
 * version's files), or a path relative to the root. A URI elsewhere (another bucket, `https:`), or a
 * `runs:/` URI of a run that does not exist, is kept as the client's business: null, and Onset will not
 * serve it; a local path outside the artifact store is refused, as MLflow refuses it.
 */
export async function resolveModelSource(stores: RegistryStores, source: string): Promise<ResolvedSource> {
  const logged = LOGGED_MODEL_URI.exec(source);
  if (logged) {
    const model = await loggedModel(stores, logged[1]!);
    const files = artifactUriInStore(stores, model.artifactLocation);
    return { storageLocation: files === null ? null : inStore(files, source), runId: model.sourceRunId };
  }
  const registered = parseRegistryUri(source);
  if (registered) {
    const version = await findModelVersion(stores.registry, registered.name, registered.reference);
    return {
      storageLocation: version.storageLocation,
      files: await stores.registry.getModelFiles(version.name, version.version),
    };
  }
  const runs = /^runs:\/([^/]+)(?:\/(.*))?$/.exec(source);
  if (runs) {
    // As MLflow, the run named need not exist (nor be the version's run_id): its files are then not in
    // this store, and the version is kept but not served.
    const run = await existingRun(stores.tracking, runs[1]!);
    if (run === undefined) return { storageLocation: null };
    const artifacts = artifactUriInStore(stores, run.info.artifactUri);
    return {
      storageLocation:
        artifacts === null ? null : inStore(joinArtifactPath(artifacts, runs[2] ?? ''), source),
    };
  }
  if (source.startsWith(PROXIED_ARTIFACTS_SCHEME)) {
    // mlflow-artifacts:/path, mlflow-artifacts:///path or mlflow-artifacts://host:port/path.
    const path = source.slice(PROXIED_ARTIFACTS_SCHEME.length).replace(/^\/\/[^/]*/, '');
    return { storageLocation: inStore(path.replace(/^\/+/, ''), source) };
  }
  const root = stores.artifacts.rootUri.replace(/\/+$/, '');
  if (source === root || source.startsWith(`${root}/`)) {
    return { storageLocation: inStore(source.slice(root.length + 1), source) };
  }
  if (source.startsWith('file:') || source.startsWith('/')) throw localSourceRefused(source);
  if (HAS_SCHEME.test(source)) return { storageLocation: null };
  return { storageLocation: inStore(source, source) };
}

/** Where an artifact URI (a run's or a logged model's) is in the store; null when it is elsewhere. */
function artifactUriInStore(stores: RegistryStores, uri: string): string | null {
  const root = stores.artifacts.rootUri.replace(/\/+$/, '');
  if (uri !== root && !uri.startsWith(`${root}/`)) return null;
  return runArtifactPrefix(stores.artifacts, uri);
}

/** The logged model with this id (RESOURCE_DOES_NOT_EXIST when there is none). */
async function loggedModel(stores: RegistryStores, modelId: string) {
  if (stores.loggedModels === undefined) {
    throw invalidParameter(
      `Cannot register logged model ${modelId} here: this registry has no logged-model store`,
    );
  }
  return stores.loggedModels.getLoggedModel(modelId);
}

/** The run, or undefined when there is none with that id. */
async function existingRun(tracking: TrackingStore, runId: string) {
  try {
    return await tracking.getRun(runId);
  } catch (error) {
    if (error instanceof OnsetError && error.code === 'RESOURCE_DOES_NOT_EXIST') return undefined;
    throw error;
  }
}

/** A path in the artifact store, checked by its rules (no `..`, no control characters, ...). */
function inStore(path: string, source: string): string {
  try {
    return safeArtifactDirectory(path.replace(/\/+$/, ''));
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw invalidParameter(`Invalid model version source ${JSON.stringify(source)}: ${why}`);
  }
}

/**
 * The files at a storage location, with their sizes and sha256s as the artifact store recorded them: the
 * one file there, or every file under the folder; null when there is nothing (yet).
 */
export async function filesAt(artifacts: ArtifactStore, location: string): Promise<ModelFile[] | null> {
  if (location !== '') {
    try {
      const stored = await artifacts.stat(location);
      return [{ path: '', size: stored.size, sha256: stored.sha256 }];
    } catch (error) {
      if (!(error instanceof OnsetError && error.code === 'RESOURCE_DOES_NOT_EXIST'))
        throw unverifiable(error, location);
    }
  }
  const files: ModelFile[] = [];
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await artifacts.list(joinArtifactPath(location, folder))) {
      const path = joinArtifactPath(folder, entry.path);
      if (entry.isDir) {
        await walk(path);
        continue;
      }
      if (files.length === MAX_MODEL_FILES) {
        throw invalidParameter(
          `The model at ${location} has more than ${MAX_MODEL_FILES} files; a model version holds at most ${MAX_MODEL_FILES}`,
        );
      }
      try {
        const stored = await artifacts.stat(joinArtifactPath(location, path));
        files.push({ path, size: stored.size, sha256: stored.sha256 });
      } catch (error) {
        throw unverifiable(error, joinArtifactPath(location, path));
      }
    }
  };
  await walk('');
  return files.length === 0 ? null : files;
}

/** A file with no sha256 recorded was not written through Onset: it cannot be vouched for. */
function unverifiable(error: unknown, path: string): unknown {
  if (!(error instanceof OnsetError) || error.code !== 'INTERNAL_ERROR') return error;
  return invalidParameter(
    `Cannot register ${path}: ${error.message}. Log models through the tracking server (the artifact proxy, mlflow-artifacts:/), which records every file's sha256.`,
  );
}

/**
 * Creates a model version from any MLflow source form (see `resolveModelSource`): records where its files
 * are and their manifest (path, size and sha256 of every file), and a snapshot of the run's key metrics. A
 * source with no files yet is accepted, as MLflow accepts it: its files are recorded when first read.
 */
export async function registerModelVersion(
  stores: RegistryStores,
  input: {
    name: string;
    source: string;
    runId?: string | null;
    description?: string;
    tags?: readonly Tag[];
    userId?: string;
    /** The MLflow 3 logged model this version promotes: its run is the version's when none is given. */
    modelId?: string | null;
    /** Create the registered model when missing (the CLI does; MLflow's REST API answers 404 instead). */
    createModelIfMissing?: boolean;
  },
): Promise<ModelVersion> {
  const promoted = input.modelId ? await loggedModel(stores, input.modelId) : undefined;
  const resolved = await resolveModelSource(stores, input.source);
  const runId = input.runId || resolved.runId || promoted?.sourceRunId || null;
  const files =
    resolved.files !== undefined
      ? resolved.files
      : resolved.storageLocation === null
        ? null
        : await filesAt(stores.artifacts, resolved.storageLocation);
  const run = runId ? await existingRun(stores.tracking, runId) : undefined;
  const metrics: Record<string, number> = {};
  for (const metric of run?.data.metrics ?? []) {
    if ((SNAPSHOT_METRICS as readonly string[]).includes(metric.key)) metrics[metric.key] = metric.value;
  }
  try {
    await stores.registry.getRegisteredModel(input.name);
  } catch (error) {
    if (
      !(input.createModelIfMissing && error instanceof OnsetError && error.code === 'RESOURCE_DOES_NOT_EXIST')
    )
      throw error;
    await stores.registry.createRegisteredModel({ name: input.name });
  }
  const version = await stores.registry.createModelVersion({
    name: input.name,
    source: input.source,
    storageLocation: resolved.storageLocation,
    files,
    runId,
    metrics,
    ...(input.tags === undefined ? {} : { tags: input.tags }),
    ...(input.description === undefined ? {} : { description: input.description }),
    ...(input.userId === undefined ? {} : { userId: input.userId }),
  });
  if (promoted) await recordVersionOnLoggedModel(stores, promoted.modelId, version);
  return version;
}

/** MLflow's tag on a logged model listing the registered versions made from it. */
export const MODEL_VERSIONS_TAG = 'mlflow.modelVersions';

/**
 * Adds the version to its logged model's `mlflow.modelVersions` tag (a JSON list of `{name, version}`, as
 * MLflow writes it), so the model's page can link to its registered versions.
 */
async function recordVersionOnLoggedModel(
  stores: RegistryStores,
  modelId: string,
  version: ModelVersion,
): Promise<void> {
  const model = await loggedModel(stores, modelId);
  const entry = { name: version.name, version: String(version.version) };
  let listed: unknown[] = [];
  const existing = model.tags.find((tag) => tag.key === MODEL_VERSIONS_TAG)?.value;
  if (existing !== undefined) {
    try {
      const parsed: unknown = JSON.parse(existing);
      if (Array.isArray(parsed)) listed = parsed;
    } catch {
      // A tag a client wrote by hand that is not JSON: replaced by the list this server keeps.
    }
  }
  const known = listed.some(
    (item) =>
      typeof item === 'object' &&
      item !== null &&
      (item as { name?: unknown }).name === entry.name &&
      String((item as { version?: unknown }).version) === entry.version,
  );
  if (!known) listed.push(entry);
  await stores.loggedModels!.setLoggedModelTags(modelId, [
    { key: MODEL_VERSIONS_TAG, value: pythonJsonDumps(listed) },
  ]);
}

/**
 * Finds a version by number, stage (`Production`, `Staging`, ...: the latest in that stage) or alias
 * (`@champion`), as in `models:/<name>/<version|stage>` and `models:/<name>@<alias>` URIs.
 */
export async function findModelVersion(
  registry: RegistryStore,
  name: string,
  reference: string,
): Promise<ModelVersion> {
  if (reference.startsWith('@')) return registry.getModelVersionByAlias(name, reference.slice(1));
  if (/^\d+$/.test(reference)) return registry.getModelVersion(name, reference);
  const stage = MODEL_STAGES.find((s) => s.toLowerCase() === reference.toLowerCase()) as
    | ModelStage
    | undefined;
  if (stage === undefined) {
    throw invalidParameter(
      `"${reference}" is neither a version number, a stage (${MODEL_STAGES.join(', ')}) nor an alias (@name)`,
    );
  }
  const [latest] = await registry.getLatestVersions(name, [stage]);
  if (latest === undefined) {
    throw new OnsetError(
      'RESOURCE_DOES_NOT_EXIST',
      `Registered model ${name} has no version in stage ${stage}`,
    );
  }
  return latest;
}

/** Reads one file of a model version by its path in the version, verified against the manifest. */
export type ReadModelFile = (path: string) => Promise<Buffer>;

/** A version's files as recorded, and a reader that refuses any byte that differs from them. */
export interface VerifiedModelFiles {
  readonly version: ModelVersion;
  readonly files: readonly ModelFile[];
  readonly read: ReadModelFile;
}

/**
 * The recorded files of a version (recording them first for a version registered before they existed)
 * and a reader that verifies each file it reads against the manifest: a file that changed since
 * registration, or is gone, is refused (INVALID_STATE).
 */
export async function modelVersionFiles(
  stores: RegistryStores,
  registered: ModelVersion,
): Promise<VerifiedModelFiles> {
  const what = `Model ${registered.name} version ${registered.version}`;
  const location = registered.storageLocation;
  if (location === null) {
    throw new OnsetError(
      'INVALID_STATE',
      `${what} is stored outside Onset's artifact store (source ${registered.source}); Onset cannot read it`,
    );
  }
  let version = registered;
  let files = await stores.registry.getModelFiles(version.name, version.version);
  if (files === null) {
    const found = await filesAt(stores.artifacts, location);
    if (found === null) {
      throw new OnsetError('INVALID_STATE', `${what}: its source ${version.source} holds no files (yet)`);
    }
    version = await stores.registry.recordModelFiles(version.name, version.version, found);
    files = (await stores.registry.getModelFiles(version.name, version.version)) ?? found;
  }
  const byPath = new Map(files.map((file) => [file.path, file]));
  const read: ReadModelFile = async (path) => {
    const file = byPath.get(path);
    if (file === undefined) {
      throw new OnsetError(
        'INVALID_STATE',
        `${what} has no file ${path} (its files: ${[...byPath.keys()].slice(0, 20).join(', ')})`,
      );
    }
    const stored = joinArtifactPath(location, path);
    try {
      return await stores.artifacts.get(stored, file.sha256);
    } catch (error) {
      // The store's file is intact but another than the one registered (replaced through the store);
      // a file damaged behind the store's back keeps the store's own error.
      const replaced = error instanceof OnsetError && error.code === 'INVALID_STATE';
      const actual = replaced ? (error.details as { sha256?: unknown } | undefined)?.sha256 : undefined;
      if (typeof actual === 'string') {
        throw new OnsetError(
          'INVALID_STATE',
          `${what}: its artifact ${stored} changed since registration (sha256 ${actual}, registered ${file.sha256}); refusing to load it`,
        );
      }
      if (error instanceof OnsetError && error.code === 'RESOURCE_DOES_NOT_EXIST') {
        throw new OnsetError('INVALID_STATE', `${what}: its artifact ${stored} is gone since registration`);
      }
      throw error;
    }
  };
  return { version, files, read };
}

/**
 * Loads a registered version's model in any form Onset can serve (see `loadModelDirectory`: an MLflow
 * model with the onset or xgboost flavor, a run folder with `model.json`, or one model file), refusing any
 * file whose sha256 differs from the one recorded at registration (a corrupt or replaced file). A model
 * Onset cannot serve (a pickled scikit-learn model, a Python model, ...) is refused with the reason.
 */
export async function loadModelVersion(
  stores: RegistryStores,
  registered: ModelVersion,
): Promise<LoadedModel & { version: ModelVersion }> {
  const { version, files, read } = await modelVersionFiles(stores, registered);
  const loaded = await loadModelDirectory(
    files.map((file) => file.path),
    read,
    `Model ${version.name} version ${version.version}`,
  );
  return { ...loaded, version };
}

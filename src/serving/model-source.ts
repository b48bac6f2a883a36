import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { invalidParameter, OnsetError } from '../errors.js';
import type { FittedModel } from '../ml/estimator.js';
import { loadModelDirectory, loadModelPath, localModelDirectory } from '../ml/formats/mlflow-model.js';
import type { ModelDocument } from '../ml/model-document.js';
import { joinArtifactPath, runArtifactPrefix } from '../tracking/artifact-paths.js';
import type { ModelStage, ModelVersion } from '../tracking/entities.js';
import { manifestDigest } from '../tracking/model-files.js';
import {
  filesAt,
  findModelVersion,
  loadModelVersion,
  parseRegistryUri,
  type RegistryStores,
} from '../tracking/model-registry.js';

/** A loaded model and where it came from: what `GET /model` reports and every prediction names. */
export interface ServedModel {
  readonly model: FittedModel;
  readonly document: ModelDocument;
  readonly uri: string;
  readonly name: string | null;
  readonly version: string | null;
  readonly stage: ModelStage | null;
  readonly runId: string | null;
  /**
   * sha256 of the model's files: a registered version's or a run's, verified when it was loaded; a local
   * file's or folder's, computed when it was loaded (see `localModelChecksum`).
   */
  readonly checksum: string | null;
  /** The registered version's metrics snapshot, when it came from the registry. */
  readonly metrics: Readonly<Record<string, number>>;
  readonly loadedAt: number;
}

/** A parsed model URI. */
export type ModelUri =
  | { readonly kind: 'registry'; readonly name: string; readonly reference: string }
  | { readonly kind: 'run'; readonly runId: string; readonly path: string }
  | { readonly kind: 'file'; readonly path: string };

/**
 * `models:/NAME/Production` (a stage: the latest version in it), `models:/NAME/3` (a version),
 * `models:/NAME@champion` (an alias), `runs:/RUN_ID/model` (a run's artifact: a model folder or file), or
 * a file path (`file://` or plain: a model folder or file).
 */
export function parseModelUri(uri: string): ModelUri {
  const registered = parseRegistryUri(uri);
  if (registered) return { kind: 'registry', ...registered };
  if (uri.startsWith('runs:/')) {
    const match = /^runs:\/([0-9a-f]{32})\/(.+)$/.exec(uri);
    if (!match)
      throw invalidParameter(`Invalid model URI "${uri}": write runs:/RUN_ID/model (a 32-digit run id)`);
    return { kind: 'run', runId: match[1]!, path: match[2]!.replace(/\/+$/, '') };
  }
  if (/^[a-z][a-z0-9+.-]+:/i.test(uri) && !uri.startsWith('file:')) {
    throw invalidParameter(`Unsupported model URI "${uri}": use models:/..., runs:/... or a file path`);
  }
  return { kind: 'file', path: uri.startsWith('file://') ? new URL(uri).pathname : uri };
}

/**
 * Loads the model a URI names, in any format the model format seam reads (an MLflow model folder, a run's
 * folder, an Onset document, an XGBoost model), verifying every file read from the artifact store against
 * the sha256 the store recorded.
 */
export async function loadServedModel(uri: string, stores?: RegistryStores): Promise<ServedModel> {
  const parsed = parseModelUri(uri);
  const loadedAt = Date.now();
  if (parsed.kind === 'file') {
    const { document, model } = await loadModelPath(parsed.path);
    const checksum = await localModelChecksum(parsed.path);
    return unregistered({ model, document, uri, runId: null, checksum, loadedAt });
  }
  if (!stores) {
    throw invalidParameter(`Loading ${uri} needs the tracking and registry stores (ONSET_TRACKING_URI)`);
  }
  if (parsed.kind === 'registry') {
    const version = await findModelVersion(stores.registry, parsed.name, parsed.reference);
    return loadRegisteredVersion(uri, stores, version);
  }
  const run = await stores.tracking.getRun(parsed.runId);
  const location = joinArtifactPath(runArtifactPrefix(stores.artifacts, run.info.artifactUri), parsed.path);
  const files = await filesAt(stores.artifacts, location);
  if (files === null)
    throw new OnsetError('RESOURCE_DOES_NOT_EXIST', `${uri}: the run has no artifact ${parsed.path}`);
  const sha256 = new Map(files.map((file) => [file.path, file.sha256]));
  const { document, model } = await loadModelDirectory(
    files.map((file) => file.path),
    (path) => stores.artifacts.get(joinArtifactPath(location, path), sha256.get(path)),
    uri,
  );
  return unregistered({
    model,
    document,
    uri,
    runId: parsed.runId,
    checksum: manifestDigest(files),
    loadedAt,
  });
}

/** Loads one registered version (its checksum verified); `uri` is what `GET /model` will say it came from. */
export async function loadRegisteredVersion(
  uri: string,
  stores: RegistryStores,
  version: ModelVersion,
): Promise<ServedModel> {
  const loadedAt = Date.now();
  const loaded = await loadModelVersion(stores, version);
  return {
    model: loaded.model,
    document: loaded.document,
    uri,
    name: version.name,
    version: version.version,
    stage: version.currentStage,
    runId: version.runId,
    checksum: loaded.version.checksum,
    metrics: version.metrics,
    loadedAt,
  };
}

/**
 * Why a model could not be loaded, fit for logs and answers: the error's message with each absolute path
 * cut to its last segment (the server's file layout is nobody's business). Model files hold no patient
 * data, so the messages carry no feature values.
 */
export function loadFailureReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/(?<![\w.-])(?:file:\/\/)?\/[^\s'"(),;]+/g, (path) =>
    path.slice(path.lastIndexOf('/') + 1),
  );
}

/**
 * The sha256 of a local model as a registered version's checksum is made (`manifestDigest`): a file's own
 * sha256; for a folder, that of the manifest of its files. The same model gives the same value whether it
 * is served from a file, a run or the registry.
 */
export async function localModelChecksum(path: string): Promise<string> {
  if (!(await stat(path)).isDirectory()) return sha256Of(await readFile(path));
  const directory = await localModelDirectory(path);
  const files = await Promise.all(
    directory.files.map(async (file) => {
      const bytes = await directory.read(file);
      return { path: file, size: bytes.length, sha256: sha256Of(bytes) };
    }),
  );
  return manifestDigest(files);
}

function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A model that is not a registered version (a run's artifact or a file). */
function unregistered(
  source: Pick<ServedModel, 'model' | 'document' | 'uri' | 'runId' | 'checksum' | 'loadedAt'>,
): ServedModel {
  return { ...source, name: null, version: null, stage: null, metrics: {} };
}

/** What a registry URI resolves to right now (version number), to notice a change without loading. */
export async function currentVersionOf(uri: string, stores: RegistryStores): Promise<string | null> {
  const parsed = parseModelUri(uri);
  if (parsed.kind !== 'registry') return null;
  return (await findModelVersion(stores.registry, parsed.name, parsed.reference)).version;
}

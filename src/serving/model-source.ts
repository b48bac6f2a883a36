import { invalidParameter, OnsetError } from '../errors.js';
import type { FittedModel } from '../ml/estimator.js';
import { loadModelFile, type ModelDocument, parseModel } from '../ml/model-document.js';
import { runArtifactPrefix } from '../tracking/artifact-paths.js';
import type { ModelStage, ModelVersion } from '../tracking/entities.js';
import {
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
  /** sha256 of the artifact, verified when it was loaded (null for a plain file). */
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

const MODEL_FILE = 'model.json';

/**
 * `models:/NAME/Production` (a stage: the latest version in it), `models:/NAME/3` (a version),
 * `models:/NAME@champion` (an alias), `runs:/RUN_ID/model` (a run's artifact; a folder means its
 * `model.json`), or a file path (`file://` or plain).
 */
export function parseModelUri(uri: string): ModelUri {
  const registered = parseRegistryUri(uri);
  if (registered) return { kind: 'registry', ...registered };
  if (uri.startsWith('runs:/')) {
    const match = /^runs:\/([0-9a-f]{32})\/(.+)$/.exec(uri);
    if (!match)
      throw invalidParameter(`Invalid model URI "${uri}": write runs:/RUN_ID/model (a 32-digit run id)`);
    const path = match[2]!.replace(/\/+$/, '');
    return { kind: 'run', runId: match[1]!, path: path.endsWith('.json') ? path : `${path}/${MODEL_FILE}` };
  }
  if (/^[a-z][a-z0-9+.-]+:/i.test(uri) && !uri.startsWith('file:')) {
    throw invalidParameter(`Unsupported model URI "${uri}": use models:/..., runs:/... or a file path`);
  }
  return { kind: 'file', path: uri.startsWith('file://') ? new URL(uri).pathname : uri };
}

/** Loads the model a URI names, verifying the artifact's checksum (registry and run artifacts). */
export async function loadServedModel(uri: string, stores?: RegistryStores): Promise<ServedModel> {
  const parsed = parseModelUri(uri);
  const loadedAt = Date.now();
  if (parsed.kind === 'file') {
    const { document, model } = await loadModelFile(parsed.path);
    return unregistered({ model, document, uri, runId: null, checksum: null, loadedAt });
  }
  if (!stores) {
    throw invalidParameter(`Loading ${uri} needs the tracking and registry stores (ONSET_TRACKING_URI)`);
  }
  if (parsed.kind === 'registry') {
    const version = await findModelVersion(stores.registry, parsed.name, parsed.reference);
    return loadRegisteredVersion(uri, stores, version);
  }
  const run = await stores.tracking.getRun(parsed.runId);
  const path = `${runArtifactPrefix(stores.artifacts, run.info.artifactUri)}/${parsed.path}`;
  const stored = await stores.artifacts.stat(path);
  const content = await stores.artifacts.get(path, stored.sha256);
  let value: unknown;
  try {
    value = JSON.parse(content.toString('utf8'));
  } catch {
    throw new OnsetError('INVALID_STATE', `${uri}: the artifact is not valid JSON`);
  }
  const { document, model } = parseModel(value, uri);
  return unregistered({ model, document, uri, runId: parsed.runId, checksum: stored.sha256, loadedAt });
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

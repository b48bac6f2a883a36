/**
 * Models exported to a bucket by run id, for the stream function to load without the tracking database
 * (the original function's `MODEL_BUCKET` and `RUN_ID`). Under the bucket's prefix (`models` by default):
 *
 *   RUN_ID/model            the model: a folder (MLmodel and its files) or one file, as the version holds it
 *   RUN_ID/manifest.json    the version it came from and every file's path, size and sha256
 *
 * Every file is written and read through the artifact store, which records and verifies its sha256, and
 * checked against the manifest; the manifest's digest is the registered version's checksum, so a loaded
 * model is the version that was exported, byte for byte, or it does not load.
 */
import { OnsetError } from '../errors.js';
import { loadModelDirectory } from '../ml/formats/mlflow-model.js';
import type { ArtifactStore } from '../tracking/artifacts/artifact-store.js';
import type { ModelFile } from '../tracking/entities.js';
import { checkedManifest, manifestDigest } from '../tracking/model-files.js';
import type { ServedModel } from './model-source.js';

/** The prefix of exported models in a bucket when none is given (`MODEL_PREFIX`). */
export const DEFAULT_EXPORT_PREFIX = 'models';

const RUN_ID = /^[0-9a-f]{32}$/;

/** What `RUN_ID/manifest.json` holds. */
export interface ExportManifest {
  readonly format: 'onset-model-export/1';
  readonly run_id: string;
  readonly name: string | null;
  readonly version: string | null;
  /** Where it was exported from (`models:/NAME/VERSION`). */
  readonly source: string;
  /** The manifest digest of `files`: the registered version's checksum. */
  readonly checksum: string;
  readonly files: readonly ModelFile[];
  readonly exported_at: string;
}

/** The model to export: its files as a registered version lists them, and a reader of each. */
export interface ModelToExport {
  readonly runId: string;
  readonly name: string | null;
  readonly version: string | null;
  readonly source: string;
  readonly files: readonly ModelFile[];
  read(path: string): Promise<Uint8Array>;
}

function checkRunId(runId: string): void {
  if (!RUN_ID.test(runId)) {
    throw new OnsetError(
      'INVALID_PARAMETER_VALUE',
      `A run id is 32 lower-case hex digits, got ${JSON.stringify(runId)}`,
    );
  }
}

/** Where a model file of `runId` is kept: `model` for a one-file model, `model/PATH` in a folder. */
const keyOf = (runId: string, path: string) => (path === '' ? `${runId}/model` : `${runId}/model/${path}`);

/** Writes `model` under its run id (replacing an earlier export of the run) and answers its manifest. */
export async function exportModel(artifacts: ArtifactStore, model: ModelToExport): Promise<ExportManifest> {
  checkRunId(model.runId);
  const files = checkedManifest(model.files, `The model of run ${model.runId}`);
  // A new export replaces the old one whole: no file of an earlier model stays beside the new ones.
  await artifacts.delete(model.runId).catch((error: unknown) => {
    if (!(error instanceof OnsetError && error.code === 'RESOURCE_DOES_NOT_EXIST')) throw error;
  });
  for (const file of files) {
    const stored = await artifacts.put(
      keyOf(model.runId, file.path),
      Buffer.from(await model.read(file.path)),
    );
    if (stored.sha256 !== file.sha256) {
      throw new OnsetError(
        'INTERNAL_ERROR',
        `File ${file.path || '(the model)'} of run ${model.runId} changed while it was exported (sha256 ${stored.sha256}, the version records ${file.sha256}); nothing usable was exported`,
      );
    }
  }
  const manifest: ExportManifest = {
    format: 'onset-model-export/1',
    run_id: model.runId,
    name: model.name,
    version: model.version,
    source: model.source,
    checksum: manifestDigest(files),
    files,
    exported_at: new Date().toISOString(),
  };
  // The manifest last: a model is there once its manifest is.
  await artifacts.put(`${model.runId}/manifest.json`, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
  return manifest;
}

/** Loads the model exported for `runId`, every file verified (see the module's comment). */
export async function loadExportedModel(artifacts: ArtifactStore, runId: string): Promise<ServedModel> {
  checkRunId(runId);
  const where = `${artifacts.rootUri}/${runId}`;
  let manifest: ExportManifest;
  try {
    manifest = JSON.parse((await artifacts.get(`${runId}/manifest.json`)).toString('utf8')) as ExportManifest;
  } catch (error) {
    if (error instanceof OnsetError && error.code === 'RESOURCE_DOES_NOT_EXIST') {
      throw new OnsetError(
        'RESOURCE_DOES_NOT_EXIST',
        `No model is exported for run ${runId} at ${artifacts.rootUri}: export it with onset models export-to-s3 --bucket BUCKET`,
      );
    }
    throw error;
  }
  if (manifest.format !== 'onset-model-export/1' || manifest.run_id !== runId) {
    throw new OnsetError(
      'INVALID_STATE',
      `${where}/manifest.json is not the export manifest of run ${runId} (format ${manifest.format}, run ${manifest.run_id})`,
    );
  }
  const files = checkedManifest(manifest.files, `The model exported at ${where}`);
  const digest = manifestDigest(files);
  if (digest !== manifest.checksum) {
    throw new OnsetError(
      'INVALID_STATE',
      `The manifest at ${where} does not add up: its files' digest is ${digest}, it says ${manifest.checksum}`,
    );
  }
  const sha256 = new Map(files.map((file) => [file.path, file.sha256]));
  const loadedAt = Date.now();
  const { model, document } = await loadModelDirectory(
    files.map((file) => file.path),
    (path) => artifacts.get(keyOf(runId, path), sha256.get(path)),
    `The model exported at ${where}`,
  );
  return {
    model,
    document,
    uri: where,
    name: manifest.name,
    version: manifest.version,
    stage: null,
    runId,
    checksum: digest,
    metrics: {},
    loadedAt,
  };
}

import type { Page } from '../store/paging.js';
import type {
  ModelFile,
  ModelStage,
  ModelVersion,
  RegisteredModel,
  StageTransition,
  Tag,
} from './entities.js';
import type { SearchQuery } from './tracking-store.js';

/** A new registered model (`createRegisteredModel`); names are unique. */
export interface RegisteredModelInput {
  readonly name: string;
  readonly description?: string;
  readonly tags?: readonly Tag[];
}

/** A new version of a registered model (`createModelVersion`), numbered after the model's last one. */
export interface ModelVersionInput {
  readonly name: string;
  /** Where the model is, as the client named it (see `ModelVersion.source`). */
  readonly source: string;
  /** The source resolved in the artifact store (see `ModelVersion.storageLocation`). */
  readonly storageLocation: string | null;
  /** The files at the storage location; null when there are none yet (recorded later, `recordModelFiles`). */
  readonly files: readonly ModelFile[] | null;
  readonly runId?: string | null;
  readonly description?: string;
  readonly tags?: readonly Tag[];
  readonly metrics?: Readonly<Record<string, number>>;
  readonly userId?: string;
}

/**
 * A stage transition; with `archiveExistingVersions`, other versions in that stage (Staging or
 * Production) move to Archived in the same transaction.
 */
/**
 * The alias that names the Production model. One rule for every path (CLI, REST API, promotion gate), kept
 * by the store: when a version enters or leaves Production (a stage transition, a deletion), `champion`
 * moves to the version `models:/NAME/Production` resolves to (the newest version in Production), or goes
 * when none is left. Setting the alias directly stays MLflow's plain alias (its clients rely on that, and
 * models managed by aliases alone need it); Onset's CLI promotes instead.
 */
export const CHAMPION_ALIAS = 'champion';

export interface StageTransitionInput {
  readonly name: string;
  readonly version: string;
  readonly stage: ModelStage;
  readonly archiveExistingVersions: boolean;
  readonly user?: string;
  readonly reason?: string;
}

/**
 * The model registry (MLflow's AbstractStore for models): registered models, versions, stages, aliases and
 * the transition history. Same error and paging conventions as `TrackingStore`.
 */
export interface RegistryStore {
  createRegisteredModel(input: RegisteredModelInput): Promise<RegisteredModel>;
  getRegisteredModel(name: string): Promise<RegisteredModel>;
  searchRegisteredModels(query: SearchQuery): Promise<Page<RegisteredModel>>;
  renameRegisteredModel(name: string, newName: string): Promise<RegisteredModel>;
  updateRegisteredModel(name: string, description: string): Promise<RegisteredModel>;
  deleteRegisteredModel(name: string): Promise<void>;
  setRegisteredModelTag(name: string, tag: Tag): Promise<void>;
  /** Deletes a tag of a model; a tag it does not have is no error (as MLflow). */
  deleteRegisteredModelTag(name: string, key: string): Promise<void>;
  /** The latest version in each of `stages` (all stages when omitted). */
  getLatestVersions(name: string, stages?: readonly ModelStage[]): Promise<readonly ModelVersion[]>;

  /** Versions number from 1 per model. */
  createModelVersion(input: ModelVersionInput): Promise<ModelVersion>;
  getModelVersion(name: string, version: string): Promise<ModelVersion>;
  /** The version's manifest: its files with size and sha256; null while they are not recorded. */
  getModelFiles(name: string, version: string): Promise<readonly ModelFile[] | null>;
  /**
   * The versions whose files a deletion of `path` (relative to the artifact root) would touch: stored at
   * it, under it, or holding it.
   */
  versionsStoredAt(path: string): Promise<readonly ModelVersion[]>;
  /**
   * Records the files of a version registered before they existed; a version whose files are recorded
   * keeps them (the first record wins). Answers the version as it now is.
   */
  recordModelFiles(name: string, version: string, files: readonly ModelFile[]): Promise<ModelVersion>;
  /** Without `orderBy`: the last updated first (then by name, newest version first), as MLflow. */
  searchModelVersions(query: SearchQuery): Promise<Page<ModelVersion>>;
  updateModelVersion(name: string, version: string, description: string): Promise<ModelVersion>;
  deleteModelVersion(name: string, version: string): Promise<void>;
  setModelVersionTag(name: string, version: string, tag: Tag): Promise<void>;
  /** Deletes a tag of a version; a tag it does not have is no error (as MLflow). */
  deleteModelVersionTag(name: string, version: string, key: string): Promise<void>;
  /**
   * Moves a version to `input.stage`, recording who and why (and archiving the others in that stage when
   * asked). A version already in that stage stays, with no transition recorded. The `champion` alias
   * follows (see `CHAMPION_ALIAS`).
   */
  transitionModelVersionStage(input: StageTransitionInput): Promise<ModelVersion>;
  getStageHistory(name: string, version?: string): Promise<readonly StageTransition[]>;
  setAlias(name: string, alias: string, version: string): Promise<void>;
  /** Deletes an alias of a model; an alias it does not have is no error (as MLflow). */
  deleteAlias(name: string, alias: string): Promise<void>;
  /** INVALID_PARAMETER_VALUE when the model has no such alias (MLflow's code), whether or not it exists. */
  getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion>;
}

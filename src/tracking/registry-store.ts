import type { ModelStage, ModelVersion, Page, RegisteredModel, StageTransition, Tag } from './entities.js';

/**
 * The model registry (MLflow's AbstractStore for models): registered models, versions, stages, aliases and
 * the transition history. Same error and paging conventions as `TrackingStore`.
 */
export interface RegistryStore {
  createRegisteredModel(input: {
    name: string;
    description?: string;
    tags?: readonly Tag[];
  }): Promise<RegisteredModel>;
  getRegisteredModel(name: string): Promise<RegisteredModel>;
  searchRegisteredModels(query: {
    filter?: string;
    maxResults?: number;
    orderBy?: readonly string[];
    pageToken?: string;
  }): Promise<Page<RegisteredModel>>;
  renameRegisteredModel(name: string, newName: string): Promise<RegisteredModel>;
  updateRegisteredModel(name: string, description: string): Promise<RegisteredModel>;
  deleteRegisteredModel(name: string): Promise<void>;
  setRegisteredModelTag(name: string, tag: Tag): Promise<void>;
  /** The latest version in each of `stages` (all stages when omitted). */
  getLatestVersions(name: string, stages?: readonly ModelStage[]): Promise<readonly ModelVersion[]>;

  /** Versions number from 1 per model. `checksum` is the sha256 of the source artifact. */
  createModelVersion(input: {
    name: string;
    source: string;
    runId?: string | null;
    description?: string;
    tags?: readonly Tag[];
    checksum: string;
    metrics?: Readonly<Record<string, number>>;
    userId?: string;
  }): Promise<ModelVersion>;
  getModelVersion(name: string, version: string): Promise<ModelVersion>;
  searchModelVersions(query: {
    filter?: string;
    maxResults?: number;
    orderBy?: readonly string[];
    pageToken?: string;
  }): Promise<Page<ModelVersion>>;
  updateModelVersion(name: string, version: string, description: string): Promise<ModelVersion>;
  deleteModelVersion(name: string, version: string): Promise<void>;
  setModelVersionTag(name: string, version: string, tag: Tag): Promise<void>;
  /**
   * Moves a version to `stage`, recording who and why; with `archiveExistingVersions`, other versions in
   * that stage (Staging or Production) move to Archived in the same transaction.
   */
  transitionModelVersionStage(input: {
    name: string;
    version: string;
    stage: ModelStage;
    archiveExistingVersions: boolean;
    user?: string;
    reason?: string;
  }): Promise<ModelVersion>;
  getStageHistory(name: string, version?: string): Promise<readonly StageTransition[]>;
  setAlias(name: string, alias: string, version: string): Promise<void>;
  deleteAlias(name: string, alias: string): Promise<void>;
  getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion>;
}

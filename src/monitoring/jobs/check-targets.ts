import { OnsetError } from '../../errors.js';
import { findModelVersion } from '../../tracking/model-registry.js';
import type { RegistryStore } from '../../tracking/registry-store.js';
import type { CheckRequest } from './monitoring-jobs.js';

/** The model a server serves, as the jobs need to know it (`LiveModel.current()` gives it). */
export interface ServedVersion {
  /** Null for a file or a run's model, which the log cannot tell apart by name and version. */
  readonly name: string | null;
  readonly version: string | null;
  readonly runId: string | null;
  readonly estimator: string;
}

/** What an on-demand check names: a model and a version (a number, a stage or an alias), each optional. */
export interface AskedModel {
  readonly model?: string | undefined;
  readonly version?: string | undefined;
}

/**
 * Which model version a check is about: the served one by default (the schedule's), or the one a request
 * names, looked up in the registry (its run holds the reference profile).
 */
export class CheckTargets {
  readonly #registry: RegistryStore;
  readonly #served: () => ServedVersion | undefined;

  constructor(registry: RegistryStore, served: () => ServedVersion | undefined) {
    this.#registry = registry;
    this.#served = served;
  }

  /** The served version's check, or undefined while no registered version is served. */
  served(): CheckRequest | undefined {
    const served = this.#served();
    if (!served || served.name === null || served.version === null) return undefined;
    return {
      model: { name: served.name, version: served.version, runId: served.runId },
      served: true,
      estimator: served.estimator,
    };
  }

  /**
   * The check a request asks for: `model` defaults to the served model's name; `version` to the served
   * version (for the served model) or the model's Production version; a version may be a number, a stage
   * (`Staging`) or an alias (`@champion`). An unknown model or version is RESOURCE_DOES_NOT_EXIST; no
   * model named and none served, INVALID_STATE.
   */
  async resolve(asked: AskedModel): Promise<CheckRequest> {
    const served = this.served();
    const name = asked.model ?? served?.model.name;
    if (name === undefined) {
      throw new OnsetError(
        'INVALID_STATE',
        'No registered model version is served (none is loaded yet, or the served model is a file or a run\'s, whose predictions the log does not name by version): name one, e.g. {"model": "parkinson-disease-prediction", "version": "3"}',
      );
    }
    if (asked.version === undefined && served !== undefined && name === served.model.name) return served;
    const version = await findModelVersion(this.#registry, name, asked.version ?? 'Production');
    const isServed =
      served !== undefined && served.model.name === name && served.model.version === version.version;
    return {
      model: { name, version: version.version, runId: version.runId },
      served: isServed,
      estimator: isServed ? served.estimator : null,
    };
  }
}

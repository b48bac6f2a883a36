import type { ModelVersion } from '../tracking/entities.js';
import { findModelVersion, type RegistryStores } from '../tracking/model-registry.js';
import {
  loadFailureReason,
  loadRegisteredVersion,
  loadServedModel,
  parseModelUri,
  type ServedModel,
} from './model-source.js';

export interface LiveModelOptions {
  /** How often a registry URI (stage or alias) is checked for a new version (ms, default 5 s; 0: never). */
  readonly pollMs?: number;
  /**
   * What serves when the version the URI names cannot be loaded and nothing serves yet: nothing (`none`,
   * the default) or the most recent earlier version of the model that loads (`previous`).
   */
  readonly fallback?: 'none' | 'previous';
}

/** The version a URI names exists but cannot be loaded (a tampered, truncated or replaced artifact, ...). */
export interface ModelProblem {
  /** That version (null for a `runs:/` or file URI). */
  readonly version: string | null;
  /** Why, without file paths (see `loadFailureReason`). */
  readonly reason: string;
}

export interface LiveModelListener {
  /** A model was loaded and swapped in (`previous` is undefined for the first). */
  loaded?(model: ServedModel, previous: ServedModel | undefined): void;
  /**
   * Finding the version to load failed: none in the stage yet, or the registry is away. Retried at the
   * next check; the current model (if any) keeps serving.
   */
  failed?(error: Error): void;
  /**
   * The version the URI names exists but cannot be loaded; `serving` is what serves instead (a fallback
   * or the model that served before), if anything. Said once per version and reason, though each check
   * tries again.
   */
  unloadable?(problem: ModelProblem, serving: ServedModel | undefined): void;
}

/**
 * What `LiveModel.prepare` found: the version serving is still the URI's (`unchanged`), another is loaded
 * and waits for `commit` (`ready`), or there is none to load or it cannot be loaded (`failed`, told to
 * the listeners). `version` is the version number (null for none, or a run or file).
 */
export type PrepareOutcome =
  | { readonly kind: 'unchanged'; readonly version: string | null }
  | { readonly kind: 'ready'; readonly version: string }
  | { readonly kind: 'failed'; readonly version: string | null };

/** What `/ready`, `/model` and the log say about a problem. */
export function describeProblem(uri: string, problem: ModelProblem): string {
  return `${uri}${problem.version === null ? '' : ` (version ${problem.version})`} cannot be loaded: ${problem.reason}`;
}

/**
 * The model a server predicts with, behind one reference. For a stage or alias URI it polls the registry;
 * when the version changes, the new model is loaded (and its checksum verified) in the background and then
 * swapped in with one assignment, so a request sees the old model or the new one, never a half-loaded one.
 * A version that cannot be loaded leaves the old model serving (or, with `fallback: 'previous'` and nothing
 * serving, the most recent earlier version that loads) and is kept as `problem()` until a version loads.
 */
export class LiveModel {
  private served: ServedModel | undefined;
  /** A version `prepare` loaded, waiting for `commit`. */
  private prepared: ServedModel | undefined;
  /** Whether `served` is not the URI's version but an earlier one, served for want of it. */
  private servedInstead = false;
  private trouble: ModelProblem | undefined;
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> = Promise.resolve();
  private readonly listeners: LiveModelListener[] = [];

  constructor(
    readonly uri: string,
    private readonly stores: RegistryStores | undefined,
    private readonly options: LiveModelOptions = {},
  ) {
    parseModelUri(uri); // a malformed URI fails here, at start-up
  }

  /** Adds a listener (metrics, logs) for loads and failures. */
  subscribe(listener: LiveModelListener): void {
    this.listeners.push(listener);
  }

  /** The model to predict with now; undefined until the first load succeeds. */
  current(): ServedModel | undefined {
    return this.served;
  }

  /** Why the URI's version is not serving, when it exists but cannot be loaded. */
  problem(): ModelProblem | undefined {
    return this.trouble;
  }

  /**
   * Loads the model once, then watches the registry. Without a model to serve (none in the stage yet, or
   * one that cannot be loaded) it resolves to undefined, having told the listeners why. With `version`
   * (a registry URI's version number), that version is loaded first: a cluster's new worker serves what
   * the others serve, not a version they have not swapped to yet.
   */
  async start(version?: string): Promise<ServedModel | undefined> {
    const parsed = parseModelUri(this.uri);
    if (parsed.kind === 'registry' && this.stores) {
      if (version !== undefined) await this.loadVersion(parsed.name, version);
      if (!this.served) await this.check();
    } else {
      // A run or a file is loaded once.
      try {
        this.swap(await loadServedModel(this.uri, this.stores), false);
      } catch (error) {
        await this.cannotLoad(null, error);
      }
    }
    this.watch();
    return this.served;
  }

  /** Serves version `version` of model `name` if it loads (a failure is left to the check that follows). */
  private async loadVersion(name: string, version: string): Promise<void> {
    try {
      const registered = await this.stores!.registry.getModelVersion(name, version);
      this.swap(await loadRegisteredVersion(this.uri, this.stores!, registered), false);
    } catch {
      // Deleted since, or unloadable: the URI's own version is looked up instead.
    }
  }

  /** Starts watching without a model yet (a server that waits for its first Production version). */
  watch(): void {
    const pollMs = this.options.pollMs ?? 5_000;
    if (this.timer || pollMs <= 0 || parseModelUri(this.uri).kind !== 'registry') return;
    this.timer = setInterval(() => void this.check(), pollMs);
    this.timer.unref();
  }

  /**
   * Checks the registry once and swaps in a changed version. Checks run one after another, so two at once
   * never load the same version twice.
   */
  check(): Promise<void> {
    const checked = this.prepare().then((outcome) => {
      if (outcome.kind === 'ready') this.commit(outcome.version);
    });
    this.checking = checked.catch(() => undefined);
    return checked;
  }

  /**
   * The first half of a check: finds the version the URI names and, when it is not the one serving, loads
   * it without serving it (`commit` swaps it in). The workers of a cluster each prepare, then all commit
   * together, so no client sees a version go back (see `server/cluster-primary.ts`).
   */
  prepare(): Promise<PrepareOutcome> {
    const prepared = this.checking.then(() => this.prepareOnce());
    this.checking = prepared.then(
      () => undefined,
      () => undefined,
    );
    return prepared;
  }

  /** Serves the version `prepare` loaded, if it is `version`; false when nothing (or another) is prepared. */
  commit(version: string): boolean {
    const next = this.prepared;
    if (next?.version !== version) return false;
    this.prepared = undefined;
    this.swap(next, false);
    return true;
  }

  private async prepareOnce(): Promise<PrepareOutcome> {
    const parsed = parseModelUri(this.uri);
    const serving = this.served?.version ?? null;
    if (!this.stores || parsed.kind !== 'registry') return { kind: 'unchanged', version: serving };
    let version: ModelVersion;
    try {
      version = await findModelVersion(this.stores.registry, parsed.name, parsed.reference);
    } catch (error) {
      // No version in that stage yet, the database away: keep serving what we have.
      for (const listener of this.listeners) listener.failed?.(error as Error);
      return { kind: 'failed', version: null };
    }
    if (version.version === serving && !this.servedInstead) return { kind: 'unchanged', version: serving };
    if (this.prepared?.version === version.version) return { kind: 'ready', version: version.version };
    try {
      this.prepared = await loadRegisteredVersion(this.uri, this.stores, version);
      return { kind: 'ready', version: version.version };
    } catch (error) {
      await this.cannotLoad(version, error);
      return { kind: 'failed', version: version.version };
    }
  }

  /** Keeps the problem, serves a fallback if asked to and nothing serves, and tells the listeners once. */
  private async cannotLoad(version: ModelVersion | null, error: unknown): Promise<void> {
    const problem: ModelProblem = { version: version?.version ?? null, reason: loadFailureReason(error) };
    const known = this.trouble?.version === problem.version && this.trouble.reason === problem.reason;
    this.trouble = problem;
    // What serves now serves instead of the URI's version: when the URI names it again, it is reloaded
    // as itself (and the problem forgotten).
    if (this.served) this.servedInstead = true;
    if (known) return;
    if (!this.served && version && this.options.fallback === 'previous') {
      const fallback = await this.earlierThatLoads(version);
      if (fallback) this.swap(fallback, true);
    }
    for (const listener of this.listeners) listener.unloadable?.(problem, this.served);
  }

  /** The most recent version of the model before `version` that loads (versions are numbered from 1). */
  private async earlierThatLoads(version: ModelVersion): Promise<ServedModel | undefined> {
    const stores = this.stores!;
    for (let number = Number(version.version) - 1; number >= 1; number--) {
      const uri = `models:/${version.name}/${number}`;
      try {
        const earlier = await stores.registry.getModelVersion(version.name, String(number));
        return await loadRegisteredVersion(uri, stores, earlier);
      } catch {
        // Deleted, or as broken: try the one before.
      }
    }
    return undefined;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.checking;
  }

  private swap(next: ServedModel, instead: boolean): void {
    const previous = this.served;
    this.served = next;
    this.servedInstead = instead;
    if (!instead) this.trouble = undefined;
    for (const listener of this.listeners) listener.loaded?.(next, previous);
  }
}

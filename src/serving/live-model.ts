import type { RegistryStores } from '../tracking/model-registry.js';
import { currentVersionOf, loadServedModel, parseModelUri, type ServedModel } from './model-source.js';

export interface LiveModelOptions {
  /** How often a registry URI (stage or alias) is checked for a new version (ms, default 5 s; 0: never). */
  readonly pollMs?: number;
}

export interface LiveModelListener {
  /** A model was loaded and swapped in (`previous` is undefined for the first). */
  loaded?(model: ServedModel, previous: ServedModel | undefined): void;
  /** Looking for or loading a new version failed; the current model (if any) keeps serving. */
  failed?(error: Error): void;
}

/**
 * The model a server predicts with, behind one reference. For a stage or alias URI it polls the registry;
 * when the version changes, the new model is loaded (and its checksum verified) in the background and then
 * swapped in with one assignment, so a request sees the old model or the new one, never a half-loaded one.
 * A load that fails leaves the old model serving and is reported through `onReloadFailure`.
 */
export class LiveModel {
  private served: ServedModel | undefined;
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

  /** Loads the model once (rejecting if it cannot be loaded), then starts watching the registry. */
  async start(): Promise<ServedModel> {
    const first = await loadServedModel(this.uri, this.stores);
    this.swap(first);
    this.watch();
    return first;
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
    this.checking = this.checking.then(() => this.checkOnce());
    return this.checking;
  }

  private async checkOnce(): Promise<void> {
    if (!this.stores) return;
    try {
      const version = await currentVersionOf(this.uri, this.stores);
      if (version === null || version === this.served?.version) return;
      this.swap(await loadServedModel(this.uri, this.stores));
    } catch (error) {
      // No version in that stage yet, a corrupt artifact, the database away: keep serving what we have.
      for (const listener of this.listeners) listener.failed?.(error as Error);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.checking;
  }

  private swap(next: ServedModel): void {
    const previous = this.served;
    this.served = next;
    for (const listener of this.listeners) listener.loaded?.(next, previous);
  }
}

import { PROXIED_ARTIFACTS_SCHEME } from '../model-registry.js';

/**
 * How the REST API shows artifact locations, as `mlflow server --serve-artifacts` (MLflow's default)
 * does: a location under the artifact root as `mlflow-artifacts:/<path under the root>`, which MLflow
 * clients read and write through this server's artifact proxy (`/api/2.0/mlflow-artifacts/artifacts`),
 * wherever they run and whatever the store is (a folder, S3). Other locations (made before they had to be
 * under the root) are shown as they are.
 */
export class ProxiedArtifactUris {
  readonly #root: string;

  constructor(rootUri: string) {
    this.#root = rootUri.replace(/\/+$/, '');
  }

  /** The URI a client sees for a location under the root. */
  present(uri: string): string {
    if (uri === this.#root) return `${PROXIED_ARTIFACTS_SCHEME}/`;
    return uri.startsWith(`${this.#root}/`)
      ? `${PROXIED_ARTIFACTS_SCHEME}/${uri.slice(this.#root.length + 1)}`
      : uri;
  }

  /**
   * The location a client's URI means: `mlflow-artifacts:/<path>` (with or without a host, as clients
   * may write it) is that path under the root; any other URI is as given.
   */
  accept(uri: string): string {
    if (!uri.startsWith(PROXIED_ARTIFACTS_SCHEME)) return uri;
    const path = uri
      .slice(PROXIED_ARTIFACTS_SCHEME.length)
      .replace(/^\/\/[^/]*/, '')
      .replace(/^\/+/, '');
    return path === '' ? this.#root : `${this.#root}/${path}`;
  }

  /** The root that relative run locations are compared under in an `artifact_uri` search filter. */
  static readonly SEARCH_ROOT = PROXIED_ARTIFACTS_SCHEME;
}

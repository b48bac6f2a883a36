import { invalidParameter } from '../errors.js';
import type { ArtifactStore } from './artifacts/artifact-store.js';
import { safeArtifactDirectory } from './artifacts/path-safety.js';

/** Joins artifact path segments with `/`, skipping empty ones. */
export function joinArtifactPath(a: string, b: string): string {
  return [a, b].filter((part) => part !== '').join('/');
}

/** An artifact URI from a root URI and a path under it. */
export function joinUri(root: string, path: string): string {
  return path === '' ? root : `${root.replace(/\/+$/, '')}/${path}`;
}

const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:/i;

/**
 * How a store keeps an artifact location: relative to the artifact root when it is under it (`1`,
 * `1/<run id>/artifacts`; the root itself is `''`), so a home can be moved, copied or restored elsewhere
 * and still find its artifacts; as given otherwise (locations made before they had to be under the root).
 */
export function storedLocation(root: string, uri: string): string {
  const base = root.replace(/\/+$/, '');
  if (uri === base) return '';
  return uri.startsWith(`${base}/`) ? uri.slice(base.length + 1) : uri;
}

/** The URI of a stored location (see `storedLocation`): a relative one is under today's artifact root. */
export function resolvedLocation(root: string, stored: string): string {
  return HAS_SCHEME.test(stored) ? stored : joinUri(root.replace(/\/+$/, ''), stored);
}

/** Where a run's artifacts are inside the artifact store (its artifact URI relative to the store root). */
export function runArtifactPrefix(artifacts: ArtifactStore, artifactUri: string): string {
  const root = artifacts.rootUri.replace(/\/+$/, '');
  if (artifactUri !== root && !artifactUri.startsWith(`${root}/`)) {
    throw invalidParameter(
      `The run's artifacts (${artifactUri}) are not in this server's artifact store (${root})`,
    );
  }
  return artifactUri.slice(root.length + 1);
}

/**
 * Checks an experiment's artifact location: the artifact root or a folder under it, and nothing else. A
 * location elsewhere (`file:///etc`, `http://169.254.169.254/...`, another bucket) would make the server
 * write or read where it was never meant to; one with a control character or `..` is refused by the
 * artifact path rules (see `path-safety.ts`). Answers the location as given.
 */
export function checkArtifactLocation(root: string, location: string): string {
  const base = root.replace(/\/+$/, '');
  const shown = JSON.stringify(location.length > 200 ? `${location.slice(0, 200)}…` : location);
  if (location !== base && !location.startsWith(`${base}/`)) {
    throw invalidParameter(
      `Invalid artifact_location ${shown}: an experiment's artifacts must be under this server's artifact root; leave it out to get <root>/<experiment id>`,
      { rule: 'under the artifact root' },
    );
  }
  safeArtifactDirectory(location.slice(base.length + 1));
  return location;
}

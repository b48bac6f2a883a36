/**
 * Opens the artifact store a URI names, by scheme: `file://` (or a bare path) is a local folder, `s3://` a
 * bucket and prefix. Unknown schemes are refused with the list of known ones.
 */
import { fileURLToPath } from 'node:url';
import { invalidParameter } from '../../errors.js';
import type { ArtifactStore } from './artifact-store.js';
import { LocalArtifactStore } from './local-artifact-store.js';
import type { S3ArtifactStoreOptions } from './s3-artifact-store.js';

export interface OpenArtifactStoreOptions {
  /** Passed to the S3 store (endpoint, region, credentials or a ready client). */
  readonly s3?: S3ArtifactStoreOptions;
}

type Opener = (uri: string, options: OpenArtifactStoreOptions) => ArtifactStore | Promise<ArtifactStore>;

function openFile(uri: string): ArtifactStore {
  let path: string;
  try {
    path = fileURLToPath(uri);
  } catch (error) {
    throw invalidParameter(
      `invalid file URI ${JSON.stringify(uri)}: ${(error as Error).message}; expected file:///absolute/path`,
    );
  }
  return new LocalArtifactStore(path);
}

/** The known schemes and how each opens (the registry the error message lists). */
const OPENERS: Readonly<Record<string, Opener>> = {
  file: (uri) => openFile(uri),
  // The AWS SDK takes ~10 MB and a few hundred ms to load: only an s3:// store loads it.
  s3: async (uri, options) => new (await import('./s3-artifact-store.js')).S3ArtifactStore(uri, options.s3),
};

/** The URI schemes `openArtifactStore` knows. */
export const ARTIFACT_STORE_SCHEMES: readonly string[] = Object.keys(OPENERS);

/**
 * The artifact store at `uri`: `file:///abs/root` or a bare path (absolute, or relative to the current
 * directory) → LocalArtifactStore; `s3://bucket/prefix` → S3ArtifactStore. Any other scheme is an
 * INVALID_PARAMETER_VALUE error listing the known schemes. A one-letter "scheme" is a Windows drive and is
 * treated as a bare path.
 */
export async function openArtifactStore(
  uri: string,
  options: OpenArtifactStoreOptions = {},
): Promise<ArtifactStore> {
  if (typeof uri !== 'string' || uri.trim() === '') {
    throw invalidParameter(
      `artifact store URI is empty; expected a path or a URI with scheme ${ARTIFACT_STORE_SCHEMES.join(', ')}`,
    );
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]+):/.exec(uri)?.[1]?.toLowerCase();
  if (scheme === undefined) return new LocalArtifactStore(uri);
  const open = OPENERS[scheme];
  if (open === undefined) {
    throw invalidParameter(
      `unsupported artifact store URI scheme "${scheme}" in ${JSON.stringify(uri)}; known schemes: ` +
        `${ARTIFACT_STORE_SCHEMES.join(', ')} (or a bare path for a local folder)`,
      { uri, scheme, knownSchemes: ARTIFACT_STORE_SCHEMES },
    );
  }
  return open(uri, options);
}

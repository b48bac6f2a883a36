import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { invalidParameter } from './errors.js';

/**
 * Onset's settings. Precedence: command-line flags, then `ONSET_*` environment variables, then defaults.
 * Every setting is listed in the README's configuration table.
 */
export interface OnsetConfig {
  /** Where the embedded defaults live: the SQLite store and the local artifact folder. */
  readonly home: string;
  readonly host: string;
  readonly port: number;
  /** Tracking and registry store URI: a SQLite path or URI (default) or `postgres://...`. */
  readonly trackingUri: string;
  /** Artifact root URI: a local folder (default) or `s3://bucket/prefix`. */
  readonly artifactUri: string;
  /** When set, registry writes (transitions, deletes, aliases) need `Authorization: Bearer <token>`. */
  readonly adminToken: string | undefined;
}

export interface ConfigFlags {
  readonly home?: string;
  readonly host?: string;
  readonly port?: number;
  readonly trackingUri?: string;
  readonly artifactUri?: string;
}

export function resolveConfig(flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env): OnsetConfig {
  const home = resolve(flags.home ?? env.ONSET_HOME ?? '.onset');
  const portText = flags.port ?? env.ONSET_PORT ?? 9696;
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw invalidParameter(`ONSET_PORT must be a port number from 0 to 65535, got "${portText}"`);
  }
  const trackingUri = flags.trackingUri ?? env.ONSET_TRACKING_URI ?? `sqlite:${join(home, 'onset.db')}`;
  const artifactUri =
    flags.artifactUri ?? env.ONSET_ARTIFACT_URI ?? pathToFileURL(join(home, 'artifacts')).href;
  return {
    home,
    host: flags.host ?? env.ONSET_HOST ?? '127.0.0.1',
    port,
    trackingUri,
    artifactUri: isAbsolute(artifactUri) ? pathToFileURL(artifactUri).href : artifactUri,
    adminToken: env.ONSET_ADMIN_TOKEN || undefined,
  };
}

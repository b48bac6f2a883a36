import type { Command } from 'commander';
import { type ConfigFlags, type OnsetConfig, resolveConfig } from '../config.js';

/** The options every command that touches the stores takes; flags override ONSET_* variables. */
export function addStoreOptions(command: Command): Command {
  return command
    .option(
      '--home <dir>',
      'Onset home: the default SQLite store and artifact folder (env ONSET_HOME; default: the nearest .onset folder here or above, else a new ./.onset)',
    )
    .option(
      '--tracking-uri <uri>',
      'tracking and registry store: SQLite path or postgres://... (env ONSET_TRACKING_URI)',
    )
    .option('--artifact-uri <uri>', 'artifact root: a folder or s3://bucket/prefix (env ONSET_ARTIFACT_URI)');
}

export function configFrom(options: {
  home?: string;
  trackingUri?: string;
  artifactUri?: string;
  port?: number;
  host?: string;
  model?: string;
  data?: string;
  allowUnauthenticated?: boolean;
  predictionLog?: boolean;
  workers?: number;
}): OnsetConfig {
  const flags: ConfigFlags = {
    ...(options.home === undefined ? {} : { home: options.home }),
    ...(options.trackingUri === undefined ? {} : { trackingUri: options.trackingUri }),
    ...(options.artifactUri === undefined ? {} : { artifactUri: options.artifactUri }),
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.model === undefined ? {} : { modelUri: options.model }),
    ...(options.data === undefined ? {} : { data: options.data }),
    ...(options.allowUnauthenticated === undefined
      ? {}
      : { allowUnauthenticated: options.allowUnauthenticated }),
    ...(options.predictionLog === undefined ? {} : { predictionLog: options.predictionLog }),
    ...(options.workers === undefined ? {} : { workers: options.workers }),
  };
  return resolveConfig(flags);
}

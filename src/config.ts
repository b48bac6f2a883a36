import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { invalidParameter } from './errors.js';

/**
 * Onset's settings. Precedence: command-line flags, then `ONSET_*` environment variables, then defaults.
 * Every setting is listed in docs/configuration.md.
 */
export interface OnsetConfig {
  /** Where the embedded defaults live: the SQLite store and the local artifact folder (absolute). */
  readonly home: string;
  /** How `home` was chosen (see `HomeSource`). */
  readonly homeSource: HomeSource;
  /** Whether the tracking URI came from `--tracking-uri`, `ONSET_TRACKING_URI`, or is the home's SQLite file. */
  readonly trackingUriSource: SettingSource;
  /** Whether the artifact URI came from `--artifact-uri`, `ONSET_ARTIFACT_URI`, or is the home's folder. */
  readonly artifactUriSource: SettingSource;
  readonly host: string;
  readonly port: number;
  /** Tracking and registry store URI: a SQLite path or URI (default) or `postgres://...`. */
  readonly trackingUri: string;
  /** Artifact root URI: a local folder (default) or `s3://bucket/prefix`. */
  readonly artifactUri: string;
  /**
   * An S3-compatible endpoint for `s3://` artifacts (MinIO, s3rver, ...), addressed path-style; AWS S3
   * when unset. Region and credentials come from the AWS SDK's own chain (`AWS_REGION`, ...).
   */
  readonly s3Endpoint: string | undefined;
  /**
   * How long a request to S3 may wait for a connection, or go without a byte sent or received, before it
   * fails (ms); 0: no bound. See `S3ArtifactStoreOptions.timeoutMs`.
   */
  readonly s3TimeoutMs: number;
  /**
   * When set, every tracking, registry, artifact and pipeline route (reads too) needs
   * `Authorization: Bearer <token>` (see `Access` in http/access.ts).
   */
  readonly adminToken: string | undefined;
  /** The model the prediction API serves (a `models:/`, `runs:/` URI or a file). */
  readonly modelUri: string;
  /** When set, prediction routes need the header `X-API-Key: <key>` (or the admin token). */
  readonly apiKey: string | undefined;
  /**
   * Lets a server listen beyond loopback with an API left open (no admin token or no API key), with a
   * warning; without it, such a server refuses to start.
   */
  readonly allowUnauthenticated: boolean;
  /** Requests per minute per client address; 0 turns limiting off. */
  readonly rateLimitPerMinute: number;
  /** Client addresses the rate limit does not count (none by default). */
  readonly rateLimitExempt: readonly string[];
  /**
   * Addresses or CIDR ranges of reverse proxies whose `X-Forwarded-For` names the client (for rate limits
   * and logs); none by default: the client is the connection's peer.
   */
  readonly trustedProxies: readonly string[];
  /** Most records in one `POST /predict/batch`. */
  readonly batchLimit: number;
  /** Largest artifact upload (`PUT /api/2.0/mlflow-artifacts/artifacts/...`), in bytes. */
  readonly artifactUploadLimit: number;
  /** The labelled CSV `onset up` trains on when there is no Production model (default: the built-in data). */
  readonly data: string | undefined;
  /**
   * Time to receive a whole request, headers and body (ms); 0 turns it off. A connection still sending
   * one when it runs out gets 408 and is closed.
   */
  readonly requestTimeoutMs: number;
  /** Batches and explanations worked on at once; more wait in a queue (`batchQueue`). */
  readonly batchConcurrency: number;
  /** Batches and explanations let in beyond those, to send their body and wait for a turn; more get 503. */
  readonly batchQueue: number;
  /**
   * When the model URI's version cannot be loaded and nothing serves: serve nothing (`none`) or the most
   * recent earlier version of the model that loads (`previous`).
   */
  readonly modelFallback: ModelFallback;
  /** How often a server checks the registry for a new version of a stage or alias it serves (ms). */
  readonly modelPollMs: number;
  /**
   * Processes serving the prediction routes of `onset up` and `onset serve` on one port (default: the
   * cores available); with more than one, a primary process forks them and keeps their models in step.
   */
  readonly workers: number;
  /**
   * How a server writes its log: `pretty` (a human-readable line per event) or `json` (one JSON object a
   * line, for collectors); undefined: pretty when its output is a terminal, JSON otherwise.
   */
  readonly logFormat: LogFormat | undefined;
  /**
   * Whether `onset up`, `onset serve` (and `onset predict --log`) record every prediction in the
   * prediction log (see docs/monitoring.md). On by default.
   */
  readonly predictionLog: boolean;
  /**
   * The key of the HMAC-SHA256 that turns a patient id into the `patient_key` stored with a prediction
   * (at least 32 characters). Required to listen beyond loopback with the log on; on loopback, a secret
   * kept in the home (`log-secret`) is used, made on first use.
   */
  readonly logSecret: string | undefined;
  /** Most predictions waiting in memory to be written; more are dropped and counted. */
  readonly predictionLogQueue: number;
  /** How often waiting predictions are written (ms). */
  readonly predictionLogFlushMs: number;
  /** Most predictions written in one statement; a full batch is written at once. */
  readonly predictionLogBatch: number;
  /** Logged predictions older than this are deleted by `onset up` (ms); undefined: kept whatever their age. */
  readonly predictionLogMaxAgeMs: number | undefined;
  /** Most logged predictions kept by `onset up` (the oldest go first); undefined: no bound. */
  readonly predictionLogMaxRows: number | undefined;
  /** How often `onset up` applies the two limits above (ms); also once at start. */
  readonly predictionLogRetentionIntervalMs: number;
  /** How often `onset up` runs the drift check of the served model (ms); also once at start. Undefined: off. */
  readonly driftIntervalMs: number | undefined;
  /** The stretch of the prediction log the drift check compares (`24h`; see `parseWindow`, checked at start). */
  readonly driftWindow: string;
  /** Most predictions a drift check reads: the latest of its window. */
  readonly driftMaxRows: number;
  /** Fewest predictions a drift check gives a verdict on; with fewer it stores "too few" and sets no gauge. */
  readonly driftMinRows: number;
  /** How often `onset up` runs the performance check of the served model (ms); also once at start. Undefined: off. */
  readonly performanceIntervalMs: number | undefined;
  /** The rolling windows of the performance check, comma-separated (`1h,24h,7d`; checked at start). */
  readonly performanceWindows: string;
  /** Most predictions a performance check reads for its estimate, and most labelled ones for its realized metrics. */
  readonly performanceMaxRows: number;
}

/** The folder name of an Onset home, looked for in the working directory and above it. */
export const HOME_FOLDER = '.onset';

/**
 * How the home was chosen: `--home` (`flag`), `ONSET_HOME` (`env`), the nearest `.onset` folder in the
 * working directory or a folder above it (`found`, as git finds its repository), or, when there is none,
 * `./.onset` (`new`: it does not exist yet).
 */
export type HomeSource = 'flag' | 'env' | 'found' | 'new';

/** Where a setting's value came from: a flag, an `ONSET_*` variable, or its default. */
export type SettingSource = 'flag' | 'env' | 'default';

/**
 * The nearest folder holding an Onset home: `start` itself or the closest folder above it with a `.onset`
 * folder in it; the home's path, or undefined when there is none up to the file system's root.
 */
export function findHome(start: string): string | undefined {
  for (let folder = resolve(start); ; folder = dirname(folder)) {
    const candidate = join(folder, HOME_FOLDER);
    if (statSync(candidate, { throwIfNoEntry: false })?.isDirectory()) return candidate;
    if (dirname(folder) === folder) return undefined;
  }
}

/** Largest artifact upload unless ONSET_ARTIFACT_UPLOAD_LIMIT says otherwise: 512 MiB. */
export const DEFAULT_ARTIFACT_UPLOAD_LIMIT = 512 * 1024 * 1024;
export const MODEL_FALLBACKS = ['none', 'previous'] as const;
export type ModelFallback = (typeof MODEL_FALLBACKS)[number];
export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * Longest S3 silence unless ONSET_S3_TIMEOUT_MS says otherwise: 30 s. Without a bound the AWS SDK waits
 * forever on a server that accepts a connection and never answers.
 */
export const DEFAULT_S3_TIMEOUT_MS = 30_000;

/** What `onset up` and `onset serve` serve unless told otherwise. */
export const DEFAULT_MODEL_URI = 'models:/parkinson-disease-prediction/Production';

export interface ConfigFlags {
  readonly home?: string;
  readonly host?: string;
  readonly port?: number;
  readonly trackingUri?: string;
  readonly artifactUri?: string;
  readonly modelUri?: string;
  readonly data?: string;
  readonly allowUnauthenticated?: boolean;
  readonly predictionLog?: boolean;
  readonly workers?: number;
}

/**
 * The stream function's variables, as Lambda sets them (the CDK app in infra/) and `onset lambda serve`
 * and `onset stream` read them under their flags (see `streamFunctionSettings`): the model
 * (`ONSET_MODEL_URI`, or the original function's `MODEL_BUCKET` and `RUN_ID` with `MODEL_PREFIX`), the
 * streams (`ONSET_INPUT_STREAM`, the original's `PREDICTIONS_STREAM_NAME`, `ONSET_DEAD_LETTER_STREAM`)
 * and the endpoints (`ONSET_KINESIS_ENDPOINT`; the AWS SDK's own `AWS_ENDPOINT_URL_S3` and
 * `AWS_ENDPOINT_URL`, which the SDK also reads by itself for Kinesis).
 */
export const STREAM_VARIABLES = [
  'ONSET_MODEL_URI',
  'MODEL_BUCKET',
  'RUN_ID',
  'MODEL_PREFIX',
  'ONSET_INPUT_STREAM',
  'PREDICTIONS_STREAM_NAME',
  'ONSET_DEAD_LETTER_STREAM',
  'ONSET_KINESIS_ENDPOINT',
  'AWS_ENDPOINT_URL_S3',
  'AWS_ENDPOINT_URL',
] as const;

export type StreamVariables = Readonly<Partial<Record<(typeof STREAM_VARIABLES)[number], string>>>;

/** The stream function's variables that are set (and not empty) in `env`. */
export function streamVariables(env: NodeJS.ProcessEnv = process.env): StreamVariables {
  return Object.fromEntries(
    STREAM_VARIABLES.flatMap((name) => (env[name] ? [[name, env[name]]] : [])),
  ) as StreamVariables;
}

/** Whether `host` is reachable only from this machine. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function nonNegativeInteger(name: string, text: string | number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) {
    throw invalidParameter(`${name} must be a whole number of at least 0, got "${text}"`);
  }
  return value;
}

function flag(name: string, text: string | undefined): boolean {
  if (text === undefined || text === '' || text === '0' || text === 'false') return false;
  if (text === '1' || text === 'true') return true;
  throw invalidParameter(`${name} must be true, false, 1 or 0, got "${text}"`);
}

/** A comma-separated list, trimmed, without empty items. */
function list(text: string | undefined): readonly string[] {
  return (text ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Where `home` comes from, by precedence: the flag, ONSET_HOME (when not empty), the nearest one found. */
function chooseHome(flags: ConfigFlags, env: NodeJS.ProcessEnv, cwd: string): [string, HomeSource] {
  if (flags.home !== undefined) return [resolve(cwd, flags.home), 'flag'];
  if (env.ONSET_HOME) return [resolve(cwd, env.ONSET_HOME), 'env'];
  const found = findHome(cwd);
  return found === undefined ? [resolve(cwd, HOME_FOLDER), 'new'] : [found, 'found'];
}

function sourceOf(flag: unknown, variable: string | undefined): SettingSource {
  return flag !== undefined ? 'flag' : variable !== undefined ? 'env' : 'default';
}

/**
 * The settings, from `flags`, then `env`, then defaults. Without `--home` or `ONSET_HOME`, the home is the
 * nearest `.onset` folder in `cwd` or above it (see `findHome`), else `cwd/.onset`.
 */
export function resolveConfig(
  flags: ConfigFlags = {},
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): OnsetConfig {
  const [home, homeSource] = chooseHome(flags, env, cwd);
  const host = flags.host ?? env.ONSET_HOST ?? '127.0.0.1';
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
    homeSource,
    trackingUriSource: sourceOf(flags.trackingUri, env.ONSET_TRACKING_URI),
    artifactUriSource: sourceOf(flags.artifactUri, env.ONSET_ARTIFACT_URI),
    host,
    port,
    trackingUri,
    artifactUri: isAbsolute(artifactUri) ? pathToFileURL(artifactUri).href : artifactUri,
    s3Endpoint: env.ONSET_S3_ENDPOINT || undefined,
    s3TimeoutMs: nonNegativeInteger('ONSET_S3_TIMEOUT_MS', env.ONSET_S3_TIMEOUT_MS ?? DEFAULT_S3_TIMEOUT_MS),
    adminToken: env.ONSET_ADMIN_TOKEN || undefined,
    modelUri: flags.modelUri ?? env.ONSET_MODEL_URI ?? DEFAULT_MODEL_URI,
    apiKey: env.ONSET_API_KEY || undefined,
    allowUnauthenticated:
      flags.allowUnauthenticated ?? flag('ONSET_ALLOW_UNAUTHENTICATED', env.ONSET_ALLOW_UNAUTHENTICATED),
    // Only this machine reaches a server on a loopback address: limiting it would only cost throughput.
    rateLimitPerMinute: nonNegativeInteger(
      'ONSET_RATE_LIMIT',
      env.ONSET_RATE_LIMIT ?? (isLoopback(host) ? 0 : 600),
    ),
    rateLimitExempt: list(env.ONSET_RATE_LIMIT_EXEMPT),
    trustedProxies: list(env.ONSET_TRUSTED_PROXIES),
    batchLimit: Math.max(1, nonNegativeInteger('ONSET_BATCH_LIMIT', env.ONSET_BATCH_LIMIT ?? 1000)),
    artifactUploadLimit: nonNegativeInteger(
      'ONSET_ARTIFACT_UPLOAD_LIMIT',
      env.ONSET_ARTIFACT_UPLOAD_LIMIT ?? DEFAULT_ARTIFACT_UPLOAD_LIMIT,
    ),
    data: flags.data ?? (env.ONSET_DATA || undefined),
    requestTimeoutMs: nonNegativeInteger('ONSET_REQUEST_TIMEOUT', env.ONSET_REQUEST_TIMEOUT ?? 30_000),
    batchConcurrency: Math.max(
      1,
      nonNegativeInteger('ONSET_BATCH_CONCURRENCY', env.ONSET_BATCH_CONCURRENCY ?? 2),
    ),
    batchQueue: nonNegativeInteger('ONSET_BATCH_QUEUE', env.ONSET_BATCH_QUEUE ?? 8),
    modelFallback: modelFallback(env.ONSET_MODEL_FALLBACK ?? 'none'),
    modelPollMs: duration('ONSET_MODEL_POLL_INTERVAL', env.ONSET_MODEL_POLL_INTERVAL ?? '5s'),
    workers: workerCount(flags.workers ?? env.ONSET_WORKERS),
    logFormat: logFormat(env.ONSET_LOG_FORMAT),
    predictionLog: flags.predictionLog ?? onOff('ONSET_PREDICTION_LOG', env.ONSET_PREDICTION_LOG ?? 'on'),
    logSecret: logSecret(env.ONSET_LOG_SECRET),
    predictionLogQueue: Math.max(
      1,
      nonNegativeInteger('ONSET_PREDICTION_LOG_QUEUE', env.ONSET_PREDICTION_LOG_QUEUE ?? 10_000),
    ),
    predictionLogFlushMs: Math.max(
      1,
      nonNegativeInteger('ONSET_PREDICTION_LOG_FLUSH_MS', env.ONSET_PREDICTION_LOG_FLUSH_MS ?? 500),
    ),
    predictionLogBatch: Math.max(
      1,
      nonNegativeInteger('ONSET_PREDICTION_LOG_BATCH', env.ONSET_PREDICTION_LOG_BATCH ?? 500),
    ),
    predictionLogMaxAgeMs: optionalDuration(
      'ONSET_PREDICTION_LOG_MAX_AGE',
      env.ONSET_PREDICTION_LOG_MAX_AGE ?? formatDuration(DEFAULT_PREDICTION_LOG_MAX_AGE_MS),
    ),
    predictionLogMaxRows:
      nonNegativeInteger(
        'ONSET_PREDICTION_LOG_MAX_ROWS',
        env.ONSET_PREDICTION_LOG_MAX_ROWS ?? DEFAULT_PREDICTION_LOG_MAX_ROWS,
      ) || undefined,
    predictionLogRetentionIntervalMs: duration(
      'ONSET_PREDICTION_LOG_RETENTION_INTERVAL',
      env.ONSET_PREDICTION_LOG_RETENTION_INTERVAL ?? '1h',
    ),
    driftIntervalMs: durationOrOff('ONSET_DRIFT_INTERVAL', env.ONSET_DRIFT_INTERVAL ?? '1h'),
    driftWindow: (env.ONSET_DRIFT_WINDOW ?? '24h').trim(),
    driftMaxRows: Math.max(
      1,
      nonNegativeInteger('ONSET_DRIFT_MAX_ROWS', env.ONSET_DRIFT_MAX_ROWS ?? 100_000),
    ),
    driftMinRows: Math.max(1, nonNegativeInteger('ONSET_DRIFT_MIN_ROWS', env.ONSET_DRIFT_MIN_ROWS ?? 30)),
    performanceIntervalMs: durationOrOff(
      'ONSET_PERFORMANCE_INTERVAL',
      env.ONSET_PERFORMANCE_INTERVAL ?? '1h',
    ),
    performanceWindows: env.ONSET_PERFORMANCE_WINDOWS ?? '1h,24h,7d',
    performanceMaxRows: Math.max(
      1,
      nonNegativeInteger('ONSET_PERFORMANCE_MAX_ROWS', env.ONSET_PERFORMANCE_MAX_ROWS ?? 100_000),
    ),
  };
}

/** Logged predictions are kept 90 days unless ONSET_PREDICTION_LOG_MAX_AGE says otherwise. */
export const DEFAULT_PREDICTION_LOG_MAX_AGE_MS = 90 * 86_400_000;
/** At most 10 million logged predictions (about 5 GB in SQLite) unless ONSET_PREDICTION_LOG_MAX_ROWS says otherwise. */
export const DEFAULT_PREDICTION_LOG_MAX_ROWS = 10_000_000;
/** The shortest ONSET_LOG_SECRET accepted: 32 characters (`openssl rand -hex 16` writes 32). */
export const MIN_LOG_SECRET_LENGTH = 32;

function onOff(name: string, text: string): boolean {
  const value = text.trim().toLowerCase();
  if (['on', 'true', '1'].includes(value)) return true;
  if (['off', 'false', '0'].includes(value)) return false;
  throw invalidParameter(`${name} must be on or off, got "${text}"`);
}

function logSecret(text: string | undefined): string | undefined {
  if (text === undefined || text === '') return undefined;
  if (text.length < MIN_LOG_SECRET_LENGTH) {
    // The secret itself is never repeated.
    throw invalidParameter(
      `ONSET_LOG_SECRET must be at least ${MIN_LOG_SECRET_LENGTH} characters long (it has ${text.length}); make one with: openssl rand -hex 32`,
    );
  }
  return text;
}

/** Serving processes: a count from 1 to 64, or the cores available when unset or `auto`. */
function workerCount(text: string | number | undefined): number {
  if (text === undefined || String(text).trim() === '' || String(text).trim().toLowerCase() === 'auto')
    return availableParallelism();
  const count = Number(text);
  if (!Number.isInteger(count) || count < 1 || count > 64) {
    throw invalidParameter(
      `The number of workers (--workers or ONSET_WORKERS) must be a whole number from 1 to 64, or auto (the cores available: ${availableParallelism()}), got "${text}"`,
    );
  }
  return count;
}

function duration(name: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) {
    throw invalidParameter(
      `${name} must be a duration such as 30s, 15m, 24h or 90d (ms, s, m, h, d, w), got "${text}"`,
    );
  }
  return ms;
}

/** A duration, or undefined for `off` (a job that does not run on a schedule). */
function durationOrOff(name: string, text: string): number | undefined {
  if (text.trim().toLowerCase() === 'off') return undefined;
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) {
    throw invalidParameter(
      `${name} must be a duration such as 15m, 1h or 6h (ms, s, m, h, d, w), or off, got "${text}"`,
    );
  }
  return ms;
}

/** A duration, or undefined for `none` (no limit). */
function optionalDuration(name: string, text: string): number | undefined {
  if (text.trim().toLowerCase() === 'none') return undefined;
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) {
    throw invalidParameter(
      `${name} must be a duration such as 30d, 12h or 2w (ms, s, m, h, d, w), or none, got "${text}"`,
    );
  }
  return ms;
}

function logFormat(text: string | undefined): LogFormat | undefined {
  if (text === undefined || text === '') return undefined;
  if ((LOG_FORMATS as readonly string[]).includes(text)) return text as LogFormat;
  throw invalidParameter(`ONSET_LOG_FORMAT must be one of ${LOG_FORMATS.join(', ')}, got "${text}"`);
}

/**
 * Whether ONSET_DEBUG asks for stack traces on the terminal (any value but empty, 0 or false). Read apart
 * from `resolveConfig`, and never throwing, because it is read while reporting another error.
 */
export function debugRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  const text = env.ONSET_DEBUG;
  return text !== undefined && text !== '' && text !== '0' && text.toLowerCase() !== 'false';
}

function modelFallback(text: string): ModelFallback {
  if ((MODEL_FALLBACKS as readonly string[]).includes(text)) return text as ModelFallback;
  throw invalidParameter(`ONSET_MODEL_FALLBACK must be one of ${MODEL_FALLBACKS.join(', ')}, got "${text}"`);
}

/** Milliseconds in each unit a duration may be written in. */
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;

/**
 * A duration written as a number and a unit (`500ms`, `30s`, `15m`, `24h`, `90d`, `2w`), in ms. Undefined
 * when `text` is not one: the caller says which setting or option was wrong.
 */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  return Number.isSafeInteger(Math.round(ms)) ? Math.round(ms) : undefined;
}

/** A duration in ms written back in its largest whole unit (`7776000000` → `90d`), for messages. */
export function formatDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    if (ms >= UNIT_MS[unit] && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}

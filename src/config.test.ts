import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_ARTIFACT_UPLOAD_LIMIT,
  DEFAULT_MODEL_URI,
  DEFAULT_PREDICTION_LOG_MAX_AGE_MS,
  DEFAULT_PREDICTION_LOG_MAX_ROWS,
  DEFAULT_S3_TIMEOUT_MS,
  debugRequested,
  findHome,
  formatDuration,
  parseDuration,
  resolveConfig,
} from './config.js';

describe('finding the home', () => {
  const root = mkdtempSync(join(tmpdir(), 'onset-config-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const project = join(root, 'project');
  const deep = join(project, 'src', 'deep');
  mkdirSync(deep, { recursive: true });

  it('walks up from the working directory to the nearest .onset folder, as git finds .git', () => {
    // Nothing above the temporary folder may have a home, or every "not found" below would find it.
    expect(findHome(root), `a .onset folder above ${root}`).toBeUndefined();
    expect(findHome(deep)).toBeUndefined();
    // A file called .onset is not a home.
    writeFileSync(join(project, 'src', '.onset'), 'not a folder');
    expect(findHome(deep)).toBeUndefined();
    mkdirSync(join(project, '.onset'));
    expect(findHome(deep)).toBe(join(project, '.onset'));
    expect(findHome(project)).toBe(join(project, '.onset'));
    // The nearest wins.
    mkdirSync(join(deep, '.onset'));
    expect(findHome(deep)).toBe(join(deep, '.onset'));
    rmSync(join(deep, '.onset'), { recursive: true });
  });

  it('takes --home, then ONSET_HOME, then the home found, then a new ./.onset, and says which', () => {
    const config = (flags: { home?: string }, env: NodeJS.ProcessEnv, cwd: string) => {
      const resolved = resolveConfig(flags, env, cwd);
      return { home: resolved.home, homeSource: resolved.homeSource, trackingUri: resolved.trackingUri };
    };
    expect(config({}, {}, deep)).toEqual({
      home: join(project, '.onset'),
      homeSource: 'found',
      trackingUri: `sqlite:${join(project, '.onset', 'onset.db')}`,
    });
    expect(config({}, {}, root)).toMatchObject({ home: join(root, '.onset'), homeSource: 'new' });
    // Relative paths are taken from the working directory; an empty ONSET_HOME is no setting.
    expect(config({}, { ONSET_HOME: 'other' }, deep)).toMatchObject({
      home: join(deep, 'other'),
      homeSource: 'env',
    });
    expect(config({}, { ONSET_HOME: '' }, deep)).toMatchObject({ homeSource: 'found' });
    expect(config({ home: '../x' }, { ONSET_HOME: 'other' }, deep)).toMatchObject({
      home: join(project, 'src', 'x'),
      homeSource: 'flag',
    });
  });

  it("says whether the store and artifact URIs are the home's or were set", () => {
    expect(resolveConfig({}, {}, deep)).toMatchObject({
      trackingUriSource: 'default',
      artifactUriSource: 'default',
      artifactUri: pathToFileURL(join(project, '.onset', 'artifacts')).href,
    });
    expect(
      resolveConfig({ trackingUri: 'postgres://db/onset' }, { ONSET_ARTIFACT_URI: 's3://b/p' }, deep),
    ).toMatchObject({ trackingUriSource: 'flag', artifactUriSource: 'env' });
  });
});

describe('resolveConfig', () => {
  it('takes flags over ONSET_* variables over defaults', () => {
    const env = { ONSET_PORT: '9000', ONSET_MODEL_URI: 'models:/m@champion', ONSET_DATA: '/data/real.csv' };
    expect(resolveConfig({}, {})).toMatchObject({
      port: 9696,
      host: '127.0.0.1',
      modelUri: DEFAULT_MODEL_URI,
      batchLimit: 1000,
    });
    expect(resolveConfig({}, env)).toMatchObject({
      port: 9000,
      modelUri: 'models:/m@champion',
      data: '/data/real.csv',
    });
    expect(resolveConfig({ port: 1234, modelUri: 'runs:/x/model', data: 'a.csv' }, env)).toMatchObject({
      port: 1234,
      modelUri: 'runs:/x/model',
      data: 'a.csv',
    });
  });

  it('reads the S3 endpoint for s3:// artifacts from ONSET_S3_ENDPOINT (AWS S3 when unset)', () => {
    expect(resolveConfig({}, {}).s3Endpoint).toBeUndefined();
    expect(resolveConfig({}, { ONSET_S3_ENDPOINT: '' }).s3Endpoint).toBeUndefined();
    expect(resolveConfig({}, { ONSET_S3_ENDPOINT: 'http://127.0.0.1:4568' }).s3Endpoint).toBe(
      'http://127.0.0.1:4568',
    );
  });

  it('bounds S3 requests by ONSET_S3_TIMEOUT_MS (30 s by default, 0 for no bound)', () => {
    expect(resolveConfig({}, {}).s3TimeoutMs).toBe(DEFAULT_S3_TIMEOUT_MS);
    expect(resolveConfig({}, { ONSET_S3_TIMEOUT_MS: '2500' }).s3TimeoutMs).toBe(2500);
    expect(resolveConfig({}, { ONSET_S3_TIMEOUT_MS: '0' }).s3TimeoutMs).toBe(0);
    expect(() => resolveConfig({}, { ONSET_S3_TIMEOUT_MS: '1.5' })).toThrow(/ONSET_S3_TIMEOUT_MS/);
  });

  it('limits request rates by default only when the server listens beyond this machine', () => {
    expect(resolveConfig({}, {}).rateLimitPerMinute).toBe(0);
    expect(resolveConfig({ host: '0.0.0.0' }, {}).rateLimitPerMinute).toBe(600);
    expect(resolveConfig({ host: '0.0.0.0' }, { ONSET_RATE_LIMIT: '0' }).rateLimitPerMinute).toBe(0);
    expect(resolveConfig({}, { ONSET_RATE_LIMIT: '120' }).rateLimitPerMinute).toBe(120);
  });

  it('exempts no client from the rate limit and trusts no proxy unless told', () => {
    const defaults = resolveConfig({ host: '0.0.0.0' }, {});
    expect(defaults.rateLimitExempt).toEqual([]);
    expect(defaults.trustedProxies).toEqual([]);
    expect(defaults.allowUnauthenticated).toBe(false);
    const set = resolveConfig(
      {},
      {
        ONSET_RATE_LIMIT_EXEMPT: '10.0.0.5, 10.0.0.6,',
        ONSET_TRUSTED_PROXIES: '127.0.0.1,10.1.0.0/16',
        ONSET_ALLOW_UNAUTHENTICATED: 'true',
      },
    );
    expect(set.rateLimitExempt).toEqual(['10.0.0.5', '10.0.0.6']);
    expect(set.trustedProxies).toEqual(['127.0.0.1', '10.1.0.0/16']);
    expect(set.allowUnauthenticated).toBe(true);
    expect(resolveConfig({ allowUnauthenticated: true }, {}).allowUnauthenticated).toBe(true);
    expect(() => resolveConfig({}, { ONSET_ALLOW_UNAUTHENTICATED: 'yes' })).toThrow(
      /ONSET_ALLOW_UNAUTHENTICATED must be true, false, 1 or 0, got "yes"/,
    );
  });

  it('reads the artifact upload limit in bytes from ONSET_ARTIFACT_UPLOAD_LIMIT (default 512 MiB)', () => {
    expect(resolveConfig({}, {}).artifactUploadLimit).toBe(DEFAULT_ARTIFACT_UPLOAD_LIMIT);
    expect(DEFAULT_ARTIFACT_UPLOAD_LIMIT).toBe(512 * 1024 * 1024);
    expect(resolveConfig({}, { ONSET_ARTIFACT_UPLOAD_LIMIT: '1048576' }).artifactUploadLimit).toBe(1_048_576);
    expect(() => resolveConfig({}, { ONSET_ARTIFACT_UPLOAD_LIMIT: '1GB' })).toThrow(
      /ONSET_ARTIFACT_UPLOAD_LIMIT must be a whole number of at least 0, got "1GB"/,
    );
  });

  it('reads the request timeout, the batch turns and queue, and the model fallback', () => {
    expect(resolveConfig({}, {})).toMatchObject({
      requestTimeoutMs: 30_000,
      batchConcurrency: 2,
      batchQueue: 8,
      modelFallback: 'none',
    });
    expect(
      resolveConfig(
        {},
        {
          ONSET_REQUEST_TIMEOUT: '0',
          ONSET_BATCH_CONCURRENCY: '0',
          ONSET_BATCH_QUEUE: '100',
          ONSET_MODEL_FALLBACK: 'previous',
        },
      ),
    ).toMatchObject({ requestTimeoutMs: 0, batchConcurrency: 1, batchQueue: 100, modelFallback: 'previous' });
    expect(() => resolveConfig({}, { ONSET_MODEL_FALLBACK: 'latest' })).toThrow(
      /ONSET_MODEL_FALLBACK must be one of none, previous, got "latest"/,
    );
    expect(() => resolveConfig({}, { ONSET_REQUEST_TIMEOUT: '30s' })).toThrow(/ONSET_REQUEST_TIMEOUT/);
  });

  it('names the variable and the value it refuses', () => {
    expect(() => resolveConfig({}, { ONSET_PORT: 'http' })).toThrow(
      /ONSET_PORT must be a port number from 0 to 65535, got "http"/,
    );
    expect(() => resolveConfig({}, { ONSET_RATE_LIMIT: '-1' })).toThrow(
      /ONSET_RATE_LIMIT must be a whole number of at least 0, got "-1"/,
    );
    expect(() => resolveConfig({}, { ONSET_BATCH_LIMIT: 'many' })).toThrow(/ONSET_BATCH_LIMIT/);
  });

  it('takes the log format from ONSET_LOG_FORMAT (unset: the server decides by its terminal)', () => {
    expect(resolveConfig({}, {}).logFormat).toBeUndefined();
    expect(resolveConfig({}, { ONSET_LOG_FORMAT: '' }).logFormat).toBeUndefined();
    expect(resolveConfig({}, { ONSET_LOG_FORMAT: 'json' }).logFormat).toBe('json');
    expect(resolveConfig({}, { ONSET_LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
    expect(() => resolveConfig({}, { ONSET_LOG_FORMAT: 'text' })).toThrow(
      /ONSET_LOG_FORMAT must be one of pretty, json, got "text"/,
    );
  });

  it('turns the prediction log on by default, and reads its secret, queue, batches and retention', () => {
    expect(resolveConfig({}, {})).toMatchObject({
      predictionLog: true,
      logSecret: undefined,
      predictionLogQueue: 10_000,
      predictionLogFlushMs: 500,
      predictionLogBatch: 500,
      predictionLogMaxAgeMs: DEFAULT_PREDICTION_LOG_MAX_AGE_MS,
      predictionLogMaxRows: DEFAULT_PREDICTION_LOG_MAX_ROWS,
      predictionLogRetentionIntervalMs: 3_600_000,
    });
    expect(DEFAULT_PREDICTION_LOG_MAX_AGE_MS).toBe(90 * 24 * 3_600_000);
    const secret = 'k'.repeat(32);
    expect(
      resolveConfig(
        {},
        {
          ONSET_PREDICTION_LOG: 'off',
          ONSET_LOG_SECRET: secret,
          ONSET_PREDICTION_LOG_QUEUE: '5',
          ONSET_PREDICTION_LOG_FLUSH_MS: '60000',
          ONSET_PREDICTION_LOG_BATCH: '50',
          ONSET_PREDICTION_LOG_MAX_AGE: '30d',
          ONSET_PREDICTION_LOG_MAX_ROWS: '0',
          ONSET_PREDICTION_LOG_RETENTION_INTERVAL: '5m',
        },
      ),
    ).toMatchObject({
      predictionLog: false,
      logSecret: secret,
      predictionLogQueue: 5,
      predictionLogFlushMs: 60_000,
      predictionLogBatch: 50,
      predictionLogMaxAgeMs: 30 * 24 * 3_600_000,
      predictionLogMaxRows: undefined,
      predictionLogRetentionIntervalMs: 300_000,
    });
    expect(resolveConfig({}, { ONSET_PREDICTION_LOG_MAX_AGE: 'none' }).predictionLogMaxAgeMs).toBeUndefined();
    // The flag wins over the variable.
    expect(resolveConfig({ predictionLog: true }, { ONSET_PREDICTION_LOG: 'off' }).predictionLog).toBe(true);
    expect(() => resolveConfig({}, { ONSET_PREDICTION_LOG: 'maybe' })).toThrow(
      /ONSET_PREDICTION_LOG must be on or off, got "maybe"/,
    );
    expect(() => resolveConfig({}, { ONSET_PREDICTION_LOG_MAX_AGE: '90' })).toThrow(
      /ONSET_PREDICTION_LOG_MAX_AGE must be a duration such as 30d.*got "90"/,
    );
    expect(() => resolveConfig({}, { ONSET_PREDICTION_LOG_RETENTION_INTERVAL: '0s' })).toThrow(
      /ONSET_PREDICTION_LOG_RETENTION_INTERVAL/,
    );
    // A short secret is refused without being repeated.
    let message = '';
    try {
      resolveConfig({}, { ONSET_LOG_SECRET: 'hunter2' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/ONSET_LOG_SECRET must be at least 32 characters long \(it has 7\)/);
    expect(message).not.toContain('hunter2');
  });

  it('schedules the drift and performance checks hourly by default, and reads their windows and bounds', () => {
    expect(resolveConfig({}, {})).toMatchObject({
      driftIntervalMs: 3_600_000,
      driftWindow: '24h',
      driftMaxRows: 100_000,
      driftMinRows: 30,
      performanceIntervalMs: 3_600_000,
      performanceWindows: '1h,24h,7d',
      performanceMaxRows: 100_000,
    });
    expect(
      resolveConfig(
        {},
        {
          ONSET_DRIFT_INTERVAL: 'off',
          ONSET_DRIFT_WINDOW: '6h',
          ONSET_DRIFT_MAX_ROWS: '5000',
          ONSET_DRIFT_MIN_ROWS: '100',
          ONSET_PERFORMANCE_INTERVAL: '15m',
          ONSET_PERFORMANCE_WINDOWS: '24h,30d',
          ONSET_PERFORMANCE_MAX_ROWS: '2000',
        },
      ),
    ).toMatchObject({
      driftIntervalMs: undefined,
      driftWindow: '6h',
      driftMaxRows: 5_000,
      driftMinRows: 100,
      performanceIntervalMs: 900_000,
      performanceWindows: '24h,30d',
      performanceMaxRows: 2_000,
    });
    expect(resolveConfig({}, { ONSET_PERFORMANCE_INTERVAL: 'OFF' }).performanceIntervalMs).toBeUndefined();
    expect(() => resolveConfig({}, { ONSET_DRIFT_INTERVAL: 'hourly' })).toThrow(
      /ONSET_DRIFT_INTERVAL must be a duration such as 15m, 1h or 6h .* or off, got "hourly"/,
    );
    expect(() => resolveConfig({}, { ONSET_PERFORMANCE_INTERVAL: '0m' })).toThrow(
      /ONSET_PERFORMANCE_INTERVAL/,
    );
    expect(() => resolveConfig({}, { ONSET_DRIFT_MAX_ROWS: 'lots' })).toThrow(/ONSET_DRIFT_MAX_ROWS/);
    expect(() => resolveConfig({}, { ONSET_DRIFT_MIN_ROWS: '-3' })).toThrow(/ONSET_DRIFT_MIN_ROWS/);
  });

  it('reads ONSET_DEBUG without ever failing (it is read while another error is reported)', () => {
    expect(debugRequested({})).toBe(false);
    for (const off of ['', '0', 'false', 'FALSE']) expect(debugRequested({ ONSET_DEBUG: off })).toBe(false);
    for (const on of ['1', 'true', 'yes']) expect(debugRequested({ ONSET_DEBUG: on })).toBe(true);
  });
});

describe('durations', () => {
  it('read a number and a unit, in ms', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('90d')).toBe(90 * 86_400_000);
    expect(parseDuration('2w')).toBe(14 * 86_400_000);
    expect(parseDuration(' 24h ')).toBe(86_400_000);
  });

  it('refuse anything else', () => {
    for (const text of ['', '90', 'd', '-1d', '1 d', '1y', 'ninety days', '1e3s', `${'9'.repeat(30)}w`])
      expect(parseDuration(text), text).toBeUndefined();
  });

  it('are written back in their largest whole unit', () => {
    expect(formatDuration(90 * 86_400_000)).toBe('90d');
    expect(formatDuration(14 * 86_400_000)).toBe('2w');
    expect(formatDuration(5_400_000)).toBe('90m');
    expect(formatDuration(1_500)).toBe('1500ms');
    expect(formatDuration(0)).toBe('0ms');
  });
});

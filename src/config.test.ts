import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_URI, resolveConfig } from './config.js';

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

  it('limits request rates by default only when the server listens beyond this machine', () => {
    expect(resolveConfig({}, {}).rateLimitPerMinute).toBe(0);
    expect(resolveConfig({ host: '0.0.0.0' }, {}).rateLimitPerMinute).toBe(600);
    expect(resolveConfig({ host: '0.0.0.0' }, { ONSET_RATE_LIMIT: '0' }).rateLimitPerMinute).toBe(0);
    expect(resolveConfig({}, { ONSET_RATE_LIMIT: '120' }).rateLimitPerMinute).toBe(120);
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
});

import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ARTIFACT_STORE_SCHEMES, openArtifactStore } from './artifact-store-uri.js';
import { LocalArtifactStore } from './local-artifact-store.js';
import { parseS3Uri, S3ArtifactStore, s3ClientConfig } from './s3-artifact-store.js';

describe('openArtifactStore', () => {
  const dir = join(tmpdir(), 'onset-uri-test-never-created');

  it('opens a local store for file:// URIs and bare paths', async () => {
    const fromUri = await openArtifactStore(pathToFileURL(dir).href);
    expect(fromUri).toBeInstanceOf(LocalArtifactStore);
    expect(fromUri.rootUri).toBe(pathToFileURL(dir).href);
    expect((await openArtifactStore(dir)).rootUri).toBe(pathToFileURL(dir).href);
    expect((await openArtifactStore('./.onset/artifacts')).rootUri).toBe(
      pathToFileURL(resolve('.onset/artifacts')).href,
    );
    expect(await openArtifactStore('relative-dir')).toBeInstanceOf(LocalArtifactStore);
  });

  it('opens an S3 store for s3:// URIs, with a canonical prefix', async () => {
    const store = await openArtifactStore('s3://my-bucket/some/prefix/', {
      s3: { endpoint: 'http://127.0.0.1:1' },
    });
    expect(store).toBeInstanceOf(S3ArtifactStore);
    expect(store.rootUri).toBe('s3://my-bucket/some/prefix');
    expect(
      (await openArtifactStore('s3://my-bucket', { s3: { endpoint: 'http://127.0.0.1:1' } })).rootUri,
    ).toBe('s3://my-bucket');
  });

  it('refuses unknown schemes, listing the known ones', async () => {
    expect(ARTIFACT_STORE_SCHEMES).toEqual(['file', 's3']);
    for (const uri of ['gs://bucket/x', 'hdfs://nn/x', 'http://host/x', 'wasbs://c@a.blob/x']) {
      await expect(openArtifactStore(uri)).rejects.toThrow(
        /unsupported artifact store URI scheme .*known schemes: file, s3/,
      );
    }
    await expect(openArtifactStore('')).rejects.toThrow(/empty/);
  });

  it('refuses malformed file and s3 URIs', async () => {
    await expect(openArtifactStore('file://remote-host/x')).rejects.toThrow(/invalid file URI/);
    await expect(openArtifactStore('s3://')).rejects.toThrow(/invalid S3 bucket name/);
    await expect(openArtifactStore('s3://Bad_Bucket/x')).rejects.toThrow(/invalid S3 bucket name/);
    await expect(openArtifactStore('s3://bucket/../x')).rejects.toThrow(/"\.\." segments/);
    await expect(openArtifactStore('s3://bucket/a//b')).rejects.toThrow(/empty segments/);
  });
});

describe('S3 configuration', () => {
  it('parses s3://bucket/prefix', async () => {
    expect(parseS3Uri('s3://b-1/a/b/')).toEqual({ bucket: 'b-1', prefix: 'a/b' });
    expect(parseS3Uri('s3://b-1')).toEqual({ bucket: 'b-1', prefix: '' });
  });

  it('uses path-style addressing against a custom endpoint, and the SDK region chain or us-east-1', async () => {
    const region = async (config: ReturnType<typeof s3ClientConfig>) =>
      typeof config.region === 'function' ? config.region() : config.region;
    const names = ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE', 'AWS_CONFIG_FILE'] as const;
    const saved = names.map((name) => [name, process.env[name]] as const);
    try {
      for (const name of names) delete process.env[name];
      process.env.AWS_CONFIG_FILE = '/nonexistent/onset-test-aws-config';
      const plain = s3ClientConfig();
      expect(plain.endpoint).toBeUndefined();
      expect(await region(plain)).toBe('us-east-1');
      process.env.AWS_REGION = 'eu-west-3';
      expect(await region(s3ClientConfig())).toBe('eu-west-3');
      expect(s3ClientConfig({ endpoint: 'http://127.0.0.1:4568' })).toMatchObject({
        endpoint: 'http://127.0.0.1:4568',
        forcePathStyle: true,
      });
      expect(
        s3ClientConfig({ region: 'ap-south-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
      ).toMatchObject({ region: 'ap-south-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    } finally {
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('refuses a bad listPageSize', async () => {
    expect(
      () => new S3ArtifactStore('s3://bucket', { endpoint: 'http://127.0.0.1:1', listPageSize: 0 }),
    ).toThrow(/listPageSize/);
  });
});

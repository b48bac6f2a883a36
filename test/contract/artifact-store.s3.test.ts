import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { openOnsetStores } from '../../src/server/open-stores.js';
import { S3ArtifactStore } from '../../src/tracking/artifacts/s3-artifact-store.js';
import { startS3, type TestS3 } from '../support/s3.js';
import { describeArtifactStoreContract } from './artifact-store.contract.js';

let s3: TestS3;
let client: S3Client;
let restoreEnvironment: () => void;

beforeAll(async () => {
  s3 = await startS3();
  // No request of this file may leave the machine: the endpoint is always explicit, and the SDK's chain
  // finds the emulator's credentials and region in the environment.
  restoreEnvironment = s3.useEnvironment();
  client = s3.client();
}, 30_000);

afterAll(async () => {
  restoreEnvironment?.();
  await s3?.stop();
});

function keyOf(prefix: string, path: string): string {
  return `${prefix}/${path}`;
}

/** A store on a fresh prefix of the emulator's bucket. */
function openFresh(options: { listPageSize?: number; spoolDirectory?: string } = {}) {
  const prefix = `runs/${randomBytes(6).toString('hex')}`;
  const store = new S3ArtifactStore(`s3://${s3.bucket}/${prefix}`, { endpoint: s3.endpoint, ...options });
  return { store, prefix };
}

describeArtifactStoreContract(
  's3 (s3rver)',
  async () => {
    const { store, prefix } = openFresh();
    return {
      store,
      // Overwrite the object keeping its old metadata (the recorded sha256), as a careless copy would.
      async tamper(path, content) {
        const key = keyOf(prefix, path);
        const head = await client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key }));
        await client.send(
          new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: content, Metadata: head.Metadata }),
        );
      },
      async writeUnchecked(path, content) {
        await client.send(
          new PutObjectCommand({ Bucket: s3.bucket, Key: keyOf(prefix, path), Body: content }),
        );
      },
      close: async () => store.destroy(),
    };
  },
  {
    listsDirectoriesHoldingOnlyDirectories:
      's3rver 3.7.1 leaves out of a delimited ListObjectsV2 any common prefix that holds no object directly (its filesystem walk skips it); real S3 lists it',
  },
);

describe('S3ArtifactStore specifics', () => {
  it('stores the sha256 as x-amz-meta-sha256 object metadata', async () => {
    const { store, prefix } = openFresh();
    const stored = await store.put('m/model.json', '{"a":1}');
    const head = await client.send(
      new HeadObjectCommand({ Bucket: s3.bucket, Key: `${prefix}/m/model.json` }),
    );
    expect(head.Metadata?.sha256).toBe(stored.sha256);
    expect(store.rootUri).toBe(`s3://${s3.bucket}/${prefix}`);
    store.destroy();
  });

  it('spools a streamed upload and a large verified download, removing each spool file', async () => {
    const spoolDirectory = mkdtempSync(join(tmpdir(), 'onset-s3-spool-'));
    const { store, prefix } = openFresh({ spoolDirectory });
    try {
      const chunk = Buffer.alloc(256 * 1024, 9);
      const stored = await store.put('m/weights.bin', Readable.from(Array.from({ length: 12 }, () => chunk)));
      expect(stored.size).toBe(12 * chunk.length);
      const head = await client.send(
        new HeadObjectCommand({ Bucket: s3.bucket, Key: `${prefix}/m/weights.bin` }),
      );
      expect(head.Metadata?.sha256).toBe(stored.sha256);
      expect(head.ContentLength).toBe(stored.size);
      expect(readdirSync(spoolDirectory)).toEqual([]);
      const stream = await store.stream('m/weights.bin');
      let length = 0;
      for await (const part of stream) length += (part as Buffer).length;
      expect(length).toBe(stored.size);
      expect(readdirSync(spoolDirectory)).toEqual([]);
    } finally {
      store.destroy();
      rmSync(spoolDirectory, { recursive: true, force: true });
    }
  });

  it('refuses an object whose metadata was replaced with a wrong sha256', async () => {
    const { store, prefix } = openFresh();
    await store.put('w.bin', 'weights');
    const key = `${prefix}/w.bin`;
    await client.send(
      new CopyObjectCommand({
        Bucket: s3.bucket,
        Key: key,
        CopySource: `${s3.bucket}/${key}`,
        Metadata: { sha256: 'f'.repeat(64) },
        MetadataDirective: 'REPLACE',
      }),
    );
    await expect(store.get('w.bin')).rejects.toMatchObject({
      code: 'INTERNAL_ERROR',
      message: expect.stringContaining(`expected ${'f'.repeat(64)}`),
    });
    store.destroy();
  });

  it('paginates listings and prefix deletes (ListObjectsV2 continuation)', async () => {
    const { store, prefix } = openFresh({ listPageSize: 2 });
    for (let i = 0; i < 7; i++) await store.put(`p/file-${i}.txt`, `f${i}`);
    for (let i = 0; i < 3; i++) await store.put(`p/dir-${i}/inner.txt`, `d${i}`);
    const listing = await store.list('p');
    expect(listing.map((entry) => entry.path)).toEqual([
      'dir-0',
      'dir-1',
      'dir-2',
      ...Array.from({ length: 7 }, (_, i) => `file-${i}.txt`),
    ]);
    await store.delete('p');
    expect(await store.list('')).toEqual([]);
    const left = await client
      .send(new GetObjectCommand({ Bucket: s3.bucket, Key: `${prefix}/p/file-0.txt` }))
      .catch((error: unknown) => error);
    expect(left).toMatchObject({ name: 'NoSuchKey' });
    store.destroy();
  });

  it('works on the bucket root, and skips keys that are not valid artifact paths', async () => {
    const bucketRoot = new S3ArtifactStore(`s3://${s3.bucket}`, {
      endpoint: s3.endpoint,
      listPageSize: 1000,
    });
    expect(bucketRoot.rootUri).toBe(`s3://${s3.bucket}`);
    const { store, prefix } = openFresh();
    await store.put('ok.txt', 'ok');
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `${prefix}/bad;name`, Body: 'x' }));
    expect(await store.list('')).toEqual([{ path: 'ok.txt', isDir: false, size: 2 }]);
    expect((await bucketRoot.get(`${prefix}/ok.txt`)).toString()).toBe('ok');
    bucketRoot.destroy();
    store.destroy();
  });

  it('is the platform artifact store for an s3:// ONSET_ARTIFACT_URI, at the endpoint ONSET_S3_ENDPOINT names', async () => {
    const home = mkdtempSync(join(tmpdir(), 'onset-s3-home-'));
    const prefix = `via-config/${randomBytes(4).toString('hex')}`;
    const config = resolveConfig(
      { home },
      { ONSET_ARTIFACT_URI: `s3://${s3.bucket}/${prefix}`, ONSET_S3_ENDPOINT: s3.endpoint },
    );
    const stores = await openOnsetStores(config);
    try {
      expect(stores.artifacts).toBeInstanceOf(S3ArtifactStore);
      await stores.artifacts.put('x.txt', 'x');
      expect((await stores.artifacts.get('x.txt')).toString()).toBe('x');
      const head = await client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: `${prefix}/x.txt` }));
      expect(head.ContentLength).toBe(1);
      expect((await stores.tracking.getExperiment('0')).artifactLocation).toBe(
        `s3://${s3.bucket}/${prefix}/0`,
      );
    } finally {
      (stores.artifacts as S3ArtifactStore).destroy();
      await stores.close();
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('reports a missing bucket as RESOURCE_DOES_NOT_EXIST', async () => {
    const store = new S3ArtifactStore('s3://no-such-bucket/x', { endpoint: s3.endpoint });
    await expect(store.put('a.txt', 'a')).rejects.toMatchObject({ code: 'RESOURCE_DOES_NOT_EXIST' });
    store.destroy();
  });
});

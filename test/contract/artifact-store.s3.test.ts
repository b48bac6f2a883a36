import { randomBytes } from 'node:crypto';
import {
  CopyObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openArtifactStore } from '../../src/tracking/artifacts/artifact-store-uri.js';
import { S3ArtifactStore } from '../../src/tracking/artifacts/s3-artifact-store.js';
import { startS3, type TestS3 } from '../support/s3.js';
import { describeArtifactStoreContract } from './artifact-store.contract.js';

let s3: TestS3;
let client: S3Client;
let restoreEnvironment: () => void;

beforeAll(async () => {
  s3 = await startS3();
  // No request of this file may leave the machine: endpoint and credentials are always explicit.
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

/** A store on a fresh prefix of the emulator's bucket, as the environment configures it. */
function openFresh(options: { listPageSize?: number } = {}) {
  const prefix = `runs/${randomBytes(6).toString('hex')}`;
  const store = new S3ArtifactStore(`s3://${s3.bucket}/${prefix}`, options);
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
    const bucketRoot = new S3ArtifactStore(`s3://${s3.bucket}`, { listPageSize: 1000 });
    expect(bucketRoot.rootUri).toBe(`s3://${s3.bucket}`);
    const { store, prefix } = openFresh();
    await store.put('ok.txt', 'ok');
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `${prefix}/bad;name`, Body: 'x' }));
    expect(await store.list('')).toEqual([{ path: 'ok.txt', isDir: false, size: 2 }]);
    expect((await bucketRoot.get(`${prefix}/ok.txt`)).toString()).toBe('ok');
    bucketRoot.destroy();
    store.destroy();
  });

  it('is opened by openArtifactStore from s3:// with the endpoint from ONSET_S3_ENDPOINT', async () => {
    const store = await openArtifactStore(`s3://${s3.bucket}/via-uri/${randomBytes(4).toString('hex')}`);
    expect(store).toBeInstanceOf(S3ArtifactStore);
    await store.put('x.txt', 'x');
    expect((await store.get('x.txt')).toString()).toBe('x');
    (store as S3ArtifactStore).destroy();
  });

  it('reports a missing bucket as RESOURCE_DOES_NOT_EXIST', async () => {
    const store = new S3ArtifactStore('s3://no-such-bucket/x');
    await expect(store.put('a.txt', 'a')).rejects.toMatchObject({ code: 'RESOURCE_DOES_NOT_EXIST' });
    store.destroy();
  });
});

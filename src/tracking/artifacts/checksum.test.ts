import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { sha256Hex, toBuffer, verifyContent, verifyingStream } from './checksum.js';

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('checksum helpers', () => {
  const content = Buffer.from('some artifact bytes');
  const sha = sha256Hex(content);

  it('converts strings and typed array views to buffers without copying views wrongly', () => {
    expect(toBuffer('é')).toEqual(Buffer.from([0xc3, 0xa9]));
    const backing = new Uint8Array([1, 2, 3, 4, 5]);
    expect(toBuffer(backing.subarray(1, 3))).toEqual(Buffer.from([2, 3]));
  });

  it('verifies content against the recorded and the expected sha256', () => {
    expect(verifyContent('p', content, sha, undefined)).toBe(content);
    expect(() => verifyContent('p', Buffer.from('other'), sha, undefined)).toThrow(
      `artifact p changed since it was written: sha256 ${sha256Hex(Buffer.from('other'))} expected ${sha}`,
    );
    expect(() => verifyContent('p', content, sha, 'a'.repeat(64))).toThrow(/not the expected version/);
  });

  it('streams verified content and errors on a mismatch at the end', async () => {
    expect(
      await readAll(verifyingStream('p', Readable.from([content.subarray(0, 4), content.subarray(4)]), sha)),
    ).toEqual(content);
    await expect(readAll(verifyingStream('p', Readable.from([Buffer.from('x')]), sha))).rejects.toMatchObject(
      {
        code: 'INTERNAL_ERROR',
      },
    );
  });

  it('forwards errors of the source', async () => {
    const source = new Readable({
      read() {
        this.destroy(new Error('disk on fire'));
      },
    });
    await expect(readAll(verifyingStream('p', source, sha))).rejects.toThrow('disk on fire');
  });
});

import { serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { FrameReader } from './log-socket.js';

function frame(value: unknown): Buffer {
  const body = serialize(value);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length, 0);
  return Buffer.concat([length, body]);
}

const VALUES = [
  { seq: 1, batch: { ids: ['a', 'b'], numbers: new Float64Array([1.5, Number.NaN, -0]) } },
  { seq: 2 },
  { seq: 3, refused: 'the database is locked' },
  { seq: 4, batch: { features: new Float64Array(5_000).map((_, i) => i / 7) } },
];
const STREAM = Buffer.concat(VALUES.map(frame));

/** Feeds `stream` to a reader in chunks of `size` bytes and returns every value it gave. */
function read(stream: Buffer, size: number): unknown[] {
  const reader = new FrameReader();
  const values: unknown[] = [];
  for (let at = 0; at < stream.length; at += size)
    values.push(...reader.push(stream.subarray(at, at + size)));
  return values;
}

describe('FrameReader', () => {
  it('gives every frame once, whole, however the bytes are cut into chunks', () => {
    for (const size of [1, 2, 3, 4, 5, 7, 64, 1_000, 4_096, STREAM.length]) {
      expect(read(STREAM, size), `chunks of ${size} bytes`).toEqual(VALUES);
    }
  });

  it('keeps an unfinished frame until its last byte arrives', () => {
    const reader = new FrameReader();
    const one = frame({ seq: 9 });
    expect(reader.push(one.subarray(0, one.length - 1))).toEqual([]);
    expect(reader.push(Buffer.concat([one.subarray(one.length - 1), one.subarray(0, 2)]))).toEqual([
      { seq: 9 },
    ]);
    expect(reader.push(one.subarray(2))).toEqual([{ seq: 9 }]);
  });

  it('refuses a frame longer than any batch, even before its length is whole in one chunk', () => {
    const reader = new FrameReader();
    const length = Buffer.alloc(4);
    length.writeUInt32BE(0xffff_ffff, 0);
    expect(reader.push(length.subarray(0, 3))).toEqual([]);
    expect(() => reader.push(length.subarray(3))).toThrow('a frame of 4294967295 bytes is not a batch');
  });
});

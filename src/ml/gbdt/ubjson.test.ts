import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { scoringMatrix } from '../../../test/support/xgboost-cases.js';
import { FEATURE_NAMES } from '../../data/schema.js';
import { isOnsetError } from '../../errors.js';
import { looksLikeUbjson, parseUbjson } from './ubjson.js';
import { fromXgboostJson } from './xgboost-json.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/xgboost-ubj/', import.meta.url));
const recorded = JSON.parse(readFileSync(`${FIXTURES}predictions.json`, 'utf8')) as {
  xgboost_version: string;
  models: Record<string, { margin: number[]; probability: number[] }>;
};

/**
 * Where a decoded UBJSON value differs from the JSON.parse value of the same model. A float32 decodes
 * to its exact value; the JSON text holds its shortest decimal, which rounds back to it.
 */
function differences(ubj: unknown, json: unknown, path = '$'): string[] {
  if (typeof json === 'number') {
    if (typeof ubj !== 'number') return [`${path}: ${typeof ubj} instead of a number`];
    return ubj === json || ubj === Math.fround(json) ? [] : [`${path}: ${ubj} instead of ${json}`];
  }
  if (Array.isArray(json)) {
    if (!Array.isArray(ubj)) return [`${path}: not an array`];
    if (ubj.length !== json.length) return [`${path}: ${ubj.length} items instead of ${json.length}`];
    return json.flatMap((item, i) => differences(ubj[i], item, `${path}[${i}]`));
  }
  if (typeof json === 'object' && json !== null) {
    if (typeof ubj !== 'object' || ubj === null || Array.isArray(ubj)) return [`${path}: not an object`];
    const keys = Object.keys(json);
    if (Object.keys(ubj).sort().join() !== [...keys].sort().join()) return [`${path}: other keys`];
    return keys.flatMap((key) =>
      differences(
        (ubj as Record<string, unknown>)[key],
        (json as Record<string, unknown>)[key],
        `${path}.${key}`,
      ),
    );
  }
  return ubj === json ? [] : [`${path}: ${JSON.stringify(ubj)} instead of ${JSON.stringify(json)}`];
}

describe('XGBoost UBJ models (saved by Python XGBoost 1.7 as .ubj and .json)', () => {
  const input = scoringMatrix();
  it('were made by XGBoost 1.7 and use its typed arrays', () => {
    expect(recorded.xgboost_version).toMatch(/^1\.7\./);
    const text = readFileSync(`${FIXTURES}classifier-missing.ubj`).toString('latin1');
    for (const typed of ['[$d#', '[$l#', '[$U#', '[$L#']) expect(text).toContain(typed);
  });

  for (const name of Object.keys(recorded.models)) {
    it(`${name}: decodes to the value of its JSON twin and predicts what XGBoost predicts`, () => {
      const bytes = readFileSync(`${FIXTURES}${name}.ubj`);
      const json = JSON.parse(readFileSync(`${FIXTURES}${name}.json`, 'utf8'));
      expect(looksLikeUbjson(bytes)).toBe(true);
      expect(looksLikeUbjson(Buffer.from(JSON.stringify(json)))).toBe(false);
      const decoded = parseUbjson(bytes);
      expect(differences(decoded, json)).toEqual([]);

      const fromUbj = fromXgboostJson(decoded);
      const fromJson = fromXgboostJson(json);
      expect(fromUbj.featureNames).toEqual(FEATURE_NAMES);
      // Identical models: the same predictions to the last bit.
      expect(Array.from(fromUbj.model.predictMargin(input))).toEqual(
        Array.from(fromJson.model.predictMargin(input)),
      );
      const expected = recorded.models[name]!;
      const margin = fromUbj.model.predictMargin(input);
      const probability = fromUbj.model.predictProba(input);
      let worst = 0;
      expected.margin.forEach((value, i) => {
        worst = Math.max(
          worst,
          Math.abs(margin[i]! - value),
          Math.abs(probability[i]! - expected.probability[i]!),
        );
      });
      expect(worst).toBeLessThanOrEqual(1e-6);
    });
  }
});

/** UBJSON bytes from markers (strings, written as Latin-1) and numbers written big-endian by width. */
function ubj(
  ...parts: (
    | string
    | { int8: number }
    | { int16: number }
    | { int32: number }
    | { int64: bigint }
    | { f32: number }
    | { f64: number }
    | Uint8Array
  )[]
): Uint8Array {
  const chunks = parts.map((part) => {
    if (typeof part === 'string') return Buffer.from(part, 'latin1');
    if (part instanceof Uint8Array) return part;
    const buffer = Buffer.alloc(8);
    if ('int8' in part) return Buffer.from([part.int8 & 0xff]);
    if ('int16' in part) return buffer.subarray(0, buffer.writeInt16BE(part.int16));
    if ('int32' in part) return buffer.subarray(0, buffer.writeInt32BE(part.int32));
    if ('int64' in part) return buffer.subarray(0, buffer.writeBigInt64BE(part.int64));
    if ('f32' in part) return buffer.subarray(0, buffer.writeFloatBE(part.f32));
    return buffer.subarray(0, buffer.writeDoubleBE(part.f64));
  });
  return Buffer.concat(chunks);
}

describe('parseUbjson (UBJSON draft 12)', () => {
  it('reads every value type, unbounded and counted containers, and skips no-ops', () => {
    const bytes = ubj(
      '{',
      'i',
      { int8: 1 },
      'a',
      '[',
      'Z',
      'T',
      'F',
      'N',
      'i',
      { int8: -5 },
      'U',
      { int8: 200 },
      'I',
      { int16: -30000 },
      'l',
      { int32: 2 ** 31 - 1 },
      'L',
      { int64: -(2n ** 53n) + 1n },
      'd',
      { f32: 0.1 },
      'D',
      { f64: 0.1 },
      'H',
      'i',
      { int8: 5 },
      '1.5e3',
      'C',
      'x',
      'S',
      'U',
      { int8: 3 },
      Buffer.from('é!'),
      ']',
      'i',
      { int8: 1 },
      'b',
      '{',
      '$',
      'i',
      '#',
      'i',
      { int8: 2 },
      'i',
      { int8: 1 },
      'x',
      { int8: 7 },
      'i',
      { int8: 1 },
      'y',
      { int8: 8 },
      'i',
      { int8: 1 },
      'c',
      '[',
      '#',
      'i',
      { int8: 2 },
      'S',
      'i',
      { int8: 0 },
      '[',
      ']',
      'N',
      '}',
    );
    expect(parseUbjson(bytes)).toEqual({
      a: [
        null,
        true,
        false,
        -5,
        200,
        -30000,
        2 ** 31 - 1,
        -(2 ** 53) + 1,
        Math.fround(0.1),
        0.1,
        1500,
        'x',
        'é!',
      ],
      b: { x: 7, y: 8 },
      c: ['', []],
    });
    // Typed arrays of every fixed width decode to plain arrays.
    expect(parseUbjson(ubj('[', '$', 'I', '#', 'U', { int8: 2 }, { int16: -2 }, { int16: 3 }))).toEqual([
      -2, 3,
    ]);
    expect(parseUbjson(ubj('[', '$', 'D', '#', 'i', { int8: 1 }, { f64: Math.PI }))).toEqual([Math.PI]);
    expect(parseUbjson(ubj('[', '$', 'T', '#', 'i', { int8: 3 }))).toEqual([true, true, true]);
    expect(parseUbjson(ubj('[', '$', 'S', '#', 'i', { int8: 1 }, 'i', { int8: 2 }, 'ok'))).toEqual(['ok']);
    expect(parseUbjson(ubj('S', 'L', { int64: 2n }, 'hi'))).toBe('hi');
  });

  it('keeps __proto__ as an ordinary key and the last of repeated keys, as JSON.parse', () => {
    const value = parseUbjson(
      ubj(
        '{',
        'i',
        { int8: 9 },
        '__proto__',
        'T',
        'i',
        { int8: 1 },
        'k',
        'i',
        { int8: 1 },
        'i',
        { int8: 1 },
        'k',
        'i',
        { int8: 2 },
        '}',
      ),
    ) as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__', 'k']);
    expect(value.k).toBe(2);
    expect(value).toEqual(JSON.parse('{"__proto__": true, "k": 1, "k": 2}'));
  });

  it('refuses malformed input with the reason and the byte offset', () => {
    const refusal = (bytes: Uint8Array) => {
      try {
        parseUbjson(bytes, 'model.ubj');
      } catch (error) {
        expect(isOnsetError(error) && error.code).toBe('INVALID_PARAMETER_VALUE');
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refusal(ubj('[', 'i', { int8: 1 }))).toBe(
      'model.ubj is not valid UBJSON: unexpected end of data at byte 3',
    );
    expect(refusal(ubj('Q'))).toBe('model.ubj is not valid UBJSON: unknown type marker "Q" at byte 0');
    expect(refusal(ubj('T', 'T'))).toBe(
      'model.ubj is not valid UBJSON: trailing bytes after the value at byte 1',
    );
    expect(refusal(ubj('S', 'i', { int8: -1 }))).toBe(
      'model.ubj is not valid UBJSON: invalid length -1 at byte 1',
    );
    expect(refusal(ubj('S', 'd', { f32: 1 }))).toBe(
      'model.ubj is not valid UBJSON: a length must be an integer, not "d" at byte 1',
    );
    expect(refusal(ubj('S', 'i', { int8: 2 }, new Uint8Array([0xc3, 0x28])))).toMatch(/not UTF-8 at byte 3/);
    expect(refusal(ubj('[', '$', 'd', 'd'))).toMatch(/typed container \(\$\) without a count/);
    expect(refusal(ubj('[', '$', 'd', '#', 'L', { int64: 2n ** 40n }))).toMatch(
      /count of 1099511627776 exceeds/,
    );
    expect(refusal(ubj('[', '$', 'Z', '#', 'L', { int64: 2n ** 40n }))).toMatch(
      /count of 1099511627776 exceeds/,
    );
    expect(refusal(ubj('[', '$', 'd', '#', 'i', { int8: 2 }, { f32: 1 }))).toMatch(
      /needs 8 more bytes at byte 6/,
    );
    expect(refusal(ubj('H', 'i', { int8: 3 }, 'abc'))).toMatch(/high-precision number "abc"/);
    expect(refusal(Buffer.from('['.repeat(100_000)))).toMatch(/nesting deeper than 512/);
    expect(refusal(ubj('{', 'i', { int8: 1 }, 'a'))).toMatch(/unexpected end of data/);
  });

  it('tells a UBJSON object from JSON text by its first bytes', () => {
    expect(looksLikeUbjson(ubj('{', 'L', { int64: 1n }, 'a', 'T', '}'))).toBe(true);
    expect(looksLikeUbjson(ubj('{', '$', 'd', '#', 'i', { int8: 0 }))).toBe(true);
    expect(looksLikeUbjson(Buffer.from('[{"a": 1}]'))).toBe(false);
    expect(looksLikeUbjson(Buffer.from('{"learner": {}}'))).toBe(false);
    expect(looksLikeUbjson(Buffer.from('{ "a": 1 }'))).toBe(false);
    expect(looksLikeUbjson(Buffer.from('[1, 2]'))).toBe(false);
    expect(looksLikeUbjson(Buffer.from(''))).toBe(false);
  });
});

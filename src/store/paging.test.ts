import { describe, expect, it } from 'vitest';
import { OnsetError } from '../errors.js';
import { decodePageToken, encodePageToken } from './paging.js';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

function errorOf(fn: () => unknown): OnsetError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(OnsetError);
    return error as OnsetError;
  }
  throw new Error('expected an OnsetError, nothing was thrown');
}

describe('page tokens', () => {
  it.each([0, 1, 7, 100, 1_000_000, Number.MAX_SAFE_INTEGER])('round-trips offset %d', (offset) => {
    const token = encodePageToken(offset);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodePageToken(token)).toBe(offset);
  });

  it('is base64url JSON with a version', () => {
    expect(JSON.parse(Buffer.from(encodePageToken(25), 'base64url').toString('utf8'))).toEqual({
      v: 1,
      o: 25,
    });
  });

  it('decodes no token as the first page', () => {
    expect(decodePageToken(undefined)).toBe(0);
    expect(decodePageToken('')).toBe(0);
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])(
    'refuses to encode offset %d',
    (offset) => {
      expect(errorOf(() => encodePageToken(offset)).code).toBe('INTERNAL_ERROR');
    },
  );

  const tampered: readonly (readonly [string, string])[] = [
    ['not base64url', 'abc$%'],
    ['standard base64 padding', `${b64('{"v":1,"o":5}')}=`],
    ['plus sign', 'ab+c'],
    ['whitespace', ` ${encodePageToken(5)}`],
    ['not JSON', b64('offset=5')],
    ['JSON null', b64('null')],
    ['JSON number', b64('5')],
    ['JSON array', b64('[1,5]')],
    ['JSON string', b64('"5"')],
    ['missing version', b64('{"o":5}')],
    ['missing offset', b64('{"v":1}')],
    ['other version', b64('{"v":2,"o":5}')],
    ['string version', b64('{"v":"1","o":5}')],
    ['extra field', b64('{"v":1,"o":5,"x":1}')],
    ['MLflow style', b64('{"offset":5}')],
    ['negative offset', b64('{"v":1,"o":-1}')],
    ['fractional offset', b64('{"v":1,"o":1.5}')],
    ['string offset', b64('{"v":1,"o":"5"}')],
    ['null offset', b64('{"v":1,"o":null}')],
    ['huge offset', b64('{"v":1,"o":1e300}')],
    ['truncated', encodePageToken(12345).slice(0, -2)],
    ['too long', 'A'.repeat(10_000)],
    ['bit flip', encodePageToken(5).replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))],
  ];

  it.each(tampered)('rejects a token with %s', (_why, token) => {
    const error = errorOf(() => decodePageToken(token));
    expect(error.code).toBe('INVALID_PARAMETER_VALUE');
    expect(error.httpStatus).toBe(400);
    expect(error.message).toMatch(/^Invalid page token /);
    expect(error.message).toContain('nextPageToken');
    expect(error.message.length).toBeLessThan(300);
  });

  it('says why when the token decodes', () => {
    expect(errorOf(() => decodePageToken(b64('{"v":1,"o":-3}'))).message).toContain(
      'offset -3 is not an integer >= 0',
    );
    expect(errorOf(() => decodePageToken(b64('{"v":9,"o":3}'))).message).toContain('unsupported version 9');
  });

  it('reads -0 as 0', () => {
    expect(Object.is(decodePageToken(b64('{"v":1,"o":-0}')), 0)).toBe(true);
  });
});

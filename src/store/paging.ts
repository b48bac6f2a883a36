/**
 * Paging of list calls: `maxResults` validated against each call's limit, and opaque page tokens, the
 * base64url encoding of `{"v":1,"o":<offset>}` where the offset is how many items earlier pages returned.
 * Callers must treat tokens as opaque; the version lets the format change without misreading old tokens.
 */
import { invalidParameter, OnsetError } from '../errors.js';

/** One page of a list call; `nextPageToken` is null on the last page. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly nextPageToken: string | null;
}

const VERSION = 1;
/** Longer than any token `encodePageToken` makes; refuses huge inputs before decoding them. */
const MAX_TOKEN_LENGTH = 64;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** The token for the page starting at `offset` (a non-negative safe integer). */
export function encodePageToken(offset: number): string {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new OnsetError(
      'INTERNAL_ERROR',
      `Cannot make a page token for offset ${offset}: need an integer >= 0`,
    );
  }
  return Buffer.from(JSON.stringify({ v: VERSION, o: offset }), 'utf8').toString('base64url');
}

/**
 * The offset a token stands for; 0 for undefined or '' (the first page).
 *
 * @throws OnsetError INVALID_PARAMETER_VALUE "Invalid page token ..." for anything `encodePageToken` did not
 * make: bad base64url, non-JSON, another version, extra fields, a negative or non-integer offset.
 */
export function decodePageToken(token: string | undefined): number {
  if (token === undefined || token === '') return 0;
  const invalid = (why: string) =>
    invalidParameter(
      `Invalid page token ${JSON.stringify(token.length > MAX_TOKEN_LENGTH ? `${token.slice(0, MAX_TOKEN_LENGTH)}…` : token)}: ${why}; pass the nextPageToken of the previous page unchanged, or none for the first page`,
      { pageToken: token },
    );
  if (token.length > MAX_TOKEN_LENGTH || !BASE64URL.test(token))
    throw invalid('not a token this server made');
  const bytes = Buffer.from(token, 'base64url');
  // Node's decoder ignores stray trailing bits; only the canonical encoding is accepted.
  if (bytes.toString('base64url') !== token) throw invalid('not a token this server made');
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid('not a token this server made');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalid('not a token this server made');
  }
  const fields = parsed as Record<string, unknown>;
  const keys = Object.keys(fields).sort();
  if (keys.length !== 2 || keys[0] !== 'o' || keys[1] !== 'v') throw invalid('not a token this server made');
  if (fields.v !== VERSION) throw invalid(`unsupported version ${JSON.stringify(fields.v)}`);
  const offset = fields.o;
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
    throw invalid(`offset ${JSON.stringify(offset)} is not an integer >= 0`);
  }
  return offset + 0; // normalizes -0
}

/** What a list call asks for: at most `maxResults` items, from where `pageToken` (a previous page's `nextPageToken`) left off. */
export interface PageRequest {
  readonly maxResults?: number;
  readonly pageToken?: string;
}

/** Validates `maxResults` (a positive integer up to `limit`), defaulting to `fallback`. */
export function resolveMaxResults(maxResults: number | undefined, fallback: number, limit: number): number {
  if (maxResults === undefined || maxResults === null) return fallback;
  if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > limit) {
    throw invalidParameter(
      `Invalid value ${maxResults} for parameter 'max_results' supplied: it must be an integer from 1 to ${limit}`,
    );
  }
  return maxResults;
}

/** Builds a page from `limit + 1` fetched rows: the extra row only says that a next page exists. */
export function toPage<T>(
  rows: readonly T[],
  offset: number,
  limit: number,
): { items: T[]; nextPageToken: string | null } {
  const items = rows.slice(0, limit);
  return { items, nextPageToken: rows.length > limit ? encodePageToken(offset + limit) : null };
}

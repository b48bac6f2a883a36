import { invalidParameter } from '../../errors.js';
import { encodePageToken } from '../search/page-token.js';

export { decodePageToken } from '../search/page-token.js';

/** Validates `maxResults` (a positive integer up to `limit`), defaulting to `fallback`. */
export function resolveMaxResults(maxResults: number | undefined, fallback: number, limit: number): number {
  if (maxResults === undefined || maxResults === null) return fallback;
  if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > limit) {
    throw invalidParameter(
      `Invalid value ${maxResults} for max_results: it must be an integer from 1 to ${limit}`,
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

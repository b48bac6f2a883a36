import type { Filter, OrderBy, SearchTarget } from '../search/filter-ast.js';

/**
 * What the SQL stores need from the search grammar: `../search/filter-parser.ts` provides it
 * (`parseFilter`, `parseOrderBy`); the stores take it as an option so the grammar and its compilation stay
 * separate.
 */
export interface SearchParser {
  parseFilter(target: SearchTarget, text: string): Filter;
  parseOrderBy(target: SearchTarget, clauses: readonly string[]): OrderBy[];
}

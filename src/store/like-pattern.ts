/**
 * SQL LIKE patterns as the search grammar passes them: `%` matches any run of characters, `_` one
 * character, and a backslash makes the next character literal (`50\%`); a trailing lone backslash is a
 * literal backslash. Each dialect gets an equivalent pattern it evaluates the same way.
 */
type Token =
  | { readonly kind: 'any' }
  | { readonly kind: 'one' }
  | { readonly kind: 'char'; readonly char: string };

function tokens(pattern: string): Token[] {
  const result: Token[] = [];
  const chars = [...pattern];
  for (let index = 0; index < chars.length; index += 1) {
    const char = chars[index]!;
    if (char === '\\' && index + 1 < chars.length) {
      index += 1;
      result.push({ kind: 'char', char: chars[index]! });
    } else if (char === '%') result.push({ kind: 'any' });
    else if (char === '_') result.push({ kind: 'one' });
    else result.push({ kind: 'char', char });
  }
  return result;
}

/** The pattern for `LIKE ... ESCAPE '\'`: literal `%`, `_` and `\` escaped with a backslash. */
export function toEscapedLike(pattern: string): string {
  return tokens(pattern)
    .map((token) =>
      token.kind === 'any'
        ? '%'
        : token.kind === 'one'
          ? '_'
          : /[%_\\]/.test(token.char)
            ? `\\${token.char}`
            : token.char,
    )
    .join('');
}

/** The equivalent SQLite GLOB pattern (case-sensitive): `*`, `?`, and `[c]` for literal `*`, `?`, `[`. */
export function toGlob(pattern: string): string {
  return tokens(pattern)
    .map((token) =>
      token.kind === 'any'
        ? '*'
        : token.kind === 'one'
          ? '?'
          : /[*?[]/.test(token.char)
            ? `[${token.char}]`
            : token.char,
    )
    .join('');
}

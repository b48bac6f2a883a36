/**
 * Artifact path safety: the one gate every artifact path goes through before it reaches a file system or
 * an object store. The rules come from MLflow's path traversal CVEs (2023-2025: CVE-2023-1177,
 * CVE-2023-2780, CVE-2023-6909, CVE-2024-1483, CVE-2024-1558, CVE-2024-1594, CVE-2024-3573, ...), which
 * slipped `..` through URL fragments and parameters (`#`, `;`, `?`), single, double and deeper
 * percent-encoding, Windows drives and UNC shares, backslashes, and symbolic links inside the artifact
 * root.
 *
 * `safeArtifactPath` is purely lexical: it decodes percent-encoding until the text is stable (at most
 * {@link MAX_DECODE_ROUNDS} rounds), checks the decoded text and returns it in canonical `a/b/c` form.
 * The canonical form is the decoded one: `a%20b` names the artifact `a b`, so an artifact cannot be
 * literally named `%41` (it is `A`). `confineToRoot` adds the file system check for the local store.
 */
import { lstat, realpath } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { invalidParameter, type OnsetError } from '../../errors.js';

/** The longest artifact path accepted, in characters (before and after decoding). */
export const MAX_ARTIFACT_PATH_LENGTH = 1000;

/** How many rounds of percent-decoding are applied before a still-encoded path is refused. */
export const MAX_DECODE_ROUNDS = 10;

const PERCENT_RUN = /(?:%[0-9A-Fa-f]{2})+/g;
const PERCENT_TRIPLET = /%[0-9A-Fa-f]{2}/;
// C0 controls (NUL included), DEL and C1 controls.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** A leading URI scheme with a path (`file:/`, `file:///`, `s3://`, `http://`). */
const URI_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\//;
/** A segment made only of dots and spaces (`..`, `...`, `.. `): Windows strips trailing dots and spaces. */
const DOTS_AND_SPACES = /^[. ]+$/;

function refuse(path: string, rule: string): OnsetError {
  const shown = path.length > 120 ? `${path.slice(0, 120)}…` : path;
  return invalidParameter(`invalid artifact path ${JSON.stringify(shown)}: ${rule}`, { path: shown, rule });
}

/** Decodes every run of valid `%XX` triplets once; a lone `%` stays literal (as Python's `unquote`). */
function decodeOnce(original: string, text: string): string {
  return text.replace(PERCENT_RUN, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      throw refuse(original, 'its percent-encoding does not decode to UTF-8 text');
    }
  });
}

function decodeFully(path: string): string {
  let text = path;
  for (let round = 0; round < MAX_DECODE_ROUNDS; round++) {
    if (!PERCENT_TRIPLET.test(text)) return text;
    text = decodeOnce(path, text);
  }
  if (PERCENT_TRIPLET.test(text)) {
    throw refuse(path, `it is still percent-encoded after ${MAX_DECODE_ROUNDS} rounds of decoding`);
  }
  return text;
}

function normalize(path: string, allowRoot: boolean): string {
  if (typeof path !== 'string') throw invalidParameter(`artifact path must be a string, got ${typeof path}`);
  if (path.length > MAX_ARTIFACT_PATH_LENGTH) {
    throw refuse(
      path,
      `it is ${path.length} characters long; at most ${MAX_ARTIFACT_PATH_LENGTH} are allowed`,
    );
  }
  const text = decodeFully(path);
  if (text.length > MAX_ARTIFACT_PATH_LENGTH) {
    throw refuse(
      path,
      `it decodes to ${text.length} characters; at most ${MAX_ARTIFACT_PATH_LENGTH} are allowed`,
    );
  }
  if (CONTROL.test(text)) throw refuse(path, 'NUL and control characters are not allowed');
  if (text.startsWith('\\\\') || text.startsWith('//')) {
    throw refuse(path, 'UNC paths (\\\\host\\share) are not allowed; use a relative path like a/b/c');
  }
  if (/^[A-Za-z]:/.test(text)) {
    throw refuse(path, 'Windows drive paths (C:\\ or C:/) are not allowed; use a relative path like a/b/c');
  }
  if (text.includes('\\')) throw refuse(path, 'backslashes are not allowed; separate segments with /');
  if (text.startsWith('/'))
    throw refuse(path, 'absolute paths are not allowed; use a relative path like a/b/c');
  if (URI_SCHEME.test(text)) throw refuse(path, 'URIs ("scheme:/...") are not allowed; use a relative path');
  for (const [character, name] of [
    ['#', 'URI fragment'],
    [';', 'URI parameter'],
    ['?', 'URI query'],
  ] as const) {
    if (text.includes(character)) throw refuse(path, `"${character}" (${name} syntax) is not allowed`);
  }
  // One trailing slash is tolerated (`a/b/` names the directory a/b); any other empty segment is refused.
  const body = text.endsWith('/') ? text.slice(0, -1) : text;
  if (body === '' || body === '.') {
    if (allowRoot) return '';
    throw refuse(path, 'it is empty; name a file or directory under the root');
  }
  const segments: string[] = [];
  for (const segment of body.split('/')) {
    if (segment === '') throw refuse(path, 'empty segments (// or a trailing //) are not allowed');
    if (segment === '.') continue;
    if (segment === '..') throw refuse(path, '".." segments (parent directory) are not allowed');
    if (DOTS_AND_SPACES.test(segment)) {
      throw refuse(
        path,
        `segments made only of dots and spaces (${JSON.stringify(segment)}) are not allowed`,
      );
    }
    segments.push(segment);
  }
  if (segments.length === 0) {
    if (allowRoot) return '';
    throw refuse(path, 'it names the root; name a file or directory under it');
  }
  return segments.join('/');
}

/**
 * The canonical `a/b/c` form of a relative artifact path, or an INVALID_PARAMETER_VALUE error naming the
 * path and the rule it breaks. Refused: `..` segments (also once percent-decoded), absolute POSIX paths,
 * Windows drive and UNC paths, backslashes, `#`, `;` and `?`, NUL and control characters, percent-encoding
 * still present after {@link MAX_DECODE_ROUNDS} decodings or not decoding to UTF-8, empty segments
 * (`a//b`), segments of only dots and spaces, URIs (`file:/...`, `s3://...`), and paths longer than
 * {@link MAX_ARTIFACT_PATH_LENGTH} characters. `.` segments and one trailing `/` are dropped. The empty
 * path (the root) is refused: use {@link safeArtifactDirectory} where the root is meant.
 */
export function safeArtifactPath(path: string): string {
  return normalize(path, false);
}

/** As {@link safeArtifactPath}, but `''`, `.` and `undefined` are accepted and mean the root (`''`). */
export function safeArtifactDirectory(path: string | undefined): string {
  return path === undefined ? '' : normalize(path, true);
}

function isNotFound(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function inside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * The absolute file system path of `relativePath` under `rootDir`, after checking it stays under the
 * root's real path even through symbolic links: the deepest existing ancestor of the target (the target
 * itself when it exists) is resolved with `fs.realpath` and must lie under the real root. Symbolic links
 * that leave the root, and dangling ones (which a write would follow), are refused with
 * INVALID_PARAMETER_VALUE. The path first goes through {@link safeArtifactDirectory} ('' is the root).
 * The root must exist. The result is built on the real root and the real ancestor, so it holds no
 * symbolic link above the part that does not exist yet. (A link swapped in after this check is not
 * caught: the check is for artifact folders no untrusted process writes to directly.)
 */
export async function confineToRoot(rootDir: string, relativePath: string): Promise<string> {
  const safe = safeArtifactDirectory(relativePath);
  const realRoot = await realpath(resolve(rootDir));
  const target = safe === '' ? realRoot : join(realRoot, ...safe.split('/'));
  let existing = target;
  for (;;) {
    try {
      const real = await realpath(existing);
      if (!inside(realRoot, real)) {
        throw refuse(
          relativePath,
          `it goes through a symbolic link that leaves the artifact root (${relative(realRoot, existing)} -> ${real})`,
        );
      }
      const rest = relative(existing, target);
      return rest === '' ? real : join(real, rest);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      // realpath failed: either nothing is there, or a dangling symbolic link is.
      const link = await lstat(existing).catch((lstatError: unknown) => {
        if (isNotFound(lstatError)) return undefined;
        throw lstatError;
      });
      if (link?.isSymbolicLink()) {
        throw refuse(
          relativePath,
          `it goes through a dangling symbolic link (${relative(realRoot, existing)})`,
        );
      }
      if (existing === realRoot) throw error;
      existing = dirname(existing);
    }
  }
}

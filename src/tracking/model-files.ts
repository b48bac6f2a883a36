import { createHash } from 'node:crypto';
import { invalidParameter } from '../errors.js';
import type { ModelFile } from './entities.js';

/** Most files a model version may hold: a manifest is one database row per file. */
export const MAX_MODEL_FILES = 10_000;

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Checks a manifest before it is recorded: at most `MAX_MODEL_FILES` files, each path relative and
 * without `..` or empty segments (or '' alone, for a one-file version), listed once, with a sha256 of 64
 * hex digits and a size that is a whole number of bytes (or null). Answers the files sorted by path.
 */
export function checkedManifest(files: readonly ModelFile[], what: string): readonly ModelFile[] {
  if (files.length === 0) throw invalidParameter(`${what}: a model version needs at least one file`);
  if (files.length > MAX_MODEL_FILES) {
    throw invalidParameter(
      `${what} has ${files.length} files; a model version holds at most ${MAX_MODEL_FILES}`,
    );
  }
  const seen = new Set<string>();
  for (const file of files) {
    const segments = file.path.split('/');
    const singleFile = file.path === '' && files.length === 1;
    if (!singleFile && segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
      throw invalidParameter(`${what}: invalid file path ${JSON.stringify(file.path)} in its manifest`);
    }
    if (seen.has(file.path)) throw invalidParameter(`${what}: file ${file.path} is listed twice`);
    seen.add(file.path);
    if (!SHA256_HEX.test(file.sha256)) {
      throw invalidParameter(`${what}: file ${file.path} has no valid sha256 (64 lower-case hex digits)`);
    }
    if (file.size !== null && !(Number.isSafeInteger(file.size) && file.size >= 0)) {
      throw invalidParameter(`${what}: file ${file.path} has an invalid size ${file.size}`);
    }
  }
  return [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * One sha256 for a version's files, what `ModelVersion.checksum` shows: for a one-file version the file's
 * own sha256 (as versions recorded before manifests); otherwise the sha256 of the manifest in
 * `sha256sum` format (`<sha256>  <path>\n` per file, sorted by path), so that in a downloaded version's
 * folder `find . -type f -printf '%P\n' | LC_ALL=C sort | xargs -d '\n' sha256sum | sha256sum` reproduces it.
 */
export function manifestDigest(files: readonly ModelFile[]): string {
  if (files.length === 1 && files[0]!.path === '') return files[0]!.sha256;
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const hash = createHash('sha256');
  for (const file of sorted) hash.update(`${file.sha256}  ${file.path}\n`);
  return hash.digest('hex');
}

/**
 * `npm install` with the Node.js the README asks for gives no warning: every locked package supports
 * that Node (no EBADENGINE), none is deprecated, and every install script is one we approved
 * (`allowScripts`). The lockfile records what npm checks, so this runs without installing anything.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(`${ROOT}/${path}`, 'utf8');

interface LockedPackage {
  readonly version?: string;
  readonly engines?: Readonly<Record<string, string>> | readonly string[];
  readonly deprecated?: string;
  readonly hasInstallScript?: boolean;
}

const manifest = JSON.parse(read('package.json')) as {
  engines: { node: string };
  allowScripts?: Readonly<Record<string, boolean>>;
};
const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, LockedPackage> };
const locked = Object.entries(lock.packages).filter(([path]) => path !== '');
/** The oldest Node.js the project supports. */
const minimumNode = semver.minVersion(manifest.engines.node)!.version;

describe('the dependencies', () => {
  it("support the README's Node.js version, which is the package's minimum", () => {
    const readme = /You need Node\.js (\d+\.\d+) or newer/.exec(read('README.md'))?.[1];
    expect(`${readme}.0`).toBe(minimumNode);
    const unsupported = locked
      .filter(([, entry]) => {
        const range = Array.isArray(entry.engines) ? undefined : (entry.engines as { node?: string })?.node;
        return range !== undefined && !semver.satisfies(minimumNode, range);
      })
      .map(
        ([path, entry]) => `${path}@${entry.version} needs node ${(entry.engines as { node: string }).node}`,
      );
    expect(unsupported).toEqual([]);
  });

  it('include no deprecated package', () => {
    expect(locked.filter(([, entry]) => entry.deprecated).map(([path]) => path)).toEqual([]);
  });

  it('run install scripts only where package.json approves them (allowScripts)', () => {
    const allowed = manifest.allowScripts ?? {};
    const name = (path: string) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const unapproved = locked
      .filter(([, entry]) => entry.hasInstallScript)
      .map(([path, entry]) => ({ name: name(path), version: entry.version }))
      .filter(({ name, version }) => allowed[name] !== true && allowed[`${name}@${version}`] !== true);
    expect(unapproved).toEqual([]);
  });
});

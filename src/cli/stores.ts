/**
 * Opening the stores for a command, the way a user can follow: which home a command uses and how it was
 * chosen, a new home announced where it is made, no home made by a command that only reads, and every
 * "not found" naming the store it looked in.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { isAbsolute, relative } from 'node:path';
import { HOME_FOLDER, type OnsetConfig } from '../config.js';
import { isOnsetError, OnsetError } from '../errors.js';
import { type OnsetStores, openOnsetStores } from '../server/open-stores.js';
import { configFrom } from './config-options.js';

/** The store flags every store command takes (see `addStoreOptions`). */
export interface StoreFlags {
  readonly home?: string;
  readonly trackingUri?: string;
  readonly artifactUri?: string;
}

/**
 * What a command does with the home: `read` commands (list, show, and changes to things that must already
 * exist) need an existing one and never make one; `write` commands (train, pipeline run, up, ...) make it
 * when there is none, and say where.
 */
export type HomeUse = 'read' | 'write';

/** `path` as the user should see it: relative to `cwd` (`./x`, `../x`) when that is shorter. */
export function displayPath(path: string, cwd: string = process.cwd()): string {
  const relativePath = relative(cwd, path);
  if (isAbsolute(relativePath)) return path;
  const shown =
    relativePath === '' ? '.' : relativePath.startsWith('..') ? relativePath : `./${relativePath}`;
  return shown.length < path.length ? shown : path;
}

/** How the home was chosen, in a word or two: `--home`, `ONSET_HOME`, `found here`, `found above`, `new`. */
export function homeChoice(config: OnsetConfig, cwd: string = process.cwd()): string {
  switch (config.homeSource) {
    case 'flag':
      return '--home';
    case 'env':
      return 'ONSET_HOME';
    case 'found':
      return relative(cwd, config.home) === HOME_FOLDER ? 'found here' : 'found above';
    case 'new':
      return 'new';
  }
}

/** A store URI without its password (`postgres://user:***@host/db`). */
function withoutPassword(uri: string): string {
  return uri.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]+):[^@/]*@/i, '$1:***@');
}

/**
 * The tracking store in words, for messages: the home and how it was chosen when the store is the home's
 * SQLite file (`./other/.onset (ONSET_HOME)`), otherwise its URI and the setting that named it.
 */
export function describeStore(config: OnsetConfig, cwd: string = process.cwd()): string {
  switch (config.trackingUriSource) {
    case 'default':
      return `${displayPath(config.home, cwd)} (${homeChoice(config, cwd)})`;
    case 'flag':
      return `${withoutPassword(config.trackingUri)} (--tracking-uri)`;
    case 'env':
      return `${withoutPassword(config.trackingUri)} (ONSET_TRACKING_URI)`;
  }
}

/** How to make a home, or choose another, for the messages that find none. */
const HOW_TO_MAKE_ONE =
  'make one with onset train or onset up (in the current folder), run the command from the folder that has one, or choose one with --home DIR or ONSET_HOME=DIR';

/**
 * Makes sure the home a command uses is there. A `read` command on a home that does not exist fails
 * (RESOURCE_DOES_NOT_EXIST) saying where it looked and how to make one; a `write` command makes it and
 * says where on stderr. Nothing happens when neither store is in the home (both URIs set).
 */
export async function prepareHome(config: OnsetConfig, use: HomeUse): Promise<void> {
  const usesHome = config.trackingUriSource === 'default' || config.artifactUriSource === 'default';
  if (!usesHome || existsSync(config.home)) return;
  const cwd = process.cwd();
  if (use === 'read') {
    if (config.trackingUriSource !== 'default') return;
    throw new OnsetError(
      'RESOURCE_DOES_NOT_EXIST',
      config.homeSource === 'new'
        ? `no Onset home: there is no ${HOME_FOLDER} folder in ${cwd} or in a folder above it; ${HOW_TO_MAKE_ONE}`
        : `no Onset home at ${displayPath(config.home, cwd)} (${homeChoice(config, cwd)}): the folder does not exist; ${HOW_TO_MAKE_ONE}`,
    );
  }
  await mkdir(config.home, { recursive: true });
  process.stderr.write(
    config.homeSource === 'new'
      ? `Created a new Onset home at ${config.home} (no ${HOME_FOLDER} folder in ${cwd} or above it; --home or ONSET_HOME chooses another)\n`
      : `Created a new Onset home at ${config.home} (${homeChoice(config, cwd)})\n`,
  );
}

/**
 * Opens the stores a command's flags name (see `prepareHome` for `use`). A RESOURCE_DOES_NOT_EXIST from
 * the tracking, registry or pipeline stores names the store it looked in
 * (`Run with id=... not found in ./other/.onset (ONSET_HOME)`); the caller closes the stores.
 */
export async function openCommandStores(flags: StoreFlags, use: HomeUse): Promise<OnsetStores> {
  const config = configFrom(flags);
  await prepareHome(config, use);
  const stores = await openOnsetStores(config);
  const where = describeStore(config);
  return {
    ...stores,
    tracking: namingStore(stores.tracking, where),
    registry: namingStore(stores.registry, where),
    loggedModels: namingStore(stores.loggedModels, where),
    pipelines: namingStore(stores.pipelines, where),
  };
}

/** `error` with the store added to its message when it is a "not found". */
function locate(error: unknown, where: string): unknown {
  if (!isOnsetError(error) || error.code !== 'RESOURCE_DOES_NOT_EXIST') return error;
  return new OnsetError(error.code, `${error.message.replace(/\.$/, '')} in ${where}`, {
    cause: error,
    details: error.details,
  });
}

/**
 * The store, with every method's RESOURCE_DOES_NOT_EXIST naming `where`. Only the stores' own errors are
 * named so: a file that is not found elsewhere in a command (a CSV, a model file) keeps its message.
 */
function namingStore<Store extends object>(store: Store, where: string): Store {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        let result: unknown;
        try {
          result = value.apply(target, args);
        } catch (error) {
          throw locate(error, where);
        }
        return result instanceof Promise
          ? result.catch((error: unknown) => {
              throw locate(error, where);
            })
          : result;
      };
    },
  });
}

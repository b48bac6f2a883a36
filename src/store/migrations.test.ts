import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { OnsetError } from '../errors.js';
import {
  adoptLegacyVersion,
  ddlMigration,
  type MigrationSet,
  migrate,
  type SchemaMigration,
} from './migrations.js';
import { openSqliteDatabase } from './sqlite-database.js';

const dir = mkdtempSync(join(tmpdir(), 'onset-migrations-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;
const freshPath = () => join(dir, `db-${++count}.db`);

function tables(path: string): string[] {
  const raw = new Database(path, { readonly: true });
  const names = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
    name: string;
  }[];
  raw.close();
  return names.map((row) => row.name);
}

function set(owner: string, migrations: MigrationSet['migrations']): MigrationSet {
  return {
    owner,
    migrations,
    historyTable: `onset_${owner}_migrations`,
    lockTable: `onset_${owner}_migrations_lock`,
  };
}

const create = (table: string) => ddlMigration({ statements: () => [`CREATE TABLE ${table} (id INTEGER)`] });

/** A database as the one migration runner of older Onsets left it, with `versions` recorded. */
function legacyDatabase(versions: readonly number[]): string {
  const path = freshPath();
  const raw = new Database(path);
  raw.exec(`CREATE TABLE onset_schema_migrations (
    version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`);
  for (const version of versions) {
    raw.prepare('INSERT INTO onset_schema_migrations VALUES (?, ?, 0)').run(version, `v${version}`);
  }
  raw.close();
  return path;
}

describe('migrate', () => {
  it('applies pending migrations in name order, each once, and records them in the set’s own table', async () => {
    const order: string[] = [];
    const track = (name: string) => ({
      async up(...args: Parameters<SchemaMigration['up']>) {
        order.push(name);
        await create(name.slice(5)).up(...args);
      },
    });
    const database = openSqliteDatabase(freshPath());
    const first = set('alpha', { '0002_b': track('0002_b'), '0001_a': track('0001_a') });
    expect(await migrate(database, first)).toEqual(['0001_a', '0002_b']);
    expect(await migrate(database, first)).toEqual([]);
    const second = set('alpha', { ...first.migrations, '0003_c': track('0003_c') });
    expect(await migrate(database, second)).toEqual(['0003_c']);
    expect(order).toEqual(['0001_a', '0002_b', '0003_c']);
    // Another capability keeps its own history: it migrates independently.
    expect(await migrate(database, set('beta', { '0001_x': create('x') }))).toEqual(['0001_x']);
    const history = await sql<{
      name: string;
    }>`SELECT name FROM onset_alpha_migrations ORDER BY name`.execute(database.db);
    expect(history.rows.map((row) => row.name)).toEqual(['0001_a', '0002_b', '0003_c']);
    await database.close();
  });

  it('applies all of a run or none of it: a failing migration leaves no table and no history', async () => {
    const path = freshPath();
    const database = openSqliteDatabase(path);
    const failing = set('gamma', {
      '0001_a': create('a'),
      '0002_b': {
        async up(db, context) {
          await create('b').up(db, context);
          throw new Error('disk on fire');
        },
      },
    });
    await expect(migrate(database, failing)).rejects.toThrow('disk on fire');
    await database.close();
    expect(tables(path)).not.toContain('a');
    expect(tables(path)).not.toContain('b');
    expect(tables(path)).not.toContain('onset_gamma_migrations');
  });

  it('refuses a history with a migration this build does not know (a newer Onset migrated it)', async () => {
    const database = openSqliteDatabase(freshPath());
    const newer = set('delta', { '0001_a': create('a'), '0002_b': create('b') });
    await migrate(database, newer);
    const older = set('delta', { '0001_a': create('a') });
    const error = await migrate(database, older).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OnsetError);
    expect(error).toMatchObject({ code: 'INVALID_STATE' });
    expect((error as Error).message).toMatch(
      /delta schema .* newer than this Onset knows.*0002_b.*upgrade Onset/,
    );
    await database.close();
  });
});

describe('adoptLegacyVersion', () => {
  it('takes over the records of the one runner Onset had before, dropping its table with the last', async () => {
    const path = legacyDatabase([1, 2]);
    const database = openSqliteDatabase(path);
    expect(await database.transaction((db) => adoptLegacyVersion(db, 1))).toBe(true);
    expect(await database.transaction((db) => adoptLegacyVersion(db, 1))).toBe(false);
    expect(tables(path)).toContain('onset_schema_migrations');
    expect(await database.transaction((db) => adoptLegacyVersion(db, 2))).toBe(true);
    expect(tables(path)).not.toContain('onset_schema_migrations');
    expect(await database.transaction((db) => adoptLegacyVersion(db, 2))).toBe(false);
    await database.close();
  });

  it('refuses a legacy version newer than the legacy runner wrote', async () => {
    const path = legacyDatabase([1, 3]);
    const database = openSqliteDatabase(path);
    await expect(database.transaction((db) => adoptLegacyVersion(db, 1))).rejects.toMatchObject({
      code: 'INVALID_STATE',
      message: expect.stringMatching(/version 3 .* newer than this Onset knows \(2\): upgrade Onset/),
    });
    await database.close();
  });
});

/**
 * A throwaway PostgreSQL 15 server for integration tests: `initdb` into a temporary folder and `pg_ctl`
 * start on a free port, as the `postgres` user (PostgreSQL refuses to run as root). Used by the vitest
 * global setup; `ONSET_TEST_POSTGRES_URL` points tests at an existing server instead.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './ports.js';

const BIN = process.env.ONSET_POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin';

export interface TestPostgres {
  readonly url: string;
  /**
   * Shuts the server down but keeps its data, until `resume`: `fast` (the default) ends the open sessions
   * and rolls their transactions back; `immediate` is a crash (no shutdown checkpoint: the next start
   * recovers from the WAL). Asynchronous, so that a test's clients keep running while it goes down.
   */
  interrupt(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts the server again after `interrupt`, on the same port and data. */
  resume(): Promise<void>;
  stop(): void;
}

export function postgresAvailable(): boolean {
  return existsSync(join(BIN, 'initdb')) && existsSync(join(BIN, 'pg_ctl'));
}

/** The command running a PostgreSQL binary, as the postgres user when we are root. */
function command(binary: string, args: readonly string[]): [string, string[]] {
  const path = join(BIN, binary);
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, [...args]];
}

function run(binary: string, args: readonly string[]): void {
  execFileSync(...command(binary, args), { stdio: 'pipe' });
}

async function runAsync(binary: string, args: readonly string[]): Promise<void> {
  await promisify(execFile)(...command(binary, args));
}

export async function startPostgres(): Promise<TestPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'onset-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const port = await freePort();
  run('initdb', ['-A', 'trust', '-U', 'postgres', '-D', data]);
  const start = [
    '-D',
    data,
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
    '-l',
    join(dir, 'log'),
    '-w',
    'start',
  ];
  run('pg_ctl', start);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    interrupt: (mode = 'fast') => runAsync('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']),
    resume: () => runAsync('pg_ctl', start),
    stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Fresh databases on a shared server (the one the global setup provides), so that tests do not see each
 * other's tables: `create` makes one (named `<prefix>_<random>`) and returns its URL; `dropAll`, for an
 * `afterAll`, drops every one made.
 */
export function scratchDatabases(
  serverUrl: string,
  prefix: string,
): { create(): Promise<string>; dropAll(): Promise<void> } {
  const created: string[] = [];
  async function onServer(statement: string): Promise<void> {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  }
  return {
    async create() {
      const name = `${prefix}_${randomBytes(6).toString('hex')}`;
      await onServer(`CREATE DATABASE ${name}`);
      created.push(name);
      const url = new URL(serverUrl);
      url.pathname = `/${name}`;
      return url.toString();
    },
    async dropAll() {
      for (const name of created.splice(0)) await onServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

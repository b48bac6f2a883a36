/**
 * Vitest global setup: starts the services integration tests need, once per run, and hands their
 * addresses to the tests through `inject` (see `test/support/services.ts`).
 */
import type { TestProject } from 'vitest/node';
import { postgresAvailable, startPostgres, type TestPostgres } from './postgres.js';
import { buildWebUiIfStale } from './web-ui-build.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of a PostgreSQL server for contract tests, or '' when none could be started (tests then fail). */
    postgresUrl: string;
    postgresProblem: string;
  }
}

let postgres: TestPostgres | undefined;

export async function setup(project: TestProject): Promise<void> {
  buildWebUiIfStale();
  const given = process.env.ONSET_TEST_POSTGRES_URL;
  if (given) {
    project.provide('postgresUrl', given);
    project.provide('postgresProblem', '');
    return;
  }
  if (!postgresAvailable()) {
    project.provide('postgresUrl', '');
    project.provide(
      'postgresProblem',
      'PostgreSQL 15 server binaries not found (apt-get install postgresql-15)',
    );
    return;
  }
  try {
    postgres = await startPostgres();
    project.provide('postgresUrl', postgres.url);
    project.provide('postgresProblem', '');
  } catch (error) {
    project.provide('postgresUrl', '');
    project.provide('postgresProblem', `PostgreSQL did not start: ${(error as Error).message}`);
  }
}

export async function teardown(): Promise<void> {
  postgres?.stop();
}

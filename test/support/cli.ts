import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TEST_HOME = mkdtempSync(join(tmpdir(), 'onset-home-'));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the `onset` CLI from source (through tsx) as a child process, as a user would run it. */
export function runCli(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): CliResult {
  const result = spawnSync(process.execPath, ['--import', 'tsx', `${ROOT}/src/cli/main.ts`, ...args], {
    cwd: options.cwd ?? ROOT,
    // Tracked commands write to ONSET_HOME: a temporary folder per test process unless a test sets one.
    env: { ...process.env, ONSET_HOME: TEST_HOME, ...options.env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (result.error) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

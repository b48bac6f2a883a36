/**
 * Child processes for the tests that kill one: a TypeScript script or the `onset` CLI, run from source
 * (through tsx) with its output collected, and `waitFor`, to act at a chosen moment of its work.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = `${ROOT}/src/cli/main.ts`;

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface Child {
  readonly process: ChildProcessWithoutNullStreams;
  /** Everything it has written to stdout so far. */
  stdout(): string;
  /** Everything it has written to stderr so far. */
  stderr(): string;
  readonly exited: Promise<ChildExit>;
  /** Sends SIGKILL (nothing runs after it: no handler, no flush) and waits for the exit. */
  kill(): Promise<ChildExit>;
}

/** Runs `script` (a path; TypeScript allowed) with `args`, from the repository root. */
export function startScript(
  script: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv } = {},
): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  proc.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<ChildExit>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    process: proc,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    kill() {
      proc.kill('SIGKILL');
      return exited;
    },
  };
}

/** Runs the `onset` CLI from source with `args`, as `runCli` does, but without waiting for it. */
export function startCli(args: readonly string[], options: { env?: NodeJS.ProcessEnv } = {}): Child {
  return startScript(CLI, args, options);
}

/**
 * Resolves once `condition` holds, checking every 20 ms; fails after `timeoutMs`, naming `what`, or at once
 * when `child` exits first (with its stderr, which says why).
 */
export async function waitFor(
  condition: () => boolean,
  timeoutMs: number,
  what: string,
  child?: Child,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (child && child.process.exitCode !== null) {
      throw new Error(`the child exited (${child.process.exitCode}) before ${what}:\n${child.stderr()}`);
    }
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';

/**
 * Where the full report of an unexpected error goes: the `logs` folder of the Onset home when that home
 * exists, otherwise the OS temporary folder (a command run outside any home must not create one).
 */
export function crashReportFolder(home: string | undefined): string {
  if (home !== undefined) {
    try {
      if (statSync(home).isDirectory()) return join(home, 'logs');
    } catch {
      // No home there: the temporary folder.
    }
  }
  return tmpdir();
}

/** Option values that may be secrets, left out of the report's command line. */
const SECRET_OPTION = /^--?[\w-]*(key|token|secret|password)[\w-]*$/i;

/** The command line as the report shows it: secret option values and passwords in URIs replaced by `***`. */
export function redactedCommandLine(args: readonly string[]): string {
  const shown: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [name, inline] = arg.split(/=(.*)/s, 2) as [string, string | undefined];
    if (SECRET_OPTION.test(name)) {
      shown.push(inline === undefined ? name : `${name}=***`);
      if (inline === undefined && i + 1 < args.length) {
        shown.push('***');
        i++;
      }
      continue;
    }
    shown.push(arg.replace(/(\/\/[^/:@\s]+:)[^/@\s]+@/g, '$1***@'));
  }
  return shown.join(' ');
}

/** The error as a report: what ran, on what, the error with its stack, properties and causes. */
export function crashReportText(error: unknown, args: readonly string[], version: string): string {
  return [
    `onset ${version}: unexpected error at ${new Date().toISOString()}`,
    `command: onset ${redactedCommandLine(args)}`,
    `node ${process.version} on ${platform()} ${arch()}, pid ${process.pid}, cwd ${process.cwd()}`,
    '',
    inspect(error, { depth: 6, colors: false }),
    '',
  ].join('\n');
}

/** Writes the report into `folder` (made if missing; readable by its owner only) and returns its path. */
export function writeCrashReport(folder: string, text: string): string {
  mkdirSync(folder, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const path = join(folder, `onset-error-${stamp}-${process.pid}.log`);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

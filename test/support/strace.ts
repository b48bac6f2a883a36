/**
 * Records the file system calls a script makes, with strace (Debian's `strace`), so tests can check the
 * order of what reaches the disk: a file synced before it is renamed, its directory synced after. Tests
 * that need it skip, saying so, when strace is missing or not permitted.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function probe(): string {
  const result = spawnSync('strace', ['-f', '-e', 'trace=fsync', 'true'], { encoding: 'utf8' });
  if (result.error) return 'strace is not installed (apt-get install strace)';
  if (result.status !== 0) return `strace cannot trace here: ${result.stderr.trim().split('\n')[0]}`;
  return '';
}

/** Why tracing is impossible here, or '' when it works. */
export const STRACE_PROBLEM = probe();
if (STRACE_PROBLEM) console.warn(`Skipping the durability tests that trace system calls: ${STRACE_PROBLEM}`);

/** One traced call: `fsync` with the path of its descriptor, or `rename` with both paths. */
export interface FileCall {
  readonly call: 'fsync' | 'fdatasync' | 'rename';
  readonly paths: readonly string[];
}

/** Runs `source` (an ES module, TypeScript allowed, relative imports from the repository root) under strace. */
export function traceFileCalls(source: string): FileCall[] {
  const result = spawnSync(
    'strace',
    [
      '-f',
      '-y',
      '-e',
      'trace=fsync,fdatasync,rename,renameat,renameat2',
      '-e',
      'signal=none',
      process.execPath,
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      source,
    ],
    { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
  );
  if (result.status !== 0) throw new Error(`the traced script failed:\n${result.stderr}`);
  const calls: FileCall[] = [];
  for (const line of result.stderr.split('\n')) {
    const sync = /\b(fsync|fdatasync)\(\d+<([^>]*)>\)\s*=\s*0/.exec(line);
    if (sync) calls.push({ call: sync[1] as 'fsync' | 'fdatasync', paths: [sync[2]!] });
    const rename = /\brename(?:at2?)?\((?:[^,]*, )?"([^"]+)", (?:[^,]*, )?"([^"]+)"[^)]*\)\s*=\s*0/.exec(
      line,
    );
    if (rename) calls.push({ call: 'rename', paths: [rename[1]!, rename[2]!] });
  }
  return calls;
}

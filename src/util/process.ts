import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * A process that owns work (a run) recorded in a store: its id, its machine and, where the system tells
 * (Linux), when it started: `<boot id>/<start time in clock ticks>`. A pid alone does not identify a
 * process for long: after the owner dies, the pid can be given to another process (or linger as a
 * zombie), which would make a dead owner look alive forever.
 */
export interface OwnerProcess {
  readonly pid: number;
  readonly host: string;
  /** When the process started (see above); undefined where unknown (records made by older Onset). */
  readonly started?: string | undefined;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The fields of `/proc/<pid>/stat` after the command name (which may hold spaces and parentheses). */
function statFields(pid: number): readonly string[] | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

const BOOT_ID = readText('/proc/sys/kernel/random/boot_id')?.trim();

/** When process `pid` started, as `<boot id>/<clock ticks since boot>`; undefined where unknown. */
export function processStart(pid: number): string | undefined {
  // Field 22 of stat is the start time; the fields here start at field 3 (the state).
  const ticks = statFields(pid)?.[19];
  return BOOT_ID === undefined || ticks === undefined ? undefined : `${BOOT_ID}/${ticks}`;
}

/** This process, as an owner of the runs it creates. */
export function currentProcess(): OwnerProcess {
  return { pid: process.pid, host: hostname(), started: processStart(process.pid) };
}

/**
 * Whether the owner process still runs: the pid exists (`process.kill(pid, 0)` probes without signalling;
 * EPERM means it exists under another user), it is not a zombie, and, when its start time was recorded, it
 * is the same process (the pid was not reused since). Meaningful only on the owner's own machine.
 */
export function processIsAlive(owner: Pick<OwnerProcess, 'pid' | 'started'>): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const state = statFields(owner.pid)?.[0];
  if (state === 'Z' || state === 'X') return false;
  if (owner.started === undefined) return true;
  const started = processStart(owner.pid);
  return started === undefined || started === owner.started;
}

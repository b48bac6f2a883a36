import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { currentProcess, processIsAlive, processStart } from './process.js';

const onLinux = process.platform === 'linux';
const parents: ReturnType<typeof spawn>[] = [];
afterAll(() => {
  for (const parent of parents) parent.kill('SIGKILL');
});

/** A zombie: a child of a shell that execs into `sleep` and never reaps it. Resolves with its pid. */
async function zombie(): Promise<number> {
  const parent = spawn('sh', ['-c', 'sleep 0.05 & echo $!; exec sleep 60'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  parents.push(parent);
  const pid = await new Promise<number>((resolve) =>
    parent.stdout!.once('data', (data) => resolve(Number(String(data).trim()))),
  );
  for (let i = 0; i < 100; i++) {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    if (state === 'Z') return pid;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`process ${pid} did not become a zombie`);
}

describe('processIsAlive', () => {
  it('knows this process, and a process that has ended', () => {
    expect(processIsAlive(currentProcess())).toBe(true);
    const ended = spawnSync(process.execPath, ['-e', '0']).pid!;
    expect(processIsAlive({ pid: ended })).toBe(false);
  });

  it.skipIf(!onLinux)(
    'takes a zombie for dead, and a pid given to a later process for its old owner dead',
    async () => {
      const pid = await zombie();
      expect(() => process.kill(pid, 0)).not.toThrow(); // what the pid alone said
      expect(processIsAlive({ pid })).toBe(false);

      const me = currentProcess();
      expect(me.started).toMatch(/^[0-9a-f-]{36}\/\d+$/);
      expect(processStart(process.pid)).toBe(me.started);
      // The same pid, started at another time: another process now holds it.
      const [boot, ticks] = me.started!.split('/');
      expect(processIsAlive({ pid: me.pid, started: `${boot}/${Number(ticks) - 1}` })).toBe(false);
      expect(processIsAlive({ pid: me.pid, started: `another-boot/${ticks}` })).toBe(false);
      // An owner recorded without a start time (older Onset) is judged by its pid alone.
      expect(processIsAlive({ pid: me.pid })).toBe(true);
    },
  );
});

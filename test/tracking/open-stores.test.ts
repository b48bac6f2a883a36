import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { ABANDONED_RUN_REASON, openOnsetStores } from '../../src/server/open-stores.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let home: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'onset-open-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('openOnsetStores', () => {
  it('marks a run left RUNNING by a process that died as FAILED, with the reason, the next time the stores open', async () => {
    // A child process starts a run and exits without finishing it.
    const script = `
      import { resolveConfig } from './src/config.ts';
      import { openOnsetStores } from './src/server/open-stores.ts';
      const stores = await openOnsetStores(resolveConfig({ home: ${JSON.stringify(home)} }));
      const run = await stores.tracking.createRun({ experimentId: '0', runName: 'abandoned' });
      process.stdout.write(run.info.runId);
      process.exit(0);
    `;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(child.status, child.stderr).toBe(0);
    const runId = child.stdout.trim();
    expect(runId).toMatch(/^[0-9a-f]{32}$/);

    const stores = await openOnsetStores(resolveConfig({ home }));
    try {
      expect(stores.abandonedRunsFailed).toBe(1);
      const run = await stores.tracking.getRun(runId);
      expect(run.info.status).toBe('FAILED');
      expect(run.data.tags).toContainEqual({ key: 'onset.failure_reason', value: ABANDONED_RUN_REASON });
      // A run of this (living) process is left alone.
      const mine = await stores.tracking.createRun({ experimentId: '0', runName: 'alive' });
      expect(await stores.tracking.failAbandonedRuns('test')).toBe(0);
      expect((await stores.tracking.getRun(mine.info.runId)).info.status).toBe('RUNNING');
    } finally {
      await stores.close();
    }
  });
});

/**
 * Fault: the PostgreSQL server restarted under load. Writers log batches to one run through one open
 * store while the server shuts down and starts again: a clean restart (`pg_ctl stop -m fast`: sessions
 * ended, open transactions rolled back) and a crash (`-m immediate`: recovery from the WAL at start). Writes during the outage must fail with a clear error (no crash, no unhandled
 * rejection); writes after it must succeed through the same store, without reopening it (the pool
 * replaces its broken connections); and every acknowledged write must be there, each batch whole.
 *
 * The server is a throwaway of this test's own, not the shared one of the global setup: restarting that
 * would fail the contract tests running beside this one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isOnsetError } from '../../src/errors.js';
import { openStore, type Stores } from '../../src/server/open-stores.js';
import { waitFor } from '../support/child-process.js';
import { postgresAvailable, startPostgres, type TestPostgres } from '../support/postgres.js';

const WRITERS = ['w0', 'w1', 'w2', 'w3'];
const available = postgresAvailable();
if (!available) {
  console.warn(
    'Skipping the PostgreSQL restart test: PostgreSQL 15 server binaries not found (apt-get install postgresql-15)',
  );
}

let postgres: TestPostgres | undefined;
let stores: Stores | undefined;

beforeAll(async () => {
  if (!available) return;
  postgres = await startPostgres();
  stores = await openStore(postgres.url, { artifactRoot: 'file:///tmp/onset-postgres-restart' });
}, 30_000);

afterAll(async () => {
  await stores?.close();
  postgres?.stop();
});

interface Writer {
  readonly label: string;
  /** Steps whose batch the store acknowledged, with when. */
  readonly acked: { step: number; at: number }[];
  readonly failures: { step: number; at: number; error: unknown }[];
  readonly done: Promise<void>;
}

/** Logs batch after batch (a metric at step i and a param pi) until `stop()`; a failure is noted and retried later. */
function startWriter(
  tracking: Stores['tracking'],
  runId: string,
  label: string,
  stop: () => boolean,
): Writer {
  const acked: Writer['acked'] = [];
  const failures: Writer['failures'] = [];
  const done = (async () => {
    for (let step = 0; !stop(); step++) {
      try {
        await tracking.logBatch(runId, {
          metrics: [{ key: `${label}.m`, value: step, step, timestamp: step }],
          params: [{ key: `${label}.p${step}`, value: String(step) }],
        });
        acked.push({ step, at: Date.now() });
      } catch (error) {
        failures.push({ step, at: Date.now(), error });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  })();
  return { label, acked, failures, done };
}

describe.skipIf(!available)('PostgreSQL restarted under load', () => {
  it.each(['fast', 'immediate'] as const)(
    'stopped (%s): fails writes clearly during the outage, takes them again after it through the same store, and loses no acknowledged write',
    async (mode) => {
      const { tracking } = stores!;
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown) => unhandled.push(reason);
      process.on('unhandledRejection', onUnhandled);
      let stopping = false;
      try {
        const experimentId = await tracking.createExperiment({ name: `restart-${mode}` });
        const runId = (await tracking.createRun({ experimentId })).info.runId;
        const writers = WRITERS.map((label) => startWriter(tracking, runId, label, () => stopping));
        const atLeast = (count: number, since: number) => () =>
          writers.every((writer) => writer.acked.filter((ack) => ack.at > since).length >= count);
        await waitFor(atLeast(20, 0), 15_000, 'every writer to log 20 batches');

        // Down while the writers write; they keep trying all through the outage.
        await postgres!.interrupt(mode);
        const down = Date.now();
        await waitFor(
          () => writers.every((writer) => writer.failures.some((failure) => failure.at > down)),
          10_000,
          'every writer to fail against the stopped server',
        );
        const up = Date.now();
        await postgres!.resume();
        await waitFor(atLeast(20, Date.now()), 15_000, 'every writer to log 20 batches after the restart');
        stopping = true;
        await Promise.all(writers.map((writer) => writer.done));

        // Nothing acknowledged while the server was down; every failure an OnsetError saying what happened.
        for (const writer of writers) {
          expect(writer.acked.filter((ack) => ack.at > down && ack.at < up)).toEqual([]);
          for (const { error } of writer.failures) {
            expect(isOnsetError(error) && error.code, String(error)).toBe('TEMPORARILY_UNAVAILABLE');
            expect((error as Error).message).toMatch(
              /^The PostgreSQL store at 127\.0\.0\.1:\d+ is unavailable: restarting, down or unreachable \(.+\); retry later$/,
            );
          }
        }
        expect(unhandled).toEqual([]);

        // Every acknowledged batch is there, whole; a batch that failed is there whole or not at all.
        const run = await tracking.getRun(runId);
        const params = new Set(run.data.params.map((param) => param.key));
        for (const writer of writers) {
          const history = (await tracking.getMetricHistory(runId, `${writer.label}.m`)).items;
          const steps = new Set(history.map((metric) => metric.step));
          expect(steps.size).toBe(history.length);
          for (const { step } of writer.acked) {
            expect(steps.has(step), `${writer.label} step ${step}`).toBe(true);
          }
          for (const step of steps) expect(params.has(`${writer.label}.p${step}`)).toBe(true);
          for (const key of params) {
            const step = /^(\w+)\.p(\d+)$/.exec(key);
            if (step?.[1] === writer.label) expect(steps.has(Number(step[2]))).toBe(true);
          }
        }
      } finally {
        stopping = true;
        process.off('unhandledRejection', onUnhandled);
      }
    },
    60_000,
  );
});

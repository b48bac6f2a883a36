/**
 * The MonitoringCheckStore contract, run against every backend (SQLite and PostgreSQL; see the
 * `tracking-store.*.test.ts` runners). Tests keep apart by checking models of their own names.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  MonitoringCheck,
  MonitoringCheckStore,
  NewMonitoringCheck,
} from '../../src/monitoring/checks/monitoring-check-store.js';
import { expectCode, type OpenedStores, unique } from './tracking-store.contract.js';

const T0 = Date.UTC(2026, 0, 1);

/** A succeeded drift check of `name` version 1 that started at `startedAt`. */
function check(
  name: string,
  startedAt: number,
  overrides: Partial<NewMonitoringCheck> = {},
): NewMonitoringCheck {
  return {
    kind: 'drift',
    model: { name, version: '1', runId: 'a'.repeat(32) },
    window: { from: startedAt - 86_400_000, to: startedAt },
    startedAt,
    finishedAt: startedAt + 250,
    status: 'succeeded',
    error: null,
    summary: { outcome: 'checked', rows: 120, drift_share: 0.25 },
    result: {
      outcome: 'checked',
      report: {
        features: [
          { column: 'Age', score: 0.0123456789012345, drifted: false, note: null },
          { column: 'MoCA', score: 1e-300, drifted: true, note: 'ünïcode – "quoted"\n' },
        ],
        nested: { deep: [[1, 2], [], { empty: {} }] },
        big: 123456789012345,
        negative: -0.5,
      },
    },
    ...overrides,
  };
}

export function describeMonitoringCheckStoreContract(name: string, open: () => Promise<OpenedStores>): void {
  describe(`MonitoringCheckStore contract: ${name}`, () => {
    let stores: OpenedStores;
    let store: MonitoringCheckStore;
    beforeAll(async () => {
      stores = await open();
      store = stores.checks;
    });
    afterAll(async () => {
      await stores?.close();
    });

    it('records a succeeded and a failed check and reads them back exactly as they were given', async () => {
      const model = unique('model');
      const given = check(model, T0);
      const stored = await store.recordCheck(given);
      expect(stored.checkId).toMatch(/^[0-9a-f]{32}$/);
      // The id begins with the start time, so ids sort as the checks started.
      expect(stored.checkId.slice(0, 12)).toBe(T0.toString(16).padStart(12, '0'));
      expect(stored).toEqual({ ...given, checkId: stored.checkId });
      expect(await store.getCheck(stored.checkId)).toEqual(stored);

      const failed = await store.recordCheck(
        check(model, T0 + 1_000, {
          kind: 'performance',
          model: { name: model, version: '2', runId: null },
          status: 'failed',
          error: `${model} version 2 has no reference profile`,
          summary: null,
          result: null,
        }),
      );
      expect(await store.getCheck(failed.checkId)).toMatchObject({
        kind: 'performance',
        status: 'failed',
        error: `${model} version 2 has no reference profile`,
        model: { name: model, version: '2', runId: null },
        summary: null,
        result: null,
      });
    });

    it('lists checks newest first without their results, by kind, model and version, a page at a time', async () => {
      const model = unique('listed');
      const other = unique('other');
      const recorded: MonitoringCheck[] = [];
      for (let i = 0; i < 7; i++) {
        recorded.push(
          await store.recordCheck(
            check(model, T0 + i * 60_000, {
              kind: i % 2 === 0 ? 'drift' : 'performance',
              model: { name: model, version: i < 5 ? '1' : '2', runId: null },
            }),
          ),
        );
      }
      await store.recordCheck(check(other, T0 + 10 * 60_000));
      const all = await store.listChecks({ modelName: model });
      expect(all.items.map((item) => item.checkId)).toEqual(recorded.map((item) => item.checkId).reverse());
      expect(all.nextPageToken).toBeNull();
      // A listing leaves the result documents out; the summary stays.
      expect(all.items[0]).not.toHaveProperty('result');
      expect(all.items[0]!.summary).toEqual(recorded[6]!.summary);

      const drift = await store.listChecks({ modelName: model, kind: 'drift' });
      expect(drift.items.map((item) => item.startedAt)).toEqual([6, 4, 2, 0].map((i) => T0 + i * 60_000));
      const version2 = await store.listChecks({ modelName: model, modelVersion: '2' });
      expect(version2.items.map((item) => item.startedAt)).toEqual([T0 + 6 * 60_000, T0 + 5 * 60_000]);

      const seen: string[] = [];
      let pageToken: string | undefined;
      do {
        const page = await store.listChecks({
          modelName: model,
          maxResults: 3,
          ...(pageToken ? { pageToken } : {}),
        });
        expect(page.items.length).toBeLessThanOrEqual(3);
        seen.push(...page.items.map((item) => item.checkId));
        pageToken = page.nextPageToken ?? undefined;
      } while (pageToken);
      expect(seen).toEqual(all.items.map((item) => item.checkId));
      expect((await store.listChecks({ modelName: unique('nobody') })).items).toEqual([]);
    });

    it('refuses bad input, naming what is wrong, and stores nothing of it', async () => {
      const model = unique('refused');
      const good = check(model, T0);
      const bad: [Partial<NewMonitoringCheck> | Record<string, unknown>, RegExp][] = [
        [{ kind: 'latency' }, /Unknown check kind "latency"; the kinds are drift, performance/],
        [{ status: 'running' }, /Unknown check status "running"; the statuses are succeeded, failed/],
        [{ status: 'failed', error: null }, /A failed check needs its error message/],
        [{ status: 'failed', error: '' }, /A failed check needs its error message/],
        [{ error: 'oops' }, /A succeeded check has no error message/],
        [{ model: { name: '', version: '1', runId: null } }, /model name must be a string of 1 to/],
        [{ model: { name: model, version: 3, runId: null } }, /model version must be a string/],
        [{ window: { from: T0, to: T0 - 1 } }, /window must run from one time to a later one/],
        [{ window: { from: Number.NaN, to: T0 } }, /window must run from one time to a later one/],
        [{ finishedAt: T0 - 1 }, /must finish when or after it started/],
        [
          { result: { score: Number.NaN } },
          /result.score is NaN: a check's documents hold finite numbers only/,
        ],
        [{ summary: { rows: [1, Number.POSITIVE_INFINITY] } }, /summary.rows\[1\] is Infinity/],
        [{ result: { when: new Date(T0) } }, /result.when is a Date: a check's documents are plain JSON/],
        [{ result: { missing: undefined } }, /result.missing is undefined/],
        [{ result: [1, 2] }, /The check's result must be a JSON object or null/],
      ];
      for (const [overrides, message] of bad) {
        await expectCode(
          store.recordCheck({ ...good, ...overrides } as NewMonitoringCheck),
          'INVALID_PARAMETER_VALUE',
          message,
        );
      }
      expect((await store.listChecks({ modelName: model })).items).toEqual([]);
      // The good one is stored, whole.
      const stored = await store.recordCheck(good);
      expect((await store.listChecks({ modelName: model })).items.map((item) => item.checkId)).toEqual([
        stored.checkId,
      ]);
    });

    it('answers RESOURCE_DOES_NOT_EXIST for an unknown or malformed id, and refuses a bad listing', async () => {
      await expectCode(
        store.getCheck('0'.repeat(32)),
        'RESOURCE_DOES_NOT_EXIST',
        /No monitoring check has the id "0{32}"/,
      );
      await expectCode(store.getCheck("1' OR '1'='1"), 'RESOURCE_DOES_NOT_EXIST');
      await expectCode(store.getCheck(''), 'RESOURCE_DOES_NOT_EXIST');
      await expectCode(
        store.listChecks({ kind: 'latency' as never }),
        'INVALID_PARAMETER_VALUE',
        /Unknown check kind "latency"/,
      );
      await expectCode(store.listChecks({ maxResults: 1_001 }), 'INVALID_PARAMETER_VALUE', /max_results/);
      await expectCode(store.listChecks({ pageToken: 'nonsense' }), 'INVALID_PARAMETER_VALUE', /page token/);
    });

    it('deletes the checks started before a time, and only those', async () => {
      const model = unique('old');
      // Long before the other tests' checks (T0), which this leaves alone.
      const old = await store.recordCheck(check(model, 10_000, { window: { from: 0, to: 10_000 } }));
      const kept = await store.recordCheck(check(model, 20_000, { window: { from: 0, to: 20_000 } }));
      expect(await store.deleteChecksBefore(15_000)).toBe(1);
      await expectCode(store.getCheck(old.checkId), 'RESOURCE_DOES_NOT_EXIST');
      expect((await store.getCheck(kept.checkId)).checkId).toBe(kept.checkId);
      expect(await store.deleteChecksBefore(15_000)).toBe(0);
      await expectCode(store.deleteChecksBefore(Number.NaN), 'INVALID_PARAMETER_VALUE');
    });
  });
}

/**
 * The AlertStore contract, run against every backend (SQLite and PostgreSQL; see the
 * `tracking-store.*.test.ts` runners). Each test opens its own store: listings cover the whole history.
 */
import { describe, expect, it } from 'vitest';
import { newAlertId } from '../../src/monitoring/alerts/alert-id.js';
import type { AlertStore, ReceivedAlert } from '../../src/monitoring/alerts/alert-store.js';
import { expectCode, type OpenedStores } from './tracking-store.contract.js';

const T0 = Date.UTC(2026, 2, 1, 12);

function alert(receivedAt: number, index: number, overrides: Partial<ReceivedAlert> = {}): ReceivedAlert {
  return {
    alertId: newAlertId(receivedAt, index),
    alertName: 'OnsetDatasetDrift',
    status: 'firing',
    labels: { alertname: 'OnsetDatasetDrift', action: 'retrain', model: 'm', version: '3' },
    annotations: { summary: 'Dataset drift: m version 3 — 60 % drifted', what_to_do: 'wait "and" see' },
    startsAt: receivedAt - 60_000,
    endsAt: null,
    fingerprint: '1a30ba71cca2921f',
    generatorUrl: 'http://127.0.0.1:9090/graph?g0.expr=onset_drift_dataset+%3D%3D+1&g0.tab=1',
    receiver: 'onset-retrain',
    groupKey: '{}/{action="retrain"}:{model="m"}',
    receivedAt,
    outcome: 'started',
    pipelineRunId: 'f'.repeat(32),
    detail: null,
    ...overrides,
  };
}

export function describeAlertStoreContract(name: string, open: () => Promise<OpenedStores>): void {
  describe(`AlertStore contract: ${name}`, () => {
    async function withStore(test: (store: AlertStore) => Promise<void>): Promise<void> {
      const stores = await open();
      try {
        await test(stores.alertHistory);
      } finally {
        await stores.close();
      }
    }

    it('records the alerts of a notification and reads each back as it was', () =>
      withStore(async (store) => {
        const started = alert(T0, 0, { endsAt: T0 + 240_000 });
        const joined = alert(T0, 1, {
          alertName: 'OnsetFeaturePsiHigh',
          labels: { alertname: 'OnsetFeaturePsiHigh', feature: 'Age', 'odd.label': 'é ü 漢' },
          outcome: 'already_running',
        });
        const notify = alert(T0, 2, {
          alertName: 'OnsetDown',
          outcome: 'action_notify',
          pipelineRunId: null,
          annotations: {},
        });
        await store.recordAlerts([started, joined, notify]);
        expect(await store.getAlert(started.alertId)).toEqual(started);
        expect(await store.getAlert(joined.alertId)).toEqual(joined);
        expect(await store.getAlert(notify.alertId)).toEqual(notify);
        await store.recordAlerts([]);
        await expectCode(
          store.getAlert('0'.repeat(32)),
          'RESOURCE_DOES_NOT_EXIST',
          /No alert with alert_id 0{32}/,
        );
      }));

    it('records all of a notification or none: a repeated id, a bad status or outcome is refused', () =>
      withStore(async (store) => {
        const first = alert(T0, 0);
        await store.recordAlerts([first]);
        const fresh = alert(T0 + 1, 0);
        await expectCode(
          store.recordAlerts([fresh, first]),
          'RESOURCE_ALREADY_EXISTS',
          /nothing was recorded/,
        );
        await expectCode(store.getAlert(fresh.alertId), 'RESOURCE_DOES_NOT_EXIST');
        await expectCode(
          store.recordAlerts([alert(T0 + 2, 0, { status: 'pending' as never })]),
          'INVALID_PARAMETER_VALUE',
          /status "pending" is not one of firing, resolved/,
        );
        await expectCode(
          store.recordAlerts([alert(T0 + 2, 0, { outcome: 'retried' as never })]),
          'INVALID_PARAMETER_VALUE',
          /outcome "retried"/,
        );
        await expectCode(
          store.recordAlerts([alert(T0 + 2, 0, { alertId: 'X' })]),
          'INVALID_PARAMETER_VALUE',
          /id "X" is not 32 lower-case hex digits/,
        );
        expect((await store.listAlerts({})).items.map((a) => a.alertId)).toEqual([first.alertId]);
      }));

    it('lists newest first (a notification in reverse order), pages, and filters by status and run', () =>
      withStore(async (store) => {
        const older = [
          alert(T0, 0),
          alert(T0, 1, { status: 'resolved', outcome: 'resolved', pipelineRunId: null }),
        ];
        const newer = [
          alert(T0 + 5_000, 0, { pipelineRunId: 'a'.repeat(32) }),
          alert(T0 + 5_000, 1, { outcome: 'already_running', pipelineRunId: 'a'.repeat(32) }),
          alert(T0 + 5_000, 2, { outcome: 'not_started', pipelineRunId: null, detail: 'busy' }),
        ];
        // Recorded out of order: the order is the ids', that is the times received.
        await store.recordAlerts(newer);
        await store.recordAlerts(older);
        const all = await store.listAlerts({});
        expect(all.items.map((a) => a.alertId)).toEqual(
          [...newer.reverse(), ...older.reverse()].map((a) => a.alertId),
        );
        expect(all.nextPageToken).toBeNull();

        const first = await store.listAlerts({ maxResults: 2 });
        expect(first.items).toEqual(all.items.slice(0, 2));
        const second = await store.listAlerts({ maxResults: 2, pageToken: first.nextPageToken! });
        expect(second.items).toEqual(all.items.slice(2, 4));
        const third = await store.listAlerts({ maxResults: 2, pageToken: second.nextPageToken! });
        expect(third.items).toEqual(all.items.slice(4));
        expect(third.nextPageToken).toBeNull();

        const resolved = await store.listAlerts({ status: 'resolved' });
        expect(resolved.items.map((a) => a.outcome)).toEqual(['resolved']);
        expect((await store.listAlerts({ status: 'firing' })).items).toHaveLength(4);
        const ofRun = await store.listAlerts({ pipelineRunId: 'a'.repeat(32) });
        expect(ofRun.items.map((a) => a.outcome)).toEqual(['already_running', 'started']);

        await expectCode(
          store.listAlerts({ status: 'pending' as never }),
          'INVALID_PARAMETER_VALUE',
          /known: firing, resolved/,
        );
        await expectCode(store.listAlerts({ maxResults: 1001 }), 'INVALID_PARAMETER_VALUE', /1 to 1000/);
        await expectCode(store.listAlerts({ pageToken: 'nope' }), 'INVALID_PARAMETER_VALUE', /page token/);
      }));
  });
}

import { type Static, Type } from 'typebox';
import { OnsetError } from '../../errors.js';
import { Int64, int64, Millis, Nullable } from '../../http/fields.js';
import { answers, type RoutePlugin } from '../../http/route.js';
import { invalidRequest } from '../../http/validation.js';
import type { AlertReceiver } from './alert-receiver.js';
import { ALERT_OUTCOMES, ALERT_STATUSES, type AlertStore, type ReceivedAlert } from './alert-store.js';
import { AlertmanagerNotification, readNotification } from './alertmanager-payload.js';

export interface AlertApiOptions {
  readonly receiver: AlertReceiver;
  readonly store: AlertStore;
}

const Labels = Type.Record(Type.String(), Type.String());

/** An alert of the history as the API answers it. */
export const AlertJson = Type.Object({
  alert_id: Type.String({ description: '32 hex digits; ids sort as the alerts arrived' }),
  alert_name: Type.String(),
  status: Type.Enum(ALERT_STATUSES),
  labels: Labels,
  annotations: Labels,
  starts_at: Millis,
  ends_at: Nullable(Millis),
  fingerprint: Type.String(),
  generator_url: Type.String(),
  receiver: Type.String({ description: 'the Alertmanager receiver that sent it' }),
  group_key: Type.String(),
  received_at: Millis,
  outcome: Type.Enum(ALERT_OUTCOMES, {
    description:
      'started, already_running (it joined the run queued or running), not_started, action_notify, no_action, resolved',
  }),
  pipeline_run_id: Nullable(Type.String({ description: 'the retraining run it started or joined' })),
  detail: Nullable(Type.String({ description: 'why nothing started (not_started, no_action)' })),
  triggered: Type.String({
    description:
      'what it triggered in one line: "started: <run id>", "already_running: <run id>", "not_started: <why>", "action_notify", "no_action: <why>" or "resolved"',
  }),
});

/** What an alert triggered, in one line (see `AlertJson.triggered`). */
export function triggeredText(alert: ReceivedAlert): string {
  switch (alert.outcome) {
    case 'started':
    case 'already_running':
      return `${alert.outcome}: ${alert.pipelineRunId}`;
    case 'not_started':
    case 'no_action':
      return `${alert.outcome}: ${alert.detail}`;
    default:
      return alert.outcome;
  }
}

export function alertJson(alert: ReceivedAlert): Static<typeof AlertJson> {
  return {
    alert_id: alert.alertId,
    alert_name: alert.alertName,
    status: alert.status,
    labels: alert.labels,
    annotations: alert.annotations,
    starts_at: alert.startsAt,
    ends_at: alert.endsAt,
    fingerprint: alert.fingerprint,
    generator_url: alert.generatorUrl,
    receiver: alert.receiver,
    group_key: alert.groupKey,
    received_at: alert.receivedAt,
    outcome: alert.outcome,
    pipeline_run_id: alert.pipelineRunId,
    detail: alert.detail,
    triggered: triggeredText(alert),
  };
}

/**
 * The alert API under `/api/onset/alerts`: Alertmanager's webhook (`POST`, its payload version 4), which
 * records every alert and starts the retraining pipeline for a firing `action="retrain"` alert, and the
 * history (`GET`). Admin access: Alertmanager sends the admin token with `http_config.authorization`
 * (`type: Bearer`).
 */
export const alertApi: RoutePlugin<AlertApiOptions> = async (app, { receiver, store }) => {
  const tags = ['monitoring'];
  app.post(
    '/api/onset/alerts',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary:
          'Alertmanager\'s webhook (payload version 4): records every alert; a firing alert labelled action="retrain" starts the retrain pipeline, unless a run of it is queued or running (the alert joins it)',
        body: AlertmanagerNotification,
        response: answers(
          Type.Object({
            alerts: Type.Array(AlertJson, { description: 'as recorded, in the order of the notification' }),
          }),
        ),
      },
      schemaErrorFormatter: invalidRequest({ subject: 'Alertmanager notification' }),
    },
    async ({ body }) => {
      const received = await receiver.receive(readNotification(body));
      if (received.retryLater !== undefined) {
        // 5xx is what Alertmanager delivers again (a 4xx it drops): the alerts stay recorded meanwhile.
        throw new OnsetError(
          'TEMPORARILY_UNAVAILABLE',
          `Recorded ${received.alerts.length} alert(s), but retraining cannot start now: ${received.retryLater}; Alertmanager delivers the notification again`,
        );
      }
      return { alerts: received.alerts.map(alertJson) };
    },
  );

  app.get(
    '/api/onset/alerts',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'The alerts received and what each triggered, newest first (pages)',
        querystring: Type.Object({
          status: Type.Optional(Type.Enum(ALERT_STATUSES)),
          pipeline_run_id: Type.Optional(
            Type.String({ minLength: 1, description: 'only the alerts that started or joined this run' }),
          ),
          max_results: Type.Optional(Int64),
          page_token: Type.Optional(Type.String()),
        }),
        response: answers(
          Type.Object({
            alerts: Type.Immutable(Type.Array(AlertJson)),
            next_page_token: Type.Optional(Type.String({ description: 'absent on the last page' })),
          }),
        ),
      },
    },
    async ({ query }) => {
      const maxResults = int64(query.max_results);
      const page = await store.listAlerts({
        ...(query.status ? { status: query.status } : {}),
        ...(query.pipeline_run_id ? { pipelineRunId: query.pipeline_run_id } : {}),
        ...(maxResults === undefined ? {} : { maxResults }),
        ...(query.page_token ? { pageToken: query.page_token } : {}),
      });
      return {
        alerts: page.items.map(alertJson),
        ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
      };
    },
  );

  app.get(
    '/api/onset/alerts/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'One alert of the history',
        params: Type.Object({ id: Type.String() }),
        response: answers(Type.Object({ alert: AlertJson })),
      },
    },
    async ({ params }) => ({ alert: alertJson(await store.getAlert(params.id)) }),
  );
};

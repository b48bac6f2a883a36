import { type Static, Type } from 'typebox';
import { type FieldProblem, InvalidRequestError } from '../../http/error-answer.js';
import { describeProblems } from '../../http/validation.js';
import { ALERT_STATUSES, type AlertStatus } from './alert-store.js';

/**
 * The body Alertmanager's webhook receiver posts (`webhook_config`), version 4: its notification
 * template's data (receiver, status, alerts, group and common labels and annotations, external URL)
 * plus `version`, `groupKey` and `truncatedAlerts` (Alertmanager's `notify/webhook` Message). Fields a
 * later Alertmanager may add are allowed and ignored; a version other than 4 is refused, as its shape may
 * differ.
 */

const RFC3339 = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$';
const Time = Type.String({
  pattern: RFC3339,
  description: 'an RFC 3339 time, e.g. 2026-03-01T12:00:00.123456789Z (0001-01-01T00:00:00Z: none)',
});
const LabelSet = Type.Record(Type.String(), Type.String(), { description: 'names and values' });
const Status = Type.Enum(ALERT_STATUSES);

export const AlertmanagerAlert = Type.Object({
  status: Status,
  labels: LabelSet,
  annotations: LabelSet,
  startsAt: Time,
  endsAt: Time,
  generatorURL: Type.String({ description: 'the link to the rule in Prometheus (may be empty)' }),
  fingerprint: Type.String({ minLength: 1, description: "Alertmanager's hash of the alert's labels" }),
});

export const AlertmanagerNotification = Type.Object(
  {
    version: Type.Literal('4', { description: 'the webhook payload version; Onset reads version 4' }),
    groupKey: Type.String({ description: "the notification group's key" }),
    truncatedAlerts: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'alerts left out by max_alerts (Alertmanager 0.22 and later)',
      }),
    ),
    status: Status,
    receiver: Type.String({ minLength: 1 }),
    groupLabels: LabelSet,
    commonLabels: LabelSet,
    commonAnnotations: LabelSet,
    externalURL: Type.String({ description: 'the Alertmanager that sent it' }),
    alerts: Type.Array(AlertmanagerAlert, { minItems: 1, maxItems: 10_000 }),
  },
  { description: "Alertmanager's webhook payload, version 4 (webhook_config)" },
);
export type AlertmanagerNotification = Static<typeof AlertmanagerNotification>;

/** One alert of a notification, with its times in ms. */
export interface NotifiedAlert {
  readonly status: AlertStatus;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly startsAt: number;
  /** Null when Alertmanager sent Go's zero time (no end). */
  readonly endsAt: number | null;
  readonly generatorUrl: string;
  readonly fingerprint: string;
}

/** A notification as the receiver acts on it. */
export interface AlertNotification {
  readonly receiver: string;
  readonly groupKey: string;
  readonly alerts: readonly NotifiedAlert[];
  /** Alerts Alertmanager left out (`max_alerts`): they are not received, so not recorded. */
  readonly truncatedAlerts: number;
}

/**
 * An RFC 3339 time in ms, or null for Go's zero time (year 1), which Alertmanager writes for a time it
 * does not have. Digits below the millisecond are dropped (Go writes nanoseconds). Undefined when the text
 * is not a real time (a 13th month, a 25th hour).
 */
export function parseAlertTime(text: string): number | null | undefined {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (match === null) return undefined;
  if (match[1]!.startsWith('0001-01-01T00:00:00')) return null;
  const fraction = (match[2] ?? '').slice(0, 3).padEnd(3, '0');
  const ms = Date.parse(`${match[1]}.${fraction}${match[3]}`);
  if (Number.isNaN(ms)) return undefined;
  // Date.parse rolls some impossible dates over (February 30th): the date written must be the date read.
  const written = match[1]!.slice(0, 10);
  const offset = match[3] === 'Z' ? 0 : (match[3]!.startsWith('-') ? -1 : 1) * offsetMinutes(match[3]!);
  const local = new Date(ms + offset * 60_000).toISOString().slice(0, 10);
  return local === written ? ms : undefined;
}

function offsetMinutes(offset: string): number {
  return Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6));
}

/**
 * The notification of a body that passed the schema: every time parsed, each problem named by where it is
 * (`alerts.0.startsAt`) in one 400 answer.
 */
export function readNotification(body: AlertmanagerNotification): AlertNotification {
  const problems: FieldProblem[] = [];
  const time = (text: string, field: string, required: boolean): number | null => {
    const parsed = parseAlertTime(text);
    if (parsed === undefined) {
      problems.push({
        field,
        message: `${JSON.stringify(text)} is not a real time: write an RFC 3339 time such as 2026-03-01T12:00:00Z`,
        reason: 'wrong_format',
      });
    } else if (parsed === null && required) {
      problems.push({
        field,
        message: `is ${JSON.stringify(text)}, no time at all: an alert has the time it started`,
        reason: 'missing',
      });
    }
    return parsed ?? null;
  };
  const alerts = body.alerts.map((alert, index) => {
    if (alert.labels.alertname === undefined || alert.labels.alertname === '') {
      problems.push({
        field: `alerts.${index}.labels.alertname`,
        message: 'is required: every Prometheus alert has an alertname label',
        reason: 'missing',
      });
    }
    return {
      status: alert.status,
      labels: alert.labels,
      annotations: alert.annotations,
      startsAt: time(alert.startsAt, `alerts.${index}.startsAt`, true) ?? 0,
      endsAt: time(alert.endsAt, `alerts.${index}.endsAt`, false),
      generatorUrl: alert.generatorURL,
      fingerprint: alert.fingerprint,
    };
  });
  if (problems.length > 0) {
    throw new InvalidRequestError(describeProblems('Alertmanager notification', problems), problems);
  }
  return {
    receiver: body.receiver,
    groupKey: body.groupKey,
    alerts,
    truncatedAlerts: body.truncatedAlerts ?? 0,
  };
}

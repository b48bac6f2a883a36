import { isOnsetError, OnsetError } from '../../errors.js';
import type { PipelineService } from '../../pipelines/pipeline-service.js';
import type { PipelineStore } from '../../pipelines/pipeline-store.js';
import type { RegistryStore } from '../../tracking/registry-store.js';
import { RETRAIN_PIPELINE } from '../retrain-pipeline.js';
import { newAlertId } from './alert-id.js';
import type { AlertOutcome, AlertStore, ReceivedAlert } from './alert-store.js';
import type { AlertNotification, NotifiedAlert } from './alertmanager-payload.js';

/** The label an alerting rule says what Onset should do with (deploy/prometheus/rules/onset.rules.yml). */
export const ACTION_LABEL = 'action';
/** The label naming the registered model an alert is about (the drift and performance gauges'). */
export const MODEL_LABEL = 'model';

export interface AlertReceiverOptions {
  readonly alerts: AlertStore;
  /** Starts the retraining pipeline (it must know `pipeline`). */
  readonly service: PipelineService;
  /** Where runs are recorded: a retraining run of any process sharing the database is found there. */
  readonly runs: PipelineStore;
  /** Checks the model an alert names before asking to retrain it. */
  readonly registry: RegistryStore;
  /** The pipeline a firing `action="retrain"` alert starts (default `retrain`). */
  readonly pipeline?: string;
  readonly now?: () => number;
}

/** What a notification led to: its alerts as recorded, and whether a retraining was refused for now. */
export interface ReceivedNotification {
  readonly alerts: readonly ReceivedAlert[];
  /**
   * Set when a retraining was asked for but could not start for now (the server runs another pipeline):
   * worth delivering again later (the route answers 503, which Alertmanager retries).
   */
  readonly retryLater?: string;
}

type Decision = Pick<ReceivedAlert, 'outcome' | 'pipelineRunId' | 'detail'> & { retryLater?: string };

/**
 * Acts on Alertmanager's notifications: a firing alert labelled `action="retrain"` starts the retraining
 * pipeline (trigger `alert:<alertname>`, param `alert_id`), unless a run of it is already queued or
 * running, anywhere the database is shared, which the alert then joins; a resolved alert, or one for
 * people (`action="notify"`), starts nothing. Every alert is recorded with what it led to. Notifications
 * are handled one at a time, so two arriving together cannot both start a run.
 */
export class AlertReceiver {
  readonly #options: AlertReceiverOptions;
  readonly #pipeline: string;
  #turn: Promise<unknown> = Promise.resolve();

  constructor(options: AlertReceiverOptions) {
    this.#options = options;
    this.#pipeline = options.pipeline ?? RETRAIN_PIPELINE;
    // Fails now, not at the first alert, when the service does not have the pipeline.
    options.service.find(this.#pipeline);
  }

  /** Handles one notification (after those received before it) and records its alerts. */
  receive(notification: AlertNotification): Promise<ReceivedNotification> {
    const handled = this.#turn.then(() => this.#handle(notification));
    this.#turn = handled.catch(() => undefined);
    return handled;
  }

  async #handle(notification: AlertNotification): Promise<ReceivedNotification> {
    const receivedAt = (this.#options.now ?? Date.now)();
    const recorded: ReceivedAlert[] = [];
    let retryLater: string | undefined;
    for (const [index, alert] of notification.alerts.entries()) {
      const alertId = newAlertId(receivedAt, index);
      const decision = await this.#decide(alert, alertId);
      retryLater ??= decision.retryLater;
      recorded.push({
        alertId,
        alertName: alert.labels.alertname ?? '',
        status: alert.status,
        labels: alert.labels,
        annotations: alert.annotations,
        startsAt: alert.startsAt,
        endsAt: alert.endsAt,
        fingerprint: alert.fingerprint,
        generatorUrl: alert.generatorUrl,
        receiver: notification.receiver,
        groupKey: notification.groupKey,
        receivedAt,
        outcome: decision.outcome,
        pipelineRunId: decision.pipelineRunId,
        detail: decision.detail,
      });
    }
    await this.#options.alerts.recordAlerts(recorded);
    return { alerts: recorded, ...(retryLater === undefined ? {} : { retryLater }) };
  }

  async #decide(alert: NotifiedAlert, alertId: string): Promise<Decision> {
    const none = (outcome: AlertOutcome, detail: string | null = null): Decision => ({
      outcome,
      pipelineRunId: null,
      detail,
    });
    if (alert.status === 'resolved') return none('resolved');
    const action = alert.labels[ACTION_LABEL];
    if (action === 'notify') return none('action_notify');
    if (action !== 'retrain') {
      return none(
        'no_action',
        action === undefined
          ? `no ${ACTION_LABEL} label: Onset acts on ${ACTION_LABEL}="retrain"`
          : `${ACTION_LABEL}="${action}": Onset acts on ${ACTION_LABEL}="retrain" only`,
      );
    }
    const running = await this.#runningRetraining();
    if (running !== undefined) return { outcome: 'already_running', pipelineRunId: running, detail: null };
    const alertName = alert.labels.alertname ?? 'unnamed';
    try {
      const handle = await this.#options.service.start(
        this.#pipeline,
        { alert_id: alertId, ...(await this.#modelParam(alert)) },
        `alert:${alertName}`,
      );
      return { outcome: 'started', pipelineRunId: handle.runId, detail: null };
    } catch (error) {
      if (!isOnsetError(error)) throw error;
      const detail = `the ${this.#pipeline} pipeline could not start: ${error.message}`;
      // Another pipeline runs here (one at a time): a later delivery may find the server free.
      return {
        ...none('not_started', detail),
        ...(error.code === 'TEMPORARILY_UNAVAILABLE' ? { retryLater: detail } : {}),
      };
    }
  }

  /** The retraining run queued or running, if there is one (the newest). */
  async #runningRetraining(): Promise<string | undefined> {
    const page = await this.#options.runs.listRuns({
      pipeline: this.#pipeline,
      status: 'RUNNING',
      maxResults: 1,
    });
    return page.items[0]?.runId;
  }

  /**
   * The model to retrain: the registered model the alert's `model` label names, when there is one by that
   * name; otherwise the pipeline's default (a label naming no registered model, e.g. a file model's).
   */
  async #modelParam(alert: NotifiedAlert): Promise<{ model_name?: string }> {
    const name = alert.labels[MODEL_LABEL];
    if (name === undefined || name === '') return {};
    try {
      await this.#options.registry.getRegisteredModel(name);
      return { model_name: name };
    } catch (error) {
      if (error instanceof OnsetError && error.code === 'RESOURCE_DOES_NOT_EXIST') return {};
      throw error;
    }
  }
}

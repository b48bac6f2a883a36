import { setTimeout as sleep } from 'node:timers/promises';
import { OnsetError } from '../../errors.js';
import type { SimulatedPatients } from './simulated-patients.js';

export interface TrafficOptions {
  /** The server, e.g. `http://127.0.0.1:9696`. */
  readonly url: string;
  /** Predictions asked for per second. */
  readonly rate: number;
  /** How long to send them (ms). */
  readonly durationMs: number;
  readonly patients: SimulatedPatients;
  /** How long after its answer a prediction's true diagnosis is posted (ms); undefined: never. */
  readonly feedbackDelayMs?: number | undefined;
  /** The `X-API-Key` of the prediction and feedback routes, when the server wants one. */
  readonly apiKey?: string | undefined;
  /** Aborting it stops sending: requests on their way are answered, and the feedback due is posted at once. */
  readonly signal?: AbortSignal;
  /** Requests on their way at most (default 64): past it, sending waits (the rate achieved says so). */
  readonly maxInFlight?: number;
  /** Called about once a second with the counts so far. */
  readonly onProgress?: (summary: TrafficSummary) => void;
}

/** A kind of failure and how often it happened: an HTTP status, or `network`. */
export interface FailureCount {
  readonly kind: string;
  readonly count: number;
  /** The first message of this kind. */
  readonly example: string;
}

/** What a simulation did. */
export interface TrafficSummary {
  /** Predictions asked for, and answered with 200. */
  readonly sent: number;
  readonly answered: number;
  readonly errors: number;
  readonly failures: readonly FailureCount[];
  /** Seconds spent sending. */
  readonly seconds: number;
  /** Answered predictions per second of sending. */
  readonly rateAchieved: number;
  /** Share of the patients sent that have the disease (the truth), and of the predictions that say so. */
  readonly truePositiveShare: number;
  readonly predictedPositiveShare: number;
  readonly feedback: {
    /** True diagnoses posted and recorded (or found recorded already). */
    readonly sent: number;
    readonly errors: number;
    readonly failures: readonly FailureCount[];
    /** Answers without a `prediction_id` (the server logs no predictions): nothing to post feedback for. */
    readonly unlogged: number;
  };
  /** `duration` when the time was up, `interrupted` when stopped early. */
  readonly stopped: 'duration' | 'interrupted';
}

/** Records per feedback request (the route's default batch limit is 1,000). */
const FEEDBACK_BATCH = 500;
/** A request unanswered this long counts as failed (a stuck server must not hang the simulation). */
const REQUEST_TIMEOUT_MS = 30_000;

class Failures {
  readonly #byKind = new Map<string, { count: number; example: string }>();
  total = 0;
  add(kind: string, message: string): void {
    this.total++;
    const entry = this.#byKind.get(kind);
    if (entry) entry.count++;
    else this.#byKind.set(kind, { count: 1, example: message });
  }
  list(): FailureCount[] {
    return [...this.#byKind.entries()].map(([kind, { count, example }]) => ({ kind, count, example }));
  }
}

/** The message of an error answer (Onset's `{error_code, message}`), or the start of its body. */
async function answerMessage(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const json = JSON.parse(text) as { message?: unknown };
    if (typeof json.message === 'string') return json.message;
  } catch {
    // not JSON
  }
  return text.slice(0, 200) || response.statusText;
}

function networkMessage(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? cause.message : error instanceof Error ? error.message : String(error);
}

/**
 * Sends generated patients to `POST /predict` at `rate` for `durationMs`, each with its patient id, and
 * `feedbackDelayMs` after each answer posts the patient's true diagnosis to `POST /feedback` by the
 * `prediction_id` it answered (in batches). Stops early when `signal` aborts: the requests on their way
 * are answered, and the feedback still waiting is posted at once. A server that cannot be reached at
 * all is an error (TEMPORARILY_UNAVAILABLE) before anything is counted.
 */
export async function simulateTraffic(options: TrafficOptions): Promise<TrafficSummary> {
  const base = options.url.replace(/\/+$/, '');
  const headers = {
    'content-type': 'application/json',
    ...(options.apiKey ? { 'x-api-key': options.apiKey } : {}),
  };
  const maxInFlight = options.maxInFlight ?? 64;
  const failures = new Failures();
  const feedbackFailures = new Failures();
  let sent = 0;
  let answered = 0;
  let truePositives = 0;
  let predictedPositives = 0;
  let feedbackSent = 0;
  let unlogged = 0;
  /** Feedback waiting for its time, in the order it falls due. */
  const due: { at: number; predictionId: string; diagnosis: 0 | 1 }[] = [];
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  let sendingEnded = started;
  let stopped: TrafficSummary['stopped'] = 'duration';

  const summary = (): TrafficSummary => {
    const seconds = ((sent > 0 ? sendingEnded : performance.now()) - started) / 1000;
    return {
      sent,
      answered,
      errors: failures.total,
      failures: failures.list(),
      seconds,
      rateAchieved: seconds > 0 ? answered / seconds : 0,
      truePositiveShare: sent > 0 ? truePositives / sent : 0,
      predictedPositiveShare: answered > 0 ? predictedPositives / answered : 0,
      feedback: {
        sent: feedbackSent,
        errors: feedbackFailures.total,
        failures: feedbackFailures.list(),
        unlogged,
      },
      stopped,
    };
  };

  // Reachable at all? A refused connection is a mistake in --url, not traffic to count.
  try {
    await fetch(`${base}/health`, { signal: AbortSignal.timeout(5_000) });
  } catch (error) {
    throw new OnsetError(
      'TEMPORARILY_UNAVAILABLE',
      `Cannot reach ${base}: ${networkMessage(error)}. Is the server running (onset up), and is --url right?`,
    );
  }

  const predict = async (): Promise<void> => {
    const patient = options.patients.next();
    sent++;
    if (patient.diagnosis === 1) truePositives++;
    let response: Response;
    try {
      response = await fetch(`${base}/predict`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ patient_id: patient.patientId, data: patient.features }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      failures.add('network', networkMessage(error));
      return;
    }
    if (response.status !== 200) {
      failures.add(String(response.status), await answerMessage(response));
      return;
    }
    const answer = (await response.json()) as { diagnosis?: number; prediction_id?: string };
    answered++;
    if (answer.diagnosis === 1) predictedPositives++;
    if (options.feedbackDelayMs === undefined) return;
    if (typeof answer.prediction_id !== 'string') {
      unlogged++;
      return;
    }
    due.push({
      at: performance.now() + options.feedbackDelayMs,
      predictionId: answer.prediction_id,
      diagnosis: patient.diagnosis,
    });
  };

  /** Posts the feedback due by `until` (everything with Infinity), in batches. */
  const postFeedback = async (until: number): Promise<void> => {
    while (due.length > 0 && due[0]!.at <= until) {
      let end = 0;
      while (end < due.length && end < FEEDBACK_BATCH && due[end]!.at <= until) end++;
      const batch = due.splice(0, end);
      const body = {
        records: batch.map((item) => ({ prediction_id: item.predictionId, diagnosis: item.diagnosis })),
      };
      try {
        const response = await fetch(`${base}/feedback`, {
          method: 'POST',
          headers,
          body: JSON.stringify(body),
        });
        if (response.status === 200) feedbackSent += batch.length;
        else {
          const message = await answerMessage(response);
          for (let i = 0; i < batch.length; i++) feedbackFailures.add(String(response.status), message);
        }
      } catch (error) {
        const message = networkMessage(error);
        for (let i = 0; i < batch.length; i++) feedbackFailures.add('network', message);
      }
    }
  };

  // Feedback goes on beside the predictions, every 100 ms.
  let feedbackRunning = true;
  const feedbackLoop = (async () => {
    while (feedbackRunning) {
      await postFeedback(performance.now());
      await sleep(100);
    }
  })();

  let lastProgress = started;
  const interval = 1000 / options.rate;
  const aborted = () => options.signal?.aborted === true;
  try {
    for (let i = 0; ; i++) {
      if (i * interval >= options.durationMs || aborted()) break;
      const slot = started + i * interval;
      const wait = slot - performance.now();
      if (wait > 1) {
        try {
          await sleep(wait, undefined, options.signal ? { signal: options.signal } : {});
        } catch {
          break; // aborted while waiting
        }
      }
      if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
      // The time is up (a slow server falls behind the slots): it gets fewer, and the rate achieved says so.
      if (performance.now() - started >= options.durationMs || aborted()) break;
      const request = predict().finally(() => inFlight.delete(request));
      inFlight.add(request);
      const now = performance.now();
      if (options.onProgress && now - lastProgress >= 1000) {
        lastProgress = now;
        options.onProgress(summary());
      }
    }
    if (aborted()) stopped = 'interrupted';
    await Promise.allSettled(inFlight);
    sendingEnded = performance.now();
    // Feedback waits for its delay, unless the simulation was stopped: then what is waiting goes now.
    if (stopped === 'duration' && due.length > 0) {
      const last = due[due.length - 1]!.at;
      try {
        await sleep(
          Math.max(0, last - performance.now()),
          undefined,
          options.signal ? { signal: options.signal } : {},
        );
      } catch {
        stopped = 'interrupted';
      }
    }
  } finally {
    feedbackRunning = false;
    await feedbackLoop;
  }
  await postFeedback(Number.POSITIVE_INFINITY);
  return summary();
}

import { type Command, InvalidArgumentError } from 'commander';
import { resolveConfig } from '../config.js';
import {
  describeShift,
  parseShifts,
  SimulatedPatients,
} from '../monitoring/simulation/simulated-patients.js';
import { simulateTraffic, type TrafficSummary } from '../monitoring/simulation/traffic.js';
import { asUsage, collect, integerArgument, probabilityArgument } from './options.js';
import { formatDecimals, formatPercent, marks, printJson } from './output.js';

interface SimulateFlags {
  url?: string;
  rate: number;
  duration: number;
  shift: string[];
  prevalence?: number;
  feedbackDelay: number;
  feedback: boolean;
  apiKey?: string;
  seed: number;
  json?: boolean;
}

const SECONDS = { s: 1, m: 60, h: 3600 } as const;

/** Seconds written as a number (`90`, `0.5`) or with a unit (`30s`, `5m`, `1h`). */
export function secondsArgument(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([smh]?)$/.exec(text.trim());
  if (match === null) {
    throw new InvalidArgumentError(`expected seconds (e.g. 90) or a duration (30s, 5m, 1h), got "${text}"`);
  }
  return Number(match[1]) * SECONDS[(match[2] || 's') as keyof typeof SECONDS];
}

function rateArgument(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !(value > 0 && value <= 10_000)) {
    throw new InvalidArgumentError(
      `expected predictions per second above 0 and at most 10000, got "${text}"`,
    );
  }
  return value;
}

function durationArgument(text: string): number {
  const seconds = secondsArgument(text);
  if (seconds <= 0) throw new InvalidArgumentError(`expected a duration above 0, got "${text}"`);
  return seconds;
}

function failureLines(label: string, failures: TrafficSummary['failures']): string[] {
  return failures.map(
    (failure) =>
      `  ${label} ${failure.kind === 'network' ? 'network error' : `HTTP ${failure.kind}`} ×${failure.count}: ${failure.example}`,
  );
}

/** The summary as the terminal shows it. */
export function renderSimulation(
  summary: TrafficSummary,
  flags: { rate: number; feedbackDelay?: number },
): string {
  const mark = marks();
  const feedback = summary.feedback;
  const lines = [
    `${summary.errors === 0 && feedback.errors === 0 ? mark.ok : mark.fail} ${summary.stopped === 'interrupted' ? 'stopped early: ' : ''}${summary.sent} predictions sent in ${formatDecimals(summary.seconds, 1)} s, ${summary.answered} answered, ${summary.errors} errors`,
    `  rate: ${formatDecimals(summary.rateAchieved, 1)}/s achieved (${flags.rate}/s asked)`,
    `  patients with the disease: ${formatPercent(summary.truePositiveShare)} (the truth); predicted: ${formatPercent(summary.predictedPositiveShare)}`,
    flags.feedbackDelay === undefined
      ? '  feedback: none (--no-feedback)'
      : `  feedback: ${feedback.sent} true diagnoses posted ${summary.stopped === 'interrupted' ? `(${flags.feedbackDelay} s after their answers, or at the stop for those still waiting)` : `${flags.feedbackDelay} s after their answers`}, ${feedback.errors} errors${feedback.unlogged > 0 ? `; ${feedback.unlogged} answers had no prediction_id (the server's prediction log is off)` : ''}`,
    ...failureLines('prediction', summary.failures),
    ...failureLines('feedback', feedback.failures),
  ];
  return `${lines.join('\n')}\n`;
}

function summaryJson(summary: TrafficSummary, context: Record<string, unknown>) {
  const failures = (list: TrafficSummary['failures']) =>
    list.map((failure) => ({ kind: failure.kind, count: failure.count, example: failure.example }));
  return {
    ...context,
    stopped: summary.stopped,
    sent: summary.sent,
    answered: summary.answered,
    errors: summary.errors,
    failures: failures(summary.failures),
    seconds: summary.seconds,
    rate_achieved: summary.rateAchieved,
    true_positive_share: summary.truePositiveShare,
    predicted_positive_share: summary.predictedPositiveShare,
    feedback: {
      sent: summary.feedback.sent,
      errors: summary.feedback.errors,
      failures: failures(summary.feedback.failures),
      unlogged: summary.feedback.unlogged,
    },
  };
}

/**
 * `onset monitor simulate`: generated patients (optionally shifted, or at another prevalence) sent to a
 * running server's `POST /predict` at a rate, and their true diagnoses posted to `POST /feedback` after a
 * delay, to watch drift, performance and the alerts act on one machine. Ctrl-C stops sending, posts the
 * feedback still waiting and prints the summary (exit 130); a second Ctrl-C quits at once.
 */
export function registerSimulateCommand(monitor: Command): void {
  monitor
    .command('simulate')
    .description(
      'send generated patients to a running server (POST /predict), shifted or at another prevalence, and post their true diagnoses later (POST /feedback)',
    )
    .option('-u, --url <url>', 'the server (default http://127.0.0.1:$ONSET_PORT, 9696)')
    .option('-r, --rate <n>', 'predictions per second', rateArgument, 10)
    .option('-d, --duration <time>', 'how long to send: seconds, or 30s, 5m, 1h', durationArgument, 60)
    .option(
      '--shift <feature=change>',
      'change the patients (repeatable): FEATURE=+DELTA or FEATURE=-DELTA moves a continuous feature (kept within its limits), FEATURE=VALUE sets a feature (a binary or categorical one to a code)',
      collect,
      [],
    )
    .option(
      '--prevalence <p>',
      'share of patients with the disease, 0 to 1 (default: the generator’s, about 0.62)',
      probabilityArgument,
    )
    .option(
      '--feedback-delay <time>',
      'post each true diagnosis this long after its answer: seconds, or 30s, 5m',
      secondsArgument,
      5,
    )
    .option('--no-feedback', 'post no true diagnoses')
    .option('--api-key <key>', 'the X-API-Key header (env ONSET_API_KEY)')
    .option('--seed <n>', 'seed of the generated patients', integerArgument, 1)
    .option('--json', 'print the summary as JSON')
    .action(async (flags: SimulateFlags) => {
      // Everything typed is checked before anything is sent.
      const shifts = asUsage(() => parseShifts(flags.shift));
      const patients = asUsage(
        () =>
          new SimulatedPatients({
            seed: flags.seed,
            shifts,
            ...(flags.prevalence === undefined ? {} : { prevalence: flags.prevalence }),
          }),
      );
      const config = resolveConfig();
      const url = (flags.url ?? `http://127.0.0.1:${config.port}`).replace(/\/+$/, '');
      const feedbackDelay = flags.feedback ? flags.feedbackDelay : undefined;
      const controller = new AbortController();
      const onInterrupt = () => {
        if (controller.signal.aborted) process.exit(130);
        process.stderr.write(
          '\nstopping: answering what is on its way and posting the feedback due (Ctrl-C again to quit at once)\n',
        );
        controller.abort();
      };
      process.on('SIGINT', onInterrupt);
      const described = shifts.length > 0 ? shifts.map(describeShift).join(' ') : 'none';
      if (!flags.json) {
        process.stderr.write(
          `sending ${flags.rate}/s for ${flags.duration} s to ${url}; shift: ${described}${flags.prevalence === undefined ? '' : `; prevalence ${flags.prevalence}`}\n`,
        );
      }
      let printedAt = 0;
      try {
        const summary = await simulateTraffic({
          url,
          rate: flags.rate,
          durationMs: flags.duration * 1000,
          patients,
          feedbackDelayMs: feedbackDelay === undefined ? undefined : feedbackDelay * 1000,
          apiKey: flags.apiKey ?? config.apiKey,
          signal: controller.signal,
          onProgress: flags.json
            ? undefined
            : (progress) => {
                // A line every 10 s: a long simulation shows it is alive without flooding the terminal.
                if (progress.seconds - printedAt < 10) return;
                printedAt = progress.seconds;
                process.stderr.write(
                  `  ${Math.round(progress.seconds)} s: ${progress.sent} sent, ${progress.errors} errors, ${progress.feedback.sent} feedback\n`,
                );
              },
        });
        if (flags.json) {
          printJson(
            summaryJson(summary, {
              url,
              rate: flags.rate,
              duration_s: flags.duration,
              shifts: shifts.map(describeShift),
              prevalence: flags.prevalence ?? null,
              feedback_delay_s: feedbackDelay ?? null,
              seed: flags.seed,
            }),
          );
        } else {
          process.stdout.write(
            renderSimulation(summary, {
              rate: flags.rate,
              ...(feedbackDelay === undefined ? {} : { feedbackDelay }),
            }),
          );
        }
        process.exitCode =
          summary.stopped === 'interrupted' ? 130 : summary.errors + summary.feedback.errors > 0 ? 1 : 0;
      } finally {
        process.off('SIGINT', onInterrupt);
      }
    });
}

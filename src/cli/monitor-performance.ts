import type { Command } from 'commander';
import { performanceSettingsOf } from '../monitoring/jobs/job-settings.js';
import { describeCheckedModel, ModelReferences } from '../monitoring/jobs/model-references.js';
import {
  type PerformanceCheckOutcome,
  type PerformanceEstimator,
  performanceCheckDocuments,
  runPerformanceCheck,
  type WindowPerformanceCheck,
} from '../monitoring/jobs/performance-check.js';
import { REALIZED_METRICS, type RealizedMetricName } from '../monitoring/metric-names.js';
import { parseWindowList } from '../monitoring/time-window.js';
import { parseModelUri } from '../serving/model-source.js';
import { findModelVersion } from '../tracking/model-registry.js';
import { addStoreOptions, configFrom } from './config-options.js';
import { asUsage, UsageError } from './options.js';
import { formatDecimals, formatTimestamp, marks, printJson, renderTable } from './output.js';
import { openCommandStores } from './stores.js';

interface PerformanceFlags {
  model?: string;
  window?: string;
  json?: boolean;
  home?: string;
  trackingUri?: string;
  artifactUri?: string;
}

const ESTIMATED: ReadonlySet<string> = new Set(['accuracy', 'roc_auc', 'recall', 'specificity', 'brier']);

/** `onset monitor performance`: realized and estimated metrics per window, from the home's prediction log. */
export function registerPerformanceCommand(monitor: Command): void {
  addStoreOptions(
    monitor
      .command('performance')
      .description(
        "how well a model version predicts, per rolling window of its logged predictions: realized metrics from feedback, and CBPE's estimate from the probabilities alone (with its band)",
      )
      .option(
        '-m, --model <uri>',
        'the registered model version: models:/NAME/STAGE|VERSION or models:/NAME@ALIAS (env ONSET_MODEL_URI, default models:/parkinson-disease-prediction/Production)',
      )
      .option(
        '-w, --window <durations>',
        'the rolling windows, comma-separated: 1h,24h,7d (env ONSET_PERFORMANCE_WINDOWS, default 1h,24h,7d)',
      )
      .option('--json', 'print the result as JSON'),
  ).action(async (flags: PerformanceFlags) => {
    const config = configFrom(flags);
    const settings = asUsage(() => ({
      windows:
        flags.window === undefined
          ? performanceSettingsOf(config).windows
          : parseWindowList(flags.window, '--window'),
      maxRows: config.performanceMaxRows,
    }));
    const parsed = asUsage(() => parseModelUri(config.modelUri));
    if (parsed.kind !== 'registry') {
      throw new UsageError(
        `onset monitor performance reads the predictions logged for a registered model version, and ${config.modelUri} is ${parsed.kind === 'file' ? 'a model file' : "a run's model"}: name one with --model models:/NAME/VERSION (or a stage or alias)`,
      );
    }
    const stores = await openCommandStores(flags, 'read');
    try {
      const version = await findModelVersion(stores.registry, parsed.name, parsed.reference);
      const model = { name: version.name, version: version.version, runId: version.runId };
      const estimator = await new ModelReferences(stores).estimator(model);
      const now = Date.now();
      const outcome = await runPerformanceCheck({
        log: stores.predictionLog,
        model,
        estimator,
        settings,
        now,
      });
      if (flags.json) {
        const { result } = performanceCheckDocuments(outcome, estimator, settings);
        printJson({
          model: { uri: config.modelUri, name: model.name, version: model.version, run_id: model.runId },
          computed_at: new Date(now).toISOString(),
          ...result,
        });
        return;
      }
      process.stdout.write(
        renderPerformance(outcome, estimator, `${describeCheckedModel(model)} (${config.modelUri})`, now),
      );
    } finally {
      await stores.close();
    }
  });
}

function value(number: number | null): string {
  return formatDecimals(number, 3);
}

function band(window: WindowPerformanceCheck, metric: RealizedMetricName): string {
  if (!ESTIMATED.has(metric)) return '';
  const estimate = window.estimated?.metrics[metric as 'accuracy'];
  if (!estimate || estimate.lower === null || estimate.upper === null) return '–';
  return `${value(estimate.lower)} – ${value(estimate.upper)}`;
}

function estimated(window: WindowPerformanceCheck, metric: RealizedMetricName): string {
  if (!ESTIMATED.has(metric)) return '';
  return value(window.estimated?.metrics[metric as 'accuracy'].estimate ?? null);
}

/** What the estimates rest on, in a line. */
function estimationLine(estimator: PerformanceEstimator): string {
  if (!estimator.available) return `${marks().warn} no estimates: ${estimator.reason}`;
  const { estimator: cbpe, probabilitySource } = estimator;
  const source =
    probabilitySource === 'out_of_fold'
      ? 'out-of-fold probabilities'
      : probabilitySource === 'training_fit'
        ? "the model's own probabilities on its training rows (optimistic: trained without cross-validation)"
        : 'probabilities scored on a reference file';
  return `Estimates: CBPE fitted on ${cbpe.referenceRecords} reference predictions (${source}), ${cbpe.calibrated ? 'calibrated with isotonic regression' : 'probabilities taken as calibrated'}; bands ±${cbpe.bandWidth} sampling errors`;
}

/** The terminal report: per window, its counts, then a table of realized and estimated metrics. */
export function renderPerformance(
  outcome: PerformanceCheckOutcome,
  estimator: PerformanceEstimator,
  model: string,
  now: number,
): string {
  const lines = [
    `Performance of ${model} from the prediction log, windows ending ${formatTimestamp(now)} UTC`,
    estimationLine(estimator),
  ];
  for (const window of outcome.windows) {
    const realized = window.realized;
    lines.push('');
    if (window.records === 0) {
      lines.push(`${window.window}: no predictions in this window`);
      continue;
    }
    lines.push(
      `${window.window}: ${window.records} prediction${window.records === 1 ? '' : 's'}, ${realized.records} with feedback (${realized.positives} positive, ${realized.negatives} negative)${window.estimated ? `; estimated on ${window.estimated.records}` : ''}`,
    );
    if (window.labelledTruncated) {
      lines.push(
        `${marks().warn} only the latest labelled predictions were read (ONSET_PERFORMANCE_MAX_ROWS): the realized metrics may leave older ones out`,
      );
    }
    if (window.estimateTruncated) {
      lines.push(`${marks().warn} estimated on the latest predictions only (ONSET_PERFORMANCE_MAX_ROWS)`);
    }
    lines.push(
      renderTable(REALIZED_METRICS, [
        { header: 'metric', value: (metric) => metric },
        { header: 'realized', value: (metric) => value(realized.metrics[metric].value), align: 'right' },
        { header: 'estimated', value: (metric) => estimated(window, metric), align: 'right' },
        { header: 'band', value: (metric) => band(window, metric), align: 'right' },
      ]),
    );
    const undefinedReasons = REALIZED_METRICS.filter((metric) => realized.metrics[metric].value === null).map(
      (metric) => `${metric}: ${realized.metrics[metric].undefinedReason}`,
    );
    // One reason for all when every realized metric is undefined for the same one (no feedback).
    const reasons = new Set(undefinedReasons.map((reason) => reason.replace(/^[a-z_]+: /, '')));
    if (undefinedReasons.length === REALIZED_METRICS.length && reasons.size === 1) {
      lines.push(`  realized: ${[...reasons][0]}`);
    } else {
      for (const reason of undefinedReasons) lines.push(`  ${reason}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

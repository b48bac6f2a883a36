import type { Command } from 'commander';
import { assertIngested, ingestCsvFile } from '../data/csv-reader.js';
import type { ReferenceProfile } from '../data/reference-profile.js';
import { OnsetError } from '../errors.js';
import { missingValuePolicy } from '../ml/estimator-registry.js';
import { featureMatrix } from '../ml/train-on-dataset.js';
import {
  type ColumnDrift,
  computeDrift,
  type DriftReport,
  type DriftWindow,
  driftOrder,
} from '../monitoring/drift/compute-drift.js';
import { type DriftOptions, driftOptionsFromAssignments } from '../monitoring/drift/drift-options.js';
import { driftReportHtml } from '../monitoring/drift/drift-report-html.js';
import { type DriftSubject, driftReportJson } from '../monitoring/drift/drift-report-json.js';
import {
  HOW_TO_GET_A_REFERENCE,
  referenceProfileFromFile,
  referenceProfileOfRun,
} from '../monitoring/drift/reference-profiles.js';
import { STAT_TESTS } from '../monitoring/drift/stat-tests.js';
import { describeLogWindow, driftCheckDocuments, runDriftCheck } from '../monitoring/jobs/drift-check.js';
import { parseWindow, type TimeWindow } from '../monitoring/time-window.js';
import type { OnsetStores } from '../server/open-stores.js';
import { loadServedModel, parseModelUri, type ServedModel } from '../serving/model-source.js';
import { REFERENCE_PROFILE_ARTIFACT } from '../tracking/training-logger.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { addStoreOptions, configFrom } from './config-options.js';
import { registerPerformanceCommand } from './monitor-performance.js';
import { registerSimulateCommand } from './monitor-simulate.js';
import { asUsage, collect, policyOption, UsageError } from './options.js';
import { formatDecimals, formatPercent, marks, printJson, renderTable } from './output.js';
import { openCommandStores } from './stores.js';

interface DriftFlags {
  model?: string;
  current?: string;
  window?: string;
  reference?: string;
  json?: boolean;
  html?: string;
  test: string[];
  threshold: string[];
  driftShare?: string;
  policy: 'fail' | 'skip';
  home?: string;
  trackingUri?: string;
  artifactUri?: string;
}

export function registerMonitorCommands(program: Command): void {
  const monitor = program
    .command('monitor')
    .description(
      'watch a model: drift of its data and predictions, and its performance; simulate traffic to watch',
    );
  registerSimulateCommand(monitor);

  addStoreOptions(
    monitor
      .command('drift')
      .description(
        "compare current data with a model's training data: per feature the test Evidently chooses (or the one asked for), PSI, dataset drift and prediction drift",
      )
      .option(
        '-m, --model <uri>',
        'the model whose training data is the reference: models:/NAME/STAGE|VERSION, models:/NAME@ALIAS, runs:/RUN_ID/model or a model file (env ONSET_MODEL_URI, default models:/parkinson-disease-prediction/Production)',
      )
      .option(
        '-c, --current <file>',
        'the current data: a CSV file in the Kaggle layout (Diagnosis optional)',
      )
      .option(
        '-w, --window <duration>',
        "the current data: the model version's predictions of the last DURATION in the home's prediction log (30m, 24h, 7d; at most ONSET_DRIFT_MAX_ROWS, the latest; at least ONSET_DRIFT_MIN_ROWS)",
      )
      .option(
        '-r, --reference <file>',
        "compute the reference from this file (the model's training data) instead of the profile its training run stored; needed for a model file trained outside Onset's tracking",
      )
      .option('--json', 'print the report as JSON')
      .option('--html <file>', 'also write the report as a self-contained HTML page')
      .option(
        '--test <feature=test>',
        'the test of a feature (repeatable): ks, chisquare, z, wasserstein, jensenshannon or psi; probability is the prediction',
        collect,
        [],
      )
      .option(
        '--threshold <feature=x>',
        "the threshold of a feature's test (repeatable): a p-value for ks, chisquare and z, a distance otherwise",
        collect,
        [],
      )
      .option(
        '--drift-share <share>',
        'the share of drifted features (0 to 1) at which the data set counts as drifted (default 0.5)',
      )
      .addOption(policyOption()),
  ).action(async (flags: DriftFlags) => {
    // Everything the user typed is checked before any work.
    const options = asUsage(() => driftOptionsFromAssignments(flags.test, flags.threshold, flags.driftShare));
    if (flags.window !== undefined && flags.current !== undefined) {
      throw new UsageError(
        '--current and --window are alternatives: compare a file, or the prediction log; see onset monitor drift --help',
      );
    }
    if (flags.current === undefined && flags.window === undefined) {
      throw new UsageError(
        'give the current data with --current FILE, or read the prediction log with --window 24h; see onset monitor drift --help',
      );
    }
    if (flags.json && flags.html !== undefined) {
      throw new UsageError('--json and --html are alternatives: choose one; see onset monitor drift --help');
    }
    const window = flags.window === undefined ? undefined : asUsage(() => parseWindow(flags.window!));
    const config = configFrom(flags);
    const modelUri = config.modelUri;
    const parsedUri = asUsage(() => parseModelUri(modelUri));
    if (window && parsedUri.kind !== 'registry') {
      throw new UsageError(
        `--window reads the predictions logged for a registered model version, and ${modelUri} is ${parsedUri.kind === 'file' ? 'a model file' : "a run's model"}: name one with --model models:/NAME/VERSION (or a stage or alias), or compare a file with --current FILE`,
      );
    }
    // The window is the flag's: only the bounds are the configuration's.
    const settings = window
      ? { window, maxRows: config.driftMaxRows, minRows: config.driftMinRows, options }
      : undefined;
    const started = performance.now();
    const stores = parsedUri.kind === 'file' ? undefined : await openCommandStores(flags, 'read');
    try {
      const served = await loadServedModel(modelUri, stores);
      const { profile, source: referenceSource } = await referenceOf(served, flags, stores);
      const subjectOf = (currentSource: string): DriftSubject => ({
        model: {
          uri: modelUri,
          name: served.name,
          version: served.version,
          runId: served.runId,
          estimator: served.document.estimator,
        },
        referenceSource,
        currentSource,
        computedAt: new Date().toISOString(),
        seconds: (performance.now() - started) / 1000,
      });
      let report: DriftReport;
      let subject: DriftSubject;
      let windowJson: unknown;
      if (window && settings && stores) {
        const now = Date.now();
        const outcome = await runDriftCheck({
          log: stores.predictionLog,
          model: { name: served.name!, version: served.version!, runId: served.runId },
          profile,
          settings,
          now,
        });
        if (outcome.outcome === 'too_few_rows') {
          throw tooFewPredictions(served, window, outcome.read.rows, settings.minRows);
        }
        report = outcome.report;
        subject = subjectOf(describeLogWindow(window, now));
        windowJson = driftCheckDocuments(outcome, settings, subject).result.window;
        if (outcome.read.truncated && !flags.json) {
          process.stdout.write(
            `${marks().warn} the window holds ${outcome.read.windowRows} predictions: the latest ${outcome.read.rows} were compared (ONSET_DRIFT_MAX_ROWS)\n`,
          );
        }
      } else {
        const current = await readCurrentFile(flags.current!, served, flags.policy);
        report = computeDrift(profile, current, options satisfies DriftOptions);
        subject = subjectOf(flags.current!);
      }
      if (flags.json) {
        printJson({ ...driftReportJson(report, subject), ...(windowJson ? { window: windowJson } : {}) });
        return;
      }
      process.stdout.write(renderDriftReport(report, subject));
      if (flags.html !== undefined) {
        await writeFileAtomic(flags.html, driftReportHtml(report, subject));
        process.stdout.write(`${marks().ok} wrote the HTML report to ${flags.html}\n`);
      }
    } finally {
      await stores?.close();
    }
  });

  registerPerformanceCommand(monitor);
}

/** A window of the log with too few predictions for a verdict: what there was and what is needed. */
function tooFewPredictions(
  served: ServedModel,
  window: TimeWindow,
  rows: number,
  minRows: number,
): OnsetError {
  const which = `${served.name} version ${served.version}`;
  return new OnsetError(
    'INVALID_STATE',
    rows === 0
      ? `No prediction of ${which} was logged in the last ${window.label}: nothing to compare with its training data (serve it with onset up or onset serve with the prediction log on, or choose a longer --window)`
      : `Only ${rows} prediction${rows === 1 ? '' : 's'} of ${which} ${rows === 1 ? 'was' : 'were'} logged in the last ${window.label}; a drift check needs at least ${minRows} (ONSET_DRIFT_MIN_ROWS) for a verdict: choose a longer --window`,
  );
}

/** The model's reference profile: from `--reference FILE`, else the one its training run stored. */
async function referenceOf(
  served: ServedModel,
  flags: DriftFlags,
  stores: OnsetStores | undefined,
): Promise<{ profile: ReferenceProfile; source: string }> {
  if (flags.reference !== undefined) {
    return {
      profile: await referenceProfileFromFile(flags.reference, served.model, { policy: flags.policy }),
      source: `${flags.reference}, scored by the model`,
    };
  }
  const described =
    served.name !== null ? `${served.name} version ${served.version}` : `the model ${served.uri}`;
  if (served.runId === null || stores === undefined) {
    const why =
      served.name !== null
        ? 'it was registered from a source that is not an Onset training run'
        : 'a model file does not carry one (its training run stores it); use --model runs:/RUN_ID/model for the run that trained it (onset runs list), or';
    throw new OnsetError(
      'RESOURCE_DOES_NOT_EXIST',
      `${described} has no reference profile: ${why}${served.name !== null ? ';' : ''} ${HOW_TO_GET_A_REFERENCE}`,
    );
  }
  return {
    profile: await referenceProfileOfRun(stores, served.runId, described),
    source: `runs:/${served.runId}/${REFERENCE_PROFILE_ARTIFACT}`,
  };
}

/**
 * The current data from a CSV file, with the model's probability for every row (for prediction drift).
 * Rows are read as `onset predict` reads them: the model's missing-value policy, `--policy` for bad rows.
 */
async function readCurrentFile(
  path: string,
  served: ServedModel,
  policy: 'fail' | 'skip',
): Promise<DriftWindow> {
  const { dataset } = assertIngested(
    await ingestCsvFile(path, {
      target: 'optional',
      policy,
      missingFeatures: missingValuePolicy(served.model.estimator),
    }),
  );
  if (dataset.rowCount === 0) {
    throw new OnsetError(
      'INVALID_PARAMETER_VALUE',
      `The current data ${path} has no rows: a drift check needs at least one patient to compare with the training data`,
    );
  }
  return {
    rowCount: dataset.rowCount,
    columns: dataset.columns,
    probabilities: served.model.predictProba(featureMatrix(dataset)),
  };
}

function scoreText(column: ColumnDrift): string {
  if (column.score === null) return '–';
  if (column.score !== 0 && Math.abs(column.score) < 0.00005) return '<0.0001';
  return formatDecimals(column.score, 4);
}

function thresholdText(column: ColumnDrift): string {
  return `${STAT_TESTS[column.test].driftWhen} ${column.threshold}`;
}

function verdictText(column: ColumnDrift): string {
  if (column.score === null) return '–';
  return column.drifted ? 'yes' : 'no';
}

function describeModel(subject: DriftSubject): string {
  const { model } = subject;
  const estimator = model.estimator === null ? '' : ` (${model.estimator})`;
  return model.name !== null
    ? `${model.name} version ${model.version}${estimator}`
    : `${model.uri}${estimator}`;
}

/** The terminal report: what was compared, the verdicts, and a table of features, drifted first. */
export function renderDriftReport(report: DriftReport, subject: DriftSubject): string {
  const { dataset, prediction } = report;
  const lines: string[] = [];
  lines.push(
    `Drift of ${describeModel(subject)}: ${subject.currentSource} (${report.current.rows} rows) against its training data (${report.reference.trainingRows} rows; tests on a sample of ${report.reference.sampleRows})`,
  );
  lines.push(
    `Dataset drift: ${dataset.drifted ? 'YES' : 'no'}, ${dataset.driftedFeatures} of ${dataset.features} features drifted (${formatPercent(dataset.share)}; the data set drifts from ${formatPercent(dataset.driftShare)})`,
  );
  if (prediction) {
    lines.push(
      `Prediction drift: ${prediction.score === null ? 'not tested' : prediction.drifted ? 'YES' : 'no'}, ${STAT_TESTS[prediction.test].label} ${scoreText(prediction)} (drift ${thresholdText(prediction)}), PSI ${formatDecimals(prediction.psi, 4)}`,
    );
  }
  if (report.reference.probabilitySource === 'training_fit') {
    lines.push(
      `${marks().warn} the reference probabilities are the model's own on its training rows (it was trained without cross-validation): prediction drift may be overstated`,
    );
  }
  lines.push('');
  lines.push(
    renderTable(driftOrder(report.features), [
      { header: 'feature', value: (column) => column.column },
      { header: 'type', value: (column) => column.type },
      {
        header: 'test',
        value: (column) =>
          `${STAT_TESTS[column.test].label}${column.testChosenBy === 'override' ? ' *' : ''}`,
      },
      { header: 'statistic', value: scoreText, align: 'right' },
      { header: 'threshold', value: thresholdText, align: 'right' },
      { header: 'drift', value: verdictText },
      { header: 'PSI', value: (column) => formatDecimals(column.psi, 4), align: 'right' },
    ]),
  );
  const notes = report.features.filter((column) => column.note !== null);
  for (const column of notes) lines.push(`  ${column.column}: ${column.note}`);
  if (report.features.some((column) => column.testChosenBy === 'override')) {
    lines.push('* a test asked for with --test');
  }
  return `${lines.join('\n')}\n`;
}

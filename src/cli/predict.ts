import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import {
  assertIngested,
  dataFileSize,
  formatIssue,
  type IngestReport,
  ingestCsvFile,
  reportOf,
  scanCsv,
} from '../data/csv-reader.js';
import { csvLine } from '../data/csv-writer.js';
import { FEATURE_NAMES, ID_COLUMN } from '../data/schema.js';
import { predictionSet, thresholdsFor } from '../ml/calibration/conformal.js';
import {
  DEFAULT_THRESHOLD_POLICY,
  decisionThreshold,
  describeThresholdPolicy,
} from '../ml/decision/threshold-policy.js';
import { missingValuePolicy } from '../ml/estimator-registry.js';
import { loadModelPath } from '../ml/formats/mlflow-model.js';
import { binaryCurves, evaluateBinary } from '../ml/metrics/index.js';
import type { ModelDocument } from '../ml/model-document.js';
import { featureMatrix } from '../ml/train-on-dataset.js';
import { PatientKeys, resolveLogSecret } from '../monitoring/prediction-log/patient-keys.js';
import { newPredictionId } from '../monitoring/prediction-log/prediction-id.js';
import {
  type LoggedModel,
  type LoggedPrediction,
  predictionColumns,
} from '../monitoring/prediction-log/prediction-log-store.js';
import { type OnsetStores, openOnsetStores } from '../server/open-stores.js';
import { localModelChecksum } from '../serving/model-source.js';
import { type ScoredBatch, scorerOnThisThread, startScoringThreads } from '../serving/scoring-threads.js';
import { AtomicTextWriter } from '../util/atomic-file.js';
import { addStoreOptions, configFrom } from './config-options.js';
import { calibrationBinJson, ingestReportJson } from './json-views.js';
import { renderConfusion, renderMetrics } from './metrics-view.js';
import { policyOption, threadsOption, thresholdOption } from './options.js';
import { marks, printJson } from './output.js';
import { createProgress } from './progress.js';
import { prepareHome, type StoreFlags } from './stores.js';

const BATCH_ROWS = 1024;

/**
 * Where `onset predict --log` records its predictions: the home's prediction log, with the file model
 * named by its path and checksum. The ids it logged are kept, so that a run that fails (nothing written)
 * takes them back out of the log.
 */
interface BatchLog {
  readonly stores: OnsetStores;
  readonly keys: PatientKeys;
  readonly model: LoggedModel;
  readonly logged: string[];
}

async function openBatchLog(options: StoreFlags & { model: string }): Promise<BatchLog> {
  const config = configFrom(options);
  await prepareHome(config, 'write');
  const path = resolve(options.model);
  const checksum = await localModelChecksum(path);
  const stores = await openOnsetStores(config);
  try {
    const { secret } = await resolveLogSecret(config.logSecret, config.home);
    return {
      stores,
      keys: new PatientKeys(secret),
      model: { name: null, version: null, runId: null, uri: path, checksum },
      logged: [],
    };
  } catch (error) {
    await stores.close();
    throw error;
  }
}

export function registerPredictCommands(program: Command): void {
  addStoreOptions(program.command('predict'))
    .description(
      'score a CSV file in batch, streaming row by row (Onset model document or XGBoost JSON model)',
    )
    .requiredOption(
      '-m, --model <model>',
      'model: an Onset model document, an XGBoost model (JSON or UBJ) or an MLflow model directory',
    )
    .requiredOption('-i, --input <file>', 'CSV file to score (Kaggle layout; Diagnosis optional)')
    .requiredOption(
      '-o, --output <file>',
      'CSV file to write: PatientID (when the input has it), probability, prediction',
    )
    .addOption(thresholdOption())
    .addOption(policyOption())
    .addOption(threadsOption())
    .option('--json', 'print a JSON summary')
    .option(
      '--log',
      "record each prediction in the home's prediction log (source cli), and add a prediction_id column to the output; a run that writes no output logs nothing",
    )
    .action(
      async (
        options: StoreFlags & {
          model: string;
          input: string;
          output: string;
          threshold?: number;
          policy: 'fail' | 'skip';
          json?: boolean;
          log?: boolean;
          threads: number;
        },
      ) => {
        const { model, document } = await loadModelPath(options.model);
        const threshold = options.threshold ?? decisionThreshold(document);
        const log = options.log ? await openBatchLog(options) : undefined;
        // A model with conformal thresholds adds each row's prediction set: "0", "1", "0|1" (it cannot tell)
        // or "" (unlike its calibration patients).
        const conformal = document.conformal;
        const columns = (withId: boolean) => [
          ...(withId ? [ID_COLUMN] : []),
          'probability',
          'prediction',
          ...(conformal ? ['prediction_set'] : []),
          ...(log ? ['prediction_id'] : []),
        ];
        const size = await dataFileSize(options.input);
        const input = createReadStream(options.input);
        const writer = new AtomicTextWriter(options.output);
        const progress = options.json ? undefined : createProgress('scoring');
        let header: string | undefined;
        let refused = false;
        let scored = 0;
        let positives = 0;
        const cols = FEATURE_NAMES.length;
        // Batches go to the scoring threads while this one reads on; they are written in file order, at
        // most a few per thread waiting, so memory stays bounded. On one thread each is scored as it fills.
        const scorer =
          options.threads > 1
            ? startScoringThreads(resolve(options.model), options.threads - 1, cols)
            : scorerOnThisThread(model, cols);
        const maxInFlight = options.threads > 1 ? 8 * (options.threads - 1) : 1;
        const inFlight: { scored: Promise<ScoredBatch>; ids: (string | undefined)[] }[] = [];
        const spare: Float64Array[] = [];
        let batch: Float64Array = new Float64Array(BATCH_ROWS * cols);
        let batchIds: (string | undefined)[] = [];
        /** Writes the oldest batch in flight once it is scored (and logs it), and keeps its buffer. */
        const writeOldest = async () => {
          const { scored: answer, ids } = inFlight.shift()!;
          const { probabilities, features, latencyMs } = await answer;
          const now = Date.now();
          const logged: LoggedPrediction[] = [];
          const lines: string[] = [];
          ids.forEach((id, i) => {
            const probability = probabilities[i]!;
            const prediction = probability >= threshold ? 1 : 0;
            positives += prediction;
            const values: (string | number)[] =
              id === undefined ? [probability, prediction] : [id, probability, prediction];
            if (conformal) {
              const row = features.subarray(i * cols, (i + 1) * cols);
              values.push(predictionSet(probability, thresholdsFor(conformal, row)).join('|'));
            }
            if (log) {
              const predictionId = newPredictionId(now);
              logged.push({
                predictionId,
                timestamp: now,
                model: log.model,
                // The batch buffer is reused: each logged prediction keeps its own copy.
                features: features.slice(i * cols, (i + 1) * cols),
                probability,
                diagnosis: prediction,
                latencyMs,
                source: 'cli',
                patientKey: id === undefined ? null : log.keys.keyOf(id),
              });
              values.push(predictionId);
            }
            lines.push(csvLine(values));
          });
          spare.push(features);
          if (log) {
            await log.stores.predictionLog.appendPredictions(predictionColumns(logged));
            for (const entry of logged) log.logged.push(entry.predictionId);
          }
          scored += ids.length;
          await writer.write(lines.join(''));
        };
        /** Sends the batch filled so far to be scored; writes the oldest when too many are in flight. */
        const send = (): Promise<void> | undefined => {
          if (batchIds.length === 0) return undefined;
          const scored = scorer.score(batch, batchIds.length);
          // Its failure is met when it is written; until then it must not count as unhandled.
          scored.catch(() => undefined);
          inFlight.push({ scored, ids: batchIds });
          batch = spare.pop() ?? new Float64Array(BATCH_ROWS * cols);
          batchIds = [];
          return inFlight.length >= maxInFlight ? writeOldest() : undefined;
        };
        const flush = async () => {
          await send();
          while (inFlight.length > 0) await writeOldest();
        };
        try {
          const scan = await scanCsv(
            input,
            {
              policy: options.policy,
              sourceName: options.input,
              // Models that cannot use missing values get them reported as row errors, with row and column.
              missingFeatures: missingValuePolicy(model.estimator),
            },
            // A promise only when there is something to write: most rows take no turn of the event loop.
            (row) => {
              let written: Promise<void> | undefined;
              if (header === undefined) {
                header = csvLine(columns(row.patientId !== undefined));
                written = writer.write(header);
              }
              if (row.row % 1000 === 0) progress?.update(input.bytesRead, size);
              if (!row.valid) {
                // Under the fail policy nothing more is written; the scan goes on to report every problem.
                if (options.policy === 'fail') refused = true;
                return written;
              }
              if (refused) return written;
              batch.set(row.features, batchIds.length * cols);
              batchIds.push(row.patientId);
              if (batchIds.length < BATCH_ROWS) return written;
              return written === undefined ? send() : written.then(send);
            },
          );
          const failed = !scan.readable || (scan.errorCount > 0 && options.policy === 'fail');
          if (!failed) await flush();
          progress?.done();
          const report = reportOf(scan, failed ? undefined : { accepted: scored, fingerprint: null });
          if (failed) {
            await writer.abort();
            await unlog(log);
            if (options.json) printJson({ scored: 0, output: null, report: ingestReportJson(report) });
            else process.stderr.write(renderRefusal(report, model.estimator));
            process.exitCode = 1;
            return;
          }
          if (header === undefined) {
            // No data rows: the header still follows the input's columns.
            await writer.write(csvLine(columns(scan.hasPatientId)));
          }
          await writer.commit();
          const summary = {
            model: {
              estimator: document.estimator,
              format: document.training.imported_from ?? 'onset-model',
            },
            input: options.input,
            output: options.output,
            rows_read: scan.rowsRead,
            scored,
            skipped: report.rowsSkipped,
            predicted_positive: positives,
            threshold,
            threshold_source: options.threshold === undefined ? 'model' : 'option',
            ...(log ? { logged: log.logged.length } : {}),
          };
          if (options.json) printJson({ ...summary, report: ingestReportJson(report) });
          else {
            process.stdout.write(
              `${marks().ok} scored ${scored} of ${scan.rowsRead} rows -> ${options.output} (${positives} predicted positive at ${thresholdWords(threshold, options.threshold, document)})${log ? `; ${log.logged.length} logged in the prediction log` : ''}\n`,
            );
            if (report.rowsSkipped > 0) {
              process.stdout.write(`  ${report.rowsSkipped} invalid row(s) skipped:\n`);
              for (const issue of report.issues.filter((i) => i.severity === 'error').slice(0, 20)) {
                process.stdout.write(`  ${formatIssue(issue)}\n`);
              }
            }
          }
        } catch (error) {
          await writer.abort();
          await unlog(log);
          throw error;
        } finally {
          await scorer.close();
          await log?.stores.close();
        }
      },
    );

  program
    .command('evaluate')
    .description('compute every metric of a model on a labelled CSV file')
    .requiredOption(
      '-m, --model <model>',
      'model: an Onset model document, an XGBoost model (JSON or UBJ) or an MLflow model directory',
    )
    .requiredOption('-d, --data <file>', 'labelled CSV file (Diagnosis required)')
    .addOption(thresholdOption())
    .addOption(policyOption())
    .option('--json', 'print metrics, confusion matrix and calibration bins as JSON')
    .action(
      async (options: {
        model: string;
        data: string;
        threshold?: number;
        policy: 'fail' | 'skip';
        json?: boolean;
      }) => {
        const { model, document } = await loadModelPath(options.model);
        const threshold = options.threshold ?? decisionThreshold(document);
        const { dataset, report } = assertIngested(
          await ingestCsvFile(options.data, {
            target: 'required',
            policy: options.policy,
            missingFeatures: missingValuePolicy(model.estimator),
          }),
        );
        const probabilities = model.predictProba(featureMatrix(dataset));
        const metrics = evaluateBinary(dataset.target!, probabilities, { threshold });
        if (options.json) {
          const curves = binaryCurves(dataset.target!, probabilities);
          printJson({
            model: { path: options.model, estimator: document.estimator },
            data: {
              path: options.data,
              rows: dataset.rowCount,
              skipped: report.rowsSkipped,
              fingerprint: report.fingerprint,
            },
            metrics,
            calibration: curves.calibration.bins.map(calibrationBinJson),
          });
          return;
        }
        process.stdout.write(
          [
            `${options.model} (${document.estimator}) on ${options.data}: ${dataset.rowCount} rows${report.rowsSkipped ? `, ${report.rowsSkipped} skipped` : ''}`,
            '',
            renderMetrics({ value: metrics }),
            '',
            renderConfusion(metrics),
            '',
          ].join('\n'),
        );
      },
    );
}

/** "the model's threshold 0.3120 (sensitivity at least 0.95, ...)" or "threshold 0.4 (--threshold)". */
function thresholdWords(threshold: number, named: number | undefined, document: ModelDocument): string {
  if (named !== undefined) return `threshold ${named} (--threshold)`;
  const policy = document.threshold?.policy ?? DEFAULT_THRESHOLD_POLICY;
  // A fixed threshold was named, not chosen.
  const how = policy.kind === 'fixed' ? '' : 'chosen for ';
  return `the model's threshold ${threshold} (${how}${describeThresholdPolicy(policy)})`;
}

/** Takes out of the log what a run that wrote no output logged. */
async function unlog(log: BatchLog | undefined): Promise<void> {
  if (!log || log.logged.length === 0) return;
  await log.stores.predictionLog.deletePredictions(log.logged);
  log.logged.length = 0;
}

function renderRefusal(report: IngestReport, estimator: string): string {
  const errors = report.issues.filter((issue) => issue.severity === 'error');
  const lines = [
    `onset: ${report.source}: ${report.errorCount} error(s) in ${report.rowsInvalid} of ${report.rowsRead} row(s); nothing was written (use --policy skip to score the valid rows)`,
    ...errors.slice(0, 20).map((issue) => `  ${formatIssue(issue)}`),
  ];
  if (report.errorCount > 20)
    lines.push(`  … and ${report.errorCount - 20} more (onset data validate --json lists all)`);
  if (report.errorsByRule.missing_value && missingValuePolicy(estimator) === 'reject') {
    lines.push(`  (${estimator} models cannot score missing values; fill them in or use gbdt)`);
  }
  return `${lines.join('\n')}\n`;
}

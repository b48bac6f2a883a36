import { createReadStream } from 'node:fs';
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
import { createMatrix } from '../math/matrix.js';
import { missingValuePolicy } from '../ml/estimator-registry.js';
import { loadModelPath } from '../ml/formats/mlflow-model.js';
import { binaryCurves, evaluateBinary } from '../ml/metrics/index.js';
import { featureMatrix } from '../ml/train-on-dataset.js';
import { AtomicTextWriter } from '../util/atomic-file.js';
import { calibrationBinJson, ingestReportJson } from './json-views.js';
import { renderConfusion, renderMetrics } from './metrics-view.js';
import { policyOption, thresholdOption } from './options.js';
import { marks, printJson } from './output.js';
import { createProgress } from './progress.js';

const BATCH_ROWS = 1024;

export function registerPredictCommands(program: Command): void {
  program
    .command('predict')
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
    .option('--json', 'print a JSON summary')
    .action(
      async (options: {
        model: string;
        input: string;
        output: string;
        threshold: number;
        policy: 'fail' | 'skip';
        json?: boolean;
      }) => {
        const { model, document } = await loadModelPath(options.model);
        const size = await dataFileSize(options.input);
        const input = createReadStream(options.input);
        const writer = new AtomicTextWriter(options.output);
        const progress = options.json ? undefined : createProgress('scoring');
        let header: string | undefined;
        let refused = false;
        let scored = 0;
        let positives = 0;
        const batch = new Float64Array(BATCH_ROWS * FEATURE_NAMES.length);
        const batchIds: (string | undefined)[] = [];
        const flush = async () => {
          if (batchIds.length === 0) return;
          const probabilities = model.predictProba(
            createMatrix(
              batch.subarray(0, batchIds.length * FEATURE_NAMES.length),
              batchIds.length,
              FEATURE_NAMES.length,
            ),
          );
          const lines: string[] = [];
          batchIds.forEach((id, i) => {
            const probability = probabilities[i]!;
            const prediction = probability >= options.threshold ? 1 : 0;
            positives += prediction;
            lines.push(csvLine(id === undefined ? [probability, prediction] : [id, probability, prediction]));
          });
          scored += batchIds.length;
          batchIds.length = 0;
          await writer.write(lines.join(''));
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
            async (row) => {
              if (header === undefined) {
                header = csvLine(
                  row.patientId === undefined
                    ? ['probability', 'prediction']
                    : [ID_COLUMN, 'probability', 'prediction'],
                );
                await writer.write(header);
              }
              if (row.row % 1000 === 0) progress?.update(input.bytesRead, size);
              if (!row.valid) {
                // Under the fail policy nothing more is written; the scan goes on to report every problem.
                if (options.policy === 'fail') refused = true;
                return;
              }
              if (refused) return;
              batch.set(row.features, batchIds.length * FEATURE_NAMES.length);
              batchIds.push(row.patientId);
              if (batchIds.length === BATCH_ROWS) await flush();
            },
          );
          const failed = !scan.readable || (scan.errorCount > 0 && options.policy === 'fail');
          if (!failed) await flush();
          progress?.done();
          const report = reportOf(scan, failed ? undefined : { accepted: scored, fingerprint: null });
          if (failed) {
            await writer.abort();
            if (options.json) printJson({ scored: 0, output: null, report: ingestReportJson(report) });
            else process.stderr.write(renderRefusal(report, model.estimator));
            process.exitCode = 1;
            return;
          }
          if (header === undefined) {
            // No data rows: the header still follows the input's columns.
            await writer.write(
              csvLine(
                scan.hasPatientId ? [ID_COLUMN, 'probability', 'prediction'] : ['probability', 'prediction'],
              ),
            );
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
            threshold: options.threshold,
          };
          if (options.json) printJson({ ...summary, report: ingestReportJson(report) });
          else {
            process.stdout.write(
              `${marks().ok} scored ${scored} of ${scan.rowsRead} rows -> ${options.output} (${positives} predicted positive at threshold ${options.threshold})\n`,
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
          throw error;
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
        threshold: number;
        policy: 'fail' | 'skip';
        json?: boolean;
      }) => {
        const { model, document } = await loadModelPath(options.model);
        const { dataset, report } = assertIngested(
          await ingestCsvFile(options.data, {
            target: 'required',
            policy: options.policy,
            missingFeatures: missingValuePolicy(model.estimator),
          }),
        );
        const probabilities = model.predictProba(featureMatrix(dataset));
        const metrics = evaluateBinary(dataset.target!, probabilities, { threshold: options.threshold });
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

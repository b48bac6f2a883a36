import type { Command } from 'commander';
import { formatIssue, readDatasetFile } from '../data/csv-reader.js';
import { writeCsvFile } from '../data/csv-writer.js';
import { FEATURE_NAMES, ID_COLUMN } from '../data/schema.js';
import { explainModel, globalImportance, rankFeatures } from '../ml/explain/explain.js';
import { loadModelPath } from '../ml/formats/mlflow-model.js';
import { featureMatrix } from '../ml/train-on-dataset.js';
import { policyOption } from './options.js';
import { formatDecimals, formatNumber, marks, printJson, renderTable } from './output.js';

const TOP_FEATURES = 10;

export function registerExplainCommand(program: Command): void {
  program
    .command('explain')
    .description(
      'per-row feature contributions to the raw score: exact TreeSHAP for gbdt (log-odds), exact linear contributions for logistic (log-odds) and linear (score)',
    )
    .requiredOption(
      '-m, --model <model>',
      'model: an Onset model document, an XGBoost model (JSON or UBJ) or an MLflow model directory',
    )
    .requiredOption('-i, --input <file>', 'CSV file to explain (Kaggle layout; Diagnosis optional)')
    .requiredOption(
      '-o, --output <file>',
      'CSV file to write: PatientID (when the input has it), one column per feature (schema order), bias',
    )
    .addOption(policyOption())
    .option(
      '--json',
      'print a JSON summary: rows, model, mean |contribution| per feature and, for trees, gain and cover',
    )
    .action(
      async (options: {
        model: string;
        input: string;
        output: string;
        policy: 'fail' | 'skip';
        json?: boolean;
      }) => {
        const { model, document } = await loadModelPath(options.model);
        const { dataset, report } = await readDatasetFile(options.input, { policy: options.policy });
        const x = featureMatrix(dataset);
        const contributions = explainModel(model, x);
        const importance = globalImportance(model, x, contributions);

        const ids = dataset.patientIds;
        const cols = FEATURE_NAMES.length;
        const { bias, values } = contributions;
        function* rows(): Generator<(string | number)[]> {
          for (let i = 0; i < dataset.rowCount; i++) {
            const cells: (string | number)[] = ids === undefined ? [] : [ids[i]!];
            for (let j = 0; j < cols; j++) cells.push(values.data[i * cols + j]!);
            cells.push(bias);
            yield cells;
          }
        }
        await writeCsvFile(
          options.output,
          [...(ids === undefined ? [] : [ID_COLUMN]), ...FEATURE_NAMES, 'bias'],
          rows(),
        );

        const units = model.estimator === 'linear' ? 'score' : 'log-odds';
        const method = importance.splits === undefined ? 'linear' : 'tree-shap';
        const ranked = rankFeatures(importance.meanAbsContribution, FEATURE_NAMES);
        const splits = importance.splits;
        const splitRows =
          splits === undefined
            ? undefined
            : rankFeatures(splits.gain, FEATURE_NAMES).map(({ feature, index }) => ({
                feature,
                weight: splits.weight[index]!,
                gain: splits.gain[index]!,
                total_gain: splits.totalGain[index]!,
                cover: splits.cover[index]!,
                total_cover: splits.totalCover[index]!,
              }));

        if (options.json) {
          printJson({
            model: {
              path: options.model,
              estimator: document.estimator,
              format: document.training.imported_from ?? 'onset-model',
            },
            input: options.input,
            output: options.output,
            rows: dataset.rowCount,
            rows_read: report.rowsRead,
            skipped: report.rowsSkipped,
            method,
            units,
            // The contributions are of the model's own margin; its probabilities are calibrated after it.
            calibration: document.calibration?.method ?? 'none',
            bias,
            importance: ranked.map(({ feature, value }) => ({ feature, mean_abs_contribution: value })),
            ...(splitRows === undefined ? {} : { split_importance: splitRows }),
          });
          return;
        }

        const gainOf = new Map(splitRows?.map((row) => [row.feature, row]));
        const lines = [
          `${marks().ok} explained ${dataset.rowCount} of ${report.rowsRead} rows -> ${options.output} (${document.estimator}, ${method === 'tree-shap' ? 'TreeSHAP' : 'exact linear contributions'}, ${units}; bias ${formatNumber(bias, 6)})`,
        ];
        const calibration = document.calibration?.method ?? 'none';
        if (calibration !== 'none') {
          lines.push(
            `  the contributions add up to the model's own margin; its probabilities are then calibrated (${calibration})`,
          );
        }
        if (report.rowsSkipped > 0) {
          lines.push(`  ${report.rowsSkipped} invalid row(s) skipped:`);
          for (const issue of report.issues.filter((i) => i.severity === 'error').slice(0, 20)) {
            lines.push(`  ${formatIssue(issue)}`);
          }
        }
        lines.push(
          '',
          `Top ${Math.min(TOP_FEATURES, ranked.length)} features by mean |contribution| (${units}):`,
          renderTable(ranked.slice(0, TOP_FEATURES), [
            { header: 'feature', value: (row) => row.feature },
            { header: 'mean |contribution|', value: (row) => formatDecimals(row.value, 4), align: 'right' },
            ...(splitRows === undefined
              ? []
              : [
                  {
                    header: 'gain',
                    value: (row: { feature: string }) => formatDecimals(gainOf.get(row.feature)?.gain, 4),
                    align: 'right' as const,
                  },
                  {
                    header: 'cover',
                    value: (row: { feature: string }) => formatDecimals(gainOf.get(row.feature)?.cover, 2),
                    align: 'right' as const,
                  },
                ]),
          ]),
          '',
        );
        process.stdout.write(lines.join('\n'));
      },
    );
}

import type { Command } from 'commander';
import { Option } from 'commander';
import { invalidParameter } from '../errors.js';
import { ESTIMATOR_NAMES, estimatorEntry } from '../ml/estimator-registry.js';
import { loadModelPath } from '../ml/formats/mlflow-model.js';
import { exportedCalibration, exportXgboost, saveModelDocument } from '../ml/model-document.js';
import { describeSpec } from '../ml/params.js';
import { buildModelCard, modelCardHtml, modelCardMarkdown } from '../ml/report/model-card.js';
import { loadServedModel, parseModelUri } from '../serving/model-source.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { addStoreOptions, configFrom } from './config-options.js';
import { modelReportJson, paramSpecsJson } from './json-views.js';
import { asUsage } from './options.js';
import { marks, printJson, renderTable } from './output.js';
import { renderModelReport } from './report-view.js';
import { openCommandStores, type StoreFlags } from './stores.js';

export function registerModelCommands(program: Command): void {
  const model = program.command('model').description('inspect, export and import model files');

  model
    .command('export')
    .description(
      'write a gbdt model as an XGBoost JSON model (loadable with xgboost.Booster(model_file=...))',
    )
    .argument('<model>', 'Onset model document')
    .addOption(new Option('--format <format>', 'output format').choices(['xgboost']).makeOptionMandatory())
    .requiredOption('-o, --output <file>', 'where to write the exported model')
    .action(async (path: string, options: { output: string }) => {
      const { model: fitted, document } = await loadModelPath(path);
      await writeFileAtomic(options.output, exportXgboost(fitted, path));
      const calibration = exportedCalibration(fitted);
      process.stdout.write(
        `${marks().ok} exported ${path} as XGBoost JSON -> ${options.output}${calibration === 'folded' ? ' (its Platt scaling folded into the trees: XGBoost gives the calibrated probabilities)' : ''}\n`,
      );
      if (calibration === 'left_out') {
        // XGBoost's format has no place for it: said on standard error, where warnings go.
        process.stderr.write(
          `warning: ${path} calibrates its probabilities (${document.calibration?.method}), which XGBoost's format cannot hold; the XGBoost model gives the uncalibrated ones (Onset's own document, and its MLflow onset flavor, keep the calibration)\n`,
        );
      }
    });

  model
    .command('import')
    .description(
      'read an XGBoost model (binary:logistic, numeric splits), or an MLflow model directory holding one, into an Onset model document',
    )
    .argument(
      '<file>',
      'XGBoost model as saved by save_model("model.json") or ("model.ubj"), or an MLflow model directory',
    )
    .requiredOption('-o, --output <model.json>', 'where to write the Onset model document')
    .action(async (path: string, options: { output: string }) => {
      const loaded = await loadModelPath(path);
      if (loaded.format === 'onset-model')
        throw invalidParameter(`${path} is already an Onset model document`);
      await saveModelDocument(options.output, loaded.document);
      process.stdout.write(
        `${marks().ok} imported ${path} (${loaded.model.params.n_estimators} trees) -> ${options.output}\n`,
      );
    });

  model
    .command('report')
    .description(
      'show the model report made at training time: metrics, calibration, subgroups, importance, data',
    )
    .argument('<model>', 'Onset model document')
    .option('--json', 'print the report as JSON')
    .action(async (path: string, options: { json?: boolean }) => {
      const { document } = await loadModelPath(path);
      if (document.report === undefined) {
        throw invalidParameter(
          `${path} has no model report (imported models and models saved before reports existed); train it with onset train`,
        );
      }
      if (options.json) printJson(modelReportJson(document.report));
      else process.stdout.write(renderModelReport(path, document, document.report));
    });

  addStoreOptions(
    model
      .command('card')
      .description(
        'write the model card (TRIPOD+AI items: intended use, data, features, development and validation, performance, calibration, threshold, prediction sets, subgroups, decision curve, limitations) as Markdown, HTML or JSON',
      )
      .argument(
        '[model]',
        'a model file, or models:/NAME/STAGE|VERSION, models:/NAME@ALIAS, runs:/RUN_ID/model from the stores (default: env ONSET_MODEL_URI, else models:/parkinson-disease-prediction/Production)',
      )
      .addOption(
        new Option('--format <format>', 'what to write')
          .choices(['markdown', 'html', 'json'])
          .default('markdown'),
      )
      .option('-o, --output <file>', 'write to this file instead of standard output'),
  ).action(
    async (
      uri: string | undefined,
      options: StoreFlags & { format: 'markdown' | 'html' | 'json'; output?: string },
    ) => {
      const modelUri = uri ?? configFrom(options).modelUri;
      const parsed = asUsage(() => parseModelUri(modelUri));
      const stores = parsed.kind === 'file' ? undefined : await openCommandStores(options, 'read');
      try {
        const served = await loadServedModel(modelUri, stores);
        const datasetSource =
          served.runId && stores
            ? ((await stores.tracking.getRun(served.runId)).data.tags.find(
                (tag) => tag.key === 'onset.dataset.path',
              )?.value ?? null)
            : null;
        const card = buildModelCard(served.document, {
          name: served.name,
          version: served.version,
          stage: served.stage,
          runId: served.runId,
          checksum: served.checksum,
          datasetSource,
        });
        const text =
          options.format === 'json'
            ? `${JSON.stringify(card, null, 2)}\n`
            : options.format === 'html'
              ? modelCardHtml(card)
              : modelCardMarkdown(card);
        if (options.output === undefined) {
          process.stdout.write(text);
          return;
        }
        await writeFileAtomic(options.output, text);
        process.stdout.write(`${marks().ok} wrote the model card of ${modelUri} -> ${options.output}\n`);
      } finally {
        await stores?.close();
      }
    },
  );

  model
    .command('params')
    .description('list the parameters of a model family with their ranges and defaults')
    .argument('<family>', ESTIMATOR_NAMES.join(' | '))
    .option('--json', 'print as JSON')
    .action((family: string, options: { json?: boolean }) => {
      const entry = estimatorEntry(family);
      if (options.json) {
        printJson(paramSpecsJson(entry.params));
        return;
      }
      const rows = Object.entries(entry.params);
      process.stdout.write(
        `${family}: ${entry.description}\n\n${renderTable(rows, [
          {
            header: 'parameter',
            value: ([name, spec]) => `${name}${spec.aliases?.length ? ` (${spec.aliases.join(', ')})` : ''}`,
          },
          { header: 'default', value: ([, spec]) => String(spec.default) },
          { header: 'allowed', value: ([, spec]) => describeSpec(spec) },
          { header: 'meaning', value: ([, spec]) => spec.description },
        ])}\n`,
      );
    });
}

import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { readDatasetFile } from '../data/csv-reader.js';
import { CALIBRATION_CHOICES, type CalibrationChoice } from '../ml/calibration/calibration.js';
import { DEFAULT_CONFORMAL_LEVEL } from '../ml/calibration/conformal.js';
import type { ThresholdPolicy } from '../ml/decision/threshold-policy.js';
import { createEstimator, ESTIMATOR_NAMES, missingValuePolicy } from '../ml/estimator-registry.js';
import { SELECTION_METRICS, type SelectionMetric } from '../ml/metrics/index.js';
import { saveModelDocument } from '../ml/model-document.js';
import { DEFAULT_SUBGROUP_GAP_BOUND } from '../ml/report/model-report.js';
import { CALIBRATION_FOLDS, type TrainResult, trainOnDataset } from '../ml/train-on-dataset.js';
import { DEFAULT_EXPERIMENT, type LoggedRun, logTrainingRun } from '../tracking/training-logger.js';
import { addStoreOptions } from './config-options.js';
import { foldResultJson } from './json-views.js';
import { renderMetrics } from './metrics-view.js';
import {
  asUsage,
  collect,
  foldsArgument,
  integerArgument,
  parseParamAssignments,
  policyOption,
  positiveIntegerArgument,
  probabilityArgument,
  thresholdPolicyOption,
} from './options.js';
import { marks, printJson } from './output.js';
import { createProgress } from './progress.js';
import { openCommandStores } from './stores.js';

interface TrainCliOptions {
  track: boolean;
  experiment: string;
  runName?: string;
  home?: string;
  trackingUri?: string;
  artifactUri?: string;
  tune?: number;
  tuneMetric: SelectionMetric;
  sampler: 'tpe' | 'random';
  tuneSeed?: number;
  data: string;
  model: string;
  param: string[];
  cv?: number;
  cvSeed: number;
  calibration: CalibrationChoice;
  subgroupGap: number;
  conformalLevel: number;
  threshold: ThresholdPolicy;
  output: string;
  policy: 'fail' | 'skip';
  json?: boolean;
}

/** What `--json` says of the calibration: the method, how it was chosen, held-out figures before and after. */
function calibrationJson(result: TrainResult): Record<string, unknown> | null {
  const calibration = result.report.calibration;
  if (!calibration) return null;
  const figures = (f: typeof calibration.before) => ({
    ece: f.ece,
    ece_interval: f.ece_interval,
    brier: f.brier,
    reliability: f.reliability,
    resolution: f.resolution,
    uncertainty: f.uncertainty,
  });
  return {
    method: calibration.method,
    chosen_by: calibration.chosen_by,
    candidates: calibration.candidates,
    before: figures(calibration.before),
    after: figures(calibration.after),
  };
}

export function registerTrainCommand(program: Command): void {
  addStoreOptions(program.command('train'))
    .description('train a model on a labelled CSV file and save it as an Onset model document')
    .requiredOption('-d, --data <file>', 'labelled CSV file (Kaggle layout, Diagnosis required)')
    .addOption(
      new Option('-m, --model <family>', `model family: ${ESTIMATOR_NAMES.join(', ')}`)
        .choices(ESTIMATOR_NAMES)
        .makeOptionMandatory(),
    )
    .option(
      '-p, --param <key=value>',
      'a model parameter (repeatable), e.g. --param max_depth=4',
      collect,
      [],
    )
    .option('--cv <k>', 'cross-validate with k stratified folds (k >= 2) before the final fit', foldsArgument)
    .option('--cv-seed <seed>', 'seed of the cross-validation folds', integerArgument, 42)
    .addOption(
      new Option(
        '--calibration <method>',
        `calibrate the probabilities on out-of-fold ones (cross-validating ${CALIBRATION_FOLDS} folds when --cv is not given): auto lets cross-validation choose among none and every method; none keeps the model's own`,
      )
        .choices([...CALIBRATION_CHOICES])
        .default('auto'),
    )
    .option(
      '--conformal-level <level>',
      'coverage of the prediction sets: each diagnosis is in the set of the patients who have it at least this often',
      probabilityArgument,
      DEFAULT_CONFORMAL_LEVEL,
    )
    .option(
      '--subgroup-gap <bound>',
      'flag in the report a gap in accuracy, recall or specificity between subgroups (sex, ethnicity, age band) above this',
      probabilityArgument,
      DEFAULT_SUBGROUP_GAP_BOUND,
    )
    .option(
      '--tune <n>',
      'search the parameters with n trials first, each cross-validated (--cv folds, default 5)',
      positiveIntegerArgument,
    )
    .addOption(
      new Option('--tune-metric <metric>', 'what the search maximizes (log_loss and brier are minimized)')
        .choices([...SELECTION_METRICS])
        .default('roc_auc'),
    )
    .addOption(new Option('--sampler <sampler>', 'search strategy').choices(['tpe', 'random']).default('tpe'))
    .option('--tune-seed <seed>', 'seed of the search (default: the --cv-seed)', integerArgument)
    .addOption(thresholdPolicyOption())
    .addOption(policyOption())
    .requiredOption('-o, --output <model.json>', 'where to write the model document')
    .option('--json', 'print one JSON object with model, params, metrics and fit_seconds')
    .option('--no-track', 'do not log a run in the tracking store')
    .option('-e, --experiment <name>', 'experiment to log the run in', DEFAULT_EXPERIMENT)
    .option('--run-name <name>', 'name of the logged run')
    .addHelpText(
      'after',
      '\nParameters per family: run `onset model params <family>`. gbdt takes XGBoost names (n_estimators,\nlearning_rate/eta, max_depth, ...); early_stopping_rounds holds out a stratified 20% of the rows.',
    )
    .action(async (options: TrainCliOptions) => {
      const params = parseParamAssignments(options.param);
      // Unknown parameters and values out of range are usage errors, refused before the file is read.
      asUsage(() => createEstimator(options.model, params).getParams());
      const { dataset, report } = await readDatasetFile(options.data, {
        target: 'required',
        policy: options.policy,
        // Linear models cannot use missing values: each one is reported with its row and column.
        missingFeatures: missingValuePolicy(options.model),
      });
      const progress = options.json
        ? undefined
        : createProgress(options.tune ? `tuning ${options.model}` : `cross-validating ${options.model}`);
      const result = trainOnDataset(dataset, {
        estimator: options.model as (typeof ESTIMATOR_NAMES)[number],
        params,
        ...(options.cv === undefined ? {} : { cvFolds: options.cv }),
        cvSeed: options.cvSeed,
        calibration: options.calibration,
        subgroupGapBound: options.subgroupGap,
        conformalLevel: options.conformalLevel,
        threshold: options.threshold,
        ...(options.tune
          ? {
              tune: {
                trials: options.tune,
                metric: options.tuneMetric,
                sampler: options.sampler,
                seed: options.tuneSeed ?? options.cvSeed,
                ...(progress
                  ? { onTrial: (done: number, total: number) => progress.update(done, total) }
                  : {}),
              },
            }
          : {}),
        ...(progress ? { onFold: (done: number, total: number) => progress.update(done, total) } : {}),
      });
      progress?.done();
      await saveModelDocument(options.output, result.document);
      let logged: LoggedRun | undefined;
      if (options.track) {
        const stores = await openCommandStores(options, 'write');
        try {
          logged = await logTrainingRun(stores, {
            result,
            datasetPath: resolve(options.data),
            experimentName: options.experiment,
            ...(options.runName ? { runName: options.runName } : {}),
          });
        } finally {
          await stores.close();
        }
      }
      if (options.json) {
        printJson({
          model: result.document.estimator,
          params: result.document.params,
          metrics: {
            training: result.trainingMetrics,
            ...(result.crossValidation
              ? {
                  cross_validation: {
                    folds: result.crossValidation.folds,
                    seed: result.crossValidation.seed,
                    mean: Object.fromEntries(
                      Object.entries(result.crossValidation.summary).map(([k, v]) => [k, v.mean]),
                    ),
                    std: Object.fromEntries(
                      Object.entries(result.crossValidation.summary).map(([k, v]) => [k, v.std]),
                    ),
                    per_fold: result.crossValidation.perFold.map(foldResultJson),
                  },
                }
              : {}),
          },
          ...(result.document.tuning ? { tuning: result.document.tuning } : {}),
          calibration: calibrationJson(result),
          conformal: result.document.conformal ?? null,
          threshold: result.document.threshold ?? null,
          fit_seconds: result.fitSeconds,
          ...(logged
            ? { run_id: logged.runId, experiment_id: logged.experimentId, model_source: logged.modelSource }
            : {}),
          rows: dataset.rowCount,
          rows_skipped: report.rowsSkipped,
          dataset_fingerprint: result.document.training.dataset_fingerprint,
          output: options.output,
        });
        return;
      }
      const lines = [
        `${marks().ok} trained ${result.document.estimator} on ${dataset.rowCount} rows in ${result.fitSeconds.toFixed(3)} s -> ${options.output}`,
      ];
      if (logged)
        lines.push(
          `  logged run ${logged.runId} in experiment ${options.experiment} (id ${logged.experimentId}; onset runs show ${logged.runId})`,
        );
      if (report.rowsSkipped > 0)
        lines.push(`  ${report.rowsSkipped} invalid row(s) skipped (see onset data validate)`);
      const tuning = result.document.tuning;
      if (tuning) {
        lines.push(
          `  tuned: ${tuning.trials.length} trials (${tuning.sampler}, ${tuning.folds} folds), best ${tuning.metric} ${tuning.best_value.toFixed(4)} at trial ${tuning.best_trial}:`,
          `    ${Object.entries(tuning.best_params)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}`,
        );
      }
      if (result.crossValidation) {
        lines.push(
          `  cross-validation: ${result.crossValidation.folds} stratified folds, seed ${result.crossValidation.seed}`,
        );
      }
      const calibration = result.report.calibration;
      if (calibration) {
        const how = calibration.chosen_by === 'cross_validation' ? 'chosen by cross-validation' : 'as asked';
        lines.push(
          `  calibration: ${calibration.method} (${how}); held-out ECE ${calibration.before.ece.toFixed(4)} -> ${calibration.after.ece.toFixed(4)} (95% CI ${calibration.after.ece_interval.map((v) => v.toFixed(4)).join(' to ')}), Brier ${calibration.before.brier.toFixed(4)} -> ${calibration.after.brier.toFixed(4)}`,
        );
      }
      const conformal = result.report.conformal;
      if (conformal) {
        const held = conformal.held_out;
        lines.push(
          `  prediction sets at ${conformal.level}: held-out coverage ${held.coverage[0].toFixed(3)} (no PD) and ${held.coverage[1].toFixed(3)} (PD); ${(100 * held.undecided).toFixed(1)}% of patients undecided ({0, 1})`,
        );
      }
      const threshold = result.document.threshold;
      if (threshold) {
        lines.push(`  decision threshold ${threshold.value}: ${threshold.reason}`);
        const crossFitted = threshold.cross_fitted;
        if (crossFitted) {
          lines.push(
            `    chosen on the other folds for each fold in turn: sensitivity ${crossFitted.sensitivity.toFixed(3)}, specificity ${crossFitted.specificity.toFixed(3)} (what to expect for new patients)`,
          );
        }
      }
      lines.push(
        '',
        renderMetrics({ 'training (final model)': result.trainingMetrics }, result.crossValidation?.summary),
      );
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}

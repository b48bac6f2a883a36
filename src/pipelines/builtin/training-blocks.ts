import { resolve } from 'node:path';
import { readDatasetFile } from '../../data/csv-reader.js';
import { requireTarget, selectRows } from '../../data/dataset.js';
import { fingerprintDataset } from '../../data/fingerprint.js';
import { generateDataset } from '../../data/generator/generator.js';
import { trainTestSplit } from '../../data/splits.js';
import { OnsetError } from '../../errors.js';
import { decisionThreshold, parseThresholdPolicy } from '../../ml/decision/threshold-policy.js';
import type { EstimatorName } from '../../ml/estimator.js';
import {
  type BinaryMetricName,
  evaluateBinary,
  lowerIsBetter,
  type SelectionMetric,
} from '../../ml/metrics/index.js';
import { trainInWorker } from '../../ml/parallel/train-in-worker.js';
import { featureMatrix } from '../../ml/train-on-dataset.js';
import type { ModelVersion } from '../../tracking/entities.js';
import {
  findModelVersion,
  loadModelVersion,
  type RegistryStores,
  registerModelVersion,
} from '../../tracking/model-registry.js';
import { logTrainingRun } from '../../tracking/training-logger.js';
import { type BlockContext, defineBlock } from '../block.js';
import { BUILT_IN_GOLDEN_CASES, readGoldenCases } from './golden-cases.js';
import { applyPromotionGate } from './promotion-gate.js';
import type { Candidate } from './value-types.js';

/** Reads `data` (or generates the built-in data set when it is empty) and validates it. */
export const loadBlock = defineBlock({
  name: 'load',
  kind: 'loader',
  description: 'read and validate the labelled CSV (param data), or generate the built-in data set',
  inputs: {},
  output: 'data',
  async run(_inputs, { params, log }) {
    const path = String(params.data ?? '');
    if (path === '') {
      const rows = Number(params.rows);
      const seed = Number(params.data_seed);
      const dataset = generateDataset({ rows, seed });
      log.info(`generated the built-in data set: ${rows} rows, seed ${seed}`);
      return {
        dataset,
        source: `built-in:generated?rows=${rows}&seed=${seed}`,
        fingerprint: fingerprintDataset(dataset),
      };
    }
    const { dataset, report } = await readDatasetFile(path, { target: 'required' });
    log.info(`read ${dataset.rowCount} valid rows from ${path} (${report.rowsRead} read)`);
    return { dataset, source: resolve(path), fingerprint: fingerprintDataset(dataset) };
  },
  summarize: ({ dataset, source, fingerprint }) => ({
    rows: dataset.rowCount,
    positives: requireTarget(dataset).reduce((sum, y) => sum + y, 0),
    source,
    fingerprint,
  }),
});

/** A stratified, seeded train/holdout split of the data `from` outputs (a `data` value). */
export function splitBlockOf(from: string) {
  return defineBlock({
    name: 'split',
    kind: 'transformer',
    description: 'stratified train/holdout split (params holdout, seed)',
    inputs: { data: { from, type: 'data' } },
    output: 'split',
    async run({ data }, { params, log }) {
      const seed = Number(params.seed);
      const split = trainTestSplit(requireTarget(data.dataset), {
        testFraction: Number(params.holdout),
        seed,
      });
      log.info(`${split.train.length} training rows, ${split.test.length} held out (seed ${seed})`);
      return {
        source: data.source,
        train: selectRows(data.dataset, split.train),
        holdout: selectRows(data.dataset, split.test),
        seed,
      };
    },
    summarize: (split) => ({
      train_rows: split.train.rowCount,
      holdout_rows: split.holdout.rowCount,
      seed: split.seed,
    }),
  });
}

/** The split of the loaded data (block `load`). */
export const splitBlock = splitBlockOf('load');

/**
 * Trains one family on the training part (cross-validated with `cv` folds; tuned first with `trials` > 0)
 * on a worker thread, scores it on the held-out part and logs the tracking run.
 */
export function trainBlock(estimator: EstimatorName) {
  return defineBlock({
    name: `train-${estimator}`,
    kind: 'trainer',
    description: `cross-validate and fit ${estimator} on the training part, score the holdout, log the run`,
    inputs: { split: { from: 'split', type: 'split' } },
    output: 'candidate',
    async run({ split }, context): Promise<Candidate> {
      const { params, signal, log } = context;
      const folds = Number(params.cv);
      const trials = Number(params.trials);
      const seed = Number(params.seed);
      const started = Date.now();
      const result = await trainInWorker(
        split.train,
        {
          estimator,
          cvFolds: folds,
          cvSeed: seed,
          threshold: parseThresholdPolicy(String(params.threshold), 'param threshold'),
          // Tree ensembles take seconds per fold: their folds use a second core when one is free.
          parallelFolds: estimator === 'gbdt' || estimator === 'oblivious',
          ...(trials > 0
            ? {
                tune: {
                  trials,
                  seed,
                  metric: String(params.metric) as SelectionMetric,
                  onTrial: (done: number, total: number) => context.progress(done, total, 'trials'),
                },
              }
            : {}),
          onFold: (done, total) => context.progress(done, total, 'folds'),
        },
        signal,
      );
      // At the model's own threshold, as it will diagnose.
      const holdout = evaluateBinary(
        requireTarget(split.holdout),
        result.model.predictProba(featureMatrix(split.holdout)),
        { threshold: decisionThreshold(result.document) },
      );
      const cv = result.crossValidation!.summary;
      log.info(
        `${estimator}: cv roc_auc ${cv.roc_auc.mean.toFixed(4)} ± ${cv.roc_auc.std.toFixed(4)}, accuracy ${cv.accuracy.mean.toFixed(4)}; holdout roc_auc ${holdout.roc_auc.toFixed(4)}, accuracy ${holdout.accuracy.toFixed(4)} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
      );
      const logged = await logTrainingRun(context.stores, {
        result,
        datasetPath: split.source,
        experimentName: String(params.experiment),
        runName: `${estimator}-${context.pipeline}-${context.runId.slice(0, 8)}`,
        pipelineRunId: context.runId,
        source: `onset pipeline ${context.pipeline}`,
        holdout,
      });
      await context.link('tracking_run', logged.runId);
      return { source: logged.modelSource, result, holdout };
    },
    summarize: ({ result, holdout, source }) => ({
      estimator: result.document.estimator,
      cv_roc_auc: result.crossValidation?.summary.roc_auc.mean ?? null,
      cv_accuracy: result.crossValidation?.summary.accuracy.mean ?? null,
      holdout_roc_auc: holdout.roc_auc,
      holdout_accuracy: holdout.accuracy,
      model: source,
    }),
  });
}

/** Picks the candidate with the best cross-validated primary metric (the holdout stays for the gate). */
export const selectBlock = defineBlock({
  name: 'select',
  kind: 'evaluator',
  description:
    'compare the candidates on the primary metric (param metric), cross-validated on the same folds',
  inputs: {
    linear: { from: 'train-linear', type: 'candidate' },
    logistic: { from: 'train-logistic', type: 'candidate' },
    gbdt: { from: 'train-gbdt', type: 'candidate' },
    oblivious: { from: 'train-oblivious', type: 'candidate' },
  },
  output: 'candidate',
  async run(candidates, { params, log }) {
    const metric = String(params.metric) as BinaryMetricName;
    const sign = lowerIsBetter(metric) ? -1 : 1;
    const scored = Object.values(candidates).map((candidate) => ({
      candidate,
      cv: candidate.result.crossValidation!.summary[metric].mean,
    }));
    scored.sort((a, b) => sign * (b.cv - a.cv));
    for (const { candidate, cv } of scored) {
      log.info(
        `${candidate.result.document.estimator.padEnd(10)} cv ${metric} ${cv.toFixed(4)}  holdout ${candidate.holdout[metric].toFixed(4)}`,
      );
    }
    const best = scored[0]!;
    log.info(`best: ${best.candidate.result.document.estimator} (cv ${metric} ${best.cv.toFixed(4)})`);
    return best.candidate;
  },
  summarize: ({ result, holdout, source }) => ({
    estimator: result.document.estimator,
    holdout_roc_auc: holdout.roc_auc,
    model: source,
  }),
});

/** Registers a candidate's model as a new version of `model_name`. */
export function registerBlock(from: string) {
  return defineBlock({
    name: 'register',
    kind: 'registrar',
    description: 'register the model as a new version (param model_name)',
    inputs: { candidate: { from, type: 'candidate' } },
    output: 'registered-model',
    async run({ candidate }, context) {
      const runId = candidate.source.split('/')[1]!;
      const version = await registerModelVersion(context.stores, {
        name: String(context.params.model_name),
        source: candidate.source,
        runId,
        description: `${candidate.result.document.estimator} trained by pipeline ${context.pipeline} (run ${context.runId})`,
        createModelIfMissing: true,
      });
      await context.link('model_version', `${version.name}/${version.version}`);
      context.log.info(`registered ${version.name} version ${version.version} from run ${runId}`);
      return { version, candidate };
    },
    summarize: ({ version }) => ({ name: version.name, version: version.version, run_id: version.runId }),
  });
}

/** What both gate blocks take from the run: golden cases, metric, margin, run id and logger. */
async function gateSettings(context: BlockContext) {
  const folder = String(context.params.golden);
  return {
    golden: await readGoldenCases(folder === '' ? BUILT_IN_GOLDEN_CASES : folder),
    metric: String(context.params.metric) as SelectionMetric,
    margin: Number(context.params.margin),
    subgroupGap: Number(context.params.subgroup_gap),
    pipelineRunId: context.runId,
    log: context.log,
  };
}

/** The promotion gate after training: golden cases, then the challenger against Production on the holdout. */
export const gateBlock = defineBlock({
  name: 'gate',
  kind: 'evaluator',
  description:
    'promote to Production if it passes the golden cases and beats Production on the holdout by the margin; else Staging',
  inputs: {
    registered: { from: 'register', type: 'registered-model' },
    split: { from: 'split', type: 'split' },
  },
  output: 'decision',
  async run({ registered, split }, context) {
    return applyPromotionGate(context.stores, {
      version: registered.version,
      model: registered.candidate.result.model,
      threshold: registered.candidate.result.document.threshold,
      holdout: split.holdout,
      ...(await gateSettings(context)),
    });
  },
  summarize: (decision) => ({
    version: decision.version,
    stage: decision.stage,
    reason: decision.reason,
    challenger: decision.challenger,
    champion: decision.champion?.value ?? null,
    judged_rows: decision.judgedRows,
  }),
});

/** The `promote` pipeline's gate: a registered version judged on the loaded data. */
export const promoteBlock = defineBlock({
  name: 'gate',
  kind: 'evaluator',
  description:
    'promote a registered version (param version; default the newest not in Production or Archived)',
  inputs: { data: { from: 'load', type: 'data' } },
  output: 'decision',
  async run({ data }, context) {
    const name = String(context.params.model_name);
    const reference = String(context.params.version);
    const version =
      reference === ''
        ? await newestCandidate(context.stores, name)
        : await findModelVersion(context.stores.registry, name, reference);
    const loaded = await loadModelVersion(context.stores, version);
    context.log.info(
      `judging ${name} version ${version.version} (${loaded.document.estimator}) on ${data.dataset.rowCount} rows`,
    );
    return applyPromotionGate(context.stores, {
      version,
      model: loaded.model,
      threshold: loaded.document.threshold,
      holdout: data.dataset,
      ...(await gateSettings(context)),
    });
  },
  summarize: gateBlock.summarize!,
});

async function newestCandidate(stores: RegistryStores, name: string): Promise<ModelVersion> {
  const versions = await stores.registry.getLatestVersions(name, ['None', 'Staging']);
  const newest = [...versions].sort((a, b) => Number(b.version) - Number(a.version))[0];
  if (!newest) {
    throw new OnsetError(
      'RESOURCE_DOES_NOT_EXIST',
      `Registered model ${name} has no version outside Production and Archived to promote`,
    );
  }
  return newest;
}

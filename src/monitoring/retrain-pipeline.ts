import { createDataset, type Dataset, requireTarget } from '../data/dataset.js';
import { fingerprintDataset } from '../data/fingerprint.js';
import { FEATURE_NAMES, type FeatureName } from '../data/schema.js';
import { defineBlock } from '../pipelines/block.js';
import { FAMILIES, GATE_PARAMS, TRAINING_PARAMS } from '../pipelines/builtin/catalog.js';
import {
  gateBlock,
  loadBlock,
  registerBlock,
  selectBlock,
  splitBlockOf,
  trainBlock,
} from '../pipelines/builtin/training-blocks.js';
import type { LoadedData } from '../pipelines/builtin/value-types.js';
import { definePipeline, type PipelineDefinition } from '../pipelines/pipeline.js';
import type { PredictionLogStore } from './prediction-log/prediction-log-store.js';
import { parseWindow } from './time-window.js';

/** The retraining pipeline's name: what alerts with `action="retrain"` start. */
export const RETRAIN_PIPELINE = 'retrain';

/** The feedback-labelled predictions of the prediction log, as training rows. */
export interface FeedbackRows {
  readonly data: LoadedData;
  /** The window they were read from, as written (`30d`). */
  readonly window: string;
  /** Labelled predictions found in the window (at most the cap). */
  readonly found: number;
  /** Whether the cap left older labelled predictions of the window out. */
  readonly capped: boolean;
  /** Rows left out because a feature value was missing (scored by a model that takes missing values). */
  readonly skippedMissing: number;
}

declare module '../pipelines/block.js' {
  interface PipelineValueTypes {
    'feedback-rows': FeedbackRows;
  }
}

/** The rows of `first`, then those of `second`, without patient ids (the log's rows have none). */
function concatenate(first: Dataset, second: Dataset): Dataset {
  const columns = {} as Record<FeatureName, Float64Array>;
  for (const name of FEATURE_NAMES) {
    const column = new Float64Array(first.rowCount + second.rowCount);
    column.set(first.columns[name], 0);
    column.set(second.columns[name], first.rowCount);
    columns[name] = column;
  }
  const target = new Float64Array(first.rowCount + second.rowCount);
  target.set(requireTarget(first), 0);
  target.set(requireTarget(second), first.rowCount);
  return createDataset({ columns, target });
}

/**
 * Reads the feedback-labelled predictions of the last `feedback_window` (the latest
 * `feedback_max_rows`): their 32 feature values, and the diagnosis the feedback recorded as the target.
 */
function feedbackBlock(log: () => PredictionLogStore, now: () => number) {
  return defineBlock({
    name: 'feedback',
    kind: 'loader',
    description:
      'read the predictions with feedback of the last feedback_window from the prediction log (at most feedback_max_rows, the latest): features and the recorded diagnosis',
    inputs: {},
    output: 'feedback-rows',
    async run(_inputs, { params, log: logger }): Promise<FeedbackRows> {
      const window = parseWindow(String(params.feedback_window));
      const cap = Number(params.feedback_max_rows);
      const columns = [...FEATURE_NAMES, 'label'] as const;
      const read =
        cap === 0
          ? { rows: 0, columns: undefined }
          : await log().readColumns({ from: now() - window.durationMs }, columns, {
              maxRows: cap + 1,
              labelledOnly: true,
            });
      // One row more than the cap is read only to know whether the cap left some out.
      const capped = read.rows > cap;
      const first = capped ? read.rows - cap : 0;
      const kept: number[] = [];
      let skippedMissing = 0;
      for (let row = first; row < read.rows; row++) {
        if (FEATURE_NAMES.some((name) => Number.isNaN(read.columns![name][row]!))) skippedMissing++;
        else kept.push(row);
      }
      const featureColumns = {} as Record<FeatureName, Float64Array>;
      for (const name of FEATURE_NAMES) {
        featureColumns[name] = Float64Array.from(kept, (row) => read.columns![name][row]!);
      }
      const dataset = createDataset({
        columns: featureColumns,
        target: Float64Array.from(kept, (row) => read.columns!.label[row]!),
      });
      logger.info(
        `${dataset.rowCount} predictions with feedback in the last ${window.label}${capped ? ` (the latest ${cap}: older ones left out)` : ''}${skippedMissing > 0 ? `; ${skippedMissing} left out for a missing feature value` : ''}`,
      );
      return {
        data: {
          dataset,
          source: `prediction-log:feedback?window=${window.label}`,
          fingerprint: fingerprintDataset(dataset),
        },
        window: window.label,
        found: read.rows - first,
        capped,
        skippedMissing,
      };
    },
    summarize: (rows) => ({
      rows: rows.data.dataset.rowCount,
      positives: requireTarget(rows.data.dataset).reduce((sum, y) => sum + y, 0),
      window: rows.window,
      capped: rows.capped,
      skipped_missing: rows.skippedMissing,
    }),
  });
}

/** Goes on only with at least `min_feedback_rows` feedback rows: without new labels there is nothing new to learn. */
const enoughFeedbackBlock = defineBlock({
  name: 'enough-feedback',
  kind: 'sensor',
  description:
    'go on only with at least min_feedback_rows feedback rows (without them the original data alone would train the same models again)',
  inputs: { feedback: { from: 'feedback', type: 'feedback-rows' } },
  output: 'condition',
  async run({ feedback }, { params, log }) {
    const needed = Number(params.min_feedback_rows);
    const found = feedback.data.dataset.rowCount;
    if (found >= needed) return true;
    log.warn(
      `${found} feedback row(s) in the last ${feedback.window}, fewer than min_feedback_rows=${needed}: nothing new to train on, so nothing is trained (post ground truth to POST /feedback, or lower min_feedback_rows)`,
    );
    return false;
  },
});

/** The original data with the feedback rows after it: what the training blocks split. */
const combineBlock = defineBlock({
  name: 'combine',
  kind: 'transformer',
  description: 'the original data, then the feedback rows: what is split, trained on and judged on',
  inputs: {
    original: { from: 'load', type: 'data' },
    feedback: { from: 'feedback', type: 'feedback-rows' },
  },
  after: ['enough-feedback'],
  output: 'data',
  async run({ original, feedback }, { log }): Promise<LoadedData> {
    const dataset = concatenate(original.dataset, feedback.data.dataset);
    log.info(
      `${original.dataset.rowCount} original rows + ${feedback.data.dataset.rowCount} feedback rows = ${dataset.rowCount} rows`,
    );
    return {
      dataset,
      source: `${original.source} + ${feedback.data.source}`,
      fingerprint: fingerprintDataset(dataset),
    };
  },
  summarize: ({ dataset, source }) => ({
    rows: dataset.rowCount,
    positives: requireTarget(dataset).reduce((sum, y) => sum + y, 0),
    source,
  }),
});

/**
 * The `retrain` pipeline: `train-all` on the original data (params `data`, `rows`, `data_seed`) plus the
 * feedback-labelled predictions of the prediction log, through the same blocks (split, the four
 * families on the same folds, select, register) and the promotion gate, which judges the challenger
 * against Production on held-out rows of both. Alerts with `action="retrain"` start it (param `alert_id`
 * names the alert). It reads the log that `log()` answers when its feedback block runs (the server's,
 * or the one `onset pipeline run` opens), so it is defined here and given to the pipeline service by
 * whoever has the log.
 */
export function retrainPipeline(
  log: () => PredictionLogStore,
  options: {
    readonly now?: () => number;
    /**
     * The original data when no `data` param is given: the file the server's first model was trained
     * on (`onset up --data`, ONSET_DATA); default the built-in data.
     */
    readonly data?: string | undefined;
  } = {},
): PipelineDefinition {
  const now = options.now ?? Date.now;
  const data = TRAINING_PARAMS.data!;

  return definePipeline({
    name: RETRAIN_PIPELINE,
    description:
      'train-all on the original data plus the feedback-labelled prediction log; the best family goes through the promotion gate (what alerts with action="retrain" start)',
    params: {
      ...TRAINING_PARAMS,
      ...(options.data === undefined
        ? {}
        : {
            data: {
              type: 'string',
              default: options.data,
              description: `${data.description} (default: the data this server's first model was trained on)`,
            },
          }),
      ...GATE_PARAMS,
      feedback_window: {
        type: 'string',
        default: '30d',
        description:
          'how far back feedback-labelled predictions are read (a whole number and s, m, h, d or w)',
      },
      feedback_max_rows: {
        type: 'integer',
        default: 100_000,
        min: 0,
        max: 1_000_000,
        description: 'most feedback rows added (the latest); 0: none',
      },
      min_feedback_rows: {
        type: 'integer',
        default: 1,
        min: 0,
        max: 1_000_000,
        description: 'fewer feedback rows than this: nothing is trained (the run ends with the rest skipped)',
      },
      alert_id: {
        type: 'string',
        default: '',
        description: 'the alert that started the run (GET /api/onset/alerts), set by the alert receiver',
      },
    },
    blocks: [
      loadBlock,
      feedbackBlock(log, now),
      enoughFeedbackBlock,
      combineBlock,
      splitBlockOf('combine'),
      // The longest training first, as in train-all.
      ...[...FAMILIES].reverse().map(trainBlock),
      selectBlock,
      registerBlock('select'),
      gateBlock,
    ],
  });
}

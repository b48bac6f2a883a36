import type { FastifySchemaCompiler } from 'fastify';
import { type Static, type TLiteral, Type } from 'typebox';
import { FEATURE_NAMES, SCHEMA_TRAINING_RANGES, type TrainingRanges } from '../data/schema.js';
import { OnsetError } from '../errors.js';
import { FieldProblem, InvalidRequestError } from '../http/error-answer.js';
import { Nullable } from '../http/fields.js';
import { answers, type RoutePlugin } from '../http/route.js';
import { createAjv, describeProblems, invalidRequest } from '../http/validation.js';
import { WorkLimiter } from '../http/work-limiter.js';
import { createMatrix } from '../math/matrix.js';
import { uncalibrated } from '../ml/calibration/calibrated-model.js';
import { CALIBRATION_METHODS, type CalibrationMethod } from '../ml/calibration/calibration.js';
import { isSingleRowModel } from '../ml/estimator.js';
import { explainModel } from '../ml/explain/explain.js';
import type { OnsetMetrics } from '../monitoring/metrics.js';
import type { PredictionSource } from '../monitoring/prediction-log/prediction-log-store.js';
import type { PredictionRecorder } from '../monitoring/prediction-log/prediction-log-writer.js';
import { describeProblem, type LiveModel } from './live-model.js';
import {
  decisionThresholdOf,
  loggedModelOf,
  predictionSetOf,
  probabilityIntervalOf,
  trainingRangesOf,
} from './model-facts.js';
import type { ServedModel } from './model-source.js';
import { type CheckedRecord, checkRecord, type OutOfDistribution, RECORD_SCHEMA } from './record.js';

export interface PredictionApiOptions {
  readonly live: LiveModel;
  readonly metrics: OnsetMetrics;
  /** Most records `POST /predict/batch` takes (default 1,000). */
  readonly batchLimit?: number;
  /** Largest body of `/predict` and `/explain` (bytes; a batch may be `batchLimit` times larger). */
  readonly recordBodyLimit?: number;
  /** Batches and explanations worked on at once (default 2); see `WorkLimiter`. */
  readonly batchConcurrency?: number;
  /** Batches and explanations let in beyond those, to wait for a turn (default 8); more get 503. */
  readonly batchQueue?: number;
  /** Where every prediction is recorded (the prediction log); without it nothing is, and answers have no `prediction_id`. */
  readonly log?: PredictionRecorder | undefined;
}

export const DEFAULT_BATCH_LIMIT = 1_000;

/** The model version that made an answer. */
const ModelRefJson = Type.Object({
  name: Nullable(Type.String()),
  version: Nullable(Type.String()),
  run_id: Nullable(Type.String()),
});

const ExplanationJson = Type.Object({
  bias: Type.Number(),
  contributions: Type.Record(Type.String(), Type.Number(), { description: 'log-odds, by feature' }),
  uncalibrated_probability: Type.Number({
    description:
      "the model's own probability, whose margin the bias and contributions add up to; `probability` is this after the model's calibration (GET /model), the same when it has none",
  }),
});

const OutOfDistributionJson = Type.Array(
  Type.Object({
    feature: Type.String(),
    value: Type.Number(),
    training_range: Type.Object({ min: Type.Number(), max: Type.Number() }),
  }),
  {
    description:
      'the features whose values are possible but outside the range the model was trained on (see GET /model): the prediction is less certain than its probability says; empty when there are none',
  },
);

const PredictionFields = {
  prediction_id: Type.Optional(
    Type.String({
      description:
        'the id of this prediction in the prediction log, for POST /feedback (32 hex digits); absent when the log is off',
    }),
  ),
  patient_id: Nullable(Type.String()),
  probability: Type.Number({ description: "of Parkinson's disease" }),
  diagnosis: Type.Union([Type.Literal(0), Type.Literal(1)], {
    description: "1 when the probability is at least the model's decision threshold (`threshold`)",
  }),
  out_of_distribution: OutOfDistributionJson,
  probability_interval: Type.Optional(
    Type.Tuple([Type.Number(), Type.Number()], {
      description:
        "the Venn-Abers pair (p0, p1) around the probability, for a model calibrated by Venn-Abers (GET /model): one of the two is calibrated whatever the data's distribution, so a wide pair says the calibration patients tell little about such a probability. Absent for other calibrations",
    }),
  ),
  prediction_set: Type.Optional(
    Type.Array(Type.Union([Type.Literal(0), Type.Literal(1)]), {
      description:
        'the diagnoses the model cannot rule out at its conformal level (GET /model): [1] or [0] when it is sure, [0, 1] when it cannot tell (refer), [] when the patient is unlike its calibration patients; each diagnosis is in the set of the patients who have it at least that often. Absent for a model without prediction sets',
    }),
  ),
};

/** The threshold the model diagnoses at, and the policy that chose it. */
const ThresholdJson = Type.Object(
  {
    value: Type.Number({ description: 'the diagnosis is 1 when the probability is at least this' }),
    policy: Type.String({
      description:
        'the policy that chose it, as onset train --threshold takes it: a fixed threshold (0.5, the default), sensitivity:s (the best specificity at an out-of-fold sensitivity of at least s) or cost:r (the lowest out-of-fold cost when a missed diagnosis costs r false ones)',
    }),
    description: Type.String({ description: 'the policy in words' }),
  },
  { description: "the model's decision threshold (GET /model says how it was chosen)" },
);

/** The answer for one record. */
const PredictionJson = Type.Object({
  ...PredictionFields,
  threshold: ThresholdJson,
  model: ModelRefJson,
  explanation: Type.Optional(ExplanationJson),
});

/** A record's result in a batch: its prediction, or its problems. */
const BatchResultJson = Type.Object({
  index: Type.Integer(),
  prediction_id: PredictionFields.prediction_id,
  patient_id: Type.Optional(PredictionFields.patient_id),
  probability: Type.Optional(PredictionFields.probability),
  diagnosis: Type.Optional(PredictionFields.diagnosis),
  out_of_distribution: Type.Optional(OutOfDistributionJson),
  probability_interval: PredictionFields.probability_interval,
  prediction_set: PredictionFields.prediction_set,
  explanation: Type.Optional(ExplanationJson),
  errors: Type.Optional(Type.Array(FieldProblem)),
});

/** A scored record, before the answer names the model. */
export type Prediction = Omit<Static<typeof PredictionJson>, 'model' | 'threshold'>;
type ModelRef = Static<typeof ModelRefJson>;

/**
 * The security headers a JSON answer needs (helmet's full set, for pages a browser renders, would cost
 * the prediction routes a third of their throughput; see `buildApp`).
 */
const API_HEADERS = { 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' } as const;

/** Every answer names its model; the object is made once per loaded model. */
const MODEL_REFS = new WeakMap<ServedModel, ModelRef>();
function modelRef(served: ServedModel): ModelRef {
  let ref = MODEL_REFS.get(served);
  if (!ref) {
    ref = { name: served.name, version: served.version, run_id: served.runId };
    MODEL_REFS.set(served, ref);
  }
  return ref;
}

/** The schema error formatter of the batch envelope (the records in it are read by `checkRecord`). */
const invalidBatch = invalidRequest({ subject: 'batch' });

/** A record that cannot be scored: 400 with every problem `checkRecord` found. */
function invalidRecord(problems: readonly FieldProblem[]): InvalidRequestError {
  return new InvalidRequestError(describeProblems('prediction record', problems), problems);
}

/** A model that serves instead of the one the model URI names, which cannot be loaded. */
const FallbackJson = Type.Object(
  {
    instead_of: Type.String({ description: 'the version the model URI names' }),
    reason: Type.String({ description: 'why that version cannot be loaded' }),
  },
  { description: 'present when the model serving is not the version the model URI names' },
);

const ExplainQuery = Type.Object({
  explain: Type.Optional(Type.Enum(['true', 'false'], { description: 'add per-feature contributions' })),
});

/**
 * The prediction API: `POST /predict`, `POST /predict/batch`, `POST /explain` (or `?explain=true`),
 * `GET /ready` and `GET /model`. Every record is read by `checkRecord` (see record.ts), against the served
 * model's training ranges; nothing reaches the model unchecked, every problem found is counted in the
 * metrics by reason, and every value outside the training ranges by feature. Every answer names the model
 * version that made it.
 */
export const predictionApi: RoutePlugin<PredictionApiOptions> = async (app, options) => {
  const { live, metrics, log } = options;
  const batchLimit = options.batchLimit ?? DEFAULT_BATCH_LIMIT;
  // A record route's body is read by `checkRecord` in the handler: it takes numbers written as strings
  // and judges ranges against the served model's training data, which a schema compiled at start cannot;
  // RECORD_SCHEMA documents it in /docs. Its query string is validated as every route's is. A batch's
  // records are checked one by one by the same function, so the valid ones are still scored.
  const ajv = createAjv();
  const recordRouteValidator: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
    httpPart === 'body' ? () => true : ajv.compile(schema);
  // Batches and explanations (one explanation can cost 30 ms, e.g. of an oblivious model) share turns,
  // so that a storm of them leaves the event loop to /health and single predictions. /predict itself
  // gains no hook: only its explain branch waits for a turn.
  const heavy = new WorkLimiter({
    concurrency: options.batchConcurrency ?? 2,
    queue: options.batchQueue ?? 8,
    what: 'batch and explanation requests',
  });
  const current = live.current();
  if (current) metrics.setModel(current);
  live.subscribe({
    loaded: (model, previous) => {
      metrics.setModel(model);
      if (previous) metrics.modelReloads.inc();
    },
    failed: () => metrics.modelReloadFailures.inc(),
    unloadable: () => metrics.modelReloadFailures.inc(),
  });

  /** Why nothing serves: the URI's version cannot be loaded, or there is none yet. */
  const notReady = (): string => {
    const problem = live.problem();
    return problem ? describeProblem(live.uri, problem) : `no model loaded yet from ${live.uri}`;
  };
  /** Said with the model when it serves instead of the URI's version, which cannot be loaded. */
  const fallbackOf = () => {
    const problem = live.problem();
    return problem
      ? { fallback: { instead_of: problem.version ?? live.uri, reason: describeProblem(live.uri, problem) } }
      : {};
  };
  /** The model to score with: `current`, the one current when the request started. */
  const served = (current: ServedModel | undefined): ServedModel => {
    if (!current) {
      const problem = live.problem();
      throw new OnsetError(
        'TEMPORARILY_UNAVAILABLE',
        problem
          ? `No model is loaded: ${describeProblem(live.uri, problem)}; see GET /ready`
          : `No model is loaded yet (${live.uri}); see GET /ready`,
      );
    }
    return current;
  };
  const countProblems = (problems: readonly FieldProblem[]) => {
    for (const problem of problems) metrics.validationErrors.inc({ reason: problem.reason });
  };
  app.addHook('onError', (_request, _reply, error, done) => {
    if (error instanceof InvalidRequestError) countProblems(error.problems);
    done();
  });
  /** The training ranges of the model a record is judged by (the schema's while none is loaded). */
  const rangesFor = (current: ServedModel | undefined): TrainingRanges =>
    current ? trainingRangesOf(current).ranges : SCHEMA_TRAINING_RANGES;
  /** Values outside the training ranges, counted by feature. */
  const countOutliers = (outliers: readonly OutOfDistribution[]) => {
    for (const outlier of outliers) metrics.outOfDistribution.inc({ feature: outlier.feature });
  };
  /** The diagnosis of a predicted probability at the model's threshold, counted in the metrics. */
  const diagnose = (model: ServedModel, probability: number): 0 | 1 => {
    const diagnosis = probability >= decisionThresholdOf(model).value ? 1 : 0;
    metrics.countPrediction(model.version ?? 'none', diagnosis);
    metrics.probability.observe(probability);
    return diagnosis;
  };

  /**
   * Scores checked records with one model (the one current when the request started); `data` holds
   * their features, row after row. With the log on, each prediction is recorded as made by `source`, all
   * with the request's time so far as their latency (ms).
   */
  const score = (
    model: ServedModel,
    records: readonly CheckedRecord[],
    data: Float64Array,
    explain: boolean,
    source: PredictionSource,
    elapsedMs: () => number,
  ): Prediction[] => {
    const cols = FEATURE_NAMES.length;
    const x = createMatrix(data.subarray(0, records.length * cols), records.length, cols);
    const started = performance.now();
    const probabilities = model.model.predictProba(x);
    metrics.inferenceDuration.observe((performance.now() - started) / 1000);
    const contributions = explain ? explainModel(model.model, x) : undefined;
    // What the contributions explain: the model's own probability, before any calibration.
    const own = uncalibrated(model.model);
    const uncalibratedProbabilities = !explain
      ? undefined
      : own === model.model
        ? probabilities
        : own.predictProba(x);
    const latencyMs = log ? elapsedMs() : 0;
    return records.map((record, i) => {
      const probability = probabilities[i]!;
      const diagnosis = diagnose(model, probability);
      countOutliers(record.outOfDistribution);
      return {
        ...(log
          ? {
              prediction_id: log.record({
                model: loggedModelOf(model),
                features: record.features,
                probability,
                diagnosis,
                latencyMs,
                source,
                patientId: record.patientId,
              }),
            }
          : {}),
        patient_id: record.patientId,
        probability,
        diagnosis,
        out_of_distribution: record.outOfDistribution,
        ...predictionSetOf(model, probability, record.features),
        ...probabilityIntervalOf(model, record.features),
        ...(contributions
          ? {
              explanation: {
                bias: contributions.bias,
                contributions: Object.fromEntries(
                  FEATURE_NAMES.map((name, j) => [name, contributions.values.data[i * cols + j]!]),
                ),
                uncalibrated_probability: uncalibratedProbabilities![i]!,
              },
            }
          : {}),
      };
    });
  };

  /**
   * One record without explanation: the hot path, kept free of the batch machinery. `elapsedMs` is the
   * request's time so far, for the log.
   */
  const scoreOne = (model: ServedModel, record: CheckedRecord, elapsedMs: () => number) => {
    const fitted = model.model;
    const row = record.features;
    const started = performance.now();
    const probability = isSingleRowModel(fitted)
      ? fitted.predictProbaOne(row)
      : fitted.predictProba(createMatrix(row, 1, row.length))[0]!;
    metrics.inferenceDuration.observe((performance.now() - started) / 1000);
    countOutliers(record.outOfDistribution);
    const diagnosis = diagnose(model, probability);
    if (!log) {
      return {
        patient_id: record.patientId,
        probability,
        diagnosis,
        out_of_distribution: record.outOfDistribution,
        ...predictionSetOf(model, probability, row),
        ...probabilityIntervalOf(model, row),
        threshold: decisionThresholdOf(model),
        model: modelRef(model),
      };
    }
    return {
      prediction_id: log.record({
        model: loggedModelOf(model),
        features: row,
        probability,
        diagnosis,
        latencyMs: elapsedMs(),
        source: 'http',
        patientId: record.patientId,
      }),
      patient_id: record.patientId,
      probability,
      diagnosis,
      out_of_distribution: record.outOfDistribution,
      ...predictionSetOf(model, probability, row),
      ...probabilityIntervalOf(model, row),
      threshold: decisionThresholdOf(model),
      model: modelRef(model),
    };
  };

  const recordRoute = (url: string, summary: string, explainAlways: boolean) =>
    app.post(
      url,
      {
        config: { access: 'apiKey' },
        ...(options.recordBodyLimit ? { bodyLimit: options.recordBodyLimit } : {}),
        ...(explainAlways ? { onRequest: heavy.onRequest, preHandler: heavy.preHandler } : {}),
        validatorCompiler: recordRouteValidator,
        schema: {
          tags: ['predictions'],
          summary,
          body: RECORD_SCHEMA,
          querystring: ExplainQuery,
          response: answers(PredictionJson),
        },
      },
      async ({ body, query }, reply) => {
        reply.header('x-content-type-options', API_HEADERS['x-content-type-options']);
        reply.header('cache-control', API_HEADERS['cache-control']);
        const current = live.current();
        const checked = checkRecord(body, rangesFor(current));
        if (!checked.ok) throw invalidRecord(checked.problems);
        const model = served(current);
        const elapsedMs = () => reply.elapsedTime;
        if (!explainAlways && query.explain !== 'true') return scoreOne(model, checked.record, elapsedMs);
        if (!explainAlways) await heavy.admit(reply);
        const predictions = score(model, [checked.record], checked.record.features, true, 'http', elapsedMs);
        return { ...predictions[0]!, threshold: decisionThresholdOf(model), model: modelRef(model) };
      },
    );
  recordRoute('/predict', "The probability of Parkinson's disease for one patient record", false);
  recordRoute(
    '/explain',
    'A prediction with per-feature contributions (log-odds) that add up with the bias to the margin',
    true,
  );

  app.post(
    '/predict/batch',
    {
      config: { access: 'apiKey' },
      ...(options.recordBodyLimit ? { bodyLimit: Math.max(options.recordBodyLimit, 2048 * batchLimit) } : {}),
      onRequest: heavy.onRequest,
      preHandler: heavy.preHandler,
      schemaErrorFormatter: invalidBatch,
      schema: {
        tags: ['predictions'],
        summary: `Predictions for up to ${batchLimit} records; invalid records are reported by index, the valid ones still scored`,
        body: Type.Object(
          {
            records: Type.Array(Type.Object({}, { description: 'a prediction record (see POST /predict)' }), {
              minItems: 1,
              maxItems: batchLimit,
            }),
          },
          { additionalProperties: false },
        ),
        querystring: ExplainQuery,
        response: answers(
          Type.Object({
            model: ModelRefJson,
            threshold: ThresholdJson,
            valid: Type.Integer(),
            invalid: Type.Integer(),
            results: Type.Array(BatchResultJson, { description: 'one per record, in order' }),
          }),
        ),
      },
    },
    async ({ body, query }, reply) => {
      reply.headers(API_HEADERS);
      const model = served(live.current());
      const ranges = rangesFor(model);
      const records = body.records;
      const cols = FEATURE_NAMES.length;
      // The valid records' features, packed row after row as they are found.
      const data = new Float64Array(records.length * cols);
      const valid: { index: number; record: CheckedRecord }[] = [];
      const results: Static<typeof BatchResultJson>[] = new Array(records.length);
      records.forEach((record, index) => {
        const row = data.subarray(valid.length * cols, (valid.length + 1) * cols);
        const checked = checkRecord(record, ranges, row);
        if (checked.ok) {
          valid.push({ index, record: checked.record });
        } else {
          countProblems(checked.problems);
          results[index] = { index, errors: [...checked.problems] };
        }
      });
      const predictions =
        valid.length > 0
          ? score(
              model,
              valid.map((v) => v.record),
              data,
              query.explain === 'true',
              'http_batch',
              () => reply.elapsedTime,
            )
          : [];
      valid.forEach(({ index }, k) => {
        results[index] = { index, ...predictions[k]! };
      });
      return {
        model: modelRef(model),
        threshold: decisionThresholdOf(model),
        valid: valid.length,
        invalid: records.length - valid.length,
        results,
      };
    },
  );

  app.get(
    '/ready',
    {
      config: { access: 'public' },
      schema: {
        tags: ['operations'],
        summary: 'Whether a model is loaded (503 until one is, saying why)',
        response: {
          ...answers(
            Type.Object({
              status: Type.Literal('ready'),
              model: ModelRefJson,
              fallback: Type.Optional(FallbackJson),
            }),
          ),
          503: Type.Object(
            { status: Type.Literal('not ready'), reason: Type.String() },
            { description: 'No model loaded: none yet, or the one named cannot be loaded' },
          ),
        },
      },
    },
    async (_request, reply) => {
      const model = live.current();
      if (!model) return reply.status(503).send({ status: 'not ready', reason: notReady() });
      return { status: 'ready' as const, model: modelRef(model), ...fallbackOf() };
    },
  );

  app.get(
    '/model',
    {
      config: { access: 'apiKey' },
      schema: {
        tags: ['predictions'],
        summary: 'The model being served: where it came from, its estimator, checksum and metrics',
        response: answers(
          Type.Object({
            uri: Type.String(),
            name: Nullable(Type.String()),
            version: Nullable(Type.String()),
            stage: Nullable(Type.String()),
            run_id: Nullable(Type.String()),
            estimator: Type.String(),
            checksum: Nullable(
              Type.String({
                description:
                  "sha256 of the model's files (a folder's: of their manifest); a registered version's or a run's verified at load, a local file's computed at load",
              }),
            ),
            metrics: Type.Record(Type.String(), Type.Number(), {
              description: "the registered version's metrics snapshot",
            }),
            trained_on: Type.Object({
              rows: Nullable(Type.Integer()),
              dataset_fingerprint: Nullable(Type.String()),
            }),
            training_ranges: Type.Object(
              {
                source: Type.Union([Type.Literal('model'), Type.Literal('schema')], {
                  description:
                    "model: the minimum and maximum of the model's own training rows (its report); schema: the documented data set's, for a model that recorded none",
                }),
                features: Type.Record(
                  Type.String(),
                  Type.Object({ min: Type.Number(), max: Type.Number() }),
                  { description: 'by continuous feature' },
                ),
              },
              { description: 'what a value outside makes out_of_distribution in a prediction' },
            ),
            trained_at: Nullable(
              Type.String({
                description: 'when the model was fitted (ISO 8601); null when unknown (imported)',
              }),
            ),
            calibration: Type.Object(
              {
                method: Type.Union(
                  // Every method a model can carry, as the one list of them names it.
                  ['none' as const, ...CALIBRATION_METHODS].map((method) => Type.Literal(method)) as [
                    TLiteral<'none' | CalibrationMethod>,
                  ],
                  {
                    description:
                      "how the probabilities are calibrated: every probability the API answers has passed through it (none: the model's own)",
                  },
                ),
                chosen_by: Nullable(
                  Type.Union([Type.Literal('cross_validation'), Type.Literal('user')], {
                    description:
                      'null for a model without a recorded calibration (imported, or trained without)',
                  }),
                ),
              },
              { description: "the model's calibration (docs/models.md#calibration)" },
            ),
            threshold: Type.Object(
              {
                ...ThresholdJson.properties,
                reason: Type.String({ description: 'why this value, with its out-of-fold figures' }),
                held_out: Nullable(
                  Type.Object(
                    {
                      rows: Type.Integer(),
                      sensitivity: Type.Number(),
                      specificity: Type.Number(),
                      precision: Type.Number(),
                      negative_predictive_value: Type.Number(),
                      diagnosed_share: Type.Number({ description: 'the share of patients diagnosed 1' }),
                    },
                    {
                      description:
                        'the decisions at the threshold on the calibrated out-of-fold probabilities it was chosen on; null when there were none (trained without cross-validation, imported)',
                    },
                  ),
                ),
              },
              {
                description:
                  "the model's decision threshold and how it was chosen (docs/models.md#decision-thresholds)",
              },
            ),
            loaded_at: Type.String({ description: 'ISO 8601' }),
            fallback: Type.Optional(FallbackJson),
          }),
        ),
      },
    },
    async () => {
      const model = served(live.current());
      const training = trainingRangesOf(model);
      return {
        uri: model.uri,
        name: model.name,
        version: model.version,
        stage: model.stage,
        run_id: model.runId,
        estimator: model.document.estimator,
        checksum: model.checksum,
        metrics: model.metrics,
        trained_on: {
          rows: model.document.training.rows,
          dataset_fingerprint: model.document.training.dataset_fingerprint,
        },
        training_ranges: {
          source: training.source,
          features: Object.fromEntries(
            FEATURE_NAMES.flatMap((name, j) => {
              const range = training.ranges[j];
              return range ? [[name, range]] : [];
            }),
          ),
        },
        trained_at: model.document.training.fitted_at,
        calibration: {
          method: model.document.calibration?.method ?? 'none',
          chosen_by: model.document.calibration?.chosen_by ?? null,
        },
        threshold: {
          ...decisionThresholdOf(model),
          reason:
            model.document.threshold?.reason ?? 'the default threshold 0.5 (the model records no other)',
          held_out: model.document.threshold?.held_out ?? null,
        },
        loaded_at: new Date(model.loadedAt).toISOString(),
        ...fallbackOf(),
      };
    },
  );
};

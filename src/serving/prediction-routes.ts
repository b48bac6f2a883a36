import { Ajv, type ValidateFunction } from 'ajv';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FEATURE_NAMES } from '../data/schema.js';
import { OnsetError } from '../errors.js';
import { createMatrix } from '../math/matrix.js';
import { isSingleRowModel } from '../ml/estimator.js';
import { explainModel } from '../ml/explain/explain.js';
import { DEFAULT_THRESHOLD } from '../ml/metrics/index.js';
import type { OnsetMetrics } from '../monitoring/metrics.js';
import type { LiveModel } from './live-model.js';
import type { ServedModel } from './model-source.js';
import {
  type FieldProblem,
  fieldProblems,
  type PredictionRecord,
  RECORD_SCHEMA,
  recordFeatures,
} from './record.js';

export interface PredictionApiOptions {
  readonly live: LiveModel;
  readonly metrics: OnsetMetrics;
  /** Most records `POST /predict/batch` takes (default 1,000). */
  readonly batchLimit?: number;
  /** When set, prediction routes need the header `X-API-Key: <key>`. */
  readonly apiKey?: string | undefined;
  /** Largest body of `/predict` and `/explain` (bytes; a batch may be `batchLimit` times larger). */
  readonly recordBodyLimit?: number;
}

export const DEFAULT_BATCH_LIMIT = 1_000;

/** The answer for one record. */
export interface Prediction {
  readonly patient_id: string | null;
  readonly probability: number;
  /** 1 when the probability is at least 0.5. */
  readonly diagnosis: 0 | 1;
  readonly explanation?: { readonly bias: number; readonly contributions: Readonly<Record<string, number>> };
}

/**
 * The security headers a JSON answer needs (helmet's full set, for pages a browser renders, would cost
 * the prediction routes a third of their throughput; see `buildApp`).
 */
const API_HEADERS = { 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' } as const;

type ModelRef = {
  readonly name: string | null;
  readonly version: string | null;
  readonly run_id: string | null;
};
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

const ERROR_SCHEMA = {
  type: 'object',
  properties: {
    error_code: { type: 'string' },
    message: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: { field: { type: 'string' }, message: { type: 'string' }, reason: { type: 'string' } },
      },
    },
  },
} as const;

const PREDICTION_SCHEMA = {
  type: 'object',
  properties: {
    patient_id: { type: ['string', 'null'] },
    probability: { type: 'number' },
    diagnosis: { type: 'integer', enum: [0, 1] },
    model: {
      type: 'object',
      properties: {
        name: { type: ['string', 'null'] },
        version: { type: ['string', 'null'] },
        run_id: { type: ['string', 'null'] },
      },
    },
    explanation: {
      type: 'object',
      properties: {
        bias: { type: 'number' },
        contributions: { type: 'object', additionalProperties: { type: 'number' } },
      },
    },
  },
} as const;

/**
 * The prediction API: `POST /predict`, `POST /predict/batch`, `POST /explain` (or `?explain=true`),
 * `GET /ready` and `GET /model`. Bodies are validated against schemas derived from the feature schema and
 * compiled once; nothing reaches the model unvalidated. Every answer names the model version that made it.
 */
export async function predictionApi(app: FastifyInstance, options: PredictionApiOptions): Promise<void> {
  const { live, metrics } = options;
  const batchLimit = options.batchLimit ?? DEFAULT_BATCH_LIMIT;
  // Strict validation: no type coercion (a string Age is a wrong type), every problem reported.
  const ajv = new Ajv({ allErrors: true, coerceTypes: false, removeAdditional: false, strict: false });
  app.setValidatorCompiler(({ schema }) => ajv.compile(schema));
  const validateRecord: ValidateFunction = ajv.compile(RECORD_SCHEMA);
  const current = live.current();
  if (current) metrics.setModel(current);
  live.subscribe({
    loaded: (model, previous) => {
      metrics.setModel(model);
      if (previous) metrics.modelReloads.inc();
    },
    failed: () => metrics.modelReloadFailures.inc(),
  });

  const requireKey = (request: FastifyRequest) => {
    if (options.apiKey === undefined) return;
    if (request.headers['x-api-key'] !== options.apiKey) {
      throw new OnsetError(
        'UNAUTHENTICATED',
        'This route needs an API key: send the header "X-API-Key: <ONSET_API_KEY>"',
      );
    }
  };
  const served = (): ServedModel => {
    const current = live.current();
    if (!current)
      throw new OnsetError('TEMPORARILY_UNAVAILABLE', `No model is loaded yet (${live.uri}); see GET /ready`);
    return current;
  };
  const countProblems = (problems: readonly FieldProblem[]) => {
    for (const problem of problems) metrics.validationErrors.inc({ reason: problem.reason });
  };
  /** Answers 400 for a body that failed its route schema, listing every problem. */
  const invalid = (reply: FastifyReply, validationError: Error, what: string) => {
    const problems = fieldProblems((validationError as { validation?: [] }).validation ?? []);
    countProblems(problems);
    return reply.status(400).send({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: `Invalid ${what}: ${problems.length} problem(s); ${problems
        .slice(0, 3)
        .map((p) => `${p.field} ${p.message}`)
        .join('; ')}${problems.length > 3 ? '; ...' : ''}`,
      errors: problems,
    });
  };

  /** The diagnosis of a predicted probability, counted in the metrics. */
  const diagnose = (version: string, probability: number): 0 | 1 => {
    const diagnosis = probability >= DEFAULT_THRESHOLD ? 1 : 0;
    metrics.countPrediction(version, diagnosis);
    metrics.probability.observe(probability);
    return diagnosis;
  };

  /** Scores validated records with one model (the one current when the request started). */
  const score = (
    model: ServedModel,
    records: readonly PredictionRecord[],
    explain: boolean,
  ): Prediction[] => {
    const cols = FEATURE_NAMES.length;
    const data = new Float64Array(records.length * cols);
    records.forEach((record, i) => {
      recordFeatures(record, data.subarray(i * cols, (i + 1) * cols));
    });
    const x = createMatrix(data, records.length, cols);
    const started = performance.now();
    const probabilities = model.model.predictProba(x);
    metrics.inferenceDuration.observe((performance.now() - started) / 1000);
    const contributions = explain ? explainModel(model.model, x) : undefined;
    const version = model.version ?? 'none';
    return records.map((record, i) => {
      const probability = probabilities[i]!;
      return {
        patient_id: record.patient_id ?? null,
        probability,
        diagnosis: diagnose(version, probability),
        ...(contributions
          ? {
              explanation: {
                bias: contributions.bias,
                contributions: Object.fromEntries(
                  FEATURE_NAMES.map((name, j) => [name, contributions.values.data[i * cols + j]!]),
                ),
              },
            }
          : {}),
      };
    });
  };

  /** One record without explanation: the hot path, kept free of the batch machinery. */
  const scoreOne = (model: ServedModel, record: PredictionRecord) => {
    const fitted = model.model;
    const row = recordFeatures(record);
    const started = performance.now();
    const probability = isSingleRowModel(fitted)
      ? fitted.predictProbaOne(row)
      : fitted.predictProba(createMatrix(row, 1, row.length))[0]!;
    metrics.inferenceDuration.observe((performance.now() - started) / 1000);
    return {
      patient_id: record.patient_id ?? null,
      probability,
      diagnosis: diagnose(model.version ?? 'none', probability),
      model: modelRef(model),
    };
  };

  const single = (explainAlways: boolean) => async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header('x-content-type-options', API_HEADERS['x-content-type-options']);
    reply.header('cache-control', API_HEADERS['cache-control']);
    if (options.apiKey !== undefined) requireKey(request);
    if (request.validationError) {
      return invalid(reply, request.validationError, 'prediction record');
    }
    const model = served();
    const explain = explainAlways || (request.query as { explain?: string }).explain === 'true';
    if (!explain) return scoreOne(model, request.body as PredictionRecord);
    const predictions = score(model, [request.body as PredictionRecord], true);
    return { ...predictions[0], model: modelRef(model) };
  };
  const recordRoute = (url: string, summary: string, explainAlways: boolean) =>
    app.post(
      url,
      {
        attachValidation: true,
        ...(options.recordBodyLimit ? { bodyLimit: options.recordBodyLimit } : {}),
        schema: {
          summary,
          body: RECORD_SCHEMA,
          querystring: {
            type: 'object',
            properties: { explain: { type: 'string', enum: ['true', 'false'] } },
          },
          response: { 200: PREDICTION_SCHEMA, 400: ERROR_SCHEMA },
        },
      },
      single(explainAlways),
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
      attachValidation: true,
      ...(options.recordBodyLimit ? { bodyLimit: Math.max(options.recordBodyLimit, 2048 * batchLimit) } : {}),
      schema: {
        summary: `Predictions for up to ${batchLimit} records; invalid records are reported by index, the valid ones still scored`,
        body: {
          type: 'object',
          properties: {
            records: { type: 'array', minItems: 1, maxItems: batchLimit, items: { type: 'object' } },
          },
          required: ['records'],
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      reply.headers(API_HEADERS);
      requireKey(request);
      if (request.validationError) {
        return invalid(reply, request.validationError, 'batch');
      }
      const model = served();
      const records = (request.body as { records: unknown[] }).records;
      const valid: { index: number; record: PredictionRecord }[] = [];
      const results: unknown[] = new Array(records.length);
      records.forEach((record, index) => {
        if (validateRecord(record)) {
          valid.push({ index, record: record as PredictionRecord });
        } else {
          const errors = fieldProblems(validateRecord.errors ?? []);
          countProblems(errors);
          results[index] = { index, errors };
        }
      });
      const explain = (request.query as { explain?: string }).explain === 'true';
      const predictions =
        valid.length > 0
          ? score(
              model,
              valid.map((v) => v.record),
              explain,
            )
          : [];
      valid.forEach(({ index }, k) => {
        results[index] = { index, ...predictions[k] };
      });
      return { model: modelRef(model), valid: valid.length, invalid: records.length - valid.length, results };
    },
  );

  app.get('/ready', async (_request, reply) => {
    const model = live.current();
    if (!model)
      return reply.status(503).send({ status: 'not ready', reason: `no model loaded yet from ${live.uri}` });
    return { status: 'ready', model: modelRef(model) };
  });

  app.get('/model', async () => {
    const model = served();
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
      loaded_at: new Date(model.loadedAt).toISOString(),
    };
  });
}

import { Type } from 'typebox';
import { MAX_PATIENT_ID_LENGTH } from '../../data/schema.js';
import { OnsetError } from '../../errors.js';
import { type FieldProblem, InvalidRequestError } from '../../http/error-answer.js';
import { answers, type RoutePlugin } from '../../http/route.js';
import { describeProblems } from '../../http/validation.js';
import type { PatientKeys } from './patient-keys.js';
import type {
  FeedbackInput,
  FeedbackOutcome,
  FeedbackProblem,
  PredictionLogStore,
} from './prediction-log-store.js';

export interface FeedbackApiOptions {
  readonly store: PredictionLogStore;
  /**
   * Writes the predictions still waiting before a feedback looks its prediction up, so a prediction just
   * answered is found (a cluster's: every worker's).
   */
  readonly flush?: (() => Promise<void>) | undefined;
  /** Turns a `patient_id` into the key the log holds; without it, feedback by `patient_id` is refused. */
  readonly patientKeys?: PatientKeys | undefined;
  /** Most records in one batch (default 1,000). */
  readonly batchLimit?: number;
}

const PREDICTION_ID = Type.String({
  pattern: '^[0-9a-f]{32}$',
  description: 'the prediction_id a prediction answered (32 hex digits)',
});
const PATIENT_ID = Type.String({
  minLength: 1,
  maxLength: MAX_PATIENT_ID_LENGTH,
  description: "the patient_id sent with the prediction: labels that patient's latest prediction",
});
const DIAGNOSIS = Type.Enum([0, 1], {
  description: "the ground truth: 1 when the patient has Parkinson's disease, else 0",
});

const FeedbackRecordJson = Type.Object(
  {
    prediction_id: Type.Optional(PREDICTION_ID),
    patient_id: Type.Optional(PATIENT_ID),
    diagnosis: DIAGNOSIS,
  },
  { additionalProperties: false, description: 'one of prediction_id and patient_id, and the diagnosis' },
);

const FeedbackOutcomeFields = {
  prediction_id: Type.String(),
  diagnosis: DIAGNOSIS,
  status: Type.Union([Type.Literal('recorded'), Type.Literal('unchanged')], {
    description: 'recorded now, or already recorded with the same diagnosis (nothing changed)',
  }),
  recorded_at: Type.Integer({ description: 'when the diagnosis was recorded (ms since the Unix epoch)' }),
};

function outcomeJson(outcome: FeedbackOutcome) {
  return {
    prediction_id: outcome.predictionId,
    diagnosis: outcome.diagnosis,
    status: outcome.status,
    recorded_at: outcome.recordedAt,
  };
}

type FeedbackRecordBody = {
  readonly prediction_id?: string | undefined;
  readonly patient_id?: string | undefined;
  readonly diagnosis?: 0 | 1 | undefined;
};

/**
 * `POST /feedback`: the ground truth of logged predictions, one (`{prediction_id | patient_id,
 * diagnosis}`) or a batch (`{records: [...]}`). A `patient_id` labels that patient's latest prediction,
 * found through its key. The same diagnosis again is no error (`unchanged`); an unknown id or a diagnosis
 * other than the one recorded is refused, and a batch with any such record records none of them and
 * names each by index.
 */
export const feedbackApi: RoutePlugin<FeedbackApiOptions> = async (app, options) => {
  const { store, flush, patientKeys } = options;
  const batchLimit = options.batchLimit ?? 1_000;

  /** The record's target, or the problems of its shape (`at`: where it is, e.g. `records.2.`). */
  const targetOf = (
    record: FeedbackRecordBody,
    at: string,
  ): { input: FeedbackInput; problems?: never } | { input?: never; problems: FieldProblem[] } => {
    const problems: FieldProblem[] = [];
    if (record.diagnosis === undefined)
      problems.push({ field: `${at}diagnosis`, message: 'is required (0 or 1)', reason: 'missing' });
    if (record.prediction_id === undefined && record.patient_id === undefined) {
      problems.push({
        field: `${at}prediction_id`,
        message: 'one of prediction_id and patient_id is required',
        reason: 'missing',
      });
    }
    if (record.prediction_id !== undefined && record.patient_id !== undefined) {
      problems.push({
        field: `${at}patient_id`,
        message: 'send prediction_id or patient_id, not both',
        reason: 'invalid',
      });
    }
    if (record.patient_id !== undefined && record.prediction_id === undefined && !patientKeys) {
      problems.push({
        field: `${at}patient_id`,
        message:
          'feedback by patient_id needs the prediction log secret (ONSET_LOG_SECRET), which this server has not: send the prediction_id',
        reason: 'invalid',
      });
    }
    if (problems.length > 0) return { problems };
    const target =
      record.prediction_id !== undefined
        ? { predictionId: record.prediction_id }
        : { patientKey: patientKeys!.keyOf(record.patient_id!) };
    return { input: { target, diagnosis: record.diagnosis! } };
  };

  /** What a refused record is told: which id names nothing, or which diagnosis is recorded. */
  const describe = (problem: FeedbackProblem, record: FeedbackRecordBody): string => {
    if (problem.reason === 'unknown') {
      return record.prediction_id !== undefined
        ? `no prediction with prediction_id ${record.prediction_id} is in the prediction log`
        : `no prediction for patient_id ${JSON.stringify(record.patient_id)} is in the prediction log`;
    }
    const when =
      problem.earlierIndex === undefined
        ? `recorded at ${new Date(problem.recorded.recordedAt).toISOString()}`
        : `given by records[${problem.earlierIndex}] of this batch`;
    return `prediction ${problem.predictionId} already has diagnosis ${problem.recorded.diagnosis} (${when}); a recorded diagnosis is not changed, so ${record.diagnosis} is refused`;
  };

  app.post(
    '/feedback',
    {
      config: { access: 'apiKey' },
      schema: {
        tags: ['monitoring'],
        summary: `The ground truth of logged predictions: one record, or up to ${batchLimit} as {records: [...]}; a batch with any refused record records none`,
        body: Type.Object(
          {
            prediction_id: Type.Optional(PREDICTION_ID),
            patient_id: Type.Optional(PATIENT_ID),
            diagnosis: Type.Optional(DIAGNOSIS),
            records: Type.Optional(
              Type.Array(FeedbackRecordJson, { minItems: 1, maxItems: batchLimit, description: 'a batch' }),
            ),
          },
          {
            additionalProperties: false,
            description: 'one record ({prediction_id | patient_id, diagnosis}) or a batch ({records: [...]})',
          },
        ),
        response: answers(
          Type.Union([
            Type.Object(FeedbackOutcomeFields, { description: 'one record' }),
            Type.Object(
              {
                recorded: Type.Integer(),
                unchanged: Type.Integer(),
                results: Type.Array(Type.Object({ index: Type.Integer(), ...FeedbackOutcomeFields }), {
                  description: 'one per record, in order',
                }),
              },
              { description: 'a batch' },
            ),
          ]),
        ),
      },
    },
    async ({ body }, reply) => {
      reply.header('cache-control', 'no-store');
      const { records, ...single } = body;
      if (records !== undefined) {
        const extra = Object.keys(single);
        if (extra.length > 0) {
          throw new InvalidRequestError(
            `A feedback is one record or a batch ({records: [...]}), not both: ${extra.join(', ')} sent beside records`,
            extra.map((field) => ({ field, message: 'cannot be sent beside records', reason: 'invalid' })),
          );
        }
      }
      const batch: readonly FeedbackRecordBody[] = records ?? [single];
      const at = (index: number) => (records === undefined ? '' : `records.${index}.`);
      const shaped = batch.map((record, index) => targetOf(record, at(index)));
      const shapeProblems = shaped.flatMap((result) => result.problems ?? []);
      if (shapeProblems.length > 0) {
        throw new InvalidRequestError(describeProblems('feedback', shapeProblems), shapeProblems);
      }
      // A prediction answered a moment ago may still wait in the writer's queue.
      await flush?.();
      const result = await store.recordFeedback(shaped.map((entry) => entry.input!));
      if (!result.ok) {
        if (records === undefined) {
          const problem = result.problems[0]!;
          throw new OnsetError(
            problem.reason === 'unknown' ? 'RESOURCE_DOES_NOT_EXIST' : 'RESOURCE_ALREADY_EXISTS',
            `${describe(problem, single).replace(/^./, (first) => first.toUpperCase())}; nothing was recorded`,
          );
        }
        const problems: FieldProblem[] = result.problems.map((problem) => {
          const record = batch[problem.index]!;
          return {
            field: `records.${problem.index}.${problem.reason === 'conflict' ? 'diagnosis' : record.prediction_id !== undefined ? 'prediction_id' : 'patient_id'}`,
            message: describe(problem, record),
            reason: problem.reason === 'unknown' ? 'unknown_id' : 'conflicting_value',
          };
        });
        throw new InvalidRequestError(
          `${problems.length} of ${batch.length} feedback records cannot be recorded, so none was: ${result.problems
            .map((problem) => `records[${problem.index}]: ${describe(problem, batch[problem.index]!)}`)
            .join('; ')}`,
          problems,
        );
      }
      if (records === undefined) return outcomeJson(result.outcomes[0]!);
      return {
        recorded: result.outcomes.filter((outcome) => outcome.status === 'recorded').length,
        unchanged: result.outcomes.filter((outcome) => outcome.status === 'unchanged').length,
        results: result.outcomes.map((outcome, index) => ({ index, ...outcomeJson(outcome) })),
      };
    },
  );
};

import { type Static, type TProperties, Type } from 'typebox';
import { Int64, int64, Millis, Nullable } from '../../http/fields.js';
import { answers, type RoutePlugin } from '../../http/route.js';
import {
  CHECK_KINDS,
  CHECK_STATUSES,
  type MonitoringCheck,
  type MonitoringCheckStore,
  type MonitoringCheckSummary,
} from '../checks/monitoring-check-store.js';
import { checkDriftOptions, DEFAULT_DRIFT_SHARE, type DriftOptions } from '../drift/drift-options.js';
import { STAT_TEST_NAMES } from '../drift/stat-tests.js';
import { parseWindow, parseWindowList } from '../time-window.js';
import type { CheckTargets } from './check-targets.js';
import type { DriftRequest, MonitoringJob, PerformanceRequest } from './monitoring-jobs.js';

export interface CheckApiOptions {
  readonly store: MonitoringCheckStore;
  readonly drift: MonitoringJob<DriftRequest>;
  readonly performance: MonitoringJob<PerformanceRequest>;
  readonly targets: CheckTargets;
}

const tags = ['monitoring'];

/** The headline figures of a drift check, as listings show them. */
export const DriftSummaryJson = Type.Object(
  {
    outcome: Type.Enum(['checked', 'too_few_rows'], {
      description: 'checked, or too few predictions in the window to give a verdict',
    }),
    rows: Type.Integer({ description: 'predictions compared with the reference' }),
    dataset_drifted: Nullable(Type.Boolean()),
    drift_share: Nullable(Type.Number({ description: 'share of the features drifted, 0 to 1' })),
    drifted_features: Nullable(Type.Integer()),
    features: Nullable(Type.Integer()),
    prediction_drifted: Nullable(Type.Boolean()),
  },
  { description: 'a drift check (null figures when there was no verdict)' },
);

/** The headline figures of a performance check, per window. */
export const PerformanceSummaryJson = Type.Object(
  {
    estimation_available: Type.Boolean({ description: 'whether CBPE could be fitted on the reference' }),
    windows: Type.Array(
      Type.Object({
        window: Type.String(),
        records: Type.Integer({ description: 'predictions in the window' }),
        labelled_records: Type.Integer({ description: 'of which with feedback' }),
        realized_roc_auc: Nullable(Type.Number()),
        realized_accuracy: Nullable(Type.Number()),
        estimated_roc_auc: Nullable(Type.Number()),
        estimated_accuracy: Nullable(Type.Number()),
      }),
    ),
  },
  { description: 'a performance check' },
);

const CheckFields = {
  check_id: Type.String({ description: '32 hex digits; ids sort as the checks started' }),
  kind: Type.Enum(CHECK_KINDS),
  model: Type.Object({ name: Type.String(), version: Type.String(), run_id: Nullable(Type.String()) }),
  window: Type.Object(
    { from: Millis, to: Millis },
    {
      description:
        'the predictions read: from (inclusive) to (exclusive); a performance check: its longest window',
    },
  ),
  started_at: Millis,
  finished_at: Millis,
  status: Type.Enum(CHECK_STATUSES),
  error: Nullable(Type.String({ description: 'why it failed' })),
  summary: Nullable(Type.Union([DriftSummaryJson, PerformanceSummaryJson])),
};

/** A stored check in a listing: without its result document. */
export const CheckSummaryJson = Type.Object(CheckFields);

/** A stored check with its result document. */
export const CheckJson = Type.Object({
  ...CheckFields,
  result: Nullable(
    Type.Record(Type.String(), Type.Unknown(), {
      description:
        'the whole result (see docs/monitoring.md): drift, the window read and the drift report; performance, per window the realized metrics and the estimate',
    }),
  ),
});

function summaryJson(check: MonitoringCheckSummary): Static<typeof CheckSummaryJson> {
  return {
    check_id: check.checkId,
    kind: check.kind,
    model: { name: check.model.name, version: check.model.version, run_id: check.model.runId },
    window: { from: check.window.from, to: check.window.to },
    started_at: check.startedAt,
    finished_at: check.finishedAt,
    status: check.status,
    error: check.error,
    // Written by the jobs from these schemas' shapes (drift-check.ts, performance-check.ts).
    summary: check.summary as Static<typeof CheckSummaryJson>['summary'],
  };
}

/** A stored check as the API answers it (snake_case fields). */
export function checkJson(check: MonitoringCheck): Static<typeof CheckJson> {
  return { ...summaryJson(check), result: check.result };
}

const Asked = {
  model: Type.Optional(
    Type.String({ minLength: 1, description: 'a registered model; default: the model being served' }),
  ),
  version: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'its version: a number, a stage (Production) or an alias (@champion); default: the version served, or the Production version of another model',
    }),
  ),
};

const CheckAnswer = Type.Object({ check: CheckJson });

/**
 * The body of a check run on demand: its window, which model version, and `extra` fields of the kind's
 * own (or no body at all).
 */
function checkBody<E extends TProperties>(windowDescription: string, extra: E) {
  return Type.Union(
    [
      Type.Object(
        { window: Type.Optional(Type.String({ description: windowDescription })), ...Asked, ...extra },
        { additionalProperties: false },
      ),
      Type.Null(),
    ],
    { description: 'an object, or no body at all' },
  );
}

/** The drift check's choices beyond its defaults (checked by `checkDriftOptions`, which names what is wrong). */
const DriftChoices = {
  tests: Type.Optional(
    Type.Record(Type.String(), Type.String(), {
      description: `the test of a column instead of Evidently's default choice, by column (a feature, or probability): ${STAT_TEST_NAMES.join(', ')}`,
    }),
  ),
  thresholds: Type.Optional(
    Type.Record(Type.String(), Type.Number(), {
      description:
        "the threshold of a column's test, by column: a p-value for ks, chisquare and z, a distance otherwise",
    }),
  ),
  drift_share: Type.Optional(
    Type.Number({
      description: `the share of drifted features (0 to 1) at which the data set counts as drifted (default ${DEFAULT_DRIFT_SHARE})`,
    }),
  ),
};

const CONFLICT =
  'One check of a kind runs at a time: the same check asked for while it runs waits for it and answers its result; another one is refused with 409.';

/**
 * The monitoring checks' API: run the drift or the performance check now (answering the stored check,
 * succeeded or failed), and read the stored checks, newest first.
 */
export const checkApi: RoutePlugin<CheckApiOptions> = async (app, options) => {
  const { store, drift, performance, targets } = options;

  app.post(
    '/api/onset/monitoring/drift',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: `Run the drift check now: a window of the served (or named) model version's logged predictions against its reference profile; answers the stored check. ${CONFLICT}`,
        body: checkBody('how far back: 30m, 24h, 7d (default: ONSET_DRIFT_WINDOW)', DriftChoices),
        response: answers(CheckAnswer),
      },
    },
    async ({ body }, reply) => {
      reply.header('cache-control', 'no-store');
      const window = body?.window === undefined ? undefined : parseWindow(body.window);
      // Checked before anything runs: an unknown feature or test is a 400 naming it.
      const choices = {
        ...(body?.tests ? { tests: body.tests } : {}),
        ...(body?.thresholds ? { thresholds: body.thresholds } : {}),
        ...(body?.drift_share === undefined ? {} : { driftShare: body.drift_share }),
      } as DriftOptions;
      const checked = checkDriftOptions(choices);
      const options: DriftOptions = {
        tests: checked.tests,
        thresholds: checked.thresholds,
        ...(choices.driftShare === undefined ? {} : { driftShare: checked.driftShare }),
      };
      const request = await targets.resolve({ model: body?.model, version: body?.version });
      const check = await drift.run({ ...request, ...(window ? { window } : {}), options });
      return { check: checkJson(check) };
    },
  );

  app.post(
    '/api/onset/monitoring/performance',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: `Run the performance check now: realized metrics from feedback and CBPE's estimate over rolling windows of the served (or named) model version's logged predictions; answers the stored check. ${CONFLICT}`,
        body: checkBody(
          'the rolling windows, comma-separated: 1h,24h,7d (default: ONSET_PERFORMANCE_WINDOWS)',
          {},
        ),
        response: answers(CheckAnswer),
      },
    },
    async ({ body }, reply) => {
      reply.header('cache-control', 'no-store');
      const windows = body?.window === undefined ? undefined : parseWindowList(body.window, 'window');
      const request = await targets.resolve({ model: body?.model, version: body?.version });
      const check = await performance.run({ ...request, ...(windows ? { windows } : {}) });
      return { check: checkJson(check) };
    },
  );

  app.get(
    '/api/onset/monitoring/checks',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'The stored drift and performance checks, newest first, without their results (pages)',
        querystring: Type.Object({
          kind: Type.Optional(Type.Enum(CHECK_KINDS)),
          model: Type.Optional(Type.String({ minLength: 1, description: 'only checks of this model' })),
          version: Type.Optional(Type.String({ minLength: 1, description: 'only checks of this version' })),
          max_results: Type.Optional(Int64),
          page_token: Type.Optional(Type.String()),
        }),
        response: answers(
          Type.Object({
            checks: Type.Array(CheckSummaryJson),
            next_page_token: Type.Optional(Type.String({ description: 'absent on the last page' })),
          }),
        ),
      },
    },
    async ({ query }, reply) => {
      reply.header('cache-control', 'no-store');
      const maxResults = int64(query.max_results);
      const page = await store.listChecks({
        ...(query.kind ? { kind: query.kind } : {}),
        ...(query.model ? { modelName: query.model } : {}),
        ...(query.version ? { modelVersion: query.version } : {}),
        ...(maxResults === undefined ? {} : { maxResults }),
        ...(query.page_token ? { pageToken: query.page_token } : {}),
      });
      return {
        checks: page.items.map(summaryJson),
        ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
      };
    },
  );

  app.get(
    '/api/onset/monitoring/checks/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'One stored check, with its whole result',
        params: Type.Object({ id: Type.String({ description: 'the check_id' }) }),
        response: answers(CheckAnswer),
      },
    },
    async ({ params }, reply) => {
      reply.header('cache-control', 'no-store');
      return { check: checkJson(await store.getCheck(params.id)) };
    },
  );
};

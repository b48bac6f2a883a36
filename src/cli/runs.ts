import { type Command, Option } from 'commander';
import { invalidParameter, isOnsetError, OnsetError } from '../errors.js';
import type { Experiment, Run } from '../tracking/entities.js';
import type { RunQuery, TrackingStore } from '../tracking/tracking-store.js';
import { DEFAULT_EXPERIMENT } from '../tracking/training-logger.js';
import { addStoreOptions } from './config-options.js';
import { trackingRunJson } from './json-views.js';
import { collect, positiveIntegerArgument } from './options.js';
import { formatDecimals, formatTimestamp, printJson, renderTable } from './output.js';
import { openCommandStores } from './stores.js';

interface StoreFlags {
  home?: string;
  trackingUri?: string;
  artifactUri?: string;
  json?: boolean;
}

/** `runs list`'s options. */
interface ListOptions extends StoreFlags {
  experiment: string;
  filter?: string;
  orderBy: string[];
  maxResults?: number;
  max?: number;
  pageToken?: string;
  all?: boolean;
  children?: string;
}

/** How many runs `runs list` shows unless told otherwise. */
const DEFAULT_PAGE_SIZE = 50;

/** The most runs one search returns (MLflow's limit, which the stores keep). */
const MOST_RUNS_PER_PAGE = 50_000;

/** The tag MLflow (and Onset's tuning) marks a child run with: its parent's run id. */
const PARENT_RUN_TAG = 'mlflow.parentRunId';

/** MLflow's filters are conjunctions: joining two with `and` finds what both find. */
function both(first: string | undefined, second: string): string {
  return first?.trim() ? `${first} and ${second}` : second;
}

/** The experiment called `name`; when there is none, the error lists the ones there are. */
async function experimentNamed(tracking: TrackingStore, name: string): Promise<Experiment> {
  try {
    return await tracking.getExperimentByName(name);
  } catch (error) {
    if (!isOnsetError(error) || error.code !== 'RESOURCE_DOES_NOT_EXIST') throw error;
    const known = (await tracking.searchExperiments({ maxResults: 20 })).items.map((e) => e.name);
    throw new OnsetError(
      error.code,
      `${error.message}; ${known.length === 0 ? 'it has no experiments yet' : `its experiments: ${known.join(', ')} (--experiment NAME)`}`,
      { cause: error },
    );
  }
}

/**
 * `runs list`: one page of runs. By default only top-level runs, each with how many child runs it has (an
 * MLflow client's nested runs, Onset's tuning trials), so that trials do not bury the runs they belong
 * to; `--all` lists every run, `--children RUN` one run's children. A footer says how many runs follow
 * and how to see them.
 */
async function listRuns(tracking: TrackingStore, options: ListOptions): Promise<void> {
  const parent = options.children === undefined ? undefined : await tracking.getRun(options.children);
  const experiment = parent
    ? await tracking.getExperiment(parent.info.experimentId)
    : await experimentNamed(tracking, options.experiment);
  const scope = parent
    ? `${PARENT_RUN_TAG} = '${parent.info.runId}'`
    : options.all
      ? undefined
      : `${PARENT_RUN_TAG} IS NULL`;
  const filter = scope === undefined ? options.filter : both(options.filter, `tags.${scope}`);
  const query: RunQuery = {
    experimentIds: [experiment.experimentId],
    maxResults: options.maxResults ?? options.max ?? DEFAULT_PAGE_SIZE,
    ...(filter ? { filter } : {}),
    ...(options.orderBy.length > 0 ? { orderBy: options.orderBy } : {}),
    ...(options.pageToken ? { pageToken: options.pageToken } : {}),
  };
  const page = await tracking.searchRuns(query);
  const more =
    page.nextPageToken === null ? 0 : await tracking.countRuns({ ...query, pageToken: page.nextPageToken });
  const childCounts: Record<string, number> = {};
  for (const run of page.items) {
    childCounts[run.info.runId] = await tracking.countRuns({
      experimentIds: [experiment.experimentId],
      filter: `tags.${PARENT_RUN_TAG} = '${run.info.runId}'`,
    });
  }
  // Top-level runs only: how many child runs the filter left out, to say how to see them.
  const hiddenChildren =
    scope === `${PARENT_RUN_TAG} IS NULL`
      ? await tracking.countRuns({
          experimentIds: [experiment.experimentId],
          filter: both(options.filter, `tags.${PARENT_RUN_TAG} IS NOT NULL`),
        })
      : 0;
  if (options.json) {
    printJson({
      experiment: experiment.name,
      ...(parent ? { parent_run_id: parent.info.runId } : {}),
      runs: page.items.map(trackingRunJson),
      child_run_counts: childCounts,
      next_page_token: page.nextPageToken,
      more,
    });
    return;
  }
  const shown = page.items.length;
  const what = parent
    ? `child run(s) of ${parent.info.runId} (${parent.info.runName})`
    : options.all
      ? 'run(s)'
      : 'top-level run(s)';
  const lines = [
    renderTable(page.items, [
      { header: 'run', value: (r) => r.info.runId },
      { header: 'name', value: (r) => r.info.runName },
      { header: 'status', value: (r) => r.info.status },
      { header: 'started', value: (r) => formatTimestamp(r.info.startTime) },
      {
        header: 'family',
        value: (r) => r.data.tags.find((t) => t.key === 'onset.estimator')?.value ?? '',
      },
      ...(options.all
        ? [
            {
              header: 'parent',
              value: (r: Run) => r.data.tags.find((t) => t.key === PARENT_RUN_TAG)?.value ?? '',
            },
          ]
        : []),
      { header: 'children', value: (r) => String(childCounts[r.info.runId] ?? 0), align: 'right' },
      { header: 'cv ROC AUC', value: (r) => formatDecimals(metricOf(r, 'cv_roc_auc'), 4), align: 'right' },
      { header: 'cv accuracy', value: (r) => formatDecimals(metricOf(r, 'cv_accuracy'), 4), align: 'right' },
    ]),
    `${shown} ${what} in ${experiment.name}${
      hiddenChildren > 0
        ? `; ${hiddenChildren} child run(s) not shown (--all lists every run, --children RUN one run's)`
        : ''
    }`,
  ];
  if (page.nextPageToken !== null) {
    const all = shown + more;
    lines.push(
      `${more} more: use ${all <= MOST_RUNS_PER_PAGE ? `--max-results ${all} or ` : ''}--page-token ${page.nextPageToken}`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Metrics where lower is better; everything else is better higher. */
function lowerIsBetter(key: string): boolean {
  return /(loss|brier|rmse|_std|seconds|error)/.test(key);
}

function metricOf(run: Run, key: string): number | undefined {
  return run.data.metrics.find((m) => m.key === key)?.value;
}

export function registerRunsCommands(program: Command): void {
  const runs = program.command('runs').description('list, show and compare tracked training runs');

  addStoreOptions(
    runs
      .command('list')
      .description(
        'runs of an experiment, newest first: top-level runs with a count of their child runs (tuning trials), a page at a time',
      )
      .option('-e, --experiment <name>', 'experiment name', DEFAULT_EXPERIMENT)
      .option(
        '-f, --filter <filter>',
        'MLflow filter, e.g. "metrics.cv_roc_auc > 0.95 and params.max_depth = \'3\'"',
      )
      .option('-o, --order-by <clause>', 'e.g. "metrics.cv_roc_auc DESC" (repeatable)', collect, [])
      .option(
        '-n, --max-results <n>',
        'at most this many runs on the page (default 50)',
        positiveIntegerArgument,
      )
      .addOption(
        new Option('--max <n>', 'the same as --max-results').argParser(positiveIntegerArgument).hideHelp(),
      )
      .option('--page-token <token>', 'the next page, as the previous page said')
      .option('--all', 'every run, child runs (tuning trials) included')
      .option('--children <run>', "a run's child runs (its tuning trials), in its experiment")
      .option('--json', 'print as JSON'),
  ).action(async (options: ListOptions) => {
    if (options.all && options.children !== undefined) {
      throw invalidParameter('--all and --children exclude each other: choose one');
    }
    const stores = await openCommandStores(options, 'read');
    try {
      await listRuns(stores.tracking, options);
    } finally {
      await stores.close();
    }
  });

  addStoreOptions(
    runs
      .command('show')
      .description('one run: info, parameters, metrics, tags and artifacts')
      .argument('<run>', 'run id')
      .option('--json', 'print as JSON'),
  ).action(async (runId: string, options: StoreFlags) => {
    const stores = await openCommandStores(options, 'read');
    try {
      const run = await stores.tracking.getRun(runId);
      if (options.json) {
        printJson(trackingRunJson(run));
        return;
      }
      const experiment = await stores.tracking.getExperiment(run.info.experimentId);
      const lines = [
        `run ${run.info.runId} (${run.info.runName}) in experiment ${experiment.name} (id ${experiment.experimentId})`,
        `  status ${run.info.status}; started ${formatTimestamp(run.info.startTime)}; ended ${formatTimestamp(run.info.endTime)}`,
        `  artifacts ${run.info.artifactUri}`,
        '',
        renderTable(run.data.params, [
          { header: 'parameter', value: (p) => p.key },
          { header: 'value', value: (p) => p.value },
        ]),
        '',
        renderTable(run.data.metrics, [
          { header: 'metric (latest)', value: (m) => m.key },
          { header: 'value', value: (m) => formatDecimals(m.value, 4), align: 'right' },
          { header: 'step', value: (m) => String(m.step), align: 'right' },
        ]),
        '',
        renderTable(run.data.tags, [
          { header: 'tag', value: (t) => t.key },
          { header: 'value', value: (t) => t.value },
        ]),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    } finally {
      await stores.close();
    }
  });

  addStoreOptions(
    runs
      .command('compare')
      .description('runs side by side: parameters, and metrics with the best value marked *')
      .argument('<runs...>', 'two or more run ids')
      .option('--json', 'print as JSON'),
  ).action(async (runIds: string[], options: StoreFlags) => {
    const stores = await openCommandStores(options, 'read');
    try {
      const list = await Promise.all(runIds.map((id) => stores.tracking.getRun(id)));
      const paramKeys = [...new Set(list.flatMap((r) => r.data.params.map((p) => p.key)))].sort();
      const metricKeys = [...new Set(list.flatMap((r) => r.data.metrics.map((m) => m.key)))].sort();
      const best = Object.fromEntries(
        metricKeys.map((key) => {
          const values = list.map((r) => metricOf(r, key)).filter((v): v is number => v !== undefined);
          return [key, lowerIsBetter(key) ? Math.min(...values) : Math.max(...values)];
        }),
      );
      if (options.json) {
        printJson({
          runs: list.map((r) => r.info.runId),
          params: Object.fromEntries(
            paramKeys.map((k) => [k, list.map((r) => r.data.params.find((p) => p.key === k)?.value ?? null)]),
          ),
          metrics: Object.fromEntries(
            metricKeys.map((k) => [k, { values: list.map((r) => metricOf(r, k) ?? null), best: best[k] }]),
          ),
        });
        return;
      }
      const columns = list.map((r, i) => ({ header: r.info.runName || r.info.runId.slice(0, 8), index: i }));
      const paramRows = paramKeys.map((key) => ({
        key,
        cells: list.map((r) => r.data.params.find((p) => p.key === key)?.value ?? '–'),
      }));
      const metricRows = metricKeys.map((key) => ({
        key,
        cells: list.map((r) => {
          const value = metricOf(r, key);
          return value === undefined
            ? '–'
            : `${formatDecimals(value, 4)}${value === best[key] && list.length > 1 ? ' *' : ''}`;
        }),
      }));
      const table = (rows: { key: string; cells: string[] }[], title: string) =>
        renderTable(rows, [
          { header: title, value: (row) => row.key },
          ...columns.map((c) => ({
            header: c.header,
            value: (row: { cells: string[] }) => row.cells[c.index]!,
            align: 'right' as const,
          })),
        ]);
      process.stdout.write(`${table(paramRows, 'parameter')}\n\n${table(metricRows, 'metric (* best)')}\n`);
    } finally {
      await stores.close();
    }
  });
}

import type { Command } from 'commander';
import { openOnsetStores } from '../server/open-stores.js';
import type { Run } from '../tracking/entities.js';
import { DEFAULT_EXPERIMENT } from '../tracking/training-logger.js';
import { addStoreOptions, configFrom } from './config-options.js';
import { trackingRunJson } from './json-views.js';
import { collect, positiveIntegerArgument } from './options.js';
import { formatNumber, formatTimestamp, printJson, renderTable } from './output.js';

interface StoreFlags {
  home?: string;
  trackingUri?: string;
  artifactUri?: string;
  json?: boolean;
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
      .description('runs of an experiment, newest first')
      .option('-e, --experiment <name>', 'experiment name', DEFAULT_EXPERIMENT)
      .option(
        '-f, --filter <filter>',
        'MLflow filter, e.g. "metrics.cv_roc_auc > 0.95 and params.max_depth = \'3\'"',
      )
      .option('-o, --order-by <clause>', 'e.g. "metrics.cv_roc_auc DESC" (repeatable)', collect, [])
      .option('-n, --max <n>', 'at most this many runs', positiveIntegerArgument, 50)
      .option('--json', 'print as JSON'),
  ).action(
    async (options: StoreFlags & { experiment: string; filter?: string; orderBy: string[]; max: number }) => {
      const stores = await openOnsetStores(configFrom(options));
      try {
        const experiment = await stores.tracking.getExperimentByName(options.experiment);
        const page = await stores.tracking.searchRuns({
          experimentIds: [experiment.experimentId],
          maxResults: options.max,
          ...(options.filter ? { filter: options.filter } : {}),
          ...(options.orderBy.length > 0 ? { orderBy: options.orderBy } : {}),
        });
        if (options.json) {
          printJson({ experiment: experiment.name, runs: page.items.map(trackingRunJson) });
          return;
        }
        process.stdout.write(
          `${renderTable(page.items, [
            { header: 'run', value: (r) => r.info.runId },
            { header: 'name', value: (r) => r.info.runName },
            { header: 'status', value: (r) => r.info.status },
            { header: 'started', value: (r) => formatTimestamp(r.info.startTime) },
            {
              header: 'family',
              value: (r) => r.data.tags.find((t) => t.key === 'onset.estimator')?.value ?? '',
            },
            { header: 'cv ROC AUC', value: (r) => formatNumber(metricOf(r, 'cv_roc_auc')), align: 'right' },
            { header: 'cv accuracy', value: (r) => formatNumber(metricOf(r, 'cv_accuracy')), align: 'right' },
          ])}\n${page.items.length} run(s) in ${experiment.name}\n`,
        );
      } finally {
        await stores.close();
      }
    },
  );

  addStoreOptions(
    runs
      .command('show')
      .description('one run: info, parameters, metrics, tags and artifacts')
      .argument('<run>', 'run id')
      .option('--json', 'print as JSON'),
  ).action(async (runId: string, options: StoreFlags) => {
    const stores = await openOnsetStores(configFrom(options));
    try {
      const run = await stores.tracking.getRun(runId);
      if (options.json) {
        printJson(trackingRunJson(run));
        return;
      }
      const lines = [
        `run ${run.info.runId} (${run.info.runName}) in experiment ${run.info.experimentId}`,
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
          { header: 'value', value: (m) => formatNumber(m.value), align: 'right' },
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
    const stores = await openOnsetStores(configFrom(options));
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
            : `${formatNumber(value)}${value === best[key] && list.length > 1 ? ' *' : ''}`;
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

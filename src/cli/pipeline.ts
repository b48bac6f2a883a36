import { type Command, Option } from 'commander';
import { invalidParameter, OnsetError } from '../errors.js';
import type { PredictionLogStore } from '../monitoring/prediction-log/prediction-log-store.js';
import { retrainPipeline } from '../monitoring/retrain-pipeline.js';
import { upstreamOf } from '../pipelines/block.js';
import { BUILT_IN_PIPELINES, findPipeline } from '../pipelines/builtin/catalog.js';
import { executionOrder, type PipelineDefinition, resolveParams } from '../pipelines/pipeline.js';
import {
  PIPELINE_RUN_STATUSES,
  type PipelineRun,
  type PipelineRunStatus,
} from '../pipelines/pipeline-store.js';
import type { PipelineEvent } from '../pipelines/runner.js';
import type { OnsetStores } from '../server/open-stores.js';
import { addStoreOptions, configFrom } from './config-options.js';
import { asUsage, collect, parseParamAssignments, positiveIntegerArgument, UsageError } from './options.js';
import { formatDecimals, formatTimestamp, marks, printJson, renderTable } from './output.js';
import { plainProgressGate, progressBar } from './progress.js';
import { openCommandStores } from './stores.js';

interface StoreFlags {
  home?: string;
  trackingUri?: string;
  artifactUri?: string;
  json?: boolean;
}

/**
 * The pipelines the CLI knows: the built-in ones and `retrain`, which reads the prediction log that
 * `log()` answers when it runs (the stores `onset pipeline run` opens) and trains on ONSET_DATA, as the
 * server's does, unless given `data`.
 */
function knownPipelines(log: () => PredictionLogStore): PipelineDefinition[] {
  return [...BUILT_IN_PIPELINES, retrainPipeline(log, { data: configFrom({}).data })];
}

/** What `list` and `show` describe: nothing of theirs runs, so nothing reads the log. */
const describedPipelines = () =>
  knownPipelines(() => {
    throw new OnsetError('INTERNAL_ERROR', 'only onset pipeline run reads the prediction log');
  });

/** A pipeline by name; an unknown name is a usage error, as an unknown command is. */
const pipelineNamed = (name: string, pipelines: readonly PipelineDefinition[]) =>
  asUsage(() => findPipeline(name, pipelines));

/** The pipeline API's JSON shapes, which `--json` prints (loaded when asked: the CLI starts without them). */
const apiJson = () => import('../pipelines/pipeline-routes.js');

const seconds = (start: number | null, end: number | null) =>
  start === null || end === null ? '–' : `${((end - start) / 1000).toFixed(1)} s`;

/** Exit code of a run: 0 succeeded, 1 failed, 130 cancelled (as after Ctrl-C). */
export function exitCodeOf(status: PipelineRunStatus): number {
  return status === 'SUCCEEDED' ? 0 : status === 'CANCELLED' ? 130 : 1;
}

/** The pipeline as text: parameters, then blocks in execution order with their inputs. */
export function renderPipeline(pipeline: PipelineDefinition): string {
  const byName = new Map(pipeline.blocks.map((block) => [block.name, block]));
  const lines = [`${pipeline.name}: ${pipeline.description}`, '', 'blocks (in execution order):'];
  const order = executionOrder(pipeline);
  const width = Math.max(...order.map((name) => name.length));
  order.forEach((name, index) => {
    const block = byName.get(name)!;
    const inputs = Object.entries(block.inputs).map(
      ([input, wire]) => `${input}: ${wire.type} <- ${wire.from}`,
    );
    const after = (block.after ?? []).map((upstream) => `after ${upstream}`);
    lines.push(
      `  ${String(index + 1).padStart(2)}. ${name.padEnd(width)}  ${block.kind.padEnd(11)} ${[...inputs, ...after].join(', ') || '(no inputs)'}  => ${block.output}${block.retry ? `  (retry ${block.retry.attempts}x, backoff ${block.retry.backoffMs} ms)` : ''}`,
    );
  });
  const roots = order.filter((name) => upstreamOf(byName.get(name)!).length === 0);
  lines.push('', `starts with: ${roots.join(', ')}`, '', 'parameters:');
  lines.push(
    renderTable(Object.entries(pipeline.params), [
      { header: 'name', value: ([name]) => name },
      { header: 'type', value: ([, spec]) => spec.type },
      { header: 'default', value: ([, spec]) => (spec.default === '' ? '""' : String(spec.default)) },
      {
        header: 'description',
        value: ([, spec]) =>
          `${spec.description}${'choices' in spec && spec.choices ? ` (${spec.choices.join(', ')})` : ''}`,
      },
    ])
      .split('\n')
      .map((line) => `  ${line}`)
      .join('\n'),
  );
  return lines.join('\n');
}

function renderRun(run: PipelineRun): string {
  const lines = [
    `pipeline run ${run.runId}: ${run.pipeline} ${run.status}`,
    `  started ${formatTimestamp(run.startTime)}, ${run.endTime === null ? 'still running' : `took ${seconds(run.startTime, run.endTime)}`}, trigger ${run.trigger}`,
    `  params: ${Object.entries(run.params)
      .map(([k, v]) => `${k}=${v === '' ? '""' : v}`)
      .join(' ')}`,
    ...(run.error ? [`  error: ${run.error}`] : []),
    '',
    renderTable(run.blocks, [
      { header: 'block', value: (b) => b.block },
      { header: 'status', value: (b) => b.status },
      { header: 'attempts', value: (b) => String(b.attempts), align: 'right' },
      { header: 'duration', value: (b) => seconds(b.startTime, b.endTime), align: 'right' },
      {
        header: 'output',
        value: (b) =>
          b.error
            ? `error: ${b.error.message.split('\n')[0]}`
            : b.output
              ? Object.entries(b.output)
                  .filter(([key]) => key !== 'reason' && key !== 'fingerprint')
                  .map(
                    ([k, v]) =>
                      `${k}=${typeof v === 'number' && !Number.isInteger(v) ? formatDecimals(v, 4) : v}`,
                  )
                  .join(' ')
              : '',
      },
    ]),
  ];
  const reason = run.blocks.find((b) => b.output && typeof b.output.reason === 'string')?.output?.reason;
  if (reason) lines.push('', `gate: ${reason}`);
  if (run.links.length > 0) {
    lines.push(
      '',
      'created:',
      ...run.links.map(
        (link) =>
          `  ${link.kind === 'tracking_run' ? 'tracking run ' : 'model version'}  ${link.target}  (${link.block})`,
      ),
    );
  }
  return lines.join('\n');
}

/**
 * Live lines for a run on stderr: block starts and ends with their durations, retries, the blocks' own
 * log lines, and the progress of long blocks (folds, tuning trials): a redrawn bar on a terminal, a few
 * plain lines otherwise (see `plainProgressGate`).
 */
export function liveRenderer(
  stream: NodeJS.WriteStream = process.stderr,
  options: { now?: () => number; intervalMs?: number } = {},
): (event: PipelineEvent) => void {
  const mark = marks(stream);
  const now = options.now ?? Date.now;
  const plainLineDue = plainProgressGate({
    now,
    ...(options.intervalMs ? { intervalMs: options.intervalMs } : {}),
  });
  const started = new Map<string, number>();
  let progressLine = false;
  const clear = () => {
    if (progressLine) stream.write('\r\x1b[2K');
    progressLine = false;
  };
  return (event) => {
    switch (event.type) {
      case 'block-started':
        clear();
        started.set(event.block, now());
        stream.write(`${event.attempt > 1 ? `  retry ${event.attempt}: ` : '  > '}${event.block}\n`);
        break;
      case 'block-progress': {
        const label = `${event.block}: ${event.label ? `${event.label} ` : ''}${event.done}/${event.total}`;
        const share = event.total > 0 ? Math.min(1, event.done / event.total) : 0;
        const elapsed = `${((now() - (started.get(event.block) ?? now())) / 1000).toFixed(1)} s`;
        if (stream.isTTY) {
          stream.write(`\r\x1b[2K    ${label} ${progressBar(share)} ${Math.round(share * 100)}%, ${elapsed}`);
          progressLine = true;
        } else if (plainLineDue(`${event.block} ${event.label ?? ''}`, event.done, event.total)) {
          stream.write(`    ${label} (${Math.round(share * 100)}%, ${elapsed})\n`);
        }
        break;
      }
      case 'log':
        if (event.line.level === 'debug') break;
        clear();
        stream.write(
          `    [${event.line.block}] ${event.line.level === 'info' ? '' : `${event.line.level}: `}${event.line.message}\n`,
        );
        break;
      case 'block-retry':
        break;
      case 'block-finished': {
        clear();
        const sign = event.status === 'SUCCEEDED' ? mark.ok : event.status === 'FAILED' ? mark.fail : '-';
        stream.write(
          `  ${sign} ${event.block} ${event.status}${event.seconds > 0 ? ` (${event.seconds.toFixed(1)} s)` : ''}${event.error ? `: ${event.error}` : ''}\n`,
        );
        break;
      }
    }
  };
}

export function registerPipelineCommands(program: Command): void {
  const pipeline = program
    .command('pipeline')
    .description('training pipelines: list, show, run, and their run history, logs and schedules');

  pipeline
    .command('list')
    .description('the pipelines Onset knows')
    .option('--json', 'print as JSON')
    .action((options: { json?: boolean }) => {
      if (options.json) {
        printJson(
          describedPipelines().map((p) => ({
            name: p.name,
            description: p.description,
            blocks: executionOrder(p),
          })),
        );
        return;
      }
      process.stdout.write(
        `${renderTable(describedPipelines(), [
          { header: 'pipeline', value: (p) => p.name },
          { header: 'blocks', value: (p) => String(p.blocks.length), align: 'right' },
          { header: 'description', value: (p) => p.description },
        ])}\n`,
      );
    });

  pipeline
    .command('show <name>')
    .description('a pipeline as text: its blocks in execution order with their wiring, and its parameters')
    .option('--json', 'print as JSON')
    .action(async (name: string, options: { json?: boolean }) => {
      const found = pipelineNamed(name, describedPipelines());
      if (options.json) {
        printJson((await apiJson()).describePipeline(found));
        return;
      }
      process.stdout.write(`${renderPipeline(found)}\n`);
    });

  addStoreOptions(
    pipeline
      .command('run <name>')
      .description(
        'run a pipeline here, showing each block live; the exit code is the run result (0, 1, 130 cancelled)',
      )
      .option(
        '-p, --param <name=value>',
        'a pipeline parameter (repeatable); see onset pipeline show NAME',
        collect,
        [],
      )
      .option('-d, --data <file>', 'the labelled CSV to train on (the same as --param data=FILE)')
      .option('--rerun <runId>', 'repeat a recorded run with exactly its parameters')
      .option('--json', 'print the finished run as JSON'),
  ).action(async (name: string, options: StoreFlags & { param: string[]; data?: string; rerun?: string }) => {
    let stores: OnsetStores | undefined;
    const found = pipelineNamed(
      name,
      knownPipelines(() => {
        if (stores === undefined) throw new OnsetError('INTERNAL_ERROR', 'the stores are not open yet');
        return stores.predictionLog;
      }),
    );
    const given = {
      ...parseParamAssignments(options.param),
      ...(options.data ? { data: options.data } : {}),
    };
    // Wrong parameters are usage errors, found before a run is recorded.
    asUsage(() => resolveParams(found, given));
    stores = await openCommandStores(options, 'write');
    try {
      const rerun = options.rerun ? await stores.pipelines.getRun(options.rerun) : undefined;
      if (rerun && rerun.pipeline !== found.name) {
        throw new UsageError(
          `Run ${rerun.runId} is a run of ${rerun.pipeline}; use onset pipeline run ${rerun.pipeline} --rerun ${rerun.runId}`,
        );
      }
      const params = { ...(rerun?.params ?? {}), ...given };
      const controller = new AbortController();
      const onInterrupt = () => {
        if (controller.signal.aborted) process.exit(130);
        process.stderr.write('\ncancelling the run (Ctrl-C again to quit at once)\n');
        controller.abort(new Error('interrupted (Ctrl-C)'));
      };
      process.on('SIGINT', onInterrupt);
      const { startPipelineRun } = await import('../pipelines/runner.js');
      const handle = await startPipelineRun(found, {
        stores,
        params,
        trigger: options.rerun ? `rerun:${options.rerun}` : 'cli',
        signal: controller.signal,
        onEvent: liveRenderer(),
      });
      process.stderr.write(`pipeline ${found.name}: run ${handle.runId}\n`);
      const run = await handle.finished;
      process.off('SIGINT', onInterrupt);
      if (options.json) printJson((await apiJson()).pipelineRunJson(run));
      else process.stdout.write(`${renderRun(run)}\n\nlogs: onset pipeline logs ${run.runId}\n`);
      if (run.status !== 'SUCCEEDED') {
        process.stderr.write(
          `onset: pipeline run ${run.runId} ${run.status}${run.error ? `: ${run.error}` : ''} (onset pipeline logs ${run.runId})\n`,
        );
      }
      process.exitCode = exitCodeOf(run.status);
    } finally {
      await stores.close();
    }
  });

  addStoreOptions(
    pipeline
      .command('runs [runId]')
      .description('pipeline runs, newest first; with a run id, that run in detail')
      .option('--pipeline <name>', 'only runs of this pipeline')
      .addOption(
        new Option('--status <status>', 'only runs with this status').choices([...PIPELINE_RUN_STATUSES]),
      )
      .option('-n, --max <n>', 'at most this many runs', positiveIntegerArgument, 20)
      .option('--json', 'print as JSON'),
  ).action(
    async (
      runId: string | undefined,
      options: StoreFlags & { pipeline?: string; status?: PipelineRunStatus; max: number },
    ) => {
      const stores = await openCommandStores(options, 'read');
      try {
        if (runId) {
          const run = await stores.pipelines.getRun(runId);
          if (options.json) printJson((await apiJson()).pipelineRunJson(run));
          else process.stdout.write(`${renderRun(run)}\n`);
          return;
        }
        const page = await stores.pipelines.listRuns({
          maxResults: options.max,
          ...(options.pipeline ? { pipeline: options.pipeline } : {}),
          ...(options.status ? { status: options.status } : {}),
        });
        if (options.json) {
          const { pipelineRunJson } = await apiJson();
          printJson({
            runs: page.items.map(pipelineRunJson),
            ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}),
          });
          return;
        }
        if (page.items.length === 0) {
          process.stdout.write('no pipeline runs yet (onset pipeline run NAME)\n');
          return;
        }
        process.stdout.write(
          `${renderTable(page.items, [
            { header: 'run', value: (r) => r.runId },
            { header: 'pipeline', value: (r) => r.pipeline },
            { header: 'status', value: (r) => r.status },
            { header: 'started', value: (r) => formatTimestamp(r.startTime) },
            { header: 'duration', value: (r) => seconds(r.startTime, r.endTime), align: 'right' },
            { header: 'trigger', value: (r) => r.trigger },
            {
              header: 'blocks',
              value: (r) =>
                `${r.blocks.filter((b) => b.status === 'SUCCEEDED').length}/${r.blocks.length} ok`,
            },
          ])}\n`,
        );
      } finally {
        await stores.close();
      }
    },
  );

  addStoreOptions(
    pipeline
      .command('logs <runId> [block]')
      .description("a run's captured block logs, in order (one block's when named)")
      .option('--json', 'print as JSON'),
  ).action(async (runId: string, block: string | undefined, options: StoreFlags) => {
    const stores = await openCommandStores(options, 'read');
    try {
      const run = await stores.pipelines.getRun(runId);
      if (block !== undefined && !run.blocks.some((b) => b.block === block)) {
        throw invalidParameter(
          `Run ${runId} has no block "${block}"; its blocks: ${run.blocks.map((b) => b.block).join(', ')}`,
        );
      }
      const logs = await stores.pipelines.getLogs(runId, block === undefined ? {} : { block });
      if (options.json) {
        printJson({ run_id: runId, logs: logs.map((await apiJson()).blockLogLineJson) });
        return;
      }
      const lines = logs.map(
        (line) =>
          `${formatTimestamp(line.timestamp)}  ${line.block}${line.attempt > 1 ? `#${line.attempt}` : ''}  ${line.level.toUpperCase().padEnd(5)}  ${line.message}`,
      );
      const errors = run.blocks.filter((b) => b.error && (block === undefined || b.block === block));
      for (const failed of errors)
        lines.push('', `${failed.block} failed: ${failed.error!.stack ?? failed.error!.message}`);
      process.stdout.write(`${lines.length > 0 ? lines.join('\n') : 'no log lines'}\n`);
    } finally {
      await stores.close();
    }
  });

  addStoreOptions(
    pipeline.command('cancel <runId>').description('ask the process running a pipeline run to cancel it'),
  ).action(async (runId: string, options: StoreFlags) => {
    const stores = await openCommandStores(options, 'read');
    try {
      await stores.pipelines.requestCancel(runId);
      process.stdout.write(`asked to cancel run ${runId}; its process stops it within a second or two\n`);
    } finally {
      await stores.close();
    }
  });

  const schedule = pipeline.command('schedule').description('cron schedules that `onset up` fires');
  addStoreOptions(
    schedule
      .command('add <name>')
      .description('run a pipeline on a cron schedule (while onset up runs)')
      .requiredOption('--cron <expression>', 'minute hour day-of-month month day-of-week, e.g. "0 3 * * *"')
      .option('--timezone <zone>', 'IANA time zone of the expression', 'UTC')
      .option('-p, --param <name=value>', 'a pipeline parameter (repeatable)', collect, [])
      .option('--json', 'print as JSON'),
  ).action(
    async (name: string, options: StoreFlags & { cron: string; timezone: string; param: string[] }) => {
      const found = pipelineNamed(name, describedPipelines());
      const params = parseParamAssignments(options.param);
      asUsage(() => resolveParams(found, params));
      const stores = await openCommandStores(options, 'write');
      try {
        const { addSchedule } = await import('../pipelines/scheduler.js');
        const added = await addSchedule(stores.pipelines, found, {
          cron: options.cron,
          timezone: options.timezone,
          params,
        });
        if (options.json) printJson((await apiJson()).pipelineScheduleJson(added));
        else
          process.stdout.write(
            `schedule ${added.scheduleId}: ${found.name} at "${added.cron}" (${added.timezone}); next ${formatTimestamp(added.nextRunTime)} UTC\n`,
          );
      } finally {
        await stores.close();
      }
    },
  );
  addStoreOptions(
    schedule.command('list').description('the stored schedules').option('--json', 'print as JSON'),
  ).action(async (options: StoreFlags) => {
    const stores = await openCommandStores(options, 'read');
    try {
      const schedules = await stores.pipelines.listSchedules();
      if (options.json) {
        printJson({ schedules: schedules.map((await apiJson()).pipelineScheduleJson) });
        return;
      }
      process.stdout.write(
        schedules.length === 0
          ? 'no schedules (onset pipeline schedule add NAME --cron "0 3 * * *")\n'
          : `${renderTable(schedules, [
              { header: 'id', value: (s) => s.scheduleId },
              { header: 'pipeline', value: (s) => s.pipeline },
              { header: 'cron', value: (s) => `${s.cron} (${s.timezone})` },
              { header: 'enabled', value: (s) => (s.enabled ? 'yes' : 'no') },
              { header: 'next (UTC)', value: (s) => formatTimestamp(s.nextRunTime) },
              { header: 'last run', value: (s) => s.lastRunId ?? '–' },
              {
                header: 'params',
                value: (s) =>
                  Object.entries(s.params)
                    .map(([k, v]) => `${k}=${v}`)
                    .join(' '),
              },
            ])}\n`,
      );
    } finally {
      await stores.close();
    }
  });
  for (const [command, description] of [
    ['remove', 'delete a schedule'],
    ['enable', 'fire a schedule again'],
    ['disable', 'stop firing a schedule (kept)'],
  ] as const) {
    addStoreOptions(schedule.command(`${command} <scheduleId>`).description(description)).action(
      async (scheduleId: string, options: StoreFlags) => {
        const stores = await openCommandStores(options, 'read');
        try {
          if (command === 'remove') await stores.pipelines.deleteSchedule(scheduleId);
          else await stores.pipelines.setScheduleEnabled(scheduleId, command === 'enable');
          process.stdout.write(
            `schedule ${scheduleId} ${command === 'remove' ? 'removed' : `${command}d`}\n`,
          );
        } finally {
          await stores.close();
        }
      },
    );
  }
}

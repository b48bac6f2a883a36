import { useEffect, useRef, useState } from 'preact/hooks';
import {
  addSchedule,
  cancelPipelineRun,
  deleteSchedule,
  getPipeline,
  getPipelineRun,
  listPipelineRuns,
  listPipelines,
  listSchedules,
  pipelineRunLogs,
  startPipeline,
} from '../api/onset.js';
import type { ParamSpec, Pipeline, PipelineRun } from '../api/types.js';
import { Dag } from '../components/dag.js';
import { DataTable } from '../components/data-table.js';
import { ErrorBox, Facts, Loading, Section, Status } from '../components/feedback.js';
import { formatAgo, formatDuration, formatTime } from '../lib/format.js';
import { useApi, useInterval } from '../lib/use-api.js';
import { Link, navigate } from '../router.js';

type Params = { params: Readonly<Record<string, string>> };

const pipelineHref = (name: string) => `/pipelines/${encodeURIComponent(name)}`;
const runHref = (id: string) => `/pipeline-runs/${encodeURIComponent(id)}`;
const duration = (run: PipelineRun) => formatDuration((run.end_time ?? Date.now()) - run.start_time);

/** Pipeline runs, newest first, a page at a time; refreshed while one of them runs. */
function RunHistory({ pipeline }: { pipeline?: string }) {
  const [tokens, setTokens] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState(0);
  const runs = useApi(
    () =>
      listPipelineRuns({
        maxResults: 20,
        ...(pipeline ? { pipeline } : {}),
        ...(tokens[page] ? { pageToken: tokens[page] } : {}),
      }),
    [pipeline, page, tokens[page]],
  );
  const running = runs.data?.runs.some((run) => run.status === 'RUNNING');
  useInterval(runs.reload, running ? 2000 : undefined);
  if (runs.error) return <ErrorBox error={runs.error} title="Could not list the runs" />;
  if (!runs.data) return <Loading label="Listing the runs" />;
  const next = runs.data.nextPageToken;
  return (
    <>
      <DataTable
        caption="Pipeline runs, newest first"
        rows={runs.data.runs}
        rowKey={(run) => run.run_id}
        empty="No run yet."
        columns={[
          {
            id: 'run',
            header: 'run',
            cell: (run) => <Link href={runHref(run.run_id)}>{run.run_id.slice(0, 12)}</Link>,
          },
          ...(pipeline
            ? []
            : [{ id: 'pipeline', header: 'pipeline', cell: (run: PipelineRun) => run.pipeline }]),
          { id: 'status', header: 'status', cell: (run) => <Status value={run.status} /> },
          {
            id: 'started',
            header: 'started',
            cell: (run) => <span class="nowrap">{formatTime(run.start_time)}</span>,
          },
          { id: 'duration', header: 'duration', numeric: true, cell: duration },
          { id: 'trigger', header: 'trigger', cell: (run) => run.trigger },
          { id: 'error', header: 'error', cell: (run) => run.error ?? '' },
        ]}
      />
      <nav class="pager" aria-label="Pages of runs">
        <button type="button" disabled={page === 0} onClick={() => setPage(page - 1)}>
          ← Newer
        </button>
        <span>page {page + 1}</span>
        <button
          type="button"
          disabled={!next}
          onClick={() => {
            setTokens((previous) => [...previous.slice(0, page + 1), next]);
            setPage(page + 1);
          }}
        >
          Older →
        </button>
      </nav>
    </>
  );
}

function Schedules({ pipelines }: { pipelines: readonly Pipeline[] }) {
  const schedules = useApi(() => listSchedules(), []);
  const [pipeline, setPipeline] = useState(pipelines[0]?.name ?? '');
  const [cron, setCron] = useState('0 3 * * *');
  const [timezone, setTimezone] = useState('UTC');
  const [error, setError] = useState<Error | undefined>();
  const [busy, setBusy] = useState(false);
  const act = async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
      schedules.reload();
    } catch (failure) {
      setError(failure as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="stack">
      <ErrorBox error={schedules.error} title="Could not list the schedules" />
      {schedules.data ? (
        <DataTable
          caption="Schedules"
          rows={schedules.data}
          rowKey={(s) => s.schedule_id}
          empty="No schedule."
          columns={[
            {
              id: 'pipeline',
              header: 'pipeline',
              cell: (s) => <Link href={pipelineHref(s.pipeline)}>{s.pipeline}</Link>,
            },
            { id: 'cron', header: 'cron', cell: (s) => <code>{s.cron}</code> },
            { id: 'tz', header: 'time zone', cell: (s) => s.timezone },
            { id: 'next', header: 'next run', cell: (s) => formatTime(s.next_run_time) },
            {
              id: 'last',
              header: 'last run',
              cell: (s) =>
                s.last_run_id ? <Link href={runHref(s.last_run_id)}>{s.last_run_id.slice(0, 12)}</Link> : '',
            },
            { id: 'enabled', header: 'enabled', cell: (s) => (s.enabled ? 'yes' : 'no') },
            {
              id: 'delete',
              header: <span class="visually-hidden">actions</span>,
              cell: (s) => (
                <button
                  type="button"
                  class="danger"
                  disabled={busy}
                  onClick={() => act(() => deleteSchedule(s.schedule_id))}
                  aria-label={`Delete the schedule of ${s.pipeline} at ${s.cron}`}
                >
                  Delete
                </button>
              ),
            },
          ]}
        />
      ) : null}
      <form
        class="toolbar"
        aria-label="New schedule"
        onSubmit={(event) => {
          event.preventDefault();
          void act(() =>
            addSchedule({ pipeline, cron: cron.trim(), timezone: timezone.trim() || 'UTC', params: {} }),
          );
        }}
      >
        <div>
          <label class="field-label" for="schedule-pipeline">
            Pipeline
          </label>
          <select
            id="schedule-pipeline"
            value={pipeline}
            onChange={(event) => setPipeline(event.currentTarget.value)}
          >
            {pipelines.map((p) => (
              <option key={p.name} value={p.name}>
                {p.name}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label class="field-label" for="schedule-cron">
            Cron (minute hour day month weekday)
          </label>
          <input id="schedule-cron" value={cron} onInput={(event) => setCron(event.currentTarget.value)} />
        </div>
        <div>
          <label class="field-label" for="schedule-tz">
            Time zone
          </label>
          <input
            id="schedule-tz"
            value={timezone}
            onInput={(event) => setTimezone(event.currentTarget.value)}
          />
        </div>
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : 'Add schedule'}
        </button>
      </form>
      <p class="hint">A new schedule runs the pipeline with its default parameters.</p>
      <ErrorBox error={error} title="The schedule was refused" />
    </div>
  );
}

export function PipelinesPage() {
  const pipelines = useApi(() => listPipelines(), []);
  return (
    <>
      <div class="page-head">
        <h1>Pipelines</h1>
        <span class="subtitle">Training as DAGs of typed blocks; runs, logs and schedules</span>
      </div>
      <Section title="Pipelines" id="pipelines">
        <ErrorBox error={pipelines.error} title="Could not list the pipelines" />
        {pipelines.data ? (
          <DataTable
            caption="Pipelines"
            rows={pipelines.data}
            rowKey={(p) => p.name}
            columns={[
              {
                id: 'name',
                header: 'pipeline',
                cell: (p) => <Link href={pipelineHref(p.name)}>{p.name}</Link>,
              },
              { id: 'blocks', header: 'blocks', numeric: true, cell: (p) => p.blocks.length },
              { id: 'description', header: 'what it does', cell: (p) => p.description },
            ]}
          />
        ) : pipelines.error ? null : (
          <Loading label="Listing the pipelines" />
        )}
      </Section>
      <Section title="Runs" id="runs">
        <RunHistory />
      </Section>
      <Section title="Schedules" id="schedules">
        {pipelines.data ? <Schedules pipelines={pipelines.data} /> : null}
      </Section>
    </>
  );
}

function ParamField({
  name,
  spec,
  value,
  onChange,
}: {
  name: string;
  spec: ParamSpec;
  value: string | boolean;
  onChange: (value: string | boolean) => void;
}) {
  const id = `param-${name}`;
  const hint = (
    <div class="hint" id={`${id}-hint`}>
      {spec.description}
      {spec.type === 'integer' || spec.type === 'number'
        ? `${spec.min !== undefined ? ` · at least ${spec.min}` : ''}${spec.max !== undefined ? ` · at most ${spec.max}` : ''}`
        : ''}{' '}
      (default {String(spec.default) || 'empty'})
    </div>
  );
  if (spec.type === 'boolean') {
    return (
      <div>
        <label>
          <input
            id={id}
            type="checkbox"
            checked={value === true}
            aria-describedby={`${id}-hint`}
            onChange={(event) => onChange(event.currentTarget.checked)}
          />{' '}
          {name}
        </label>
        {hint}
      </div>
    );
  }
  return (
    <div>
      <label for={id}>{name}</label>
      {spec.type === 'string' && spec.choices ? (
        <select
          id={id}
          value={String(value)}
          aria-describedby={`${id}-hint`}
          onChange={(event) => onChange(event.currentTarget.value)}
        >
          {spec.choices.map((choice) => (
            <option key={choice} value={choice}>
              {choice}
            </option>
          ))}
        </select>
      ) : spec.type === 'string' ? (
        <input
          id={id}
          type="text"
          value={String(value)}
          aria-describedby={`${id}-hint`}
          onInput={(event) => onChange(event.currentTarget.value)}
        />
      ) : (
        <input
          id={id}
          type="number"
          step={spec.type === 'integer' ? 1 : 'any'}
          min={spec.min}
          max={spec.max}
          value={String(value)}
          aria-describedby={`${id}-hint`}
          onInput={(event) => onChange(event.currentTarget.value)}
        />
      )}
      {hint}
    </div>
  );
}

/** The parameters as the pipeline API takes them: numbers as numbers, only those changed from the default. */
function paramsToSend(pipeline: Pipeline, values: Readonly<Record<string, string | boolean>>) {
  const params: Record<string, string | number | boolean> = {};
  for (const [name, spec] of Object.entries(pipeline.params)) {
    const value = values[name];
    if (value === undefined) continue;
    if (spec.type === 'boolean') {
      if (value !== spec.default) params[name] = value === true;
    } else if (spec.type === 'string') {
      if (value !== spec.default) params[name] = String(value);
    } else if (String(value).trim() !== String(spec.default)) {
      const text = String(value).trim();
      params[name] = text !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
    }
  }
  return params;
}

function RunForm({ pipeline }: { pipeline: Pipeline }) {
  const defaults = Object.fromEntries(
    Object.entries(pipeline.params).map(([name, spec]) => [
      name,
      spec.type === 'boolean' ? spec.default : String(spec.default),
    ]),
  );
  const [values, setValues] = useState<Record<string, string | boolean>>(defaults);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | undefined>();
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const run = await startPipeline(pipeline.name, paramsToSend(pipeline, values));
      navigate(runHref(run.run_id));
    } catch (failure) {
      setError(failure as Error);
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} aria-label={`Run ${pipeline.name}`}>
      <div class="form-grid">
        {Object.entries(pipeline.params).map(([name, spec]) => (
          <ParamField
            key={name}
            name={name}
            spec={spec}
            value={values[name] ?? ''}
            onChange={(value) => setValues((previous) => ({ ...previous, [name]: value }))}
          />
        ))}
      </div>
      <div class="buttons">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Starting…' : `Run ${pipeline.name}`}
        </button>
        <button type="button" onClick={() => setValues(defaults)}>
          Reset to the defaults
        </button>
      </div>
      <ErrorBox error={error} title="The run did not start" />
    </form>
  );
}

export function PipelinePage({ params }: Params) {
  const name = params.name!;
  const pipeline = useApi(() => getPipeline(name), [name]);
  if (pipeline.error) return <ErrorBox error={pipeline.error} title={`Could not read pipeline ${name}`} />;
  if (!pipeline.data) return <Loading label="Loading the pipeline" />;
  return (
    <>
      <div class="breadcrumbs">
        <Link href="/pipelines">Pipelines</Link> ›
      </div>
      <div class="page-head">
        <h1>{name}</h1>
        <span class="subtitle">{pipeline.data.description}</span>
      </div>
      <Section title="Blocks" id="dag">
        <Dag pipeline={pipeline.data} />
      </Section>
      <Section title="Run it" id="run">
        <RunForm pipeline={pipeline.data} />
      </Section>
      <Section title="Runs" id="runs">
        <RunHistory pipeline={name} />
      </Section>
    </>
  );
}

/** How often a running run is read again: live enough to follow, light on the server. */
const FOLLOW_MS = 1000;

function Logs({ runId, running }: { runId: string; running: boolean }) {
  const logs = useApi(() => pipelineRunLogs(runId), [runId]);
  const [block, setBlock] = useState('');
  const [follow, setFollow] = useState(true);
  const box = useRef<HTMLDivElement>(null);
  useInterval(logs.reload, running ? FOLLOW_MS : undefined);
  const lines = (logs.data ?? []).filter((line) => block === '' || line.block === block);
  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [lines.length, follow]);
  const blocks = [...new Set((logs.data ?? []).map((line) => line.block))];
  return (
    <div class="stack">
      <div class="toolbar">
        <div>
          <label class="field-label" for="log-block">
            Block
          </label>
          <select id="log-block" value={block} onChange={(event) => setBlock(event.currentTarget.value)}>
            <option value="">every block</option>
            {blocks.map((b) => (
              <option key={b} value={b}>
                {b}
              </option>
            ))}
          </select>
        </div>
        {running ? (
          <label class="hint">
            <input
              type="checkbox"
              checked={follow}
              onChange={(event) => setFollow(event.currentTarget.checked)}
            />{' '}
            Follow the log
          </label>
        ) : null}
      </div>
      <ErrorBox error={logs.error} title="Could not read the log" />
      <div
        class="log"
        ref={box}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take the focus to be scrolled with the keyboard
        tabIndex={0}
        role="log"
        aria-label="Log lines"
        aria-live={running ? 'polite' : undefined}
      >
        {lines.length === 0 ? (logs.data ? 'No log line yet.' : 'Reading…') : null}
        {lines.map((line, i) => (
          <div
            key={`${line.timestamp}:${i}`}
            class={line.level === 'error' ? 'error' : line.level === 'warn' ? 'warn' : undefined}
          >
            {new Date(line.timestamp).toLocaleTimeString()} [{line.block}
            {line.attempt > 1 ? ` #${line.attempt}` : ''}]{' '}
            {line.level !== 'info' ? `${line.level.toUpperCase()} ` : ''}
            {line.message}
          </div>
        ))}
      </div>
    </div>
  );
}

export function PipelineRunPage({ params }: Params) {
  const id = params.id!;
  const run = useApi(() => getPipelineRun(id), [id]);
  const pipelineName = run.data?.pipeline;
  const pipeline = useApi(async () => (pipelineName ? getPipeline(pipelineName) : undefined), [pipelineName]);
  const running = run.data?.status === 'RUNNING';
  useInterval(run.reload, running ? FOLLOW_MS : undefined);
  const [cancelling, setCancelling] = useState(false);
  const [cancelError, setCancelError] = useState<Error | undefined>();
  if (run.error && !run.data)
    return <ErrorBox error={run.error} title={`Could not read pipeline run ${id}`} />;
  if (!run.data) return <Loading label="Loading the run" />;
  const r = run.data;
  const statuses = Object.fromEntries(r.blocks.map((b) => [b.block, b.status]));
  const cancel = async () => {
    setCancelling(true);
    setCancelError(undefined);
    try {
      await cancelPipelineRun(id);
      run.reload();
    } catch (failure) {
      setCancelError(failure as Error);
    } finally {
      setCancelling(false);
    }
  };
  const done = r.blocks.filter((b) => !['PENDING', 'RUNNING'].includes(b.status)).length;
  return (
    <>
      <div class="breadcrumbs">
        <Link href="/pipelines">Pipelines</Link> › <Link href={pipelineHref(r.pipeline)}>{r.pipeline}</Link> ›
      </div>
      <div class="page-head">
        <h1>
          {r.pipeline} run <code>{r.run_id.slice(0, 12)}</code>
        </h1>
        <span aria-live="polite">
          <Status value={r.status} />
        </span>
        {running ? (
          <button type="button" class="danger" onClick={cancel} disabled={cancelling || r.cancel_requested}>
            {r.cancel_requested ? 'Cancelling…' : cancelling ? 'Asking…' : 'Cancel the run'}
          </button>
        ) : null}
      </div>
      <ErrorBox error={cancelError} title="The run was not cancelled" />
      <ErrorBox error={run.error} title="Could not refresh the run" />
      {running ? (
        <div role="status" class="stack">
          <progress value={done} max={r.blocks.length} aria-label="Blocks finished" /> {done} of{' '}
          {r.blocks.length} blocks finished · {duration(r)}
        </div>
      ) : null}
      <Section title="About this run" id="about">
        <Facts
          items={[
            ['started', `${formatTime(r.start_time)} (${formatAgo(r.start_time)})`],
            ['ended', formatTime(r.end_time)],
            ['duration', duration(r)],
            ['trigger', r.trigger],
            ['error', r.error ?? ''],
            [
              'made',
              r.links.length > 0 ? (
                <span class="inline-list">
                  {r.links.map((link) =>
                    link.kind === 'tracking_run' ? (
                      <Link key={link.target} href={`/runs/${link.target}`}>
                        run of {link.block}
                      </Link>
                    ) : (
                      <Link
                        key={link.target}
                        href={`/models/${link.target.split('/').map(encodeURIComponent).join('/versions/')}`}
                      >
                        {link.target.replace('/', ' v')}
                      </Link>
                    ),
                  )}
                </span>
              ) : (
                ''
              ),
            ],
          ]}
        />
        <p class="hint">
          Parameters:{' '}
          <code class="output">
            {Object.entries(r.params)
              .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
              .join(' · ')}
          </code>
        </p>
      </Section>
      {pipeline.data ? (
        <Section title="Blocks" id="dag">
          <Dag pipeline={pipeline.data} statuses={statuses} />
        </Section>
      ) : null}
      <Section title="Block runs" id="blocks">
        <DataTable
          caption="The blocks of this run, in execution order"
          rows={r.blocks}
          rowKey={(b) => b.block}
          columns={[
            { id: 'block', header: 'block', cell: (b) => b.block },
            { id: 'status', header: 'status', cell: (b) => <Status value={b.status} /> },
            { id: 'attempts', header: 'attempts', numeric: true, cell: (b) => b.attempts },
            {
              id: 'duration',
              header: 'duration',
              numeric: true,
              cell: (b) => (b.start_time ? formatDuration((b.end_time ?? Date.now()) - b.start_time) : ''),
            },
            {
              id: 'output',
              header: 'output',
              cell: (b) =>
                b.error ? (
                  <span class="field-error">{b.error.message}</span>
                ) : b.output ? (
                  <code class="output">
                    {Object.entries(b.output)
                      .map(
                        ([key, value]) =>
                          `${key}: ${typeof value === 'number' ? Number(value.toFixed(4)) : String(value)}`,
                      )
                      .join(' · ')}
                  </code>
                ) : (
                  ''
                ),
            },
          ]}
        />
      </Section>
      <Section title="Log" id="log">
        <Logs runId={id} running={running} />
      </Section>
    </>
  );
}

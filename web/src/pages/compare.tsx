import { useMemo, useState } from 'preact/hooks';
import { getRun, metricHistories } from '../api/mlflow.js';
import type { Run } from '../api/types.js';
import { alignSeries, Chart, PALETTE } from '../components/chart.js';
import { type Column, DataTable } from '../components/data-table.js';
import { ErrorBox, Loading, Section, Status } from '../components/feedback.js';
import { formatNumber, formatTime } from '../lib/format.js';
import { latestMetrics, runName, tagOf } from '../lib/tags.js';
import { useApi } from '../lib/use-api.js';
import { Link, useLocation } from '../router.js';

/** Most runs compared at once (MLflow's bulk history takes 100; a table beyond 10 columns is unreadable). */
const MAX_RUNS = 10;

interface Row {
  readonly key: string;
  readonly values: readonly (string | undefined)[];
  readonly different: boolean;
}

function rowsOf(runs: readonly Run[], valuesOf: (run: Run) => ReadonlyMap<string, string>): Row[] {
  const maps = runs.map(valuesOf);
  const keys = [...new Set(maps.flatMap((map) => [...map.keys()]))].sort();
  return keys.map((key) => {
    const values = maps.map((map) => map.get(key));
    return { key, values, different: new Set(values).size > 1 };
  });
}

function SideBySide({
  runs,
  rows,
  caption,
}: {
  runs: readonly Run[];
  rows: readonly Row[];
  caption: string;
}) {
  const [onlyDifferent, setOnlyDifferent] = useState(false);
  const shown = onlyDifferent ? rows.filter((row) => row.different) : rows;
  const differing = rows.filter((row) => row.different).length;
  const columns: Column<Row>[] = [
    {
      id: 'key',
      header: 'name',
      cell: (row) =>
        row.different ? (
          <span class="nowrap">
            <span class="diff-mark" aria-hidden="true">
              ≠{' '}
            </span>
            {row.key}
            <span class="visually-hidden"> (differs)</span>
          </span>
        ) : (
          <span class="nowrap">{row.key}</span>
        ),
    },
    ...runs.map(
      (run, i): Column<Row> => ({
        id: run.info.run_id,
        header: runName(run),
        cell: (row) => <code>{row.values[i] ?? '—'}</code>,
      }),
    ),
  ];
  return (
    <>
      <label class="hint">
        <input
          type="checkbox"
          checked={onlyDifferent}
          onChange={(event) => setOnlyDifferent(event.currentTarget.checked)}
        />{' '}
        Only the {differing} that differ
      </label>
      <DataTable
        caption={caption}
        rows={shown}
        rowKey={(row) => row.key}
        columns={columns}
        rowClass={(row) => (row.different ? 'different' : undefined)}
        empty="Nothing to compare."
      />
    </>
  );
}

function OverlaidHistory({ runs, keys }: { runs: readonly Run[]; keys: readonly string[] }) {
  const [key, setKey] = useState(keys[0]!);
  const ids = runs.map((run) => run.info.run_id);
  const histories = useApi(() => metricHistories(ids, key), [ids.join(','), key]);
  const chart = useMemo(() => {
    const points = runs.map((run) =>
      (histories.data ?? [])
        .filter((m) => m.run_id === run.info.run_id)
        .map((m): [number, number] => [m.step, typeof m.value === 'number' ? m.value : Number(m.value)]),
    );
    const aligned = alignSeries(points);
    return {
      x: aligned.x,
      series: runs.map((run, i) => ({
        label: runName(run),
        values: aligned.values[i]!,
        color: PALETTE[i % PALETTE.length]!,
      })),
    };
  }, [histories.data, runs]);
  return (
    <div>
      <label class="field-label" for="compare-metric">
        Metric
      </label>
      <select id="compare-metric" value={key} onChange={(event) => setKey(event.currentTarget.value)}>
        {keys.map((k) => (
          <option key={k} value={k}>
            {k}
          </option>
        ))}
      </select>
      {histories.error ? <ErrorBox error={histories.error} title="Could not read the histories" /> : null}
      {histories.data ? (
        <Chart
          label={`${key} by step for ${runs.length} runs`}
          x={chart.x}
          series={chart.series}
          xLabel="step"
          integerX
          height={280}
        />
      ) : histories.error ? null : (
        <Loading label="Reading the histories" />
      )}
    </div>
  );
}

export function ComparePage() {
  const location = useLocation();
  const ids = (location.query.get('runs') ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '')
    .slice(0, MAX_RUNS);
  const runs = useApi(() => Promise.all(ids.map((id) => getRun(id))), [ids.join(',')]);
  const params = useMemo(
    () => rowsOf(runs.data ?? [], (run) => new Map((run.data.params ?? []).map((p) => [p.key, p.value]))),
    [runs.data],
  );
  const metrics = useMemo(
    () =>
      rowsOf(runs.data ?? [], (run) => {
        const latest = latestMetrics(run);
        return new Map([...latest].map(([key, value]) => [key, formatNumber(value, 4)]));
      }),
    [runs.data],
  );
  const stepped = useMemo(
    () =>
      [
        ...new Set(
          (runs.data ?? []).flatMap((run) =>
            (run.data.metrics ?? []).filter((m) => m.step > 0).map((m) => m.key),
          ),
        ),
      ].sort(),
    [runs.data],
  );
  const head = (
    <div class="page-head">
      <h1>Compare runs</h1>
    </div>
  );
  if (ids.length < 2) {
    return (
      <>
        {head}
        <div class="card">
          <p>
            Select runs on an <Link href="/experiments">experiment's</Link> page (two or more), then choose{' '}
            <em>Compare selected</em>.
          </p>
        </div>
      </>
    );
  }
  if (runs.error) return <ErrorBox error={runs.error} title="Could not read the runs" />;
  if (!runs.data) return <Loading label="Loading the runs" />;
  return (
    <>
      {head}
      <Section title={`${runs.data.length} runs`} id="runs">
        <DataTable
          caption="The runs compared"
          rows={runs.data}
          rowKey={(run) => run.info.run_id}
          columns={[
            {
              id: 'colour',
              header: <span class="visually-hidden">colour in the charts</span>,
              cell: (run) => (
                <span
                  aria-hidden="true"
                  class="swatch"
                  style={{ background: PALETTE[runs.data!.indexOf(run) % PALETTE.length] }}
                />
              ),
            },
            {
              id: 'name',
              header: 'run',
              cell: (run) => <Link href={`/runs/${run.info.run_id}`}>{runName(run)}</Link>,
            },
            { id: 'family', header: 'family', cell: (run) => tagOf(run.data.tags, 'onset.estimator') ?? '' },
            { id: 'status', header: 'status', cell: (run) => <Status value={run.info.status} /> },
            { id: 'started', header: 'started', cell: (run) => formatTime(run.info.start_time) },
            {
              id: 'experiment',
              header: 'experiment',
              cell: (run) => (
                <Link href={`/experiments/${run.info.experiment_id}`}>{run.info.experiment_id}</Link>
              ),
            },
          ]}
        />
      </Section>
      {stepped.length > 0 ? (
        <Section title="Metric histories, overlaid" id="charts">
          <OverlaidHistory runs={runs.data} keys={stepped} />
        </Section>
      ) : null}
      <Section title="Parameters" id="params">
        <SideBySide runs={runs.data} rows={params} caption="Parameters side by side" />
      </Section>
      <Section title="Metrics (latest values)" id="metrics">
        <SideBySide runs={runs.data} rows={metrics} caption="Metrics side by side" />
      </Section>
    </>
  );
}

import { useMemo } from 'preact/hooks';
import { getExperiment, getRun, metricHistory, quoted, searchModelVersions } from '../api/mlflow.js';
import type { Metric, Run } from '../api/types.js';
import { ArtifactBrowser } from '../components/artifacts.js';
import { Chart } from '../components/chart.js';
import { DataTable } from '../components/data-table.js';
import { ErrorBox, Facts, Loading, Section, Status } from '../components/feedback.js';
import { formatDuration, formatNumber, formatTime } from '../lib/format.js';
import { runName, tagOf } from '../lib/tags.js';
import { useApi } from '../lib/use-api.js';
import { Link } from '../router.js';

type Params = { params: Readonly<Record<string, string>> };

const numeric = (metric: Metric) => (typeof metric.value === 'number' ? metric.value : Number(metric.value));

/** The metrics logged at more than one step (the latest value's step is above 0, or two values share it). */
function steppedMetrics(run: Run): string[] {
  const keys = new Set<string>();
  for (const metric of run.data.metrics ?? []) if (metric.step > 0) keys.add(metric.key);
  return [...keys].sort();
}

function MetricHistory({ run, metricKey }: { run: Run; metricKey: string }) {
  const history = useApi(() => metricHistory(run.info.run_id, metricKey), [run.info.run_id, metricKey]);
  const data = useMemo(() => {
    const points = [...(history.data ?? [])].sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);
    return { x: points.map((m) => m.step), series: [{ label: metricKey, values: points.map(numeric) }] };
  }, [history.data, metricKey]);
  return (
    <div>
      <h3>{metricKey}</h3>
      {history.error ? <ErrorBox error={history.error} title="Could not read the history" /> : null}
      {history.data ? (
        <Chart
          label={`${metricKey} by step: ${history.data.length} values`}
          x={data.x}
          series={data.series}
          xLabel="step"
          integerX
          height={200}
        />
      ) : history.error ? null : (
        <Loading label="Reading the history" />
      )}
    </div>
  );
}

export function RunPage({ params }: Params) {
  const id = params.id!;
  const run = useApi(() => getRun(id), [id]);
  const experimentId = run.data?.info.experiment_id;
  const experiment = useApi(
    async () => (experimentId ? getExperiment(experimentId) : undefined),
    [experimentId],
  );
  const versions = useApi(() => searchModelVersions(`run_id = ${quoted(id)}`), [id]);
  if (run.error) return <ErrorBox error={run.error} title={`Could not read run ${id}`} />;
  if (!run.data) return <Loading label="Loading the run" />;
  const { info, data } = run.data;
  const tags = data.tags ?? [];
  const pipelineRun = tagOf(tags, 'onset.pipeline_run_id');
  const stepped = steppedMetrics(run.data);
  const metrics = [...(data.metrics ?? [])].sort((a, b) => a.key.localeCompare(b.key));
  return (
    <>
      <div class="breadcrumbs">
        <Link href="/experiments">Experiments</Link> ›{' '}
        <Link href={`/experiments/${info.experiment_id}`}>{experiment.data?.name ?? info.experiment_id}</Link>{' '}
        ›
      </div>
      <div class="page-head">
        <h1>{runName(run.data)}</h1>
        <Status value={info.status} />
        <code class="subtitle">{info.run_id}</code>
      </div>
      <Section title="About this run" id="about">
        <Facts
          items={[
            ['family', tagOf(tags, 'onset.estimator') ?? ''],
            ['started', formatTime(info.start_time)],
            ['ended', formatTime(info.end_time)],
            [
              'duration',
              info.start_time && info.end_time ? formatDuration(info.end_time - info.start_time) : '',
            ],
            ['source', tagOf(tags, 'mlflow.source.name') ?? ''],
            [
              'pipeline run',
              pipelineRun ? (
                <Link href={`/pipeline-runs/${pipelineRun}`}>{pipelineRun.slice(0, 12)}</Link>
              ) : (
                ''
              ),
            ],
            ['data', tagOf(tags, 'onset.dataset.path') ?? ''],
            ['training rows', tagOf(tags, 'onset.dataset.rows') ?? ''],
            [
              'registered as',
              versions.data && versions.data.length > 0
                ? versions.data.map((v) => (
                    <Link
                      key={`${v.name}/${v.version}`}
                      href={`/models/${encodeURIComponent(v.name)}/versions/${v.version}`}
                    >
                      {v.name} v{v.version}{' '}
                    </Link>
                  ))
                : '',
            ],
          ]}
        />
      </Section>
      <div class="grid">
        <Section title={`Metrics (${metrics.length})`} id="metrics">
          <DataTable
            caption="Metrics, latest value"
            rows={metrics}
            rowKey={(m) => m.key}
            columns={[
              { id: 'key', header: 'metric', cell: (m) => m.key },
              { id: 'value', header: 'value', numeric: true, cell: (m) => formatNumber(m.value, 6) },
              { id: 'step', header: 'step', numeric: true, cell: (m) => m.step },
            ]}
            empty="No metric logged."
          />
        </Section>
        <Section title={`Parameters (${data.params?.length ?? 0})`} id="params">
          <DataTable
            caption="Parameters"
            rows={data.params ?? []}
            rowKey={(p) => p.key}
            columns={[
              { id: 'key', header: 'parameter', cell: (p) => p.key },
              { id: 'value', header: 'value', cell: (p) => <code>{p.value}</code> },
            ]}
            empty="No parameter logged."
          />
        </Section>
      </div>
      {stepped.length > 0 ? (
        <Section title="Metric histories" id="histories">
          <div class="chart-row">
            {stepped.map((key) => (
              <MetricHistory key={key} run={run.data!} metricKey={key} />
            ))}
          </div>
        </Section>
      ) : null}
      <Section title="Artifacts" id="artifacts">
        <ArtifactBrowser run={run.data} />
      </Section>
      <Section title={`Tags (${tags.length})`} id="tags">
        <DataTable
          caption="Tags"
          rows={tags}
          rowKey={(t) => t.key}
          columns={[
            { id: 'key', header: 'tag', cell: (t) => <code>{t.key}</code> },
            { id: 'value', header: 'value', cell: (t) => t.value },
          ]}
          empty="No tag."
        />
      </Section>
    </>
  );
}

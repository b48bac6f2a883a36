import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { getRun, searchRegisteredModels } from '../api/mlflow.js';
import { firingAlerts, listChecks, listPipelineRuns, metricsText } from '../api/onset.js';
import { histogramQuantile, parsePrometheusText, rate, type Scrape, total } from '../api/prometheus.js';
import type { DriftSummary, ModelVersion, PerformanceSummary, Run } from '../api/types.js';
import { Chart } from '../components/chart.js';
import { DataTable } from '../components/data-table.js';
import { ErrorBox, Facts, Loading, Section, Status } from '../components/feedback.js';
import { formatAgo, formatDuration, formatNumber, formatTime } from '../lib/format.js';
import { tagOf } from '../lib/tags.js';
import { useApi, useInterval } from '../lib/use-api.js';
import { Link } from '../router.js';

/** The routes whose traffic is the predictions' (the UI's own calls are left out of the figures). */
const PREDICTION_ROUTES = new Set(['/predict', '/predict/batch', '/explain']);
const isPrediction = (labels: Readonly<Record<string, string>>) => PREDICTION_ROUTES.has(labels.route ?? '');
const SCRAPE_MS = 5000;
/** Scrapes kept for the traffic chart: 10 minutes. */
const KEPT = 120;

/** The Production version of each registered model, with the run that trained it. */
async function productionModels(): Promise<{ version: ModelVersion; run: Run | undefined }[]> {
  const models = await searchRegisteredModels();
  const versions = models.flatMap((model) =>
    (model.latest_versions ?? []).filter((version) => version.current_stage === 'Production'),
  );
  return Promise.all(
    versions.map(async (version) => ({
      version,
      run: version.run_id ? await getRun(version.run_id).catch(() => undefined) : undefined,
    })),
  );
}

const KEY_METRICS = [
  'holdout_roc_auc',
  'cv_roc_auc',
  'holdout_accuracy',
  'cv_accuracy',
  'cv_brier',
  'cv_log_loss',
];

function ProductionModel({ version, run }: { version: ModelVersion; run: Run | undefined }) {
  const tags = run?.data.tags;
  const metrics = version.metrics ?? {};
  const shown = KEY_METRICS.filter((key) => metrics[key] !== undefined);
  return (
    <div class="stack">
      <p>
        <Link href={`/models/${encodeURIComponent(version.name)}/versions/${version.version}`}>
          <strong>
            {version.name} version {version.version}
          </strong>
        </Link>{' '}
        <Status value={version.current_stage} />{' '}
        {(version.aliases ?? []).map((alias) => (
          <span class="tag" key={alias}>
            @{alias}
          </span>
        ))}
      </p>
      <Facts
        items={[
          ['family', tagOf(tags, 'onset.estimator') ?? ''],
          [
            'trained',
            run?.info.end_time ? `${formatTime(run.info.end_time)} (${formatAgo(run.info.end_time)})` : '',
          ],
          ['data', tagOf(tags, 'onset.dataset.path') ?? ''],
          ['training rows', tagOf(tags, 'onset.dataset.rows') ?? ''],
          [
            'data fingerprint',
            <code key="fp" title={tagOf(tags, 'onset.dataset.fingerprint')}>
              {(tagOf(tags, 'onset.dataset.fingerprint') ?? '').replace(/^sha256:/, '').slice(0, 16)}
            </code>,
          ],
          [
            'run',
            run ? <Link href={`/runs/${run.info.run_id}`}>{run.info.run_name || run.info.run_id}</Link> : '',
          ],
        ]}
      />
      {shown.length > 0 ? (
        <div class="tiles">
          {shown.map((key) => (
            <div class="tile" key={key}>
              <div class="value">{formatNumber(metrics[key], 3)}</div>
              <div class="label">{key}</div>
            </div>
          ))}
        </div>
      ) : null}
      {tagOf(version.tags, 'onset.gate.reason') ? (
        <p class="hint">Gate: {tagOf(version.tags, 'onset.gate.reason')}</p>
      ) : null}
    </div>
  );
}

/** Live traffic from `/metrics`, scraped every 5 s while the page is open. */
function Traffic() {
  const [scrapes, setScrapes] = useState<Scrape[]>([]);
  const [error, setError] = useState<Error | undefined>();
  const busy = useRef(false);
  const scrape = () => {
    if (busy.current) return;
    busy.current = true;
    metricsText()
      .then((text) => {
        const next = { at: Date.now(), samples: parsePrometheusText(text) };
        setScrapes((previous) => [...previous.slice(-(KEPT - 1)), next]);
        setError(undefined);
      }, setError)
      .finally(() => {
        busy.current = false;
      });
  };
  useEffect(scrape, []);
  useInterval(scrape, SCRAPE_MS);

  const last = scrapes.at(-1);
  const before = scrapes.at(-2);
  const series = useMemo(() => {
    const x: number[] = [];
    const perSecond: number[] = [];
    const errors: number[] = [];
    for (let i = 1; i < scrapes.length; i++) {
      x.push(scrapes[i]!.at / 1000);
      perSecond.push(rate(scrapes[i - 1]!, scrapes[i]!, 'onset_http_requests_total', isPrediction));
      errors.push(
        rate(
          scrapes[i - 1]!,
          scrapes[i]!,
          'onset_http_requests_total',
          (l) => isPrediction(l) && Number(l.status) >= 400,
        ),
      );
    }
    return {
      x,
      series: [
        { label: 'prediction requests/s', values: perSecond },
        { label: 'errors/s (4xx and 5xx)', values: errors, color: '#d55e00' },
      ],
    };
  }, [scrapes]);

  if (!last)
    return error ? (
      <ErrorBox error={error} title="Could not read /metrics" />
    ) : (
      <Loading label="Reading /metrics" />
    );
  const served = last.samples.find((sample) => sample.name === 'onset_model_info' && sample.value === 1);
  const requests = before ? rate(before, last, 'onset_http_requests_total', isPrediction) : undefined;
  const failing = before
    ? rate(before, last, 'onset_http_requests_total', (l) => isPrediction(l) && Number(l.status) >= 500)
    : undefined;
  const refused = before
    ? rate(
        before,
        last,
        'onset_http_requests_total',
        (l) => isPrediction(l) && Number(l.status) >= 400 && Number(l.status) < 500,
      )
    : undefined;
  const p95Now = before
    ? histogramQuantile(0.95, last, before, 'onset_http_request_duration_seconds', isPrediction)
    : undefined;
  const p95All = histogramQuantile(
    0.95,
    last,
    undefined,
    'onset_http_request_duration_seconds',
    isPrediction,
  );
  const perSecond = (value: number | undefined) =>
    value === undefined ? '…' : value.toFixed(value < 10 ? 2 : 1);
  const ms = (seconds: number | undefined) =>
    seconds === undefined ? '—' : `${(seconds * 1000).toFixed(seconds < 0.01 ? 2 : 1)} ms`;
  return (
    <div class="stack">
      <ErrorBox error={error} title="Could not read /metrics" />
      <p class="hint">
        Serving{' '}
        {served ? (
          <strong>
            {served.labels.name} version {served.labels.version} ({served.labels.stage || 'no stage'})
          </strong>
        ) : (
          <strong>no model</strong>
        )}
        ; prediction routes only, scraped from <a href="/metrics">/metrics</a> every {SCRAPE_MS / 1000} s.
      </p>
      <div class="tiles" aria-live="polite">
        <div class="tile">
          <div class="value">{perSecond(requests)}</div>
          <div class="label">requests/s</div>
        </div>
        <div class="tile">
          <div class="value">{ms(p95Now ?? p95All)}</div>
          <div class="label">p95 latency{p95Now === undefined ? ' (since start)' : ''}</div>
        </div>
        <div class="tile">
          <div class="value">{perSecond(failing)}</div>
          <div class="label">server errors/s (5xx)</div>
        </div>
        <div class="tile">
          <div class="value">{perSecond(refused)}</div>
          <div class="label">refused/s (4xx)</div>
        </div>
        <div class="tile">
          <div class="value">{formatNumber(total(last, 'onset_predictions_total'))}</div>
          <div class="label">records scored since start</div>
        </div>
      </div>
      {series.x.length >= 2 ? (
        <Chart
          label="Prediction requests and errors per second over the last minutes"
          x={series.x}
          series={series.series}
          time
          height={160}
          yLabel="per second"
        />
      ) : (
        <p class="hint">The chart starts after two scrapes.</p>
      )}
    </div>
  );
}

/** The latest drift verdict and performance figures, linking to the monitoring page. */
function MonitoringSummary() {
  const checks = useApi(
    () =>
      Promise.all([
        listChecks({ kind: 'drift', maxResults: 1 }),
        listChecks({ kind: 'performance', maxResults: 1 }),
        firingAlerts(),
      ]),
    [],
  );
  if (checks.error) return <ErrorBox error={checks.error} title="Could not read the monitoring checks" />;
  if (!checks.data) return <Loading label="Reading the monitoring checks" />;
  const [[drift], [performance], firing] = checks.data;
  const driftSummary = drift?.summary as DriftSummary | null | undefined;
  const performanceSummary = performance?.summary as PerformanceSummary | null | undefined;
  const longest = performanceSummary?.windows.at(-1);
  const driftText = !drift
    ? 'not checked yet'
    : drift.status === 'failed'
      ? `the check failed: ${drift.error}`
      : driftSummary?.outcome === 'too_few_rows'
        ? `too few predictions to tell (${driftSummary.rows})`
        : `${driftSummary?.dataset_drifted ? 'drifted' : 'no drift'}: ${driftSummary?.drifted_features} of ${driftSummary?.features} features${driftSummary?.prediction_drifted ? '; the predictions drifted' : ''}`;
  const performanceText = !performance
    ? 'not checked yet'
    : performance.status === 'failed'
      ? `the check failed: ${performance.error}`
      : longest
        ? `last ${longest.window}: ROC AUC ${formatNumber(longest.realized_roc_auc, 3) || '—'} from ${longest.labelled_records} labelled, ${formatNumber(longest.estimated_roc_auc, 3) || '—'} estimated over ${longest.records} predictions`
        : 'no window';
  return (
    <div class="stack">
      <Facts
        items={[
          [`drift${drift ? ` (${formatAgo(drift.finished_at)})` : ''}`, driftText],
          [`performance${performance ? ` (${formatAgo(performance.finished_at)})` : ''}`, performanceText],
          [
            'alerts firing',
            firing.length === 0
              ? 'none'
              : firing.map((alert) => `${alert.alert_name} (since ${formatAgo(alert.starts_at)})`).join(', '),
          ],
        ]}
      />
      <p>
        <Link href="/monitoring">Monitoring</Link> shows the traffic, each feature's drift, the performance
        over time and the alert history.
      </p>
    </div>
  );
}

function RecentPipelineRuns() {
  const runs = useApi(() => listPipelineRuns({ maxResults: 6 }), []);
  if (runs.error) return <ErrorBox error={runs.error} title="Could not list the pipeline runs" />;
  if (!runs.data) return <Loading label="Loading pipeline runs" />;
  return (
    <DataTable
      caption="The last pipeline runs"
      rows={runs.data.runs}
      rowKey={(run) => run.run_id}
      empty="No pipeline has run yet."
      columns={[
        {
          id: 'pipeline',
          header: 'pipeline',
          cell: (run) => <Link href={`/pipeline-runs/${run.run_id}`}>{run.pipeline}</Link>,
        },
        { id: 'status', header: 'status', cell: (run) => <Status value={run.status} /> },
        { id: 'started', header: 'started', cell: (run) => formatAgo(run.start_time) },
        {
          id: 'duration',
          header: 'duration',
          numeric: true,
          cell: (run) => formatDuration((run.end_time ?? Date.now()) - run.start_time),
        },
        { id: 'trigger', header: 'trigger', cell: (run) => run.trigger },
      ]}
    />
  );
}

export function OverviewPage() {
  const production = useApi(() => productionModels(), []);
  return (
    <>
      <div class="page-head">
        <h1>Overview</h1>
        <span class="subtitle">What serves, how it is used, what ran last</span>
      </div>
      <div class="grid">
        <Section title="Production model" id="production">
          {production.error ? (
            <ErrorBox error={production.error} title="Could not read the registry" />
          ) : null}
          {!production.data && !production.error ? <Loading label="Reading the registry" /> : null}
          {production.data?.length === 0 ? (
            <p>
              No version is in Production yet. Run <Link href="/pipelines/train-all">train-all</Link>, or
              promote a version on the <Link href="/models">models</Link> page.
            </p>
          ) : null}
          {production.data?.map((entry) => (
            <ProductionModel key={`${entry.version.name}/${entry.version.version}`} {...entry} />
          ))}
        </Section>
        <Section title="Live traffic" id="traffic">
          <Traffic />
        </Section>
      </div>
      <Section title="Drift, performance and alerts" id="monitoring">
        <MonitoringSummary />
      </Section>
      <Section
        title="Last pipeline runs"
        id="pipeline-runs"
        actions={<Link href="/pipelines">All pipelines</Link>}
      >
        <RecentPipelineRuns />
      </Section>
    </>
  );
}

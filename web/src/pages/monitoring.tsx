import { useMemo, useState } from 'preact/hooks';
import { getCheck, listAlerts, listChecks, runCheck, traffic } from '../api/onset.js';
import type {
  ColumnDrift,
  DriftResult,
  MonitoringCheck,
  PerformanceResult,
  PerformanceSummary,
  ReceivedAlert,
  Traffic,
} from '../api/types.js';
import { Chart } from '../components/chart.js';
import { DataTable } from '../components/data-table.js';
import { ErrorBox, Loading, Section } from '../components/feedback.js';
import { ShareBars } from '../components/share-bars.js';
import { formatAgo, formatNumber, formatPercent, formatTime } from '../lib/format.js';
import { type Loaded, useApi, useInterval } from '../lib/use-api.js';
import { Link, setQuery, useLocation } from '../router.js';

/** The windows the page offers, with how many buckets each is cut into. */
const WINDOWS: Readonly<Record<string, number>> = { '1h': 60, '24h': 48, '7d': 56 };
const REFRESH_MS = 30_000;

/** Charts of the traffic in the prediction log: volume, latency, the predicted probability over time. */
function TrafficCharts({ data }: { data: Traffic }) {
  const charts = useMemo(() => {
    const x = data.buckets.map((bucket) => (bucket.start + data.step_ms / 2) / 1000);
    const pick = <T,>(value: (bucket: Traffic['buckets'][number]) => T | null | undefined) =>
      data.buckets.map((bucket) => value(bucket) ?? null);
    return {
      x,
      volume: [
        { label: 'predictions', values: pick((b) => b.predictions) },
        { label: 'diagnosis 1', values: pick((b) => b.positive) },
        { label: 'labelled by feedback', values: pick((b) => b.labelled), dashed: true },
      ],
      latency: [
        { label: 'p50 (ms)', points: true, values: pick((b) => b.latency_ms?.p50) },
        { label: 'p95 (ms)', points: true, values: pick((b) => b.latency_ms?.p95) },
      ],
      probability: [
        { label: 'p10', points: true, values: pick((b) => b.probability?.p10), dashed: true },
        { label: 'median', points: true, values: pick((b) => b.probability?.p50) },
        { label: 'p90', points: true, values: pick((b) => b.probability?.p90), dashed: true },
        { label: 'mean', points: true, values: pick((b) => b.probability?.mean) },
      ],
      histogramX: data.probability_histogram.map((_, i) => (i + 0.5) / data.probability_histogram.length),
      histogram: [{ label: 'predictions', values: [...data.probability_histogram] }],
    };
  }, [data]);
  const perBucket = `per ${formatStep(data.step_ms)}`;
  return (
    <div class="stack">
      <div class="tiles" aria-live="polite">
        <div class="tile">
          <div class="value">{formatNumber(data.predictions)}</div>
          <div class="label">predictions</div>
        </div>
        <div class="tile">
          <div class="value">{data.predictions ? formatPercent(data.positive / data.predictions) : '—'}</div>
          <div class="label">with diagnosis 1</div>
        </div>
        <div class="tile">
          <div class="value">{data.predictions ? formatPercent(data.labelled / data.predictions) : '—'}</div>
          <div class="label">labelled by feedback</div>
        </div>
      </div>
      {data.read_from !== null ? (
        <p class="hint">
          The window holds more predictions than one summary reads: counted from {formatTime(data.read_from)}.
        </p>
      ) : null}
      {data.predictions === 0 ? (
        <p>No prediction was logged in this window.</p>
      ) : (
        <div class="grid">
          <figure>
            <figcaption>Predictions {perBucket}</figcaption>
            <Chart label={`Predictions ${perBucket}`} x={charts.x} series={charts.volume} time height={180} />
          </figure>
          <figure>
            <figcaption>Latency of a prediction (ms)</figcaption>
            <Chart
              label="Latency of a prediction over time"
              x={charts.x}
              series={charts.latency}
              time
              height={180}
            />
          </figure>
          <figure>
            <figcaption>Predicted probability over time</figcaption>
            <Chart
              label="Predicted probability over time: 10th, 50th and 90th percentiles and the mean"
              x={charts.x}
              series={charts.probability}
              time
              height={180}
              yRange={[0, 1]}
            />
          </figure>
          <figure>
            <figcaption>Predicted probability over the window</figcaption>
            <Chart
              label="Histogram of the predicted probability over the window"
              x={charts.histogramX}
              series={charts.histogram}
              height={180}
              xRange={[0, 1]}
              xLabel="probability"
            />
          </figure>
        </div>
      )}
    </div>
  );
}

function formatStep(ms: number): string {
  if (ms >= 3_600_000) return `${formatNumber(ms / 3_600_000, 2)} h`;
  if (ms >= 60_000) return `${formatNumber(ms / 60_000, 2)} min`;
  return `${formatNumber(ms / 1000, 2)} s`;
}

/** The latest stored check of a kind, with its whole result; a button runs one now. */
function useLatestCheck(kind: 'drift' | 'performance') {
  const latest = useApi(async () => {
    const [newest] = await listChecks({ kind, maxResults: 1 });
    return newest ? getCheck(newest.check_id) : null;
  }, [kind]);
  const [running, setRunning] = useState(false);
  const [runError, setRunError] = useState<Error | undefined>();
  const run = async () => {
    setRunning(true);
    setRunError(undefined);
    try {
      await runCheck(kind);
      latest.reload();
    } catch (error) {
      setRunError(error as Error);
    } finally {
      setRunning(false);
    }
  };
  return { latest, running, runError, run };
}

function CheckHead({ check }: { check: MonitoringCheck }) {
  return (
    <p class="hint">
      {check.model.name} version {check.model.version}, checked {formatAgo(check.finished_at)} (
      {formatTime(check.finished_at)}) over the predictions from {formatTime(check.window.from)}.
    </p>
  );
}

/** What both check sections show above their figures: errors, loading, none yet, when, a failure. */
function CheckStatus({
  kind,
  latest,
  runError,
}: {
  kind: 'drift' | 'performance';
  latest: Loaded<MonitoringCheck | null>;
  runError: Error | undefined;
}) {
  const check = latest.data;
  return (
    <>
      <ErrorBox error={runError} title={`The ${kind} check could not run`} />
      <ErrorBox error={latest.error} title={`Could not read the ${kind} checks`} />
      {latest.loading && check === undefined ? <Loading label={`Reading the ${kind} checks`} /> : null}
      {check === null ? (
        <p>No {kind} check has run yet: one runs on the schedule of onset up, or now with the button.</p>
      ) : null}
      {check ? <CheckHead check={check} /> : null}
      {check?.status === 'failed' ? (
        <div class="error" role="alert">
          <strong>The check failed</strong> {check.error}
        </div>
      ) : null}
    </>
  );
}

function RunButton({ label, running, onRun }: { label: string; running: boolean; onRun: () => void }) {
  return (
    <button type="button" onClick={onRun} disabled={running} aria-busy={running}>
      {running ? 'Checking…' : label}
    </button>
  );
}

const formatScore = (column: ColumnDrift) =>
  column.score === null
    ? '—'
    : `${column.score_kind === 'p_value' ? 'p' : 'distance'} = ${formatNumber(column.score, 4)}`;

/** The latest drift check: the verdict, each feature's test and score, and its histograms on demand. */
function DriftSection() {
  const { latest, running, runError, run } = useLatestCheck('drift');
  const [shown, setShown] = useState<string | undefined>();
  const check = latest.data;
  const result = check?.result as DriftResult | null | undefined;
  const report = result?.report ?? null;
  const columns = report
    ? [...report.features, ...(report.prediction_drift ? [report.prediction_drift] : [])]
    : [];
  const selected =
    columns.find((column) => column.column === shown) ?? columns.find((column) => column.drifted);
  return (
    <Section
      title="Drift"
      id="drift"
      actions={<RunButton label="Check drift now" running={running} onRun={run} />}
    >
      <CheckStatus kind="drift" latest={latest} runError={runError} />
      {result && !report ? <p>{result.note}</p> : null}
      {report ? (
        <div class="stack">
          <p aria-live="polite">
            <span class={report.dataset_drift.drifted ? 'verdict-drifted' : 'verdict-stable'}>
              {report.dataset_drift.drifted ? 'Data set drifted' : 'No data set drift'}
            </span>
            : {report.dataset_drift.drifted_features} of {report.dataset_drift.features} features drifted (
            {formatPercent(report.dataset_drift.share)}; drift from{' '}
            {formatPercent(report.dataset_drift.drift_share)}
            ), {formatNumber(result!.window.rows)} predictions of the last {result!.window.label} against{' '}
            {formatNumber(report.reference.sample_rows)} reference rows.{' '}
            {report.prediction_drift
              ? report.prediction_drift.drifted
                ? 'The predicted probability drifted.'
                : 'The predicted probability did not drift.'
              : ''}
          </p>
          <div class="grid">
            <DataTable
              caption="Each feature's test against the reference (drifted first)"
              rows={[...columns].sort((a, b) => Number(b.drifted) - Number(a.drifted))}
              rowKey={(column) => column.column}
              rowClass={(column) => (column.drifted ? 'drifted' : undefined)}
              columns={[
                {
                  id: 'column',
                  header: 'feature',
                  cell: (column) => (
                    <button
                      type="button"
                      class="link-button"
                      aria-pressed={selected?.column === column.column}
                      onClick={() => setShown(column.column)}
                    >
                      {column.column}
                    </button>
                  ),
                },
                { id: 'test', header: 'test', cell: (column) => column.test_label },
                { id: 'score', header: 'score', cell: formatScore },
                {
                  id: 'threshold',
                  header: 'drift when',
                  cell: (column) => `${column.drift_when} ${column.threshold}`,
                },
                { id: 'psi', header: 'PSI', numeric: true, cell: (column) => formatNumber(column.psi, 3) },
                {
                  id: 'drifted',
                  header: 'verdict',
                  cell: (column) => (
                    <span class={column.drifted ? 'verdict-drifted' : 'verdict-stable'}>
                      {column.drifted ? 'drifted' : column.note ? 'not tested' : 'stable'}
                    </span>
                  ),
                },
              ]}
            />
            {selected ? (
              <ShareBars
                caption={`${selected.column}: reference and current (${selected.test_label}, ${formatScore(selected)})`}
                bins={selected.histogram}
              />
            ) : null}
          </div>
        </div>
      ) : null}
    </Section>
  );
}

const REALIZED = ['accuracy', 'roc_auc', 'recall', 'specificity', 'brier', 'ece'] as const;
const ESTIMATED = ['accuracy', 'roc_auc'] as const;

/** Performance from feedback per window, the label-free estimate beside it, and both over time. */
function PerformanceSection() {
  const { latest, running, runError, run } = useLatestCheck('performance');
  const history = useApi(() => listChecks({ kind: 'performance', maxResults: 200 }), [latest.data]);
  const check = latest.data;
  const result = check?.result as PerformanceResult | null | undefined;
  const chart = useMemo(() => {
    const checks = [...(history.data ?? [])]
      .filter((entry) => entry.status === 'succeeded' && entry.summary)
      .reverse();
    const windowName = (checks.at(-1)?.summary as PerformanceSummary | undefined)?.windows.at(-1)?.window;
    const pick = (entry: MonitoringCheck) =>
      (entry.summary as PerformanceSummary).windows.find((window) => window.window === windowName);
    return {
      windowName,
      x: checks.map((entry) => entry.finished_at / 1000),
      series: [
        {
          label: 'ROC AUC from feedback',
          values: checks.map((entry) => pick(entry)?.realized_roc_auc ?? null),
        },
        {
          label: 'ROC AUC estimated (CBPE)',
          values: checks.map((entry) => pick(entry)?.estimated_roc_auc ?? null),
          dashed: true,
        },
        {
          label: 'accuracy from feedback',
          values: checks.map((entry) => pick(entry)?.realized_accuracy ?? null),
        },
        {
          label: 'accuracy estimated (CBPE)',
          values: checks.map((entry) => pick(entry)?.estimated_accuracy ?? null),
          dashed: true,
        },
      ],
    };
  }, [history.data]);
  return (
    <Section
      title="Performance"
      id="performance"
      actions={<RunButton label="Check performance now" running={running} onRun={run} />}
    >
      <CheckStatus kind="performance" latest={latest} runError={runError} />
      {result ? (
        <div class="stack">
          {!result.estimation.available ? (
            <p class="hint">No label-free estimate: {result.estimation.reason}</p>
          ) : null}
          <DataTable
            caption="From feedback (realized) and estimated without labels (CBPE), per window"
            rows={result.windows}
            rowKey={(window) => window.window}
            columns={[
              { id: 'window', header: 'window', cell: (window) => `last ${window.window}` },
              {
                id: 'records',
                header: 'predictions',
                numeric: true,
                cell: (window) => formatNumber(window.records),
              },
              {
                id: 'labelled',
                header: 'labelled',
                numeric: true,
                cell: (window) => formatNumber(window.realized.records),
              },
              ...REALIZED.map((metric) => ({
                id: `realized-${metric}`,
                header: metric,
                numeric: true,
                title: metricTitle(metric),
                cell: (window: PerformanceResult['windows'][number]) => {
                  const figure = window.realized.metrics[metric];
                  return figure?.value === null || figure === undefined ? (
                    <span title={figure?.undefined_reason ?? ''}>—</span>
                  ) : (
                    formatNumber(figure.value, 3)
                  );
                },
              })),
              ...ESTIMATED.map((metric) => ({
                id: `estimated-${metric}`,
                header: `${metric} (estimated)`,
                numeric: true,
                cell: (window: PerformanceResult['windows'][number]) => {
                  const figure = window.estimated?.metrics[metric];
                  if (!figure || figure.estimate === null)
                    return <span title={figure?.undefined_reason ?? ''}>—</span>;
                  return `${formatNumber(figure.estimate, 3)}${
                    figure.lower !== null && figure.upper !== null
                      ? ` (${formatNumber(figure.lower, 3)} to ${formatNumber(figure.upper, 3)})`
                      : ''
                  }`;
                },
              })),
            ]}
          />
          {chart.x.length >= 2 ? (
            <figure>
              <figcaption>Over the last checks, window {chart.windowName}</figcaption>
              <Chart
                label={`ROC AUC and accuracy from feedback and estimated, over the last performance checks (window ${chart.windowName})`}
                x={chart.x}
                series={chart.series}
                time
                height={200}
              />
            </figure>
          ) : (
            <p class="hint">The chart over time starts with the second check.</p>
          )}
        </div>
      ) : null}
    </Section>
  );
}

function metricTitle(metric: string): string {
  return metric === 'ece' ? 'expected calibration error' : metric;
}

/** What an alert triggered, with a link to the retraining run it started or joined. */
function Triggered({ alert }: { alert: ReceivedAlert }) {
  if (alert.pipeline_run_id) {
    return (
      <>
        {alert.outcome === 'started' ? 'started ' : 'joined '}
        <Link href={`/pipeline-runs/${alert.pipeline_run_id}`}>
          retrain run {alert.pipeline_run_id.slice(0, 8)}
        </Link>
      </>
    );
  }
  return <>{alert.triggered}</>;
}

/** The alerts Alertmanager sent Onset, newest first, and what each triggered. */
function AlertsSection() {
  const alerts = useApi(() => listAlerts({ maxResults: 50 }), []);
  useInterval(alerts.reload, REFRESH_MS);
  return (
    <Section title="Alerts" id="alerts">
      <ErrorBox error={alerts.error} title="Could not read the alert history" />
      {alerts.data ? (
        <DataTable
          caption="Alerts received from Alertmanager, newest first"
          rows={alerts.data}
          rowKey={(alert) => alert.alert_id}
          empty="No alert has been received. Alertmanager sends the alerts marked action=retrain to POST /api/onset/alerts."
          columns={[
            { id: 'name', header: 'alert', cell: (alert) => alert.alert_name },
            {
              id: 'status',
              header: 'status',
              cell: (alert) => (
                <span class={alert.status === 'firing' ? 'verdict-drifted' : 'verdict-stable'}>
                  {alert.status}
                </span>
              ),
            },
            { id: 'severity', header: 'severity', cell: (alert) => alert.labels.severity ?? '' },
            {
              id: 'summary',
              header: 'summary',
              cell: (alert) => alert.annotations.summary ?? alert.annotations.description ?? '',
            },
            { id: 'since', header: 'since', cell: (alert) => formatTime(alert.starts_at) },
            { id: 'received', header: 'received', cell: (alert) => formatAgo(alert.received_at) },
            { id: 'triggered', header: 'triggered', cell: (alert) => <Triggered alert={alert} /> },
          ]}
        />
      ) : alerts.error ? null : (
        <Loading label="Reading the alert history" />
      )}
    </Section>
  );
}

export function MonitoringPage() {
  const { query } = useLocation();
  const window = query.get('window') && WINDOWS[query.get('window')!] ? query.get('window')! : '24h';
  const loaded = useApi(() => traffic({ window, buckets: WINDOWS[window]! }), [window]);
  useInterval(loaded.reload, REFRESH_MS);
  return (
    <>
      <div class="page-head">
        <h1>Monitoring</h1>
        <span class="subtitle">What the served models predicted, from the prediction log</span>
      </div>
      <Section
        title="Traffic"
        id="traffic"
        actions={
          <label>
            Window{' '}
            <select value={window} onChange={(event) => setQuery({ window: event.currentTarget.value })}>
              {Object.keys(WINDOWS).map((name) => (
                <option key={name} value={name}>
                  last {name}
                </option>
              ))}
            </select>
          </label>
        }
      >
        <ErrorBox error={loaded.error} title="Could not read the prediction log" />
        {loaded.data ? (
          <TrafficCharts data={loaded.data} />
        ) : loaded.error ? null : (
          <Loading label="Reading the prediction log" />
        )}
      </Section>
      <DriftSection />
      <PerformanceSection />
      <AlertsSection />
    </>
  );
}

import { useMemo } from 'preact/hooks';
import { traffic } from '../api/onset.js';
import type { Traffic } from '../api/types.js';
import { Chart } from '../components/chart.js';
import { ErrorBox, Loading, Section } from '../components/feedback.js';
import { formatNumber, formatPercent, formatTime } from '../lib/format.js';
import { useApi, useInterval } from '../lib/use-api.js';
import { setQuery, useLocation } from '../router.js';

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
        { label: 'p50 (ms)', values: pick((b) => b.latency_ms?.p50) },
        { label: 'p95 (ms)', values: pick((b) => b.latency_ms?.p95) },
      ],
      probability: [
        { label: 'p10', values: pick((b) => b.probability?.p10), dashed: true },
        { label: 'median', values: pick((b) => b.probability?.p50) },
        { label: 'p90', values: pick((b) => b.probability?.p90), dashed: true },
        { label: 'mean', values: pick((b) => b.probability?.mean) },
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
    </>
  );
}

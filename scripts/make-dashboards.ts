/**
 * Writes Onset's Grafana dashboards, deploy/grafana/dashboards/*.json, from the compact description below:
 * `npm run dashboards` (which formats them with Biome afterwards). The JSON files are checked in (Grafana's
 * provisioning reads them as they are); test/deploy/grafana-dashboards.test.ts checks they hold what this
 * script writes, that every query parses as PromQL and that every metric a query names is one Onset exports.
 *
 * Every panel queries the provisioned Prometheus data source by its uid (`onset-prometheus`, see
 * deploy/grafana/provisioning/datasources/onset.yml). Template variables are used only inside label
 * matchers (`model=~"$model"`) and `$__rate_interval` as a range, so substituting them gives plain PromQL.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The uid of the Prometheus data source the provisioning creates. */
export const DATASOURCE = { type: 'prometheus', uid: 'onset-prometheus' } as const;

type Unit = 'reqps' | 'percentunit' | 's' | 'short' | 'ops' | 'bytes' | 'none';

interface Query {
  readonly expr: string;
  readonly legend?: string;
  /** An instant query (a table, a stat, a bar gauge of the latest values). */
  readonly instant?: boolean;
  readonly format?: 'time_series' | 'heatmap' | 'table';
}

interface PanelSpec {
  readonly title: string;
  readonly description: string;
  readonly type: 'timeseries' | 'stat' | 'bargauge' | 'heatmap' | 'table';
  readonly queries: readonly Query[];
  readonly unit?: Unit;
  readonly min?: number;
  readonly max?: number;
  /** Threshold steps after the base (green): [value, colour]. */
  readonly thresholds?: readonly (readonly [number, 'yellow' | 'orange' | 'red'])[];
  /** Value-to-text mappings for stats (e.g. 0 → "no drift"). */
  readonly mappings?: Readonly<Record<string, { readonly text: string; readonly color: string }>>;
  /** Width in grid columns (of 24) and height in rows. Default 12 × 8. */
  readonly w?: number;
  readonly h?: number;
  /** Fill the area between the series named `from` and `to` (a confidence band). */
  readonly band?: { readonly from: string; readonly to: string };
}

interface Variable {
  readonly name: string;
  readonly label: string;
  /** `label_values(metric, label)`. */
  readonly query: string;
  /** Several values and "All" (a regex matcher `=~`). */
  readonly multi: boolean;
}

interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly variables: readonly Variable[];
  readonly panels: readonly PanelSpec[];
}

const rate = (selector: string) => `rate(${selector}[$__rate_interval])`;
const MODEL = 'model=~"$model", version=~"$version"';

const modelVariables: readonly Variable[] = [
  { name: 'model', label: 'Model', query: 'label_values(onset_model_info, name)', multi: true },
  { name: 'version', label: 'Version', query: 'label_values(onset_model_info, version)', multi: true },
];

const SERVING: DashboardSpec = {
  uid: 'onset-serving',
  title: 'Onset / Serving',
  description: 'Requests, errors and latency of the Onset server, the prediction log and the process.',
  variables: [],
  panels: [
    {
      title: 'Requests by route',
      description: 'HTTP requests answered per second, by route pattern.',
      type: 'timeseries',
      unit: 'reqps',
      queries: [{ expr: `sum by (route) (${rate('onset_http_requests_total')})`, legend: '{{route}}' }],
    },
    {
      title: 'Server errors (5xx share)',
      description:
        'Share of requests answered with a 5xx status. The OnsetHighErrorRate alert fires above 5% for 5 minutes.',
      type: 'timeseries',
      unit: 'percentunit',
      min: 0,
      thresholds: [[0.05, 'red']],
      queries: [
        {
          // `or vector(0)`: with no 5xx at all there is no 5xx series, and the share is 0, not "no data".
          expr: `(sum(${rate('onset_http_requests_total{status=~"5.."}')}) or vector(0)) / sum(${rate('onset_http_requests_total')})`,
          legend: '5xx share',
        },
      ],
    },
    {
      title: '/predict latency',
      description:
        'Quantiles of the time to answer POST /predict. The OnsetPredictLatencyHigh alert fires when p95 stays above 100 ms for 10 minutes.',
      type: 'timeseries',
      unit: 's',
      thresholds: [[0.1, 'red']],
      queries: [0.5, 0.95, 0.99].map((q) => ({
        expr: `histogram_quantile(${q}, sum by (le) (${rate('onset_http_request_duration_seconds_bucket{route="/predict"}')}))`,
        legend: `p${q * 100}`,
      })),
    },
    {
      title: 'Answers by status',
      description: 'HTTP answers per second, by status code.',
      type: 'timeseries',
      unit: 'reqps',
      queries: [{ expr: `sum by (status) (${rate('onset_http_requests_total')})`, legend: '{{status}}' }],
    },
    {
      title: 'Model inference time (p95)',
      description: 'Time the model takes to score a request (one record or a batch), 95th percentile.',
      type: 'timeseries',
      unit: 's',
      queries: [
        {
          expr: `histogram_quantile(0.95, sum by (le) (${rate('onset_model_inference_duration_seconds_bucket')}))`,
          legend: 'p95',
        },
      ],
    },
    {
      title: 'Refused prediction records by reason',
      description:
        'Problems found in prediction requests per second (missing, out_of_range, unknown_code, ...).',
      type: 'timeseries',
      unit: 'ops',
      queries: [{ expr: `sum by (reason) (${rate('onset_validation_errors_total')})`, legend: '{{reason}}' }],
    },
    {
      title: 'Prediction log',
      description:
        'Records written to the prediction log per second, and dropped (by reason) when the writer fell behind. The OnsetPredictionLogDrops alert fires on any drop.',
      type: 'timeseries',
      unit: 'ops',
      queries: [
        { expr: `sum(${rate('onset_prediction_log_written_total')})`, legend: 'written' },
        {
          expr: `sum by (reason) (${rate('onset_prediction_log_dropped_total')})`,
          legend: 'dropped ({{reason}})',
        },
      ],
    },
    {
      title: 'Prediction log queue',
      description: 'Records waiting to be written to the prediction log.',
      type: 'timeseries',
      unit: 'short',
      queries: [{ expr: 'sum by (instance) (onset_prediction_log_queue_records)', legend: '{{instance}}' }],
    },
    {
      title: 'Event-loop lag (p99)',
      description: 'Node.js event-loop lag, 99th percentile: high values mean the server is saturated.',
      type: 'timeseries',
      unit: 's',
      queries: [{ expr: 'onset_nodejs_eventloop_lag_p99_seconds', legend: '{{instance}}' }],
    },
    {
      title: 'Memory (resident)',
      description: 'Resident memory of the Onset process.',
      type: 'timeseries',
      unit: 'bytes',
      queries: [{ expr: 'onset_process_resident_memory_bytes', legend: '{{instance}}' }],
    },
    {
      title: 'Scrape up',
      description:
        'Whether Prometheus reaches each Onset instance (1). The OnsetDown alert fires after 2 minutes at 0.',
      type: 'stat',
      w: 24,
      h: 4,
      mappings: { '0': { text: 'DOWN', color: 'red' }, '1': { text: 'up', color: 'green' } },
      queries: [{ expr: 'up{job="onset"}', legend: '{{instance}}', instant: true }],
    },
  ],
};

const MODEL_DASHBOARD: DashboardSpec = {
  uid: 'onset-model',
  title: 'Onset / Model',
  description: 'The model being served and what it predicts.',
  variables: [],
  panels: [
    {
      title: 'Model served',
      description: 'The registered model, version and stage each instance serves.',
      type: 'table',
      w: 24,
      h: 5,
      queries: [{ expr: 'onset_model_info == 1', instant: true, format: 'table' }],
    },
    {
      title: 'Predictions by version and class',
      description: 'Records scored per second, by model version and predicted class.',
      type: 'timeseries',
      unit: 'ops',
      queries: [
        {
          expr: `sum by (model_version, predicted_class) (${rate('onset_predictions_total')})`,
          legend: 'v{{model_version}} class {{predicted_class}}',
        },
      ],
    },
    {
      title: 'Positive rate: last hour and 7-day baseline',
      description:
        'Share of predictions that are positive, by model version (recording rules onset:positive_rate:1h and :7d). The OnsetPositiveRateShift alert fires when they differ by more than 15 points.',
      type: 'timeseries',
      unit: 'percentunit',
      min: 0,
      max: 1,
      queries: [
        { expr: 'onset:positive_rate:1h', legend: 'v{{model_version}} last hour' },
        { expr: 'onset:positive_rate:7d', legend: 'v{{model_version}} 7 days' },
      ],
    },
    {
      title: 'Predicted probabilities',
      description: "Distribution of the predicted probability of Parkinson's disease over time.",
      type: 'heatmap',
      queries: [
        {
          expr: 'sum by (le) (increase(onset_prediction_probability_bucket[$__rate_interval]))',
          legend: '{{le}}',
          format: 'heatmap',
        },
      ],
    },
    {
      title: 'Values outside the training range, by feature',
      description: 'Feature values scored although outside the range the model was trained on, per second.',
      type: 'timeseries',
      unit: 'ops',
      queries: [
        { expr: `sum by (feature) (${rate('onset_out_of_distribution_total')})`, legend: '{{feature}}' },
      ],
    },
    {
      title: 'Model reloads',
      description: 'New model versions loaded, and loads that failed (the previous version kept serving).',
      type: 'timeseries',
      unit: 'short',
      queries: [
        { expr: 'sum(increase(onset_model_reloads_total[1h]))', legend: 'reloads (1h)' },
        { expr: 'sum(increase(onset_model_reload_failures_total[1h]))', legend: 'failures (1h)' },
      ],
    },
  ],
};

const DRIFT: DashboardSpec = {
  uid: 'onset-drift',
  title: 'Onset / Drift',
  description: 'Whether incoming patients still look like the training data: the drift job’s last results.',
  variables: modelVariables,
  panels: [
    {
      title: 'Dataset drift',
      description:
        'Whether the last drift check found dataset drift (the drifted share of features reached 0.5). Fires OnsetDatasetDrift, which retrains.',
      type: 'stat',
      w: 8,
      mappings: { '0': { text: 'no drift', color: 'green' }, '1': { text: 'DRIFT', color: 'red' } },
      queries: [{ expr: `onset_drift_dataset{${MODEL}}`, legend: '{{model}} v{{version}}', instant: true }],
    },
    {
      title: 'Share of drifted features',
      description: 'Share of features drifted by their test in each drift check; dataset drift from 0.5.',
      type: 'timeseries',
      w: 16,
      unit: 'percentunit',
      min: 0,
      max: 1,
      thresholds: [[0.5, 'red']],
      queries: [{ expr: `onset_drift_share{${MODEL}}`, legend: '{{model}} v{{version}}' }],
    },
    {
      title: 'PSI by feature',
      description:
        'Population stability index of each feature in the last drift check: above 0.1 a moderate shift, above 0.2 a significant one (OnsetFeaturePsiHigh, which retrains).',
      type: 'bargauge',
      w: 12,
      h: 14,
      min: 0,
      thresholds: [
        [0.1, 'yellow'],
        [0.2, 'red'],
      ],
      queries: [
        { expr: `sort_desc(onset_drift_feature_psi{${MODEL}})`, legend: '{{feature}}', instant: true },
      ],
    },
    {
      title: 'Drift test per feature',
      description:
        'Each feature’s test and score in the last drift check: a p-value for ks and chisquare (drift below 0.05), a distance for wasserstein and jensenshannon (drift from 0.1).',
      type: 'table',
      w: 12,
      h: 14,
      queries: [
        { expr: `onset_drift_feature_score{${MODEL}}`, instant: true, format: 'table' },
        { expr: `onset_drift_feature_drifted{${MODEL}}`, instant: true, format: 'table' },
      ],
    },
    {
      title: 'PSI over time (top 5 features)',
      description: 'The five features with the highest PSI, over time.',
      type: 'timeseries',
      unit: 'none',
      thresholds: [[0.2, 'red']],
      queries: [{ expr: `topk(5, onset_drift_feature_psi{${MODEL}})`, legend: '{{feature}}' }],
    },
    {
      title: 'Prediction drift',
      description:
        'Whether the predicted probability drifted (1), and its drift score (p-value for ks, distance for wasserstein).',
      type: 'timeseries',
      unit: 'none',
      queries: [
        { expr: `onset_drift_prediction_drifted{${MODEL}}`, legend: 'drifted {{model}} v{{version}}' },
        { expr: `onset_drift_prediction_score{${MODEL}}`, legend: '{{test}} {{model}} v{{version}}' },
      ],
    },
    {
      title: 'Time since the last drift check',
      description: 'Seconds since the drift job last succeeded; OnsetDriftJobStale fires after 3 hours.',
      type: 'stat',
      w: 24,
      h: 4,
      unit: 's',
      thresholds: [[10_800, 'red']],
      queries: [
        {
          expr: 'time() - onset_drift_last_success_timestamp_seconds{model=~"$model"}',
          legend: '{{model}}',
          instant: true,
        },
      ],
    },
  ],
};

const perf = (metric: string) => `metric="${metric}", ${MODEL}, window=~"$window"`;

const PERFORMANCE: DashboardSpec = {
  uid: 'onset-performance',
  title: 'Onset / Performance',
  description:
    'How well the served model predicts: measured where feedback has arrived, estimated (CBPE) where it has not.',
  variables: [
    ...modelVariables,
    {
      name: 'window',
      label: 'Window',
      query: 'label_values(onset_performance_estimated, window)',
      multi: false,
    },
  ],
  panels: [
    ...(['roc_auc', 'accuracy'] as const).map(
      (metric): PanelSpec => ({
        title: metric === 'roc_auc' ? 'ROC AUC: realized and estimated' : 'Accuracy: realized and estimated',
        description: `Realized ${metric} on the labelled predictions of the window, and the CBPE estimate from the probabilities alone with its confidence band (±3 sampling errors).${metric === 'roc_auc' ? ' OnsetRollingAucLow fires when the realized AUC falls below 0.85 (with 100 labels), OnsetEstimatedAucLow when the band’s upper end does.' : ''}`,
        type: 'timeseries',
        unit: 'percentunit',
        min: 0,
        max: 1,
        band: { from: 'estimated upper', to: 'estimated lower' },
        queries: [
          { expr: `onset_performance_realized{${perf(metric)}}`, legend: 'realized' },
          { expr: `onset_performance_estimated{${perf(metric)}, bound="estimate"}`, legend: 'estimated' },
          { expr: `onset_performance_estimated{${perf(metric)}, bound="upper"}`, legend: 'estimated upper' },
          { expr: `onset_performance_estimated{${perf(metric)}, bound="lower"}`, legend: 'estimated lower' },
        ],
      }),
    ),
    {
      title: 'Recall and specificity (realized)',
      description:
        'Recall (sensitivity: share of patients with the disease found) and specificity (share without it cleared), on labelled predictions.',
      type: 'timeseries',
      unit: 'percentunit',
      min: 0,
      max: 1,
      queries: [
        { expr: `onset_performance_realized{${perf('recall')}}`, legend: 'recall' },
        { expr: `onset_performance_realized{${perf('specificity')}}`, legend: 'specificity' },
      ],
    },
    {
      title: 'Recall and specificity (estimated)',
      description: 'The CBPE estimates of recall and specificity, before labels arrive.',
      type: 'timeseries',
      unit: 'percentunit',
      min: 0,
      max: 1,
      queries: [
        { expr: `onset_performance_estimated{${perf('recall')}, bound="estimate"}`, legend: 'recall' },
        {
          expr: `onset_performance_estimated{${perf('specificity')}, bound="estimate"}`,
          legend: 'specificity',
        },
      ],
    },
    {
      title: 'Calibration: Brier score and ECE',
      description:
        'Brier score (mean squared error of the probability; realized and estimated) and the expected calibration error over 10 equal-width bins (realized). Lower is better.',
      type: 'timeseries',
      unit: 'none',
      min: 0,
      queries: [
        { expr: `onset_performance_realized{${perf('brier')}}`, legend: 'Brier (realized)' },
        {
          expr: `onset_performance_estimated{${perf('brier')}, bound="estimate"}`,
          legend: 'Brier (estimated)',
        },
        { expr: `onset_performance_realized{${perf('ece')}}`, legend: 'ECE (realized)' },
      ],
    },
    {
      title: 'Feedback coverage',
      description:
        'Predictions in the window, those with feedback (the sample behind the realized metrics), and their share.',
      type: 'timeseries',
      unit: 'short',
      queries: [
        { expr: `onset_performance_window_records{${MODEL}, window=~"$window"}`, legend: 'predictions' },
        { expr: `onset_performance_labelled_records{${MODEL}, window=~"$window"}`, legend: 'with feedback' },
      ],
    },
    {
      title: 'Time since the last performance check',
      description:
        'Seconds since the performance job last succeeded; OnsetPerformanceJobStale fires after 3 hours.',
      type: 'stat',
      w: 24,
      h: 4,
      unit: 's',
      thresholds: [[10_800, 'red']],
      queries: [
        {
          expr: 'time() - onset_performance_last_success_timestamp_seconds{model=~"$model"}',
          legend: '{{model}}',
          instant: true,
        },
      ],
    },
  ],
};

/** The dashboards, by file name. */
export const DASHBOARD_SPECS: Readonly<Record<string, DashboardSpec>> = {
  'onset-serving.json': SERVING,
  'onset-model.json': MODEL_DASHBOARD,
  'onset-drift.json': DRIFT,
  'onset-performance.json': PERFORMANCE,
};

/** Grafana's dashboard JSON model (schema version 39, Grafana 10.4 and later) of one dashboard. */
export function dashboardJson(spec: DashboardSpec): Record<string, unknown> {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  const panels = spec.panels.map((panel, index) => {
    const w = panel.w ?? 12;
    const h = panel.h ?? 8;
    if (x + w > 24) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const gridPos = { h, w, x, y };
    x += w;
    rowHeight = Math.max(rowHeight, h);
    return panelJson(panel, index + 1, gridPos);
  });
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: ['onset'],
    timezone: 'browser',
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    timepicker: {},
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    templating: { list: spec.variables.map(variableJson) },
    links: [{ title: 'Onset dashboards', type: 'dashboards', tags: ['onset'], asDropdown: true }],
    panels,
  };
}

function variableJson(variable: Variable): Record<string, unknown> {
  return {
    name: variable.name,
    label: variable.label,
    type: 'query',
    datasource: DATASOURCE,
    query: { query: variable.query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    definition: variable.query,
    refresh: 2,
    sort: 1,
    multi: variable.multi,
    includeAll: variable.multi,
    ...(variable.multi ? { allValue: '.*', current: { text: 'All', value: '$__all' } } : {}),
    options: [],
    hide: 0,
  };
}

function panelJson(
  panel: PanelSpec,
  id: number,
  gridPos: { h: number; w: number; x: number; y: number },
): Record<string, unknown> {
  const steps = [
    { color: 'green', value: null },
    ...(panel.thresholds ?? []).map(([value, color]) => ({ color, value })),
  ];
  const defaults: Record<string, unknown> = {
    unit: panel.unit ?? 'none',
    thresholds: { mode: 'absolute', steps },
    ...(panel.min === undefined ? {} : { min: panel.min }),
    ...(panel.max === undefined ? {} : { max: panel.max }),
    ...(panel.mappings === undefined
      ? {}
      : {
          mappings: [
            {
              type: 'value',
              options: Object.fromEntries(
                Object.entries(panel.mappings).map(([value, { text, color }], index) => [
                  value,
                  { text, color, index },
                ]),
              ),
            },
          ],
        }),
    ...(panel.type === 'timeseries'
      ? {
          color: { mode: 'palette-classic' },
          custom: {
            drawStyle: 'line',
            lineWidth: 1,
            fillOpacity: 0,
            showPoints: 'never',
            spanNulls: false,
            thresholdsStyle: { mode: panel.thresholds === undefined ? 'off' : 'line' },
          },
        }
      : {}),
  };
  const overrides =
    panel.band === undefined
      ? []
      : [
          {
            matcher: { id: 'byName', options: panel.band.from },
            properties: [
              { id: 'custom.fillBelowTo', value: panel.band.to },
              { id: 'custom.fillOpacity', value: 20 },
              { id: 'custom.lineWidth', value: 0 },
            ],
          },
          {
            matcher: { id: 'byName', options: panel.band.to },
            properties: [{ id: 'custom.lineWidth', value: 0 }],
          },
        ];
  return {
    id,
    type: panel.type,
    title: panel.title,
    description: panel.description,
    gridPos,
    datasource: DATASOURCE,
    fieldConfig: { defaults, overrides },
    options: panelOptions(panel),
    targets: panel.queries.map((query, index) => ({
      refId: String.fromCharCode(65 + index),
      datasource: DATASOURCE,
      expr: query.expr,
      legendFormat: query.legend ?? '__auto',
      range: query.instant !== true,
      instant: query.instant === true,
      format: query.format ?? 'time_series',
      editorMode: 'code',
    })),
  };
}

function panelOptions(panel: PanelSpec): Record<string, unknown> {
  switch (panel.type) {
    case 'timeseries':
      return {
        legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
        tooltip: { mode: 'multi', sort: 'none' },
      };
    case 'stat':
      return {
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
        colorMode: 'background',
        graphMode: 'none',
        textMode: 'value_and_name',
        orientation: 'auto',
        justifyMode: 'auto',
      };
    case 'bargauge':
      return {
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
        displayMode: 'gradient',
        orientation: 'horizontal',
        showUnfilled: true,
        valueMode: 'color',
      };
    case 'heatmap':
      return {
        calculate: false,
        yAxis: { axisPlacement: 'left', unit: 'percentunit' },
        cellGap: 1,
        color: { mode: 'scheme', scheme: 'Oranges', steps: 64 },
        rowsFrame: { layout: 'le' },
        tooltip: { mode: 'single', yHistogram: true },
        legend: { show: true },
      };
    case 'table':
      return { showHeader: true, cellHeight: 'sm', footer: { show: false } };
  }
}

/** The JSON text of a dashboard file, as checked in. */
export function dashboardText(spec: DashboardSpec): string {
  return `${JSON.stringify(dashboardJson(spec), null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [file, spec] of Object.entries(DASHBOARD_SPECS)) {
    const path = fileURLToPath(new URL(`../deploy/grafana/dashboards/${file}`, import.meta.url));
    writeFileSync(path, dashboardText(spec));
    console.log(`wrote ${path}`);
  }
}

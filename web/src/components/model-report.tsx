import { useMemo, useState } from 'preact/hooks';
import type { ModelReport } from '../api/types.js';
import { formatNumber, formatPercent } from '../lib/format.js';
import { Chart } from './chart.js';
import { DataTable } from './data-table.js';
import { Section } from './feedback.js';

/** The confusion matrix at each ROC point of a report (its threshold, and the four counts). */
function operatingPoints(report: ModelReport) {
  const { roc, confusion } = report.evaluation;
  const positives = confusion.tp + confusion.fn;
  const negatives = confusion.fp + confusion.tn;
  const thresholds = roc.thresholds;
  if (!thresholds) return undefined;
  return thresholds.map((threshold, k) => {
    const tp = Math.round(roc.tpr[k]! * positives);
    const fp = Math.round(roc.fpr[k]! * negatives);
    return { threshold, tp, fp, fn: positives - tp, tn: negatives - fp };
  });
}

function ConfusionAtThreshold({ report }: { report: ModelReport }) {
  const points = useMemo(() => operatingPoints(report), [report]);
  // The model's own threshold: the last point whose threshold is still at or above it.
  const initial = useMemo(() => {
    if (!points) return 0;
    let index = 0;
    points.forEach((point, k) => {
      if (point.threshold >= report.evaluation.threshold) index = k;
    });
    return index;
  }, [points, report]);
  const [index, setIndex] = useState(initial);
  if (!points) {
    const c = report.evaluation.confusion;
    return (
      <>
        <p class="hint">
          This report was made before reports kept their thresholds: the matrix at{' '}
          {report.evaluation.threshold} only.
        </p>
        <Matrix tp={c.tp} fp={c.fp} fn={c.fn} tn={c.tn} />
      </>
    );
  }
  const point = points[index]!;
  const shown = Math.min(point.threshold, 1);
  const sensitivity = point.tp / Math.max(1, point.tp + point.fn);
  const specificity = point.tn / Math.max(1, point.tn + point.fp);
  const precision = point.tp + point.fp === 0 ? 1 : point.tp / (point.tp + point.fp);
  const accuracy = (point.tp + point.tn) / (point.tp + point.tn + point.fp + point.fn);
  const chosen = report.threshold;
  return (
    <div class="stack">
      <p data-model-threshold={report.evaluation.threshold}>
        The model diagnoses Parkinson's disease at a probability of at least{' '}
        <strong>{report.evaluation.threshold}</strong>
        {chosen ? `: ${chosen.reason}.` : ' (the default; the report records no policy).'}
      </p>
      <label for="threshold" class="field-label">
        Threshold: predict Parkinson's disease when the probability is at least{' '}
        <strong id="threshold-value">
          {point.threshold > 1 ? '(above every probability)' : shown.toFixed(4)}
        </strong>
      </label>
      <input
        id="threshold"
        type="range"
        min={0}
        max={points.length - 1}
        step={1}
        value={points.length - 1 - index}
        aria-valuetext={`threshold ${shown.toFixed(4)}`}
        onInput={(event) => setIndex(points.length - 1 - Number(event.currentTarget.value))}
        class="threshold-slider"
      />
      <p class="hint">
        Moves along the {points.length} operating points of the ROC curve (from high thresholds on the left to
        low on the right), on {report.evaluation.rows} rows ({report.evaluation.source}).
      </p>
      <Matrix {...point} />
      <div class="tiles">
        {(
          [
            ['sensitivity (recall)', sensitivity],
            ['specificity', specificity],
            ['precision', precision],
            ['accuracy', accuracy],
          ] as const
        ).map(([label, value]) => (
          <div class="tile" key={label}>
            <div class="value">{formatPercent(value)}</div>
            <div class="label">{label}</div>
          </div>
        ))}
      </div>
    </div>
  );
}

function Matrix({ tp, fp, fn, tn }: { tp: number; fp: number; fn: number; tn: number }) {
  return (
    <div class="table-scroll">
      <table class="confusion" aria-label="Confusion matrix">
        <thead>
          <tr>
            <td />
            <th scope="col">predicted Parkinson's</th>
            <th scope="col">predicted healthy</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">has Parkinson's</th>
            <td class="hit" data-cell="tp">
              {tp} true positives
            </td>
            <td class="miss" data-cell="fn">
              {fn} false negatives
            </td>
          </tr>
          <tr>
            <th scope="row">healthy</th>
            <td class="miss" data-cell="fp">
              {fp} false positives
            </td>
            <td class="hit" data-cell="tn">
              {tn} true negatives
            </td>
          </tr>
        </tbody>
      </table>
    </div>
  );
}

function Curves({ report }: { report: ModelReport }) {
  const e = report.evaluation;
  const roc = useMemo(
    () => ({
      x: [...e.roc.fpr],
      series: [
        { label: `ROC (AUC ${formatNumber(e.roc.auc, 4)})`, values: [...e.roc.tpr] },
        { label: 'chance', values: [...e.roc.fpr], color: '#8c959f', dashed: true },
      ],
    }),
    [e],
  );
  const pr = useMemo(() => {
    // Recall falls along the curve: reversed, so that x increases.
    const recall = [...e.precision_recall.recall].reverse();
    const precision = [...e.precision_recall.precision].reverse();
    const base = (e.confusion.tp + e.confusion.fn) / e.rows;
    return {
      x: recall,
      series: [
        {
          label: `precision (AP ${formatNumber(e.precision_recall.average_precision, 4)})`,
          values: precision,
        },
        { label: 'positive rate', values: recall.map(() => base), color: '#8c959f', dashed: true },
      ],
    };
  }, [e]);
  const calibration = useMemo(() => {
    const filled = e.calibration.filter((bin) => bin.count > 0 && bin.meanPredicted !== null);
    const x = filled.map((bin) => bin.meanPredicted!);
    return {
      x,
      series: [
        { label: 'observed rate', values: filled.map((bin) => bin.observedRate) },
        { label: 'perfectly calibrated', values: x, color: '#8c959f', dashed: true },
      ],
    };
  }, [e]);
  const decision = useMemo(() => {
    const curve = e.decision_curve;
    if (!curve) return undefined;
    return {
      x: [...curve.thresholds],
      series: [
        { label: 'model', values: [...curve.model] },
        { label: 'treat all', values: [...curve.treat_all], color: '#bf8700' },
        { label: 'treat none', values: curve.thresholds.map(() => 0), color: '#8c959f', dashed: true },
      ],
    };
  }, [e]);
  const unit: [number, number] = [0, 1];
  // Net benefit cannot exceed the prevalence; below zero only treating all goes, far, and is cut.
  const prevalence = (e.confusion.tp + e.confusion.fn) / e.rows;
  return (
    <div class="chart-row">
      <div>
        <h3>ROC curve</h3>
        <Chart
          label={`ROC curve, area ${formatNumber(e.roc.auc, 4)}`}
          x={roc.x}
          series={roc.series}
          xLabel="false positive rate"
          yLabel="true positive rate"
          xRange={unit}
          yRange={unit}
          square
        />
      </div>
      <div>
        <h3>Precision-recall curve</h3>
        <Chart
          label={`Precision-recall curve, average precision ${formatNumber(e.precision_recall.average_precision, 4)}`}
          x={pr.x}
          series={pr.series}
          xLabel="recall"
          yLabel="precision"
          xRange={unit}
          yRange={unit}
          square
        />
      </div>
      <div>
        <h3>Calibration (Brier {formatNumber(e.brier, 4)})</h3>
        <Chart
          label={`Calibration: observed rate of Parkinson's disease against the mean predicted probability, in ${calibration.x.length} bins`}
          x={calibration.x}
          series={calibration.series}
          xLabel="mean predicted probability"
          yLabel="observed rate"
          xRange={unit}
          yRange={unit}
          square
        />
      </div>
      {decision ? (
        <div>
          <h3>Decision curve</h3>
          <Chart
            label="Decision curve: the net benefit of treating the patients the model puts at or above each threshold probability, beside treating all and treating none"
            x={decision.x}
            series={decision.series}
            xLabel="threshold probability"
            yLabel="net benefit"
            xRange={unit}
            yRange={[-0.05, Math.max(prevalence, 0.05) * 1.05]}
            square
          />
        </div>
      ) : null}
    </div>
  );
}

function Importance({ report }: { report: ModelReport }) {
  const entries = report.importance?.mean_abs_contribution ?? [];
  if (entries.length === 0) return <p class="hint">This report has no global importance.</p>;
  const shown = entries.slice(0, 15);
  const largest = Math.max(...shown.map((entry) => entry.value), 1e-12);
  return (
    <>
      <p class="hint">Mean absolute contribution to the margin (log-odds), largest first.</p>
      <ol class="bars">
        {shown.map((entry) => (
          <li key={entry.feature}>
            <span class="bar-label">{entry.feature}</span>
            <span class="bar-track" aria-hidden="true">
              <span class="bar-fill" style={{ width: `${(100 * entry.value) / largest}%` }} />
            </span>
            <span class="bar-value">{formatNumber(entry.value, 3)}</span>
          </li>
        ))}
      </ol>
    </>
  );
}

/** A figure and its 95% bootstrap interval, when the report has one. */
function withInterval(value: number, interval: readonly [number, number] | undefined) {
  if (!interval) return formatNumber(value, 3);
  return (
    <span title="95% bootstrap interval">
      {formatNumber(value, 3)}{' '}
      <span class="hint">
        [{formatNumber(interval[0], 2)}–{formatNumber(interval[1], 2)}]
      </span>
    </span>
  );
}

/** The gaps between subgroups above the report's bound, or that there are none. */
function SubgroupGaps({ report }: { report: ModelReport }) {
  const gaps = report.evaluation.subgroup_gaps;
  if (!gaps || gaps.length === 0) return null;
  const flagged = gaps.filter((gap) => gap.flagged);
  if (flagged.length === 0) {
    return (
      <p class="hint">
        No gap between subgroups above {gaps[0]!.bound} (accuracy, sensitivity, specificity).
      </p>
    );
  }
  return (
    <ul class="field-warning" role="note" data-subgroup-gaps={flagged.length}>
      {flagged.map((gap) => (
        <li key={`${gap.group}:${gap.metric}`}>
          {gap.group} {gap.metric === 'recall' ? 'sensitivity' : gap.metric}: {gap.lowest.value}{' '}
          {formatNumber(gap.lowest.metric, 3)} against {gap.highest.value}{' '}
          {formatNumber(gap.highest.metric, 3)}, a gap of {formatNumber(gap.gap, 3)} (above {gap.bound})
        </li>
      ))}
    </ul>
  );
}

/** A model report (src/ml/report/): curves, calibration, confusion at a chosen threshold, subgroups, importance. */
export function ModelReportView({ report }: { report: ModelReport }) {
  const e = report.evaluation;
  const cv = report.metrics.cross_validation;
  return (
    <>
      <p class="hint">
        {report.estimator} · evaluated on {e.rows}{' '}
        {e.source === 'out-of-fold' ? 'out-of-fold predictions' : 'training rows (optimistic)'}
        {cv ? ` · ${cv.folds}-fold cross-validation, seed ${cv.seed}` : ''}
        {report.calibration
          ? ` · calibrated (${report.calibration.method}): held-out ECE ${formatNumber(report.calibration.before.ece, 4)} → ${formatNumber(report.calibration.after.ece, 4)}`
          : ''}{' '}
        · data fingerprint <code>{report.data.fingerprint.replace(/^sha256:/, '').slice(0, 16)}</code>
      </p>
      <Section title="Curves" id="curves">
        <Curves report={report} />
      </Section>
      <div class="grid">
        <Section title="Confusion matrix at a threshold" id="confusion">
          <ConfusionAtThreshold report={report} />
        </Section>
        <Section title="Global importance" id="importance">
          <Importance report={report} />
        </Section>
      </div>
      <Section title="Subgroups" id="subgroups">
        <SubgroupGaps report={report} />
        <DataTable
          caption="Metrics by subgroup"
          rows={e.subgroups}
          rowKey={(g) => `${g.group}:${g.value}`}
          columns={[
            { id: 'group', header: 'group', cell: (g) => g.group },
            { id: 'value', header: 'subgroup', cell: (g) => g.value },
            { id: 'count', header: 'rows', numeric: true, cell: (g) => g.count },
            { id: 'positives', header: 'with PD', numeric: true, cell: (g) => g.positives },
            {
              id: 'accuracy',
              header: 'accuracy',
              numeric: true,
              cell: (g) => withInterval(g.accuracy, g.intervals?.accuracy),
            },
            {
              id: 'recall',
              header: 'sensitivity',
              numeric: true,
              cell: (g) => withInterval(g.recall, g.intervals?.recall),
            },
            {
              id: 'specificity',
              header: 'specificity',
              numeric: true,
              cell: (g) => withInterval(g.specificity, g.intervals?.specificity),
            },
            {
              id: 'precision',
              header: 'precision',
              numeric: true,
              cell: (g) => formatNumber(g.precision, 3),
            },
            {
              id: 'auc',
              header: 'ROC AUC',
              numeric: true,
              cell: (g) => (g.roc_auc === null ? '—' : formatNumber(g.roc_auc, 3)),
            },
            { id: 'brier', header: 'Brier', numeric: true, cell: (g) => formatNumber(g.brier, 3) },
          ]}
        />
      </Section>
      {cv ? (
        <Section title="Cross-validated metrics" id="cv">
          <DataTable
            caption="Cross-validated metrics, mean and standard deviation over the folds"
            rows={Object.entries(cv.summary)}
            rowKey={([key]) => key}
            columns={[
              { id: 'metric', header: 'metric', cell: ([key]) => key },
              { id: 'mean', header: 'mean', numeric: true, cell: ([, s]) => formatNumber(s.mean, 4) },
              { id: 'std', header: '± std', numeric: true, cell: ([, s]) => formatNumber(s.std, 4) },
              {
                id: 'training',
                header: 'training (final model)',
                numeric: true,
                cell: ([key]) => formatNumber(report.metrics.training[key], 4),
              },
            ]}
          />
        </Section>
      ) : null}
    </>
  );
}

import type { ModelDocument } from '../ml/model-document.js';
import type { ModelReport } from '../ml/report/model-report.js';
import { renderConfusion, renderMetrics } from './metrics-view.js';
import { formatDecimals, formatNumber, formatPercent, renderTable } from './output.js';

/** A model report as text for a terminal: what the model is, how good, for whom, and on what data. */
export function renderModelReport(path: string, document: ModelDocument, report: ModelReport): string {
  const training = document.training;
  const lines: string[] = [
    `Model report: ${path}`,
    `  family ${document.estimator}; fitted ${training.fitted_at ?? 'unknown'} in ${formatNumber(training.fit_seconds)} s; Onset ${training.onset_version}`,
    `  training data: ${report.data.rows} rows, fingerprint ${report.data.fingerprint}`,
    `  parameters: ${Object.entries(report.params)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  ];
  if (document.tuning) {
    const t = document.tuning;
    lines.push(
      `  tuned with ${t.trials.length} trials (${t.sampler}, ${t.folds} folds, seed ${t.seed}): best ${t.metric} ${formatNumber(t.best_value)} at trial ${t.best_trial}`,
    );
  }
  const cv = report.metrics.cross_validation;
  lines.push(
    '',
    'Metrics',
    renderMetrics({ 'training (final model)': report.metrics.training }, cv?.summary),
    cv
      ? `  cross-validated over ${cv.folds} stratified folds (seed ${cv.seed})`
      : '  not cross-validated: training figures are optimistic',
  );

  const e = report.evaluation;
  const source =
    e.source === 'out-of-fold'
      ? 'out-of-fold predictions (each row scored by a model that did not see it)'
      : 'the training rows (optimistic)';
  const n = e.rows;
  const metricsLike = {
    threshold: e.threshold,
    tp: e.confusion.tp,
    fp: e.confusion.fp,
    tn: e.confusion.tn,
    fn: e.confusion.fn,
  } as Parameters<typeof renderConfusion>[0];
  lines.push(
    '',
    `Evaluation on ${source}, ${n} rows`,
    renderConfusion(metricsLike),
    `  ROC AUC ${formatNumber(e.roc.auc)} (${e.roc.fpr.length} curve points) · average precision ${formatNumber(e.precision_recall.average_precision)} · Brier score ${formatNumber(e.brier)}`,
    '',
    'Calibration (predicted probability vs observed rate)',
    renderTable(
      e.calibration.filter((bin) => bin.count > 0),
      [
        { header: 'bin', value: (b) => `${b.lower.toFixed(1)}-${b.upper.toFixed(1)}` },
        { header: 'rows', value: (b) => String(b.count), align: 'right' },
        { header: 'mean predicted', value: (b) => formatDecimals(b.meanPredicted, 4), align: 'right' },
        { header: 'observed rate', value: (b) => formatDecimals(b.observedRate, 4), align: 'right' },
      ],
    ),
    ...calibrationLines(report),
    '',
    'Subgroups',
    renderTable(e.subgroups, [
      { header: 'group', value: (g) => g.group },
      { header: 'value', value: (g) => g.value },
      { header: 'rows', value: (g) => String(g.count), align: 'right' },
      { header: 'positive', value: (g) => formatPercent(g.positives / g.count), align: 'right' },
      { header: 'accuracy', value: (g) => g.accuracy.toFixed(3), align: 'right' },
      { header: 'recall', value: (g) => g.recall.toFixed(3), align: 'right' },
      { header: 'specificity', value: (g) => g.specificity.toFixed(3), align: 'right' },
      { header: 'ROC AUC', value: (g) => (g.roc_auc === null ? '–' : g.roc_auc.toFixed(3)), align: 'right' },
      { header: 'Brier', value: (g) => g.brier.toFixed(3), align: 'right' },
    ]),
  );
  if (report.importance) {
    const top = report.importance.mean_abs_contribution.slice(0, 10);
    const gain = new Map((report.importance.gain ?? []).map((f) => [f.feature, f.value]));
    lines.push(
      '',
      'Global importance (top 10 by mean |contribution|, log-odds)',
      renderTable(top, [
        { header: 'feature', value: (f) => f.feature },
        { header: 'mean |contribution|', value: (f) => formatDecimals(f.value, 4), align: 'right' },
        ...(gain.size > 0
          ? [
              {
                header: 'gain',
                value: (f: { feature: string }) => formatDecimals(gain.get(f.feature) ?? 0, 4),
                align: 'right' as const,
              },
            ]
          : []),
      ]),
    );
  }
  const balance = report.data.profile.target?.classes
    .map((c) => `${c.label} ${formatPercent(c.share)}`)
    .join(' · ');
  if (balance) lines.push('', `Training data class balance: ${balance}`);
  return `${lines.join('\n')}\n`;
}

/** The calibration: how it was chosen, and held-out ECE and Brier before and after (none when absent). */
function calibrationLines(report: ModelReport): string[] {
  const calibration = report.calibration;
  if (!calibration) return ['  not calibrated (--calibration none)'];
  const how = calibration.chosen_by === 'cross_validation' ? 'chosen by cross-validation' : 'as asked';
  const figures = (label: string, f: typeof calibration.before) =>
    `  ${label}  ECE ${f.ece.toFixed(4)} (95% CI ${f.ece_interval.map((v) => v.toFixed(4)).join(' to ')}) · Brier ${f.brier.toFixed(4)} = reliability ${f.reliability.toFixed(4)} - resolution ${f.resolution.toFixed(4)} + uncertainty ${f.uncertainty.toFixed(4)}`;
  return [
    '',
    `Calibration: ${calibration.method} (${how}); held out, the bins above are after it`,
    figures('before', calibration.before),
    figures('after ', calibration.after),
    renderTable(calibration.candidates, [
      { header: 'method', value: (c) => c.method },
      { header: 'log loss', value: (c) => c.log_loss.toFixed(4), align: 'right' },
      { header: 'Brier', value: (c) => c.brier.toFixed(4), align: 'right' },
      { header: 'ECE', value: (c) => c.ece.toFixed(4), align: 'right' },
      { header: 'ROC AUC', value: (c) => (c.roc_auc === null ? '–' : c.roc_auc.toFixed(4)), align: 'right' },
    ]),
  ];
}

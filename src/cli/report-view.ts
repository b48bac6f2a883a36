import { formatThresholdPolicy } from '../ml/decision/threshold-policy.js';
import type { ModelDocument } from '../ml/model-document.js';
import { COVERAGE_TOLERANCE, formatSubgroupCoverage, type ModelReport } from '../ml/report/model-report.js';
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
    ...thresholdLines(report),
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
    ...conformalLines(report),
    '',
    'Subgroups',
    renderTable(e.subgroups, [
      { header: 'group', value: (g) => g.group },
      { header: 'value', value: (g) => g.value },
      { header: 'rows', value: (g) => String(g.count), align: 'right' },
      { header: 'positive', value: (g) => formatPercent(g.positives / g.count), align: 'right' },
      { header: 'accuracy', value: (g) => withInterval(g.accuracy, g.intervals?.accuracy), align: 'right' },
      { header: 'recall', value: (g) => withInterval(g.recall, g.intervals?.recall), align: 'right' },
      {
        header: 'specificity',
        value: (g) => withInterval(g.specificity, g.intervals?.specificity),
        align: 'right',
      },
      {
        header: 'ROC AUC',
        value: (g) => (g.roc_auc === null ? '–' : withInterval(g.roc_auc, g.intervals?.roc_auc ?? undefined)),
        align: 'right',
      },
      { header: 'Brier', value: (g) => g.brier.toFixed(3), align: 'right' },
    ]),
    ...(e.subgroups.some((g) => g.intervals) ? ['  [95% bootstrap interval]'] : []),
    ...gapLines(e.subgroup_gaps ?? []),
    ...decisionCurveLines(e.decision_curve),
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

/** The decision threshold: its value, the policy that chose it and why (0.5 when the report has none). */
function thresholdLines(report: ModelReport): string[] {
  const threshold = report.threshold;
  if (!threshold) return [`  decision threshold ${report.evaluation.threshold} (the default)`];
  return [
    `  decision threshold ${threshold.value} (${formatThresholdPolicy(threshold.policy)}): ${threshold.reason}`,
  ];
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

/** A figure with its interval: `0.912 [0.88-0.94]`. */
function withInterval(value: number, interval: readonly [number, number] | undefined): string {
  return interval
    ? `${value.toFixed(3)} [${interval[0].toFixed(2)}-${interval[1].toFixed(2)}]`
    : value.toFixed(3);
}

/** The flagged subgroup gaps, and the bound they were judged by. */
function gapLines(gaps: NonNullable<ModelReport['evaluation']['subgroup_gaps']>): string[] {
  if (gaps.length === 0) return [];
  const flagged = gaps.filter((gap) => gap.flagged);
  const bound = gaps[0]!.bound;
  if (flagged.length === 0)
    return [`  no gap between subgroups above ${bound} (accuracy, recall, specificity)`];
  return [
    `  gaps above ${bound}:`,
    ...flagged.map(
      (gap) =>
        `  ! ${gap.group} ${gap.metric}: ${gap.lowest.value} ${gap.lowest.metric.toFixed(3)} vs ${gap.highest.value} ${gap.highest.metric.toFixed(3)} (gap ${gap.gap.toFixed(3)})`,
    ),
  ];
}

/** The decision curve at a few thresholds: net benefit of the model, of treating all, of treating none. */
function decisionCurveLines(curve: ModelReport['evaluation']['decision_curve']): string[] {
  if (!curve) return [];
  const shown = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8];
  const rows = shown
    .map((pt) => curve.thresholds.findIndex((t) => Math.abs(t - pt) < 1e-9))
    .filter((k) => k >= 0)
    .map((k) => ({ pt: curve.thresholds[k]!, model: curve.model[k]!, all: curve.treat_all[k]! }));
  return [
    '',
    'Decision curve: net benefit (true positives per patient, less false positives weighed by the odds of the threshold)',
    renderTable(rows, [
      { header: 'threshold', value: (r) => r.pt.toFixed(2), align: 'right' },
      { header: 'model', value: (r) => r.model.toFixed(4), align: 'right' },
      { header: 'treat all', value: (r) => r.all.toFixed(4), align: 'right' },
      { header: 'treat none', value: () => '0.0000', align: 'right' },
    ]),
  ];
}

/** The prediction sets: level, held-out coverage of each diagnosis, overall and by subgroup. */
function conformalLines(report: ModelReport): string[] {
  const conformal = report.conformal;
  if (!conformal) return [];
  const share = (value: number | null) => (value === null ? '–' : value.toFixed(3));
  return [
    '',
    `Prediction sets at ${conformal.level} (conformal, ${conformal.by_subgroup ? 'by diagnosis and subgroup' : 'by diagnosis'}; held out): coverage ${share(conformal.held_out.coverage[0])} without PD, ${share(conformal.held_out.coverage[1])} with PD; undecided ${(100 * conformal.held_out.undecided).toFixed(1)}%, empty ${(100 * conformal.held_out.empty).toFixed(1)}%`,
    `A subgroup's coverage is off target when its 95% interval lies wholly outside ${conformal.level} ± ${COVERAGE_TOLERANCE}.`,
    renderTable(conformal.subgroups, [
      { header: 'group', value: (g) => g.group },
      { header: 'value', value: (g) => g.value },
      { header: 'rows', value: (g) => String(g.count), align: 'right' },
      { header: 'coverage, no PD [95% CI]', value: (g) => formatSubgroupCoverage(g, 0), align: 'right' },
      { header: 'coverage, PD [95% CI]', value: (g) => formatSubgroupCoverage(g, 1), align: 'right' },
      { header: 'undecided', value: (g) => formatPercent(g.undecided), align: 'right' },
    ]),
  ];
}

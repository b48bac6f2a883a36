import type { BinaryMetricName, BinaryMetrics, FoldSummary } from '../ml/metrics/index.js';
import { BINARY_METRIC_NAMES } from '../ml/metrics/index.js';
import { renderTable } from './output.js';

const LABELS: Readonly<Record<BinaryMetricName, string>> = {
  accuracy: 'accuracy',
  precision: 'precision',
  recall: 'recall (sensitivity)',
  specificity: 'specificity',
  f1: 'F1',
  roc_auc: 'ROC AUC',
  pr_auc: 'PR AUC (average precision)',
  log_loss: 'log loss',
  brier: 'Brier score',
  rmse: 'RMSE',
};

/** A table of metrics: one column per named set of metrics, plus cross-validated mean ± std when given. */
export function renderMetrics(columns: Readonly<Record<string, BinaryMetrics>>, cv?: FoldSummary): string {
  const names = Object.keys(columns);
  return renderTable(BINARY_METRIC_NAMES, [
    { header: 'metric', value: (name) => LABELS[name] },
    ...names.map((column) => ({
      header: column,
      value: (name: BinaryMetricName) => columns[column]![name].toFixed(4),
      align: 'right' as const,
    })),
    ...(cv
      ? [
          {
            header: 'cross-validated (mean ± std)',
            value: (name: BinaryMetricName) => `${cv[name].mean.toFixed(4)} ± ${cv[name].std.toFixed(4)}`,
            align: 'right' as const,
          },
        ]
      : []),
  ]);
}

export function renderConfusion(metrics: BinaryMetrics): string {
  return [
    `confusion matrix at threshold ${metrics.threshold}:`,
    `                 predicted 0   predicted 1`,
    `  actual 0 (no)  ${String(metrics.tn).padStart(11)}   ${String(metrics.fp).padStart(11)}`,
    `  actual 1 (PD)  ${String(metrics.fn).padStart(11)}   ${String(metrics.tp).padStart(11)}`,
  ].join('\n');
}

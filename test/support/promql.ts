/**
 * PromQL checks shared by the deploy tests: parsing with Prometheus's own Lezer grammar (no error nodes),
 * the metric names a query selects, and the names Onset exports.
 */
import { readFileSync } from 'node:fs';
import { parser } from '@prometheus-io/lezer-promql';
import { parse as parseYaml } from 'yaml';
import { MONITORING_JOB_GAUGES, PREDICTION_LOG_METRIC_NAMES } from '../../src/monitoring/metric-names.js';
import { OnsetMetrics } from '../../src/monitoring/metrics.js';

export const RULES_FILE = new URL('../../deploy/prometheus/rules/onset.rules.yml', import.meta.url);

/** Grafana's variables replaced by values that make plain PromQL (what Grafana sends with "All" chosen). */
export function withoutGrafanaVariables(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__interval', '15s')
    .replaceAll('$__range', '1h')
    .replace(/\$\{?(\w+)\}?/g, '.*');
}

/** A parsed query's problems: the text around each error node of the syntax tree (empty when it parses). */
export function syntaxErrors(expr: string): string[] {
  const errors: string[] = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError)
        errors.push(`at ${node.from}: '${expr.slice(Math.max(0, node.from - 10), node.to + 10)}'`);
    },
  });
  return errors;
}

/** The metric names a query selects: each vector selector's name, or its `__name__="..."` matcher. */
export function metricNamesIn(expr: string): string[] {
  const names = new Set<string>();
  const tree = parser.parse(expr);
  tree.iterate({
    enter: (node) => {
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') {
        names.add(expr.slice(node.from, node.to));
      }
      if (node.name === 'LabelName' && expr.slice(node.from, node.to) === '__name__') {
        const value = node.node.parent?.getChild('StringLiteral');
        if (value) names.add(expr.slice(value.from + 1, value.to - 1));
      }
    },
  });
  return [...names];
}

/** The names of the series recorded by the recording rules of deploy/prometheus/rules. */
export function recordedNames(): string[] {
  const rules = parseYaml(readFileSync(RULES_FILE, 'utf8')) as {
    groups: { rules: { record?: string }[] }[];
  };
  return rules.groups.flatMap((group) => group.rules.flatMap((rule) => (rule.record ? [rule.record] : [])));
}

/**
 * Every series name a query may select: what an Onset process exports at `/metrics` (its registry, with a
 * histogram's `_bucket`, `_sum` and `_count`), the gauges of the monitoring jobs and the prediction log
 * (src/monitoring/metric-names.ts), the recording rules, and Prometheus's own `up`.
 */
export async function knownMetricNames(): Promise<Set<string>> {
  const names = new Set<string>(['up', ...recordedNames()]);
  const metrics = new OnsetMetrics();
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    const type = String(metric.type);
    if (type === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${metric.name}${suffix}`);
    } else if (type === 'summary') {
      for (const suffix of ['', '_sum', '_count']) names.add(`${metric.name}${suffix}`);
    } else {
      names.add(metric.name);
    }
  }
  for (const gauge of MONITORING_JOB_GAUGES) names.add(gauge.name);
  for (const name of PREDICTION_LOG_METRIC_NAMES) names.add(name);
  return names;
}

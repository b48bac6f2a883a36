/**
 * The shipped Prometheus and Alertmanager configuration (deploy/): checked by the real tools, Debian's
 * `promtool` (prometheus package) and `amtool` (prometheus-alertmanager), which `.ci/run` installs. Without
 * them locally the tool checks skip and say so; under CI (`CI=true`) their absence fails. The conventions
 * (labels, annotations, a unit test for every rule, known metric names) are checked without them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { knownMetricNames, metricNamesIn, RULES_FILE, syntaxErrors } from '../support/promql.js';

const DEPLOY = fileURLToPath(new URL('../../deploy/', import.meta.url));
const PROMETHEUS_CONFIG = join(DEPLOY, 'prometheus/prometheus.yml');
const ALERTMANAGER_CONFIG = join(DEPLOY, 'alertmanager/alertmanager.yml');
const TESTS_DIR = join(DEPLOY, 'prometheus/tests');
const TEST_FILES = readdirSync(TESTS_DIR)
  .filter((name) => name.endsWith('.yml'))
  .map((name) => join(TESTS_DIR, name));

function hasTool(name: string): boolean {
  return spawnSync(name, ['--version'], { encoding: 'utf8' }).status === 0;
}
const TOOLS = hasTool('promtool') && hasTool('amtool');
const SKIPPED =
  'skipped: promtool or amtool is missing (Debian: apt-get install -y prometheus prometheus-alertmanager; .ci/run installs them)';
if (!TOOLS) console.warn(`prometheus-rules: ${SKIPPED}`);

function run(tool: string, args: readonly string[]): { status: number | null; output: string } {
  const result = spawnSync(tool, args, { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

interface Rule {
  readonly alert?: string;
  readonly record?: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

const RULE_GROUPS = (
  parseYaml(readFileSync(RULES_FILE, 'utf8')) as { groups: { name: string; rules: Rule[] }[] }
).groups;
const RULES = RULE_GROUPS.flatMap((group) => group.rules);
const ALERTS = RULES.filter((rule) => rule.alert !== undefined);

/** Every alert Onset ships and what it does: the list docs/monitoring.md documents. */
const EXPECTED_ACTIONS: Readonly<Record<string, 'retrain' | 'notify'>> = {
  OnsetDatasetDrift: 'retrain',
  OnsetFeaturePsiHigh: 'retrain',
  OnsetDriftJobStale: 'notify',
  OnsetRollingAucLow: 'retrain',
  OnsetEstimatedAucLow: 'retrain',
  OnsetPerformanceJobStale: 'notify',
  OnsetPositiveRateShift: 'notify',
  OnsetHighErrorRate: 'notify',
  OnsetPredictLatencyHigh: 'notify',
  OnsetPredictionLogDrops: 'notify',
  OnsetDown: 'notify',
};

interface RuleTest {
  readonly alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[];
  readonly promql_expr_test?: { expr: string }[];
}
const UNIT_TESTS: RuleTest[] = TEST_FILES.flatMap(
  (file) => (parseYaml(readFileSync(file, 'utf8')) as { tests: RuleTest[] }).tests,
);

describe('the alerting rules', () => {
  it('are the documented alerts, each with a severity, an action and annotations saying what happened and what to do', () => {
    expect(Object.fromEntries(ALERTS.map((rule) => [rule.alert, rule.labels?.action]))).toEqual(
      EXPECTED_ACTIONS,
    );
    for (const rule of ALERTS) {
      expect(['critical', 'warning'], rule.alert).toContain(rule.labels?.severity);
      expect(Object.keys(rule.annotations ?? {}).sort(), rule.alert).toEqual([
        'description',
        'summary',
        'what_to_do',
      ]);
    }
  });

  it('parse as PromQL and name only metrics Onset exports (or records)', async () => {
    const known = await knownMetricNames();
    for (const rule of RULES) {
      const name = rule.alert ?? rule.record;
      expect(syntaxErrors(rule.expr), name).toEqual([]);
      const names = metricNamesIn(rule.expr);
      expect(names.length, `${name} selects no metric`).toBeGreaterThan(0);
      expect(
        names.filter((metric) => !known.has(metric)),
        name,
      ).toEqual([]);
    }
  });

  it('each have a unit test where they fire and one where they do not', () => {
    const firing = new Set<string>();
    const quiet = new Set<string>();
    for (const test of UNIT_TESTS) {
      for (const check of test.alert_rule_test ?? []) {
        ((check.exp_alerts ?? []).length > 0 ? firing : quiet).add(check.alertname);
      }
    }
    const alerts = ALERTS.map((rule) => rule.alert!);
    expect(
      alerts.filter((alert) => !firing.has(alert)),
      'alerts never tested firing',
    ).toEqual([]);
    expect(
      alerts.filter((alert) => !quiet.has(alert)),
      'alerts never tested quiet',
    ).toEqual([]);
    const recorded = new Set(
      UNIT_TESTS.flatMap((test) => (test.promql_expr_test ?? []).map((check) => check.expr)),
    );
    const records = RULES.flatMap((rule) => (rule.record ? [rule.record] : []));
    expect(
      records.filter((record) => !recorded.has(record)),
      'recording rules never tested',
    ).toEqual([]);
  });

  it('are loaded by the Prometheus configuration, which scrapes Onset on 9696 and alerts Alertmanager on 9093', () => {
    const config = parseYaml(readFileSync(PROMETHEUS_CONFIG, 'utf8')) as {
      rule_files: string[];
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
      scrape_configs: { job_name: string; metrics_path: string; static_configs: { targets: string[] }[] }[];
    };
    expect(config.rule_files).toEqual(['rules/*.rules.yml']);
    expect(config.alerting.alertmanagers[0]!.static_configs[0]!.targets).toEqual(['127.0.0.1:9093']);
    const onset = config.scrape_configs.find((job) => job.job_name === 'onset');
    expect(onset).toMatchObject({
      metrics_path: '/metrics',
      static_configs: [{ targets: ['127.0.0.1:9696'] }],
    });
  });
});

describe('the Alertmanager configuration', () => {
  it("sends action=retrain alerts to Onset's webhook with the admin token from a file, the rest to people", () => {
    const config = parseYaml(readFileSync(ALERTMANAGER_CONFIG, 'utf8')) as {
      route: { receiver: string; routes: { matchers: string[]; receiver: string }[] };
      receivers: { name: string; webhook_configs?: Record<string, unknown>[] }[];
    };
    expect(config.route.receiver).toBe('onset-notify');
    expect(config.route.routes).toContainEqual(
      expect.objectContaining({ matchers: ['action="retrain"'], receiver: 'onset-retrain' }),
    );
    const webhook = config.receivers.find((receiver) => receiver.name === 'onset-retrain')!
      .webhook_configs![0];
    expect(webhook).toMatchObject({
      url: 'http://127.0.0.1:9696/api/onset/alerts',
      http_config: { authorization: { type: 'Bearer', credentials_file: '/etc/onset/admin-token' } },
    });
  });
});

describe.skipIf(!TOOLS)(`the Prometheus tools${TOOLS ? '' : ` (${SKIPPED})`}`, () => {
  it('promtool check rules accepts the rule files', () => {
    const result = run('promtool', ['check', 'rules', fileURLToPath(RULES_FILE)]);
    expect(result.status, result.output).toBe(0);
    expect(result.output).toContain(`SUCCESS: ${RULES.length} rules found`);
  });

  it('promtool test rules passes every unit test', () => {
    const result = run('promtool', ['test', 'rules', ...TEST_FILES]);
    expect(result.status, result.output).toBe(0);
    expect(result.output).not.toContain('FAILED');
  });

  it('promtool test rules fails a test whose expectation is wrong (the harness can fail)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'onset-promtool-'));
    const file = join(dir, 'wrong.test.yml');
    writeFileSync(
      file,
      [
        'rule_files:',
        `  - ${fileURLToPath(RULES_FILE)}`,
        'tests:',
        '  - interval: 1m',
        '    input_series:',
        `      - series: 'onset_drift_feature_psi{model="m",version="1",feature="Age"}'`,
        "        values: '0.05x10'",
        '    alert_rule_test:',
        '      - eval_time: 5m',
        '        alertname: OnsetFeaturePsiHigh',
        '        exp_alerts:',
        '          - exp_labels: {severity: warning, action: retrain, model: m, version: "1", feature: Age}',
        '',
      ].join('\n'),
    );
    const result = run('promtool', ['test', 'rules', file]);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('FAILED');
  });

  it('promtool check config accepts the Prometheus configuration and its rules', () => {
    const result = run('promtool', ['check', 'config', PROMETHEUS_CONFIG]);
    expect(result.status, result.output).toBe(0);
    expect(result.output).toContain('SUCCESS: 1 rule files found');
  });

  it('amtool check-config accepts the Alertmanager configuration', () => {
    const result = run('amtool', ['check-config', ALERTMANAGER_CONFIG]);
    expect(result.status, result.output).toBe(0);
  });

  it('amtool routes retrain alerts to the webhook and the others to people', () => {
    const route = (...labels: string[]) =>
      run('amtool', [
        'config',
        'routes',
        'test',
        `--config.file=${ALERTMANAGER_CONFIG}`,
        ...labels,
      ]).output.trim();
    expect(route('alertname=OnsetDatasetDrift', 'action=retrain', 'model=parkinson')).toMatch(
      /^onset-retrain$/m,
    );
    expect(route('alertname=OnsetDown', 'action=notify')).toMatch(/^onset-notify$/m);
  });
});

it.runIf(process.env.CI === 'true')(
  'under CI, promtool and amtool are installed (.ci/run installs them)',
  () => {
    expect(TOOLS, SKIPPED).toBe(true);
  },
);

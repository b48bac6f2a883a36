/**
 * The whole loop with the real parts: `onset up` (the CLI, from source) on a free port with an admin
 * token; the real Prometheus scraping it every second with the shipped rules (no `for`); the real
 * Alertmanager with the shipped routing (1 s grouping), its webhook pointed at Onset with the token in
 * its credentials file. Shifted traffic from `onset monitor simulate`, with its truth posted as feedback;
 * the drift check run on demand; then, with no one in the loop: the drift gauges, an alert with
 * action="retrain" firing in Prometheus, Alertmanager delivering it, the alert recorded, the retrain
 * run on the original data plus the feedback rows, and the promotion gate's decision. All of it within
 * 60 s of the drift check. The tools are Debian's (`.ci/run` installs them): without them this skips,
 * and under CI it fails.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset, writeKaggleCsv } from '../../src/data/generator/generator.js';
import {
  ALERTMANAGER_BINARY,
  alertingToolsAvailable,
  type RunningTool,
  startAlertmanager,
  startPrometheus,
} from '../support/alerting.js';
import { type Child, startCli, waitFor } from '../support/child-process.js';
import { runCliAsync } from '../support/cli.js';
import { dashboardQueries } from '../support/grafana.js';
import { freePort } from '../support/ports.js';
import { withoutGrafanaVariables } from '../support/promql.js';

const TOOLS = alertingToolsAvailable();
const SKIPPED = `skipped: prometheus or ${ALERTMANAGER_BINARY} is missing (Debian: apt-get install -y prometheus prometheus-alertmanager; .ci/run installs them)`;
if (!TOOLS) console.warn(`alert-loop: ${SKIPPED}`);

const TOKEN = 'loop-admin-t0ken';
const admin = { authorization: `Bearer ${TOKEN}` };

interface Alert {
  alert_id: string;
  alert_name: string;
  status: string;
  labels: Record<string, string>;
  received_at: number;
  outcome: string;
  pipeline_run_id: string | null;
}
interface Run {
  run_id: string;
  pipeline: string;
  status: string;
  trigger: string;
  params: Record<string, string | number | boolean>;
  end_time: number | null;
  blocks: { block: string; status: string; output: Record<string, unknown> | null }[];
}

describe.skipIf(!TOOLS)(
  `the alert loop with the real Prometheus and Alertmanager${TOOLS ? '' : ` (${SKIPPED})`}`,
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'onset-alert-loop-'));
    const dataPath = join(dir, 'original.csv');
    let onset: Child | undefined;
    let base = '';
    let prometheus: RunningTool | undefined;
    let alertmanager: RunningTool | undefined;

    async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
      const response = await fetch(`${base}${path}`, {
        method: init.method ?? 'GET',
        headers: { ...admin, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${response.status} ${text}`);
      return JSON.parse(text) as T;
    }

    /** Polls `probe` until it answers something, failing after `timeoutMs` with the tools' logs. */
    async function eventually<T>(
      probe: () => Promise<T | undefined>,
      timeoutMs: number,
      what: string,
    ): Promise<T> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = await probe();
        if (found !== undefined) return found;
        if (Date.now() > deadline)
          throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}\n${logs()}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }

    /** What the logs say, for a failing test. */
    const logs = () =>
      `--- onset up\n${onset?.stdout().slice(-3000)}\n${onset?.stderr().slice(-3000)}\n--- prometheus\n${prometheus?.output().slice(-2000)}\n--- alertmanager\n${alertmanager?.output().slice(-3000)}`;

    beforeAll(async () => {
      // The original data: small, so that the first training and the retraining take seconds.
      await writeKaggleCsv(dataPath, generateDataset({ rows: 600, seed: 21 }));
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      onset = startCli(['up', '--port', String(port)], {
        env: { ONSET_HOME: join(dir, 'home'), ONSET_DATA: dataPath, ONSET_ADMIN_TOKEN: TOKEN },
      });
      await waitFor(() => /Onset is up on/.test(onset!.stdout()), 120_000, 'onset up', onset);
      alertmanager = await startAlertmanager({ dir, onsetUrl: base, adminToken: TOKEN });
      prometheus = await startPrometheus({
        dir,
        onsetAddress: `127.0.0.1:${port}`,
        alertmanagerAddress: alertmanager.url.replace('http://', ''),
      });
      // Prometheus scrapes Onset before the test begins.
      const deadline = Date.now() + 20_000;
      for (;;) {
        const answer = (await (
          await fetch(`${prometheus.url}/api/v1/query?query=up{job="onset"}`)
        ).json()) as {
          data: { result: { value: [number, string] }[] };
        };
        if (answer.data.result[0]?.value[1] === '1') break;
        if (Date.now() > deadline) throw new Error(`Prometheus never scraped Onset:\n${logs()}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }, 180_000);

    afterAll(async () => {
      await prometheus?.stop();
      await alertmanager?.stop();
      if (onset && onset.process.exitCode === null) {
        onset.process.kill('SIGTERM');
        await onset.exited;
      }
      rmSync(dir, { recursive: true, force: true });
    });

    it('drifted traffic → drift check → alert → Alertmanager → webhook → retrain run → the gate decides, within 60 s', async () => {
      // Shifted patients, each diagnosis posted back half a second after its answer.
      const trafficStarted = Date.now();
      const simulated = await runCliAsync([
        'monitor',
        'simulate',
        '--url',
        base,
        '--rate',
        '100',
        '--duration',
        '3',
        '--shift',
        'Age=+20',
        '--shift',
        'UPDRS=+60',
        '--feedback-delay',
        '0.5',
        '--seed',
        '3',
        '--json',
      ]);
      expect(simulated.code, simulated.stderr).toBe(0);
      const traffic = JSON.parse(simulated.stdout) as { answered: number; feedback: { sent: number } };
      // 300 at 100/s for 3 s; a loaded machine answers fewer in the time.
      expect(traffic.answered).toBeGreaterThan(100);
      expect(traffic.feedback.sent).toBe(traffic.answered);

      // The drift check on demand: from here the loop runs alone.
      const started = Date.now();
      const { check } = await api<{
        check: { status: string; summary: { outcome: string; drifted_features: number } };
      }>('/api/onset/monitoring/drift', { method: 'POST', body: {} });
      expect(check.status, JSON.stringify(check)).toBe('succeeded');
      expect(check.summary.outcome).toBe('checked');
      expect(check.summary.drifted_features).toBeGreaterThanOrEqual(2);

      // The first alert Onset receives from Alertmanager starts the retraining.
      const first = await eventually(
        async () => {
          const { alerts } = await api<{ alerts: Alert[] }>('/api/onset/alerts?max_results=1000');
          return alerts.at(-1);
        },
        30_000,
        'an alert delivered by Alertmanager',
      );
      const delivered = Date.now();
      expect(first).toMatchObject({ status: 'firing', outcome: 'started' });
      expect(first.labels).toMatchObject({ action: 'retrain', model: 'parkinson-disease-prediction' });
      expect(['OnsetFeaturePsiHigh', 'OnsetDatasetDrift']).toContain(first.alert_name);
      // Prometheus has it firing.
      const firing = (await (
        await fetch(
          `${prometheus!.url}/api/v1/query?query=${encodeURIComponent(`ALERTS{alertname="${first.alert_name}",alertstate="firing"}`)}`,
        )
      ).json()) as { data: { result: unknown[] } };
      expect(firing.data.result.length).toBeGreaterThan(0);

      // The run it started links back to it, and ends with the gate's decision.
      const runId = first.pipeline_run_id!;
      const run = await eventually(
        async () => {
          const { run } = await api<{ run: Run }>(`/api/onset/pipeline-runs/${runId}`);
          return run.status === 'RUNNING' ? undefined : run;
        },
        60_000,
        'the retrain run to end',
      );
      const decided = Date.now();
      const output = (block: string) => run.blocks.find((b) => b.block === block)?.output;
      expect(run, JSON.stringify(run.blocks)).toMatchObject({
        pipeline: 'retrain',
        status: 'SUCCEEDED',
        trigger: `alert:${first.alert_name}`,
        params: { alert_id: first.alert_id, data: dataPath, model_name: 'parkinson-disease-prediction' },
      });
      // The original 600 rows and those the simulation labelled.
      expect(output('feedback')).toMatchObject({ rows: traffic.feedback.sent, capped: false });
      expect(output('combine')).toMatchObject({ rows: 600 + traffic.feedback.sent });
      const gate = output('gate')!;
      expect(gate).toMatchObject({ version: '2', stage: expect.stringMatching(/^(Production|Staging)$/) });
      expect(String(gate.reason)).toMatch(/Production version 1|golden/);

      // Alertmanager may deliver the group again while the run goes on (new alerts join it): they all
      // joined that one run, and no other retraining started.
      const { alerts } = await api<{ alerts: Alert[] }>('/api/onset/alerts?max_results=1000');
      for (const alert of alerts.filter((a) => a.status === 'firing' && a.labels.action === 'retrain')) {
        expect(alert.pipeline_run_id, alert.alert_name).toBe(runId);
        expect(['started', 'already_running']).toContain(alert.outcome);
      }
      expect(alerts.filter((alert) => alert.outcome === 'started')).toHaveLength(1);
      const { runs } = await api<{ runs: Run[] }>('/api/onset/pipeline-runs?pipeline=retrain');
      expect(runs.map((r) => r.run_id)).toEqual([runId]);

      const seconds = (ms: number) => (ms / 1000).toFixed(1);
      console.info(
        `alert loop: simulated traffic ${seconds(started - trafficStarted)} s (${traffic.answered} predictions, the CLI's start included); drift check → alert received ${seconds(first.received_at - started)} s (delivered by ${seconds(delivered - started)} s) → gate decided ${seconds(run.end_time! - started)} s (seen ${seconds(decided - started)} s); retrain run ${seconds(run.end_time! - first.received_at)} s; gate: ${gate.stage}`,
      );
      expect(run.end_time! - started).toBeLessThan(60_000);
    }, 120_000);

    it('every panel of the shipped Grafana dashboards returns series from the real Prometheus', async () => {
      // The version served now (the retrained one, when the gate promoted it) gets traffic with its truth,
      // one refused record (the refusals panel), and both checks, as onset up's schedule would run them.
      const simulated = await runCliAsync([
        'monitor',
        'simulate',
        '--url',
        base,
        '--rate',
        '100',
        '--duration',
        '2',
        '--feedback-delay',
        '0.2',
        '--seed',
        '4',
      ]);
      expect(simulated.code, simulated.stderr).toBe(0);
      const refused = await fetch(`${base}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ data: { Age: -1 } }),
      });
      expect(refused.status).toBe(400);
      for (const kind of ['drift', 'performance']) {
        const { check } = await api<{ check: { status: string } }>(`/api/onset/monitoring/${kind}`, {
          method: 'POST',
          body: {},
        });
        expect(check.status, `${kind}: ${JSON.stringify(check)}`).toBe('succeeded');
      }
      // Every query, with Grafana's variables as Grafana sends them with "All" chosen, until each answers
      // series (a few scrapes and rule evaluations).
      const queries = dashboardQueries();
      expect(queries.length).toBeGreaterThan(30);
      const answered = async (expr: string) => {
        const answer = (await (
          await fetch(
            `${prometheus!.url}/api/v1/query?query=${encodeURIComponent(withoutGrafanaVariables(expr))}`,
          )
        ).json()) as { status: string; error?: string; data: { result: unknown[] } };
        if (answer.status !== 'success') throw new Error(`${expr}: ${answer.error}`);
        return answer.data.result.length > 0;
      };
      let empty: string[] = queries.map((query) => query.where);
      const deadline = Date.now() + 20_000;
      while (empty.length > 0 && Date.now() < deadline) {
        const still: string[] = [];
        for (const query of queries) {
          if (empty.includes(query.where) && !(await answered(query.expr))) still.push(query.where);
        }
        empty = still;
        if (empty.length > 0) await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
      expect(empty, logs()).toEqual([]);
    }, 120_000);
  },
);

it.runIf(process.env.CI === 'true')(
  'under CI, prometheus and the alertmanager are installed (.ci/run installs them)',
  () => {
    expect(TOOLS, SKIPPED).toBe(true);
  },
);

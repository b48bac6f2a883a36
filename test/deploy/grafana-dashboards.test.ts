/**
 * The shipped Grafana provisioning (deploy/grafana/): the dashboards are what scripts/make-dashboards.ts
 * writes, every panel's PromQL parses and names only metrics Onset exports, and every panel and variable
 * uses the provisioned data source. (Grafana itself cannot be installed here; the integration test runs
 * the same queries against a real Prometheus.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { DASHBOARD_SPECS, DATASOURCE, dashboardJson } from '../../scripts/make-dashboards.js';
import { knownMetricNames, metricNamesIn, syntaxErrors, withoutGrafanaVariables } from '../support/promql.js';

const GRAFANA = fileURLToPath(new URL('../../deploy/grafana/', import.meta.url));
const DASHBOARDS_DIR = join(GRAFANA, 'dashboards');
const FILES = readdirSync(DASHBOARDS_DIR).filter((name) => name.endsWith('.json'));

interface Target {
  readonly refId: string;
  readonly expr: string;
  readonly datasource: { type: string; uid: string };
}
interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: { h: number; w: number; x: number; y: number };
  readonly datasource: { type: string; uid: string };
  readonly targets: readonly Target[];
}
interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly schemaVersion: number;
  readonly panels: readonly Panel[];
  readonly templating: {
    list: { name: string; datasource: { uid: string }; query: { query: string } }[];
  };
}

const dashboards = FILES.map((file) => ({
  file,
  dashboard: JSON.parse(readFileSync(join(DASHBOARDS_DIR, file), 'utf8')) as Dashboard,
}));

/** Every query of every dashboard, with where it is. */
const queries = dashboards.flatMap(({ file, dashboard }) => [
  ...dashboard.panels.flatMap((panel) =>
    panel.targets.map((target) => ({ where: `${file} "${panel.title}" ${target.refId}`, expr: target.expr })),
  ),
  ...dashboard.templating.list.map((variable) => ({
    where: `${file} variable ${variable.name}`,
    // A variable query is `label_values(metric, label)`: its first argument is a selector.
    expr: /^label_values\((.+), \w+\)$/.exec(variable.query.query)?.[1] ?? variable.query.query,
  })),
]);

describe('the Grafana dashboards', () => {
  it('are serving, model, drift and performance, each what scripts/make-dashboards.ts writes (npm run dashboards)', () => {
    expect(FILES.sort()).toEqual(Object.keys(DASHBOARD_SPECS).sort());
    for (const { file, dashboard } of dashboards) {
      expect(dashboard, `${file} differs from the script's output: run npm run dashboards`).toEqual(
        dashboardJson(DASHBOARD_SPECS[file]!),
      );
    }
  });

  it('have unique uids, a schema version, panels with unique ids inside the 24-column grid', () => {
    expect(new Set(dashboards.map(({ dashboard }) => dashboard.uid)).size).toBe(dashboards.length);
    for (const { file, dashboard } of dashboards) {
      expect(dashboard.schemaVersion, file).toBeGreaterThanOrEqual(36);
      expect(dashboard.panels.length, file).toBeGreaterThan(0);
      expect(new Set(dashboard.panels.map((panel) => panel.id)).size, file).toBe(dashboard.panels.length);
      for (const panel of dashboard.panels) {
        expect(panel.gridPos.x + panel.gridPos.w, `${file} ${panel.title}`).toBeLessThanOrEqual(24);
        expect(panel.targets.length, `${file} ${panel.title}`).toBeGreaterThan(0);
      }
    }
  });

  it('query only the provisioned Prometheus data source', () => {
    const provisioning = parseYaml(
      readFileSync(join(GRAFANA, 'provisioning/datasources/onset.yml'), 'utf8'),
    ) as { datasources: { uid: string; type: string }[] };
    expect(provisioning.datasources).toContainEqual(expect.objectContaining(DATASOURCE));
    for (const { file, dashboard } of dashboards) {
      for (const panel of dashboard.panels) {
        expect(panel.datasource, `${file} ${panel.title}`).toEqual(DATASOURCE);
        for (const target of panel.targets)
          expect(target.datasource, `${file} ${panel.title}`).toEqual(DATASOURCE);
      }
      for (const variable of dashboard.templating.list) expect(variable.datasource.uid).toBe(DATASOURCE.uid);
    }
  });

  it('are loaded by the dashboard provider from the folder the docs mount them at', () => {
    const provider = parseYaml(readFileSync(join(GRAFANA, 'provisioning/dashboards/onset.yml'), 'utf8')) as {
      providers: { type: string; options: { path: string } }[];
    };
    expect(provider.providers[0]).toMatchObject({
      type: 'file',
      options: { path: '/var/lib/grafana/dashboards/onset' },
    });
    const docs = readFileSync(new URL('../../docs/monitoring.md', import.meta.url), 'utf8');
    expect(docs).toContain('deploy/grafana/dashboards:/var/lib/grafana/dashboards/onset');
  });

  it('have queries that parse as PromQL once the Grafana variables are filled in', () => {
    expect(queries.length).toBeGreaterThan(30);
    const broken = queries
      .map(({ where, expr }) => ({ where, errors: syntaxErrors(withoutGrafanaVariables(expr)) }))
      .filter(({ errors }) => errors.length > 0);
    expect(broken).toEqual([]);
  });

  it('name only metrics Onset exports, so no panel is built on a series that never comes', async () => {
    const known = await knownMetricNames();
    const unknown = queries.flatMap(({ where, expr }) =>
      metricNamesIn(withoutGrafanaVariables(expr))
        .filter((name) => !known.has(name))
        .map((name) => `${where}: ${name}`),
    );
    expect(unknown).toEqual([]);
    // The check sees a misspelt name.
    expect(metricNamesIn('sum(rate(onset_predictons_total[5m]))').filter((name) => !known.has(name))).toEqual(
      ['onset_predictons_total'],
    );
  });

  it('the syntax check sees a broken query', () => {
    expect(syntaxErrors('sum(rate(onset_predictions_total[5m])')).not.toEqual([]);
    expect(
      syntaxErrors(
        withoutGrafanaVariables('rate(onset_predictions_total{model=~"$model"}[$__rate_interval])'),
      ),
    ).toEqual([]);
  });
});

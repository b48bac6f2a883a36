/**
 * The shipped Grafana provisioning (deploy/grafana/): the dashboards are what scripts/make-dashboards.ts
 * writes, every panel's PromQL parses and names only metrics Onset exports, and every panel and variable
 * uses the provisioned data source. (Grafana itself cannot be installed here; the integration test runs
 * the same queries against a real Prometheus.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { DASHBOARD_SPECS, DATASOURCE, dashboardJson } from '../../scripts/make-dashboards.js';
import { dashboardQueries, GRAFANA, loadDashboards } from '../support/grafana.js';
import { knownMetricNames, metricNamesIn, syntaxErrors, withoutGrafanaVariables } from '../support/promql.js';

const dashboards = loadDashboards();
const queries = dashboardQueries();

describe('the Grafana dashboards', () => {
  it('are serving, model, drift and performance, each what scripts/make-dashboards.ts writes (npm run dashboards)', () => {
    expect(dashboards.map(({ file }) => file).sort()).toEqual(Object.keys(DASHBOARD_SPECS).sort());
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

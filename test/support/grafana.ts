/**
 * The shipped Grafana dashboards (deploy/grafana/dashboards/) as the deploy tests read them: each file's
 * dashboard, and every PromQL query in them with where it is.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const GRAFANA = fileURLToPath(new URL('../../deploy/grafana/', import.meta.url));
const DASHBOARDS_DIR = join(GRAFANA, 'dashboards');

export interface Target {
  readonly refId: string;
  readonly expr: string;
  readonly datasource: { type: string; uid: string };
}
export interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: { h: number; w: number; x: number; y: number };
  readonly datasource: { type: string; uid: string };
  readonly targets: readonly Target[];
}
export interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly schemaVersion: number;
  readonly panels: readonly Panel[];
  readonly templating: {
    list: { name: string; datasource: { uid: string }; query: { query: string } }[];
  };
}

/** Every dashboard file with its dashboard. */
export function loadDashboards(): { file: string; dashboard: Dashboard }[] {
  return readdirSync(DASHBOARDS_DIR)
    .filter((name) => name.endsWith('.json'))
    .map((file) => ({
      file,
      dashboard: JSON.parse(readFileSync(join(DASHBOARDS_DIR, file), 'utf8')) as Dashboard,
    }));
}

/** Every query of every dashboard (panels' and variables'), with where it is. */
export function dashboardQueries(): { where: string; expr: string }[] {
  return loadDashboards().flatMap(({ file, dashboard }) => [
    ...dashboard.panels.flatMap((panel) =>
      panel.targets.map((target) => ({
        where: `${file} "${panel.title}" ${target.refId}`,
        expr: target.expr,
      })),
    ),
    ...dashboard.templating.list.map((variable) => ({
      where: `${file} variable ${variable.name}`,
      // A variable query is `label_values(metric, label)`: its first argument is a selector.
      expr: /^label_values\((.+), \w+\)$/.exec(variable.query.query)?.[1] ?? variable.query.query,
    })),
  ]);
}

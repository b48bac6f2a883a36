/**
 * The real Prometheus and Alertmanager (Debian's `prometheus` and `prometheus-alertmanager`, which
 * `.ci/run` installs) for end-to-end tests, each started on free ports in a temporary folder from the
 * project's own configuration in `deploy/`, rewritten only where a test must: the addresses, the token
 * file, and the waits (1 s scrape and evaluation, no `for`, 1 s grouping), so an alert goes round in
 * seconds instead of minutes.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { freePort } from './ports.js';

const DEPLOY = fileURLToPath(new URL('../../deploy/', import.meta.url));

function hasBinary(name: string): boolean {
  return spawnSync(name, ['--version'], { encoding: 'utf8' }).status === 0;
}

/** Debian names Alertmanager's binary `prometheus-alertmanager`; upstream's archive names it `alertmanager`. */
export const ALERTMANAGER_BINARY = hasBinary('prometheus-alertmanager')
  ? 'prometheus-alertmanager'
  : 'alertmanager';

/** Whether both tools are installed (else the end-to-end tests skip, and fail under CI). */
export function alertingToolsAvailable(): boolean {
  return hasBinary('prometheus') && hasBinary(ALERTMANAGER_BINARY);
}

export interface RunningTool {
  readonly url: string;
  /** Everything it wrote so far (its log), for a failing test to show. */
  output(): string;
  stop(): Promise<void>;
}

function startTool(binary: string, args: readonly string[], url: string): Promise<RunningTool> {
  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const tool: RunningTool = {
    url,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killed = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killed);
    },
  };
  return (async () => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${binary} exited (${child.exitCode}):\n${output}`);
      const ready = await fetch(`${url}/-/ready`).then(
        (response) => response.ok,
        () => false,
      );
      if (ready) return tool;
      if (Date.now() > deadline) {
        await tool.stop();
        throw new Error(`${binary} was not ready after 20 s:\n${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
}

/** The shipped rules with every `for` set to 0s: an alert fires at the first evaluation that finds it. */
export function rulesWithoutWaits(): string {
  const rules = parseYaml(readFileSync(join(DEPLOY, 'prometheus/rules/onset.rules.yml'), 'utf8')) as {
    groups: { rules: { for?: string }[] }[];
  };
  for (const group of rules.groups)
    for (const rule of group.rules) if (rule.for !== undefined) rule.for = '0s';
  return toYaml(rules);
}

/**
 * Prometheus from `deploy/prometheus/prometheus.yml`, scraping Onset at `onsetAddress` (host:port) and
 * sending alerts to `alertmanagerAddress`, every 1 s, with the rules of `rulesWithoutWaits`.
 */
export async function startPrometheus(options: {
  readonly dir: string;
  readonly onsetAddress: string;
  readonly alertmanagerAddress: string;
}): Promise<RunningTool> {
  const dir = join(options.dir, 'prometheus');
  mkdirSync(dir, { recursive: true });
  const config = parseYaml(readFileSync(join(DEPLOY, 'prometheus/prometheus.yml'), 'utf8')) as {
    global: Record<string, string>;
    rule_files: string[];
    alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
    scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
  };
  config.global.scrape_interval = '1s';
  config.global.evaluation_interval = '1s';
  writeFileSync(join(dir, 'onset.rules.yml'), rulesWithoutWaits());
  config.rule_files = [join(dir, 'onset.rules.yml')];
  config.alerting.alertmanagers[0]!.static_configs[0]!.targets = [options.alertmanagerAddress];
  config.scrape_configs.find((job) => job.job_name === 'onset')!.static_configs[0]!.targets = [
    options.onsetAddress,
  ];
  writeFileSync(join(dir, 'prometheus.yml'), toYaml(config));
  const port = await freePort();
  return startTool(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    `http://127.0.0.1:${port}`,
  );
}

/**
 * Alertmanager from `deploy/alertmanager/alertmanager.yml`, its webhook pointed at `onsetUrl` with the
 * admin token in a file of `dir`, its groups waiting 1 s; alone (no cluster port).
 */
export async function startAlertmanager(options: {
  readonly dir: string;
  readonly onsetUrl: string;
  readonly adminToken: string;
  readonly port?: number;
}): Promise<RunningTool> {
  const dir = join(options.dir, 'alertmanager');
  mkdirSync(dir, { recursive: true });
  const config = parseYaml(readFileSync(join(DEPLOY, 'alertmanager/alertmanager.yml'), 'utf8')) as {
    route: Record<string, unknown> & { routes: Record<string, unknown>[] };
    receivers: {
      name: string;
      webhook_configs?: { url: string; http_config: { authorization: { credentials_file: string } } }[];
    }[];
  };
  for (const route of [config.route, ...config.route.routes]) {
    route.group_wait = '1s';
    route.group_interval = '1s';
  }
  // Written as an operator would: a trailing newline, which Alertmanager trims.
  writeFileSync(join(dir, 'admin-token'), `${options.adminToken}\n`, { mode: 0o600 });
  for (const receiver of config.receivers) {
    for (const webhook of receiver.webhook_configs ?? []) {
      webhook.url = webhook.url.replace('http://127.0.0.1:9696', options.onsetUrl);
      webhook.http_config.authorization.credentials_file = join(dir, 'admin-token');
    }
  }
  writeFileSync(join(dir, 'alertmanager.yml'), toYaml(config));
  const port = options.port ?? (await freePort());
  return startTool(
    ALERTMANAGER_BINARY,
    [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // One Alertmanager: no gossip port (9094 by default, which another test may hold).
      '--cluster.listen-address=',
    ],
    `http://127.0.0.1:${port}`,
  );
}

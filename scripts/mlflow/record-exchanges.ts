/**
 * Records what MLflow's Python client sends and gets: a proxy between the client and a tracking server
 * writes every exchange (method, path, query, request body, status, response body; binary bodies as size
 * and sha256) to JSON fixtures that `test/rest/mlflow-client-replay.test.ts` replays against Onset in CI,
 * where there is no Python.
 *
 *   npm run mlflow:record -- --mlflow-source /path/to/mlflow-2.12 [--groups runs,models] [--out DIR]
 *       runs scripts/mlflow/client-checks.py group by group, each against a fresh MLflow server (the
 *       reference: `python3 -m mlflow server`, SQLite, proxied artifacts), through the proxy, and writes
 *       DIR/<group>.json (default test/fixtures/mlflow-client). Refuses to write a group in which a check
 *       failed against the reference, unless --allow-failures.
 *   ... --target http://127.0.0.1:9696 [--server-name NAME]
 *       the same against a server already running (Onset, say) instead of fresh MLflow servers.
 *   npx tsx scripts/mlflow/record-exchanges.ts proxy --target URL --port N --out FILE
 *       only the proxy, for any client: every exchange until Ctrl-C, as one check named `all`.
 *
 * Talks HTTP only. Python is `/usr/bin/python3` (Debian's packages, see docs/development.md) unless
 * --python says otherwise; MLFLOW_TRACKING_TOKEN, when set, is passed on to the client.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, request } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type Exchange, type ExchangeFixture, type RecordedCheck, recordBody } from './exchange-fixture.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHECKS_SCRIPT = join(ROOT, 'scripts/mlflow/client-checks.py');
/** A stand-in for `querystring_parser`, which MLflow's server imports and Debian does not package. */
const SERVER_STUBS = join(ROOT, 'scripts/mlflow/server-stubs');
const DEFAULT_OUT = join(ROOT, 'test/fixtures/mlflow-client');
/** Hop-by-hop headers: the proxy answers with a whole body and a length of its own. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

interface RecordingProxy {
  readonly url: string;
  /** The exchanges recorded since the last call. */
  take(): Exchange[];
  close(): Promise<void>;
}

function forwardedHeaders(headers: IncomingHttpHeaders, host: string): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name)) out[name] = value;
  }
  return { ...out, host };
}

function contentTypeOf(headers: IncomingHttpHeaders): string | undefined {
  const value = headers['content-type'];
  return value === undefined ? undefined : value.split(';')[0]?.trim();
}

/** A proxy on a free loopback port that forwards to `target` and records every exchange, in order. */
async function startRecordingProxy(target: string, port = 0): Promise<RecordingProxy> {
  const upstream = new URL(target);
  let recorded: Exchange[] = [];
  const server = createServer((incoming, answer) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      const forward = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: incoming.method,
          path: incoming.url,
          headers: {
            ...forwardedHeaders(incoming.headers, upstream.host),
            'content-length': String(body.length),
          },
        },
        (response) => {
          const parts: Buffer[] = [];
          response.on('data', (chunk: Buffer) => parts.push(chunk));
          response.on('end', () => {
            const content = Buffer.concat(parts);
            const [path = '/', query = ''] = (incoming.url ?? '/').split(/\?(.*)/s);
            const requestType = contentTypeOf(incoming.headers);
            const responseType = contentTypeOf(response.headers);
            const requestBody = recordBody(body, requestType);
            const responseBody = recordBody(content, responseType);
            // Recorded before the client gets its answer: the check that made it has not ended yet.
            recorded.push({
              method: incoming.method ?? 'GET',
              path,
              query,
              ...(requestBody ? { requestType, request: requestBody } : {}),
              status: response.statusCode ?? 0,
              ...(responseBody ? { responseType, response: responseBody } : {}),
            });
            answer.writeHead(response.statusCode ?? 502, {
              ...forwardedHeaders(response.headers, upstream.host),
              'content-length': String(content.length),
            });
            answer.end(content);
          });
        },
      );
      forward.on('error', (error) => {
        answer.writeHead(502, { 'content-type': 'text/plain' });
        answer.end(`recording proxy: ${error.message}`);
      });
      forward.end(body);
    });
  });
  await new Promise<void>((ready) => server.listen(port, '127.0.0.1', ready));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    take() {
      const taken = recorded;
      recorded = [];
      return taken;
    },
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const address = server.address();
  await new Promise((done) => server.close(done));
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

interface PythonSetup {
  readonly python: string;
  readonly mlflowSource: string;
}

function pythonEnv(setup: PythonSetup, extraPath: readonly string[] = []): NodeJS.ProcessEnv {
  return { ...process.env, PYTHONPATH: [setup.mlflowSource, ...extraPath].join(':') };
}

function mlflowVersion(setup: PythonSetup): string {
  const result = spawnSync(setup.python, ['-c', 'import mlflow; print(mlflow.__version__)'], {
    env: pythonEnv(setup),
    cwd: tmpdir(),
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    throw new Error(
      `cannot import mlflow with ${setup.python} and PYTHONPATH=${setup.mlflowSource}: ${result.stderr.trim().split('\n').pop()}`,
    );
  }
  return result.stdout.trim();
}

/** A fresh MLflow server (SQLite, proxied artifacts) in its own process group, for one group of checks. */
async function startReferenceServer(
  setup: PythonSetup,
): Promise<{ readonly url: string; stop(): Promise<void> }> {
  const home = mkdtempSync(join(tmpdir(), 'mlflow-reference-'));
  const port = await freePort();
  const server: ChildProcess = spawn(
    setup.python,
    [
      '-m',
      'mlflow',
      'server',
      '--backend-store-uri',
      `sqlite:///${home}/mlflow.db`,
      '--artifacts-destination',
      join(home, 'artifacts'),
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--workers',
      '1',
    ],
    { cwd: home, env: pythonEnv(setup, [SERVER_STUBS]), detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  server.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (server.pid !== undefined && server.exitCode === null) {
      const exited = new Promise((done) => server.once('exit', done));
      process.kill(-server.pid, 'SIGTERM');
      await exited;
    }
    rmSync(home, { recursive: true, force: true });
  };
  for (let attempt = 0; attempt < 120; attempt++) {
    if (server.exitCode !== null) break;
    try {
      if ((await fetch(`${url}/health`)).ok) return { url, stop };
    } catch {
      // not listening yet
    }
    await new Promise((wait) => setTimeout(wait, 500));
  }
  await stop();
  throw new Error(`MLflow's server did not start:\n${log}`);
}

function listChecks(setup: PythonSetup, group: string): string[] {
  const result = spawnSync(setup.python, [CHECKS_SCRIPT, '--only', group, '--list'], {
    env: pythonEnv(setup),
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`client-checks.py --list failed: ${result.stderr}`);
  return result.stdout.split('\n').filter((line) => line.length > 0);
}

/**
 * Runs one group of client checks through `proxy`, and gives each check the exchanges made between the
 * previous check's result line and its own (the client is synchronous; each line is flushed).
 */
async function recordGroup(
  setup: PythonSetup,
  group: string,
  suffix: string,
  proxy: RecordingProxy,
): Promise<RecordedCheck[]> {
  const names = listChecks(setup, group);
  const child = spawn(setup.python, [CHECKS_SCRIPT, '--only', group, '--suffix', suffix], {
    env: { ...pythonEnv(setup), MLFLOW_TRACKING_URI: proxy.url },
    cwd: tmpdir(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8000);
  });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  proxy.take();
  const checks: RecordedCheck[] = [];
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    process.stdout.write(`  ${line}\n`);
    const outcome = line.startsWith('PASS ') ? 'PASS' : line.startsWith('FAIL ') ? 'FAIL' : undefined;
    if (outcome === undefined) continue;
    const rest = line.slice(5);
    const name = names.find((n) => rest === n || rest.startsWith(`${n} (`) || rest.startsWith(`${n}: `));
    if (name === undefined) throw new Error(`a result line for no listed check: ${line}`);
    const reason = outcome === 'FAIL' ? rest.slice(name.length + 2) : undefined;
    checks.push({ name, outcome, ...(reason ? { reason } : {}), exchanges: proxy.take() });
  }
  const code = await exited;
  if (checks.length !== names.length) {
    throw new Error(
      `client-checks.py ended (${code}) after ${checks.length} of ${names.length} checks:\n${stderr}`,
    );
  }
  return checks;
}

const USAGE = `usage:
  npm run mlflow:record -- --mlflow-source DIR [--groups a,b] [--out DIR] [--python PATH] [--allow-failures]
      client-checks.py group by group, each against a fresh MLflow server, through the recording proxy
  npm run mlflow:record -- --mlflow-source DIR --target URL [--server-name NAME] [--suffix S] ...
      the same against a server already running
  npx tsx scripts/mlflow/record-exchanges.ts proxy --target URL --port N --out FILE
      only the proxy, until Ctrl-C
`;

const GROUPS = ['experiments', 'runs', 'search', 'artifacts', 'datasets', 'models', 'registry', 'errors'];

async function recordChecks(options: {
  readonly setup: PythonSetup;
  readonly groups: readonly string[];
  readonly out: string;
  readonly target?: string;
  readonly serverName?: string;
  readonly allowFailures: boolean;
  readonly suffix: string;
}): Promise<number> {
  const { setup } = options;
  const version = mlflowVersion(setup);
  mkdirSync(options.out, { recursive: true });
  const written: string[] = [];
  let refused = 0;
  for (const group of options.groups) {
    process.stdout.write(`${group}:\n`);
    const reference = options.target === undefined ? await startReferenceServer(setup) : undefined;
    const target = options.target ?? reference!.url;
    const proxy = await startRecordingProxy(target);
    try {
      const checks = await recordGroup(setup, group, options.suffix, proxy);
      const failed = checks.filter((check) => check.outcome === 'FAIL');
      if (failed.length > 0 && !options.allowFailures) {
        process.stderr.write(
          `${group}: ${failed.length} check(s) failed against ${target}; not written (--allow-failures writes them)\n`,
        );
        refused++;
        continue;
      }
      const fixture: ExchangeFixture = {
        about:
          'What MLflow\'s Python client sent and got while scripts/mlflow/client-checks.py ran; recorded by scripts/mlflow/record-exchanges.ts ("npm run mlflow:record"), replayed against Onset by test/rest/mlflow-client-replay.test.ts.',
        group,
        server:
          options.serverName ??
          (options.target === undefined
            ? `MLflow ${version} (mlflow server, SQLite, proxied artifacts)`
            : options.target),
        client: `MLflow ${version} Python client`,
        command: `client-checks.py --only ${group} --suffix ${options.suffix}`,
        checks,
      };
      const file = join(options.out, `${group}.json`);
      // Written compact: Biome then lays it out, keeping what fits in a line on one line.
      writeFileSync(file, `${JSON.stringify(fixture)}\n`);
      written.push(file);
      const count = checks.reduce((total, check) => total + check.exchanges.length, 0);
      process.stdout.write(`${group}: ${checks.length} checks, ${count} exchanges -> ${file}\n`);
    } finally {
      await proxy.close();
      await reference?.stop();
    }
  }
  if (written.length > 0) {
    // The fixtures are kept in Biome's layout, as the other JSON fixtures are.
    spawnSync('npx', ['biome', 'format', '--write', ...written], { cwd: ROOT, stdio: 'inherit' });
  }
  return refused > 0 ? 1 : 0;
}

async function proxyOnly(target: string, port: number, out: string): Promise<void> {
  const proxy = await startRecordingProxy(target, port);
  const exchanges: Exchange[] = [];
  process.stdout.write(`recording ${proxy.url} -> ${target}; Ctrl-C writes ${out}\n`);
  await new Promise<void>((stop) => {
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  exchanges.push(...proxy.take());
  await proxy.close();
  const fixture: ExchangeFixture = {
    about: 'Exchanges recorded by scripts/mlflow/record-exchanges.ts proxy.',
    group: 'all',
    server: target,
    client: 'any',
    command: 'record-exchanges.ts proxy',
    checks: [{ name: 'all', outcome: 'PASS', exchanges }],
  };
  writeFileSync(out, `${JSON.stringify(fixture, null, 2)}\n`);
  process.stdout.write(`${exchanges.length} exchanges -> ${out}\n`);
}

async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      'mlflow-source': { type: 'string' },
      python: { type: 'string', default: '/usr/bin/python3' },
      groups: { type: 'string' },
      out: { type: 'string' },
      target: { type: 'string' },
      'server-name': { type: 'string' },
      port: { type: 'string', default: '0' },
      suffix: { type: 'string' },
      'allow-failures': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals[0] === 'proxy') {
    if (!values.target || !values.out) throw new Error('proxy needs --target URL and --out FILE');
    await proxyOnly(values.target, Number(values.port), resolve(values.out));
    return 0;
  }
  const mlflowSource = values['mlflow-source'] ?? process.env.MLFLOW_SOURCE;
  if (!mlflowSource) {
    throw new Error(
      "give MLflow 2.12's source with --mlflow-source DIR (or MLFLOW_SOURCE): the client runs from it",
    );
  }
  const groups = values.groups ? values.groups.split(',') : GROUPS;
  const unknown = groups.filter((group) => !GROUPS.includes(group));
  if (unknown.length > 0)
    throw new Error(`unknown group(s) ${unknown.join(', ')}; known: ${GROUPS.join(', ')}`);
  return recordChecks({
    setup: { python: values.python, mlflowSource: resolve(mlflowSource) },
    groups,
    out: resolve(values.out ?? DEFAULT_OUT),
    ...(values.target ? { target: values.target } : {}),
    ...(values['server-name'] ? { serverName: values['server-name'] } : {}),
    allowFailures: values['allow-failures'],
    // Fresh reference servers take the same names every time (stable fixtures); a running server may
    // already hold them.
    suffix: values.suffix ?? (values.target ? `rec${Date.now().toString(36)}` : 'rec'),
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);

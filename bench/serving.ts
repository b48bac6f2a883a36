/**
 * Serving throughput: `POST /predict` on `onset serve` (the built dist, serving the registered `gbdt` model
 * trained with defaults on the real file, or generated data when it is absent) with the prediction log
 * off, against a minimal Node HTTP server that parses the same JSON body and answers a fixed prediction,
 * and the same `onset serve` with the log on (its default), all driven by wrk -t1 when it is installed
 * (Debian's wrk; autocannon otherwise, or with `--load autocannon`; see `support/load.ts`) with 32
 * connections for 10 s each, in the same run,
 * taking turns three times (each keeps its best round). Reports requests/s and each server's CPU time per
 * request, the ratio to the minimal server (target >= 0.60), the ratio of the log on to the log off
 * (target >= 0.85, with the predictions the log wrote and dropped, and the log's CPU per prediction by
 * thread), p99 latency
 * (target < 5 ms), the largest resident memory of the Onset process during its run (target < 150 MB), and
 * the throughput against the original service's shape, a Flask app scoring the same model exported as
 * XGBoost JSON (Debian python3-flask and python3-xgboost; the quoted ~2,500 requests/s when they are
 * absent; target 10x). First,
 * how long `onset up` takes on a fresh ONSET_HOME to answer /ready (training included; target < 20 s).
 *
 *   npm run build && tsx bench/serving.ts [--seconds 10] [--connections 32] [--load autocannon|wrk]
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveConfig } from '../src/config.js';
import { readDatasetFile } from '../src/data/csv-reader.js';
import { generateDataset } from '../src/data/generator/generator.js';
import { FEATURE_NAMES } from '../src/data/schema.js';
import { exportXgboost } from '../src/ml/model-document.js';
import { trainOnDataset } from '../src/ml/train-on-dataset.js';
import { openOnsetStores } from '../src/server/open-stores.js';
import { registerModelVersion } from '../src/tracking/model-registry.js';
import { logTrainingRun } from '../src/tracking/training-logger.js';
import { HAS_REAL_DATA, REAL_DATA_PATH } from '../test/support/fixtures.js';
import { type LoadFigures, load, loadToolOf } from './support/load.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const argument = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};
const SECONDS = argument('seconds', 10);
const CONNECTIONS = argument('connections', 32);
const FLASK_REFERENCE = 2_500;
const LOAD_TOOL = loadToolOf(process.argv);

const home = mkdtempSync(join(tmpdir(), 'onset-bench-serving-'));
const dataset = HAS_REAL_DATA
  ? (await readDatasetFile(REAL_DATA_PATH, { target: 'required' })).dataset
  : generateDataset({ rows: 2105, seed: 42 });
const stores = await openOnsetStores(resolveConfig({ home }));
const result = trainOnDataset(dataset, { estimator: 'gbdt' });
const logged = await logTrainingRun(stores, {
  result,
  datasetPath: HAS_REAL_DATA ? REAL_DATA_PATH : 'generated',
});
const version = await registerModelVersion(stores, {
  name: 'bench',
  source: logged.modelSource,
  runId: logged.runId,
  createModelIfMissing: true,
});
await stores.registry.transitionModelVersionStage({
  name: 'bench',
  version: version.version,
  stage: 'Production',
  archiveExistingVersions: false,
});
await stores.close();

// Real records, a different one per request (the predictor does real work on each).
const records = Array.from({ length: 256 }, (_, i) =>
  JSON.stringify({
    patient_id: `P${i}`,
    data: Object.fromEntries(FEATURE_NAMES.map((name) => [name, dataset.columns[name][i]!])),
  }),
);

function start(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /(?:Onset is up on|listening on) (http:\/\/[\d.:]+)/.exec(out);
      if (match) resolve({ child, url: match[1]! });
    });
    child.stderr!.on('data', () => undefined);
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${out}`)));
  });
}

/** POST /predict on a server, a different record per request. */
const measure = (server: { url: string; child: ChildProcess }) =>
  load({
    tool: LOAD_TOOL,
    url: server.url,
    path: '/predict',
    bodies: records,
    connections: CONNECTIONS,
    seconds: SECONDS,
    pid: server.child.pid!,
  });

// `onset up` on a fresh home: train-all on the built-in data, the gate, then serving; until /ready answers 200.
const freshHome = mkdtempSync(join(tmpdir(), 'onset-bench-up-'));
const upStarted = performance.now();
const up = await start(process.execPath, [join(ROOT, 'dist/cli/main.js'), 'up', '--port', '0'], {
  ONSET_HOME: freshHome,
});
while ((await fetch(`${up.url}/ready`)).status !== 200)
  await new Promise((resolve) => setTimeout(resolve, 100));
const upSeconds = (performance.now() - upStarted) / 1000;
up.child.kill('SIGTERM');
await new Promise((resolve) => up.child.once('exit', resolve));
rmSync(freshHome, { recursive: true, force: true });

const minimal = await start(process.execPath, [join(ROOT, 'bench/support/minimal-server.mjs')], {});
// The original service's shape (Flask + XGBoost), when Debian's python3-flask and python3-xgboost are here.
const PYTHON = '/usr/bin/python3';
const hasFlask =
  existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import flask, xgboost'], { stdio: 'ignore' }).status === 0;
const xgboostModel = join(home, 'model.xgboost.json');
writeFileSync(xgboostModel, exportXgboost(result.model, 'the bench model'));
const flask = hasFlask
  ? await start(
      PYTHON,
      [join(ROOT, 'bench/support/flask-reference.py'), xgboostModel, FEATURE_NAMES.join(',')],
      {},
    )
  : undefined;
const onset = await start(
  process.execPath,
  [join(ROOT, 'dist/cli/main.js'), 'serve', '--port', '0', '--model', 'models:/bench/Production'],
  { ONSET_HOME: home },
);
// The same server with the prediction log off, for the log's cost.
const onsetWithoutLog = await start(
  process.execPath,
  [
    join(ROOT, 'dist/cli/main.js'),
    'serve',
    '--port',
    '0',
    '--model',
    'models:/bench/Production',
    '--prediction-log',
    'off',
  ],
  { ONSET_HOME: home },
);
// This machine's speed drifts (shared virtual CPUs): the two servers take turns, ROUNDS times, and each
// keeps its best round.
const ROUNDS = 3;
type Figures = LoadFigures;
const best = (a: Figures | undefined, b: Figures) => (a === undefined || b.rps > a.rps ? b : a);
let minimalFigures: Figures | undefined;
let onsetFigures: Figures | undefined;
let withoutLogFigures: Figures | undefined;
let flaskFigures: Figures | undefined;
for (let round = 0; round < ROUNDS; round++) {
  minimalFigures = best(minimalFigures, await measure(minimal));
  onsetFigures = best(onsetFigures, await measure(onset));
  withoutLogFigures = best(withoutLogFigures, await measure(onsetWithoutLog));
  if (flask) flaskFigures = best(flaskFigures, await measure(flask));
}
/** A series' value in the log-on server's /metrics. */
const metricsText = await (await fetch(`${onset.url}/metrics`)).text();
const metricValue = (series: string) =>
  Number(
    metricsText
      .split('\n')
      .find((line) => line.startsWith(`${series} `))
      ?.slice(series.length + 1) ?? NaN,
  );
const logWritten = metricValue('onset_prediction_log_written_total');
const logDropped =
  metricValue('onset_prediction_log_dropped_total{reason="queue_full"}') +
  metricValue('onset_prediction_log_dropped_total{reason="write_failed"}');
minimal.child.kill('SIGTERM');
flask?.child.kill('SIGTERM');
onsetWithoutLog.child.kill('SIGTERM');
onset.child.kill('SIGTERM');
await new Promise((resolve) => onset.child.once('exit', resolve));
rmSync(home, { recursive: true, force: true });

const row = (name: string, f: Figures) =>
  `  ${name.padEnd(38)} ${f.rps.toFixed(0).padStart(7)} req/s   p50 ${f.p50.toFixed(2)} ms   p99 ${f.p99.toFixed(2)} ms   CPU ${f.cpuPerRequestUs.toFixed(1)} µs/request   peak RSS ${f.peak.toFixed(0)} MB   errors ${f.errors}`;
// The log's CPU per prediction: the main thread's extra time, and its writing thread (the busiest other
// thread, which the server without the log does not have), beside the GC and I/O threads' extra time.
const mainOf = (f: Figures) => f.threads.get('main') ?? 0;
const othersOf = (f: Figures) => [...f.threads].filter(([thread]) => thread !== 'main').map(([, us]) => us);
const writingThread = Math.max(0, ...othersOf(onsetFigures!));
const otherThreads = (f: Figures) => othersOf(f).reduce((sum, us) => sum + us, 0);
const logCpu = onsetFigures!.cpuPerRequestUs - withoutLogFigures!.cpuPerRequestUs;
process.stdout.write(
  `${[
    `POST /predict, ${CONNECTIONS} connections, ${SECONDS} s each, on ${HAS_REAL_DATA ? 'real' : 'generated'} records (${LOAD_TOOL === 'wrk' ? 'wrk -t1' : 'autocannon, in this process'}):`,
    row('onset serve (gbdt, validated, log off)', withoutLogFigures!),
    row('onset serve, prediction log on', onsetFigures!),
    row('minimal Node server (fixed answer)', minimalFigures!),
    ...(flaskFigures ? [row('Flask + XGBoost 1.7 (original shape)', flaskFigures)] : []),
    `  Onset (log off) / minimal: ${(withoutLogFigures!.rps / minimalFigures!.rps).toFixed(2)}x (target >= 0.60); p99 ${withoutLogFigures!.p99.toFixed(2)} ms (target < 5 ms); peak RSS ${withoutLogFigures!.peak.toFixed(0)} MB (target < 150 MB)`,
    `  prediction log on / off: ${(onsetFigures!.rps / withoutLogFigures!.rps).toFixed(2)}x (target >= 0.85); with it on: p99 ${onsetFigures!.p99.toFixed(2)} ms, peak RSS ${onsetFigures!.peak.toFixed(0)} MB; it wrote ${logWritten} predictions and dropped ${logDropped} (SQLite, from its worker thread)`,
    `  the log's CPU per prediction: ${logCpu.toFixed(1)} µs (main thread ${(mainOf(onsetFigures!) - mainOf(withoutLogFigures!)).toFixed(1)} µs, writing thread ${writingThread.toFixed(1)} µs, other threads ${(otherThreads(onsetFigures!) - writingThread - otherThreads(withoutLogFigures!)).toFixed(1)} µs) beside ${withoutLogFigures!.cpuPerRequestUs.toFixed(1)} µs per request without it`,
    `  onset up on a fresh ONSET_HOME, training included, ready after ${upSeconds.toFixed(1)} s (target < 20 s)`,
    flaskFigures
      ? `  Onset (log off) / the original Flask + XGBoost service, measured here (Werkzeug, threaded): ${(withoutLogFigures!.rps / flaskFigures.rps).toFixed(1)}x (target >= 10x); against the issue's quoted ~${FLASK_REFERENCE} req/s: ${(withoutLogFigures!.rps / FLASK_REFERENCE).toFixed(1)}x`
      : `  Onset (log off) / the original Flask + XGBoost service (not installed here; ~${FLASK_REFERENCE} req/s quoted): ${(withoutLogFigures!.rps / FLASK_REFERENCE).toFixed(1)}x (target >= 10x)`,
  ].join('\n')}\n`,
);

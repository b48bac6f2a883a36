import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import pino, { type Logger } from 'pino';
import { AggregatorRegistry, Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { OnsetConfig } from '../config.js';
import { OnsetError } from '../errors.js';
import { METRIC_PREFIX } from '../monitoring/metric-names.js';
import { privateSocketPath } from '../monitoring/prediction-log/log-socket.js';
import { type LogSecretSource, resolveLogSecret } from '../monitoring/prediction-log/patient-keys.js';
import { WorkerSink } from '../monitoring/prediction-log/worker-sink.js';
import type { PrepareOutcome } from '../serving/live-model.js';
import { ClusterChannel } from './cluster-channel.js';
import type { WorkerStart, WorkerStarted } from './cluster-worker.js';
import { checkExposure, checkLogSecret } from './listening.js';
import { chooseLogFormat, serverLoggerOptions } from './logger.js';
import { openOnsetStores } from './open-stores.js';
import type { RunningServer } from './server.js';

/** How long a worker may take to load a new version before the round goes on without it. */
const PREPARE_TIMEOUT_MS = 120_000;
/** How long a worker may take to start (open the stores, load the model, listen). */
const START_TIMEOUT_MS = 120_000;
/** How long a worker may take to answer its requests in flight and write its predictions when stopping. */
const STOP_TIMEOUT_MS = 60_000;
/** A worker that dies sooner than this after starting is restarted after a growing pause (a crash loop). */
const HEALTHY_AFTER_MS = 10_000;

/** One worker process, from its fork to its exit. */
interface WorkerEntry {
  readonly worker: Worker;
  readonly index: number;
  readonly channel: ClusterChannel;
  readonly forkedAt: number;
  /** Answering on the shared port (it has said so). */
  serving: boolean;
  readonly exited: Promise<void>;
}

export interface RunningCluster {
  /** The public address the workers share. */
  readonly address: string;
  /** What the first worker said when it started (its model and prediction log, for the start-up text). */
  readonly started: WorkerStarted;
  /** The platform's app (`onset up`): tracking, registry, pipelines, UI, on loopback; the workers pass on to it. */
  readonly platform: RunningServer | undefined;
  /** Runs and pipeline runs left RUNNING by a dead process, marked FAILED when the stores first opened. */
  readonly abandonedRunsFailed: number;
  /** Where the prediction log's secret came from (made now, kept in the home, the setting), with it on. */
  readonly logSecret: { readonly source: LogSecretSource; readonly path?: string } | undefined;
  /**
   * One round of the model check: every worker loads the version the URI names now; if all have it, all
   * swap to it together. Resolves once the round is over (what the workers serve then).
   */
  sync(): Promise<string | null>;
  /** Stops every worker (each answers its requests in flight and writes its predictions), then the platform. */
  stop(): Promise<void>;
}

/** The worker module `./<stem>.js` (or `.ts`, run from the sources) beside `callerUrl`. */
export function workerModule(callerUrl: string, stem: string): URL {
  return new URL(`./${stem}${callerUrl.endsWith('.ts') ? '.ts' : '.js'}`, callerUrl);
}

/**
 * A serving process's young generation (each worker's, and through the bin's shebang the primary's and a
 * single-process server's): semi-spaces of at most 8 MB (V8's default is 16). A request leaves
 * about 14 KB of garbage, nearly none of it alive at the next scavenge, so a scavenge costs the same
 * whatever the size; halving it costs a worker about 4% more CPU a request and saves 10 to 13 MB of
 * resident memory a worker under load (measured with `wrk -c32` on `onset up --workers 2`). 4 MB saved no
 * more: the prediction log's waiting ids live through two scavenges and are promoted to the old space.
 */
export const SERVING_SEMI_SPACE = '--max-semi-space-size=8';

/**
 * Serves the prediction routes from `config.workers` processes on one port (Node's cluster module: the
 * primary accepts each connection and hands it to the next worker in turn). With `platform` (`onset up`)
 * this process also runs the platform's app (tracking, registry, pipelines and schedules, checks, the
 * UI) on loopback, started once the workers serve, and the workers pass it every request that is not a
 * prediction route. The workers' logged predictions are written by one thread of this process, which
 * they hand them to on a socket of its own.
 *
 * The workers swap models together: each round (every `modelPollMs`, and when the platform's own model
 * changes), every worker loads the version the URI names without serving it, and only when all have it
 * does the primary tell them all to swap; the swap reaches each worker before any connection accepted
 * after it, so a client sees versions only move forward. A new worker starts on the version the others
 * serve. A worker that exits without being asked is replaced and counted
 * (`onset_worker_restarts_total`). `/metrics`, on any worker, is every process's metrics added up with
 * prom-client's aggregator.
 */
export async function startCluster(
  config: OnsetConfig,
  options: { readonly module: URL; readonly platform: boolean },
): Promise<RunningCluster> {
  checkExposure(config);
  checkLogSecret(config);
  const { stream, ...logOptions } = serverLoggerOptions(
    chooseLogFormat(config.logFormat, process.stdout.isTTY === true),
    process.stdout,
  ) as { stream: pino.DestinationStream; level: string };
  const log: Logger = pino({ ...logOptions, base: { pid: process.pid } }, stream);
  let platform: RunningServer | undefined;
  const entries = new Map<number, WorkerEntry>();
  let stopping = false;
  let version: string | null = null;
  let quickDeaths = 0;
  let rounds: Promise<string | null> = Promise.resolve(null);
  let timer: NodeJS.Timeout | undefined;

  // The cluster's own series; the primary's process metrics are the platform's, or here without one.
  const registry = new Registry();
  if (!options.platform) collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  const restartCounter = new Counter({
    name: `${METRIC_PREFIX}worker_restarts_total`,
    help: 'Serving workers that exited without being asked to, each replaced by a new one',
    registers: [registry],
  });
  new Gauge({
    name: `${METRIC_PREFIX}workers`,
    help: 'Serving worker processes answering on the shared port',
    registers: [registry],
    collect() {
      this.set([...entries.values()].filter((entry) => entry.serving).length);
    },
  });
  const metricsText = async (): Promise<string> => {
    const own = [
      ...(platform ? [await platform.metrics.registry.getMetricsAsJSON()] : []),
      await registry.getMetricsAsJSON(),
    ];
    const theirs = await Promise.all(
      [...entries.values()]
        .filter((entry) => entry.serving)
        .map((entry) =>
          entry.channel
            .ask<Awaited<ReturnType<Registry['getMetricsAsJSON']>>>('metrics', null, 5_000)
            .catch(() => []),
        ),
    );
    return AggregatorRegistry.aggregate([...own, ...theirs]).metrics();
  };

  // While the workers boot: the store is migrated and the log's secret made, once, before they open
  // them (their start waits for this).
  const prepared = (async () => {
    const stores = await openOnsetStores(config);
    await stores.close();
    const secret = config.predictionLog ? await resolveLogSecret(config.logSecret, config.home) : undefined;
    if (secret?.source === 'new') {
      log.info(
        'made a secret for the patient keys of the prediction log, kept in $ONSET_HOME/log-secret (set ONSET_LOG_SECRET to share one between servers)',
      );
    }
    return {
      abandoned: stores.abandonedRunsFailed + stores.abandonedPipelineRunsFailed,
      secret: secret && { source: secret.source, ...(secret.path ? { path: secret.path } : {}) },
      key: secret?.secret,
    };
  })();
  // The one thread that writes the workers' logged predictions (each worker would need a thread, a V8
  // heap and a database connection of its own), started while the workers start. The workers hand it
  // their batches on its socket, not through this thread.
  const logSocket = config.predictionLog ? privateSocketPath() : undefined;
  logSocket?.catch(() => undefined);
  const sink = prepared.then(async ({ key }) =>
    key === undefined
      ? undefined
      : WorkerSink.start({
          databaseUri: config.trackingUri,
          secret: key,
          socketPath: (await logSocket!).path,
        }),
  );
  sink.catch(() => undefined);
  const closeSink = async (): Promise<void> => {
    await (await sink.catch(() => undefined))?.close();
    await (await logSocket?.catch(() => undefined))?.remove();
  };
  // The platform starts once the first worker serves: it answers /ready sooner without the platform
  // taking the cores meanwhile (what the workers pass on to it is answered 503 "still starting" until it
  // has).
  let firstWorkerServes!: () => void;
  const platformStarted: Promise<string | null> = new Promise<void>((resolve) => {
    firstWorkerServes = resolve;
  }).then(async () => {
    if (!options.platform) return null;
    // Loaded now: the workers are forked before the platform's modules load.
    const { startServer } = await import('./server.js');
    platform = await startServer(config, { pipelines: true, ui: true, primary: { metricsText } });
    return platform.address;
  });
  platformStarted.catch(() => undefined);
  cluster.setupPrimary({
    exec: fileURLToPath(options.module),
    // Structured clone: the settings and answers cross as they are (JSON would turn a non-finite number
    // into null). The logged predictions do not use this channel (see the writing thread's socket).
    serialization: 'advanced',
    // From the sources (tests, tsx), the workers load TypeScript through tsx too.
    execArgv: [
      ...(options.module.pathname.endsWith('.ts') ? ['--import', import.meta.resolve('tsx')] : []),
      SERVING_SEMI_SPACE,
    ],
  });

  /** Forks worker `index` and resolves with what it says once it serves (rejects if it cannot start). */
  const fork = (index: number): Promise<WorkerStarted> => {
    const worker = cluster.fork();
    const channel = new ClusterChannel(worker);
    let resolveStart!: (started: WorkerStarted) => void;
    let rejectStart!: (error: Error) => void;
    const started = new Promise<WorkerStarted>((resolve, reject) => {
      resolveStart = resolve;
      rejectStart = reject;
    });
    const entry: WorkerEntry = {
      worker,
      index,
      channel,
      forkedAt: Date.now(),
      serving: false,
      exited: new Promise((resolve) => worker.once('exit', () => resolve())),
    };
    entries.set(worker.id, entry);
    const startTimer = setTimeout(
      () => rejectStart(new OnsetError('INTERNAL_ERROR', `worker ${index} did not start within 120 s`)),
      START_TIMEOUT_MS,
    );
    channel.answer<null, WorkerStart>('start', async () => {
      await prepared;
      return { config, index, platform: options.platform, version, logSocket: (await logSocket)?.path };
    });
    channel.answer('platform', () => platformStarted);
    channel.answer<WorkerStarted, null>('started', (said) => {
      clearTimeout(startTimer);
      entry.serving = true;
      resolveStart(said);
      return null;
    });
    channel.answer<{ code: string; message: string }, null>('failed', (said) => {
      clearTimeout(startTimer);
      rejectStart(
        new OnsetError(said.code === 'INVALID_PARAMETER_VALUE' ? said.code : 'INTERNAL_ERROR', said.message),
      );
      return null;
    });
    channel.answer('cluster-metrics', () => metricsText());
    channel.answer('flush-logs', async () => {
      await Promise.all(
        [...entries.values()]
          .filter((other) => other.serving)
          .map((other) => other.channel.ask('flush', null, 30_000).catch(() => undefined)),
      );
    });
    worker.once('exit', (code, signal) => {
      clearTimeout(startTimer);
      entries.delete(worker.id);
      channel.close(`worker ${index} exited`);
      rejectStart(
        new OnsetError(
          'INTERNAL_ERROR',
          `worker ${index} exited before it served (${signal ?? `exit code ${code}`})`,
        ),
      );
      if (stopping || !entry.serving) return;
      restartCounter.inc();
      quickDeaths = Date.now() - entry.forkedAt < HEALTHY_AFTER_MS ? quickDeaths + 1 : 0;
      const pause = quickDeaths === 0 ? 0 : Math.min(100 * 2 ** quickDeaths, 10_000);
      log.warn(
        { worker: index, pid: worker.process.pid, code, signal, restartInMs: pause },
        'a serving worker exited; starting another in its place',
      );
      setTimeout(() => {
        if (stopping) return;
        fork(index).then(
          (said) => log.info({ worker: index, pid: said.pid, version: said.version }, 'worker replaced'),
          (error: unknown) =>
            log.error(
              { worker: index, err: (error as Error).message },
              'a replacement worker could not start',
            ),
        );
      }, pause).unref();
    });
    return started;
  };

  const stopWorkers = async (): Promise<void> => {
    const running = [...entries.values()];
    for (const entry of running) entry.channel.ask('stop', null, STOP_TIMEOUT_MS).catch(() => undefined);
    await Promise.all(
      running.map(async (entry) => {
        const killer = setTimeout(() => entry.worker.process.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await entry.exited;
        clearTimeout(killer);
      }),
    );
  };

  const syncOnce = async (): Promise<string | null> => {
    const serving = [...entries.values()].filter((entry) => entry.serving);
    if (serving.length === 0) return version;
    const outcomes = await Promise.all(
      serving.map((entry) =>
        entry.channel.ask<PrepareOutcome>('prepare', null, PREPARE_TIMEOUT_MS).catch(() => undefined),
      ),
    );
    // Every worker must have the same version before any swaps: otherwise all keep what they serve and
    // the next round tries again (the workers tell why in their logs).
    const agreed = new Set(
      outcomes.map((outcome) => (outcome?.kind === 'failed' ? undefined : outcome?.version)),
    );
    const [only] = agreed;
    if (agreed.size !== 1 || only === undefined || only === null) return version;
    if (outcomes.some((outcome) => outcome?.kind === 'ready')) {
      // Sent to every worker at once: each swaps when it reads this, before any connection handed to it later.
      await Promise.all(
        serving.map((entry) => entry.channel.ask('commit', only, 10_000).catch(() => undefined)),
      );
    }
    version = only;
    return version;
  };
  const sync = (): Promise<string | null> => {
    rounds = rounds.then(syncOnce, syncOnce);
    return rounds;
  };

  let first: WorkerStarted;
  let platformStarting = false;
  try {
    // The first worker starts alone, with the cores to itself, so that predictions are answered sooner
    // (about 0.3 s sooner with 2 workers here); once it serves, the others start beside the platform,
    // and everything is up no later than when all started at once.
    const head = fork(1);
    head.then(
      () => {
        platformStarting = true;
        firstWorkerServes();
      },
      () => undefined,
    );
    const forks = [
      head,
      ...Array.from({ length: config.workers - 1 }, (_, i) => head.then(() => fork(i + 2))),
    ];
    for (const forked of forks) forked.catch(() => undefined);
    const started = await Promise.all(forks);
    first = started[0]!;
    await platformStarted;
    // A log that cannot be written to is a failure to start, as with one process.
    await sink;
    // Workers started while a version was promoted may serve different ones: one round aligns them.
    await sync();
  } catch (error) {
    stopping = true;
    await stopWorkers();
    await closeSink();
    // Another worker failed while the platform started: it stops once it has.
    if (platformStarting) await platformStarted.catch(() => undefined);
    await platform?.stop();
    throw error;
  }
  timer = setInterval(() => void sync(), config.modelPollMs);
  timer.unref();
  // A promotion the platform sees (its pipelines, its own check) reaches the workers at once.
  platform?.live.subscribe({ loaded: () => void sync() });

  return {
    address: first.address,
    started: first,
    platform,
    abandonedRunsFailed: (await prepared).abandoned,
    logSecret: (await prepared).secret,
    sync,
    async stop() {
      if (stopping) return;
      stopping = true;
      clearInterval(timer);
      await rounds.catch(() => undefined);
      await stopWorkers();
      // Every worker has handed over what it logged: written, then the thread ends.
      await closeSink();
      await platform?.stop();
    },
  };
}

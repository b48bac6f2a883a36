import type { OnsetConfig } from '../config.js';
import { isOnsetError } from '../errors.js';
import { SocketSink } from '../monitoring/prediction-log/log-socket.js';
import { type ChannelEnd, ClusterChannel } from './cluster-channel.js';
import { chooseLogFormat, serverLoggerOptions } from './logger.js';
import { type RunningServer, startServer } from './server.js';

/** How long a worker waits to be told what to serve (the platform starts meanwhile). */
const START_TIMEOUT_MS = 120_000;

/** How long a batch of logged predictions may take to be written by the primary's writing thread. */
const LOG_WRITE_TIMEOUT_MS = 60_000;

/** What the primary tells a worker it forks (see `startCluster`). */
export interface WorkerStart {
  readonly config: OnsetConfig;
  /** Its number, 1 to N (a replacement takes the number of the worker it replaces). */
  readonly index: number;
  /**
   * Whether a platform answers every request but the prediction routes (`onset up`): the worker asks
   * where it is (`platform`) and passes them on once it knows.
   */
  readonly platform: boolean;
  /** The version the other workers serve, to serve first. */
  readonly version: string | null;
  /** Where the primary's writing thread takes the prediction log's batches (undefined: the log is off). */
  readonly logSocket: string | undefined;
}

/** What a worker tells the primary once it answers on the shared port. */
export interface WorkerStarted {
  readonly pid: number;
  readonly address: string;
  readonly version: string | null;
  /** The start-up text's line about the model it serves (`describeModel`'s). */
  readonly model: string;
}

/**
 * The body of a cluster's worker process: asks the primary what to serve, starts a prediction server on
 * the shared port, then loads, swaps and stops when the primary says. Ctrl-C reaches every process of
 * the terminal: a worker leaves stopping to the primary. SIGTERM, or losing the primary, stops it
 * gracefully. `describeModel` gives the start-up text's line about the model it serves.
 */
export function runClusterWorker(
  describeModel: (server: RunningServer, config: OnsetConfig) => string,
): void {
  const channel = new ClusterChannel(process as unknown as ChannelEnd);
  let server: RunningServer | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= Promise.resolve()
      .then(() => server?.stop())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`onset worker: stopping failed: ${String(error)}\n`);
          process.exit(1);
        },
      );
    return stopping;
  };
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => void stop());
  process.on('disconnect', () => void stop());
  const serving = (): RunningServer => {
    if (!server) throw new Error('this worker is not serving yet');
    return server;
  };
  channel.answer('prepare', () => serving().live.prepare());
  channel.answer<string, boolean>('commit', (version) => serving().live.commit(version));
  channel.answer('metrics', () => serving().metrics.registry.getMetricsAsJSON());
  channel.answer('flush', () => serving().predictionLog.writer?.flush());
  channel.answer('stop', () => {
    void stop();
    return null;
  });
  void (async () => {
    let start: WorkerStart;
    try {
      start = await channel.ask<WorkerStart>('start', null, START_TIMEOUT_MS);
    } catch {
      // The primary could not start (it says why) or is gone.
      process.exit(1);
    }
    try {
      const { config } = start;
      const logger = serverLoggerOptions(
        chooseLogFormat(config.logFormat, process.stdout.isTTY === true),
        process.stdout,
      ) as Record<string, unknown>;
      let platform: URL | undefined;
      if (start.platform) {
        channel.ask<string>('platform', null, START_TIMEOUT_MS).then(
          (address) => {
            platform = new URL(address);
          },
          () => undefined, // the primary says why it stops
        );
      }
      server = await startServer(config, {
        pipelines: false,
        logger: { ...logger, base: { pid: process.pid, worker: start.index } },
        worker: {
          forwardTo: start.platform ? () => platform : undefined,
          version: start.version ?? undefined,
          metricsText: () => channel.ask<string>('cluster-metrics', null, 10_000),
          flushLogs: () => channel.ask<void>('flush-logs', null, 30_000),
          logSink:
            start.logSocket === undefined ? undefined : new SocketSink(start.logSocket, LOG_WRITE_TIMEOUT_MS),
        },
      });
      const said: WorkerStarted = {
        pid: process.pid,
        address: server.address,
        version: server.live.current()?.version ?? null,
        model: describeModel(server, config),
      };
      await channel.ask('started', said, 10_000);
    } catch (error) {
      await channel
        .ask(
          'failed',
          {
            code: isOnsetError(error) ? error.code : 'INTERNAL_ERROR',
            message: error instanceof Error ? error.message : String(error),
          },
          5_000,
        )
        .catch(() => undefined);
      process.exit(1);
    }
  })();
}

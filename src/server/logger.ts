import type { FastifyServerOptions } from 'fastify';
import { isColorSupported, prettyFactory } from 'pino-pretty';
import type { LogFormat } from '../config.js';

/**
 * The format a server logs in: the one asked for (ONSET_LOG_FORMAT), otherwise readable lines for a
 * person at a terminal and JSON for everything else (a file, a pipe, a log collector).
 */
export function chooseLogFormat(asked: LogFormat | undefined, isTerminal: boolean): LogFormat {
  return asked ?? (isTerminal ? 'pretty' : 'json');
}

/**
 * Fastify's logger options for a server writing its log to `destination`: pino's JSON lines as they are,
 * or each event as one line (`[12:04:31] INFO: model loaded {"model":...}`) through pino-pretty's
 * formatter. Both write synchronously to the stream the start-up text goes to, so the two keep their
 * order. Colours only on a terminal that takes them (not with NO_COLOR, nor TERM=dumb), never in a file.
 */
export function serverLoggerOptions(
  format: LogFormat,
  destination: NodeJS.WritableStream,
): NonNullable<FastifyServerOptions['logger']> {
  if (format === 'json') return { level: 'info', stream: destination };
  const prettify = prettyFactory({
    colorize: (destination as Partial<NodeJS.WriteStream>).isTTY === true && isColorSupported,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,worker',
    // A cluster's workers name themselves: `INFO: worker 2: model loaded {...}`.
    messageFormat: '{if worker}worker {worker}: {end}{msg}',
  });
  return { level: 'info', stream: { write: (line: string) => destination.write(prettify(line)) } };
}

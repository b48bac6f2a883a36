/**
 * Where a server listens: what it refuses, or warns of, before it listens beyond loopback (checked by
 * `startServer` and, before it forks anything, by a cluster's primary), what it says when it cannot, and
 * the addresses it answers on. Light to load: the CLI uses it before the server's modules are loaded.
 */
import { networkInterfaces } from 'node:os';
import { isLoopback, type OnsetConfig } from '../config.js';
import { invalidParameter, OnsetError } from '../errors.js';
import { openPolicies } from '../http/access.js';

/**
 * Listening beyond loopback with the prediction log on needs ONSET_LOG_SECRET, the key of the patient
 * ids' HMAC: a secret made in one server's home would give every replica other keys, and would sit
 * beside the database it protects.
 */
export function checkLogSecret(config: OnsetConfig): void {
  if (isLoopback(config.host) || !config.predictionLog || config.logSecret !== undefined) return;
  throw invalidParameter(
    `Onset would listen on ${config.host}, beyond this machine, with the prediction log on but no secret for its patient keys: set ONSET_LOG_SECRET (at least 32 characters, e.g. from openssl rand -hex 32; the same on every server sharing the store), or turn the log off with ONSET_PREDICTION_LOG=off.`,
  );
}

/**
 * Listening beyond loopback with an API open to anyone (no admin token: anyone can replace the served
 * model; no API key: anyone can use the predictions) is refused, unless `allowUnauthenticated` says it
 * is meant (a private network, a gateway in front that authenticates): then the answer is the warning
 * to show.
 */
export function checkExposure(config: OnsetConfig): string | undefined {
  const open = openPolicies(config);
  if (isLoopback(config.host) || open.length === 0) return undefined;
  const what = open.map(({ access, secret }) =>
    access === 'admin'
      ? `the tracking, registry, artifact and pipeline APIs are open to anyone, who could replace the served model (no ${secret})`
      : `the prediction API is open to anyone (no ${secret})`,
  );
  if (!config.allowUnauthenticated) {
    throw invalidParameter(
      `Onset would listen on ${config.host}, beyond this machine, but ${what.join(', and ')}. Set ${open.map((o) => o.secret).join(' and ')}, or pass --allow-unauthenticated (ONSET_ALLOW_UNAUTHENTICATED=true) if a gateway in front authenticates.`,
    );
  }
  return `WARNING: listening on ${config.host}, beyond this machine, and ${what.join(', and ')} (--allow-unauthenticated)`;
}

/**
 * What to tell the user when the server cannot listen where it was told to: the port is taken, needs
 * privileges, or the host is not this machine's. Undefined for any other failure.
 */
export function listenFailure(
  error: unknown,
  config: Pick<OnsetConfig, 'host' | 'port'>,
): OnsetError | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const choosePort = 'choose another with --port N or ONSET_PORT=N';
  const message =
    code === 'EADDRINUSE'
      ? `Port ${config.port} on ${config.host} is already in use (by another Onset or another program): ${choosePort}`
      : code === 'EACCES'
        ? `Not allowed to listen on port ${config.port} of ${config.host} (ports below 1024 need privileges): ${choosePort}`
        : code === 'EADDRNOTAVAIL'
          ? `Cannot listen on ${config.host}: no network interface of this machine has that address; choose another with --host or ONSET_HOST (127.0.0.1: this machine only, 0.0.0.0: every interface)`
          : undefined;
  return message === undefined
    ? undefined
    : new OnsetError('INVALID_PARAMETER_VALUE', message, { cause: error });
}

/** The URLs a server listening on `host` answers on: each interface's when `host` means all of them. */
export function listeningAddresses(host: string, port: string, address: string): readonly string[] {
  if (host !== '0.0.0.0' && host !== '::' && host !== '') return [address];
  const all = Object.values(networkInterfaces())
    .flat()
    .filter((entry) => entry !== undefined && (host === '::' || entry.family === 'IPv4'))
    .map((entry) =>
      entry!.family === 'IPv6' ? `http://[${entry!.address}]:${port}` : `http://${entry!.address}:${port}`,
    );
  return all.length > 0 ? all : [address];
}

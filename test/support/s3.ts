/**
 * A throwaway S3 emulator (s3rver) for integration tests: listens on a free port of 127.0.0.1, keeps its
 * objects in a temporary folder, and creates the buckets asked for. Nothing here reaches the internet:
 * callers get an explicit endpoint, region and credentials (`S3RVER`/`S3RVER`, path-style addressing).
 *
 * ```ts
 * const s3 = await startS3();
 * const restore = s3.useEnvironment(); // ONSET_S3_ENDPOINT for resolveConfig, AWS_* for the SDK's chain
 * ...
 * restore();
 * await s3.stop();
 * ```
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';

const require = createRequire(import.meta.url);

/**
 * The emulator runs in a child Node process started with `--openssl-legacy-provider`: s3rver encrypts
 * ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only offers through its legacy provider, so
 * in a plain Node 20 process every truncated listing (pagination) fails with InternalError. The child
 * prints its port once listening and exits when its stdin closes (the test process ended).
 */
const SERVER_SCRIPT = `
const S3rver = require(process.env.ONSET_S3RVER_MODULE);
const options = JSON.parse(process.env.ONSET_S3RVER_OPTIONS);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
new S3rver(options).run().then(
  (address) => process.stdout.write(JSON.stringify({ port: address.port }) + '\\n'),
  (error) => { process.stderr.write(String(error && error.stack || error)); process.exit(1); },
);
`;

async function startServer(
  directory: string,
  buckets: readonly string[],
  port = 0,
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', SERVER_SCRIPT], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      ONSET_S3RVER_MODULE: require.resolve('s3rver'),
      ONSET_S3RVER_OPTIONS: JSON.stringify({
        port,
        address: '127.0.0.1',
        directory,
        silent: true,
        configureBuckets: buckets.map((name) => ({ name })),
      }),
    },
  });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const listening = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('s3rver did not start within 15 s')), 15_000);
    function fail(error: Error): void {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${error.message}${stderr ? `: ${stderr.trim()}` : ''}`));
    }
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n')[0];
      if (stdout.includes('\n') && line !== undefined) {
        clearTimeout(timer);
        try {
          resolve((JSON.parse(line) as { port: number }).port);
        } catch {
          fail(new Error(`unexpected output from s3rver: ${line}`));
        }
      }
    });
    child.once('error', fail);
    child.once('exit', (code) => fail(new Error(`s3rver exited with code ${code}`)));
  });
  return { child, port: listening };
}

/** Ends the emulator's process (a no-op when it has already exited). */
async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

export interface TestS3 {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** The first bucket created (default `onset`). */
  readonly bucket: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** A client configured for the emulator (path-style, explicit credentials); destroyed by `stop`. */
  client(): S3Client;
  /**
   * Points environment-driven code at the emulator: sets ONSET_S3_ENDPOINT (read by `resolveConfig`),
   * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION and AWS_EC2_METADATA_DISABLED (read by the AWS
   * SDK's default chain); returns a function restoring them.
   */
  useEnvironment(): () => void;
  /**
   * Stops the server but keeps its folder: requests are refused (ECONNREFUSED) until `resume`, as when
   * S3 is unavailable.
   */
  interrupt(): Promise<void>;
  /** Starts the server again after `interrupt`, on the same port and over the same objects (if stopped). */
  resume(): Promise<void>;
  /** Stops the server and deletes its folder. */
  stop(): Promise<void>;
}

export interface StartS3Options {
  /** Buckets to create; default `['onset']`. */
  readonly buckets?: readonly string[];
}

export async function startS3(options: StartS3Options = {}): Promise<TestS3> {
  const buckets = options.buckets ?? ['onset'];
  const directory = mkdtempSync(join(tmpdir(), 'onset-s3-'));
  let server: { child: ChildProcess; port: number };
  try {
    server = await startServer(directory, buckets);
  } catch (error) {
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }
  const endpoint = `http://127.0.0.1:${server.port}`;
  const region = 'us-east-1';
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  const clients: S3Client[] = [];
  return {
    endpoint,
    bucket: buckets[0] ?? 'onset',
    region,
    credentials,
    client() {
      const client = new S3Client({
        endpoint,
        region,
        credentials,
        forcePathStyle: true,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
      clients.push(client);
      return client;
    },
    useEnvironment() {
      const values: Record<string, string> = {
        ONSET_S3_ENDPOINT: endpoint,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_REGION: region,
        AWS_EC2_METADATA_DISABLED: 'true',
      };
      const saved = Object.fromEntries(Object.keys(values).map((name) => [name, process.env[name]]));
      Object.assign(process.env, values);
      return () => {
        for (const [name, value] of Object.entries(saved)) {
          if (value === undefined) delete process.env[name];
          else process.env[name] = value;
        }
      };
    },
    async interrupt() {
      await stopServer(server.child);
    },
    async resume() {
      if (server.child.exitCode === null && server.child.signalCode === null) return;
      server = await startServer(directory, buckets, server.port);
    },
    async stop() {
      for (const client of clients) client.destroy();
      try {
        await stopServer(server.child);
      } finally {
        rmSync(directory, { recursive: true, force: true });
      }
    },
  };
}

/**
 * The artifact proxy's uploads and downloads over real HTTP: uploads stream to the store in bounded memory
 * under a configurable limit (413 past it, by Content-Length before the body is read, or while a chunked
 * body is read, storing nothing), and a download is verified before its first byte.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import type { LocalArtifactStore } from '../../src/tracking/artifacts/local-artifact-store.js';
import { useTemporaryStores } from '../support/stores.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PROXY = '/api/2.0/mlflow-artifacts/artifacts';
const LIMIT = 64 * 1024;
const MiB = 1024 * 1024;

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * PUTs `count` copies of `chunk` (never allocating the whole body), with a Content-Length unless `chunked`;
 * stops sending as soon as an answer arrives, as a client would on an early 413.
 */
function put(base: string, path: string, chunk: Buffer, count: number, chunked = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    if (!chunked) headers['content-length'] = String(chunk.length * count);
    const request = httpRequest(`${base}${PROXY}/${path}`, { method: 'PUT', headers }, (response) => {
      answered = true;
      const parts: Buffer[] = [];
      const done = () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(parts).toString(),
        });
      response.on('data', (part: Buffer) => parts.push(part));
      response.on('end', done);
      response.on('error', done); // the server closes the connection right after a refusal
    });
    request.on('error', (error) => {
      if (!answered) reject(error);
    });
    let sent = 0;
    const body = new Readable({
      read() {
        this.push(!answered && sent++ < count ? chunk : null);
      },
    });
    body.pipe(request);
  });
}

function sha256Of(chunk: Buffer, count: number): string {
  const hash = createHash('sha256');
  for (let i = 0; i < count; i++) hash.update(chunk);
  return hash.digest('hex');
}

/** Every file under `dir`, relative, `/`-separated. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

/** Whether `condition` became true within 3 s. */
async function waitFor(condition: () => boolean): Promise<boolean> {
  for (const started = Date.now(); Date.now() - started < 3_000; ) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return condition();
}

describe('artifact uploads and downloads over HTTP (local store, limit 64 KiB)', () => {
  const temporary = useTemporaryStores('artifact-uploads');
  let app: FastifyInstance;
  let base: string;
  let root: string;

  beforeAll(async () => {
    const { stores } = temporary;
    const { tracking, registry, loggedModels, artifacts } = stores;
    app = await buildApp({ tracking, registry, loggedModels, artifacts, artifactUploadLimit: LIMIT });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    root = (stores.artifacts as LocalArtifactStore).rootDir;
  });

  afterAll(async () => {
    await app?.close();
  });

  it('refuses an upload whose Content-Length is over the limit with 413, before reading its body', async () => {
    const socket = connect(Number(new URL(base).port), '127.0.0.1');
    let received = '';
    socket.on('data', (part: Buffer) => {
      received += part.toString();
    });
    const closed = new Promise((resolve) => socket.once('close', resolve));
    // Headers only: not one byte of the body is ever sent, so an answer can come from the headers alone.
    socket.write(
      `PUT ${PROXY}/limited/declared.bin HTTP/1.1\r\nHost: localhost\r\n` +
        `Content-Type: application/octet-stream\r\nContent-Length: ${LIMIT + 1}\r\n\r\n`,
    );
    const timeout = new Promise((resolve) => setTimeout(resolve, 5_000));
    await Promise.race([closed, timeout]);
    socket.destroy();
    expect(received).toMatch(/^HTTP\/1\.1 413 /);
    expect(received.toLowerCase()).toContain('connection: close');
    const answer = JSON.parse(received.slice(received.indexOf('\r\n\r\n') + 4)) as Record<string, string>;
    expect(answer.error_code).toBe('REQUEST_LIMIT_EXCEEDED');
    expect(answer.message).toContain(`the upload (Content-Length ${LIMIT + 1}) is larger than the limit of`);
    expect(answer.message).toContain(`${LIMIT} bytes (64 KiB)`);
    expect(answer.message).toContain('ONSET_ARTIFACT_UPLOAD_LIMIT');
    expect(await temporary.stores.artifacts.exists('limited/declared.bin')).toBe(false);
  });

  it('refuses a chunked upload over the limit with 413, storing nothing and keeping the previous version', async () => {
    await temporary.stores.artifacts.put('over/model.bin', 'version 1');
    // 16 MiB offered in 16 KiB chunks: refused once 64 KiB have come, long before the client is done.
    const answer = await put(base, 'over/model.bin', Buffer.alloc(16 * 1024, 1), 1024, true);
    expect(answer.status).toBe(413);
    expect(answer.headers.connection).toBe('close');
    expect(JSON.parse(answer.body)).toEqual({
      error_code: 'REQUEST_LIMIT_EXCEEDED',
      message: expect.stringMatching(
        /^artifact over\/model\.bin is larger than the limit of 65536 bytes \(64 KiB\); nothing was stored; raise ONSET_ARTIFACT_UPLOAD_LIMIT/,
      ),
    });
    expect((await temporary.stores.artifacts.get('over/model.bin')).toString()).toBe('version 1');
    const fresh = await put(base, 'over/fresh.bin', Buffer.alloc(16 * 1024, 1), 1024, true);
    expect(fresh.status).toBe(413);
    expect(await temporary.stores.artifacts.exists('over/fresh.bin')).toBe(false);
    expect(filesUnder(join(root, 'over'))).toEqual(['model.bin', 'model.bin.onset-sha256']);
    // Exactly the limit is stored.
    const chunk = Buffer.alloc(LIMIT / 4, 7);
    const exact = await put(base, 'over/model.bin', chunk, 4, true);
    expect(exact.status).toBe(200);
    expect(JSON.parse(exact.body)).toEqual({
      path: 'over/model.bin',
      size: LIMIT,
      sha256: sha256Of(chunk, 4),
    });
  });

  it('stores nothing when the client goes away midway through an upload', async () => {
    const request = httpRequest(`${base}${PROXY}/aborted/half.bin`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(LIMIT) },
    });
    request.on('error', () => undefined);
    request.write(Buffer.alloc(LIMIT / 2, 3));
    const dir = join(root, 'aborted');
    expect(await waitFor(() => filesUnder(dir).some((file) => file.endsWith('.onset-tmp')))).toBe(true);
    request.destroy();
    expect(await waitFor(() => !existsSync(dir))).toBe(true);
    expect(await temporary.stores.artifacts.exists('aborted/half.bin')).toBe(false);
  });

  it.each([
    ['a small artifact', 100],
    ['a large artifact (verified in a first pass)', 3 * MiB],
  ])('answers 500 naming %s changed behind the store, sending none of its bytes', async (_label, size) => {
    const path = `tampered/${size}.bin`;
    await temporary.stores.artifacts.put(path, Buffer.alloc(size, 'a'));
    writeFileSync(join(root, 'tampered', `${size}.bin`), Buffer.alloc(size, 'b'));
    const response = await fetch(`${base}${PROXY}/${path}`);
    const body = await response.text();
    expect(response.status).toBe(500);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('x-onset-sha256')).toBeNull();
    expect(body).not.toContain('bbbb');
    const answer = JSON.parse(body) as Record<string, string>;
    expect(answer.error_code).toBe('INTERNAL_ERROR');
    expect(answer.message).toContain(`artifact ${path} changed since it was written`);
    expect(answer.message).not.toContain(root);
  });
});

/** The resident set size of a process and of the processes it started, a server's workers (Linux). */
function residentBytes(pid: number): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (Number(entry) !== pid && parent !== pid) continue;
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      total += Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
    } catch {
      // It ended meanwhile.
    }
  }
  return total;
}

describe.skipIf(!existsSync('/proc/self/status'))('the memory of an upload', () => {
  let home: string;
  let server: ChildProcess | undefined;

  afterAll(() => {
    server?.kill('SIGTERM');
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('streams a 256 MiB upload through `onset serve` with its resident memory growing by far less than the body', async () => {
    home = mkdtempSync(join(tmpdir(), 'onset-upload-memory-'));
    server = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        `${ROOT}/src/cli/main.ts`,
        'serve',
        '--port',
        '0',
        '--model',
        'models:/none/Production',
      ],
      { cwd: ROOT, env: { ...process.env, ONSET_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const child = server;
    const base = await new Promise<string>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`onset serve did not start: ${output}`)), 15_000);
      child.stdout?.on('data', (part: Buffer) => {
        output += part.toString();
        const address = /Onset is up on (http:\/\/\S+)/.exec(output)?.[1];
        if (address) {
          clearTimeout(timer);
          resolve(address);
        }
      });
      child.stderr?.on('data', (part: Buffer) => {
        output += part.toString();
      });
      child.once('exit', (code) => reject(new Error(`onset serve exited with ${code}: ${output}`)));
    });
    const chunk = Buffer.alloc(MiB, 0x5a);
    // A first upload warms up the code paths, so the baseline is the server at work, not at rest.
    expect((await put(base, 'warm-up.bin', chunk, 8)).status).toBe(200);
    const before = residentBytes(child.pid!);
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, residentBytes(child.pid!));
    }, 20);
    const answer = await put(base, 'big/256mib.bin', chunk, 256);
    clearInterval(sampler);
    peak = Math.max(peak, residentBytes(child.pid!));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({
      path: 'big/256mib.bin',
      size: 256 * MiB,
      sha256: sha256Of(chunk, 256),
    });
    const growth = peak - before;
    console.info(
      `RSS of onset serve and its workers: ${(before / MiB).toFixed(0)} MiB before, ${(peak / MiB).toFixed(0)} MiB at peak ` +
        `(+${(growth / MiB).toFixed(1)} MiB for a 256 MiB upload)`,
    );
    expect(growth).toBeLessThan(64 * MiB);
  }, 60_000);
});

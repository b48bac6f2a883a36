/**
 * `onset serve --model FILE` (or a run's model), as a user runs it: a model that is not a registered
 * version has no name or number, so the start-up text, `GET /model` and `onset send` say what it is
 * instead: its family, a short fingerprint (the first 12 hex digits of its sha256) and when it was trained.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { generateDataset } from '../../src/data/generator/generator.js';
import { serializeModelDocument } from '../../src/ml/model-document.js';
import { trainOnDataset } from '../../src/ml/train-on-dataset.js';
import { logTrainingRun } from '../../src/tracking/training-logger.js';
import { runCliAsync, TSX_LOADER } from '../support/cli.js';
import { useTemporaryStores } from '../support/stores.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const temporary = useTemporaryStores('serve-model-file');
const data = generateDataset({ rows: 200, seed: 13 });

interface Serving {
  readonly child: ChildProcessWithoutNullStreams;
  readonly address: string;
  readonly stdout: string;
}

const started: ChildProcessWithoutNullStreams[] = [];
afterAll(async () => {
  await Promise.all(
    started.map(
      (child) =>
        new Promise((resolve) => {
          if (child.exitCode !== null) resolve(child.exitCode);
          child.once('exit', resolve);
          child.kill('SIGTERM');
        }),
    ),
  );
});

/** Starts `onset serve --model URI` on a free port over the temporary home; resolves once it is up. */
function serve(modelUri: string): Promise<Serving> {
  const child = spawn(
    process.execPath,
    ['--import', TSX_LOADER, `${ROOT}/src/cli/main.ts`, 'serve', '--port', '0', '--model', modelUri],
    { cwd: ROOT, env: { ...process.env, ONSET_HOME: temporary.home } },
  );
  started.push(child);
  let out = '';
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /Onset is up on (http:\/\/[\d.:]+)\n[\s\S]*artifacts .*\n/.exec(out);
      if (match) resolve({ child, address: match[1]!, stdout: out });
    });
    child.on('exit', (code) => reject(new Error(`onset serve exited (${code}) before it was up:\n${err}`)));
  });
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The sha256 of a folder's manifest (`sha256sum` lines sorted by path), without the store's sidecar files. */
function folderDigest(folder: string): string {
  const files = readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && !entry.name.endsWith('.onset-sha256'))
    .map((entry) => join(entry.parentPath, entry.name))
    .map((path) => ({
      path: relative(folder, path).split(sep).join('/'),
      sha256: sha256(readFileSync(path)),
    }))
    .sort((a, b) => (a.path < b.path ? -1 : 1));
  return sha256(new TextEncoder().encode(files.map((f) => `${f.sha256}  ${f.path}\n`).join('')));
}

/** `2026-01-02 03:04:05 UTC` for an ISO time, as the CLI prints it. */
const printed = (iso: string) => `${iso.replace('T', ' ').slice(0, 19)} UTC`;

describe('a model that is not a registered version', () => {
  it('is shown by family, fingerprint and training time at start-up, in GET /model and by onset send', async () => {
    const result = trainOnDataset(data, { estimator: 'logistic' });
    const file = join(temporary.home, 'model.json');
    writeFileSync(file, serializeModelDocument(result.document));
    const fileSha = sha256(readFileSync(file));
    const fittedAt = result.document.training.fitted_at!;

    const gbdt = trainOnDataset(data, { estimator: 'gbdt', params: { n_estimators: 5 } });
    const logged = await logTrainingRun(temporary.stores, { result: gbdt, datasetPath: 'generated' });
    const runSha = folderDigest(fileURLToPath(`${logged.artifactUri}/model`));
    const runUri = `runs:/${logged.runId}/model`;

    const [fromFile, fromRun] = await Promise.all([serve(file), serve(runUri)]);
    expect(fromFile.stdout).toContain(
      `  model                      ${file} (logistic, sha256 ${fileSha.slice(0, 12)}, trained ${printed(fittedAt)})\n`,
    );
    expect(fromRun.stdout).toContain(
      `  model                      ${runUri} (gbdt, sha256 ${runSha.slice(0, 12)}, trained ${printed(gbdt.document.training.fitted_at!)})\n`,
    );
    expect(fromFile.stdout + fromRun.stdout).not.toMatch(/version -/);
    // The log names it the same way, not as a model null of version null.
    const loaded = fromFile.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line.msg === 'model loaded');
    expect(loaded).toMatchObject({ model: file, family: 'logistic', sha256: fileSha.slice(0, 12) });
    expect(loaded).not.toHaveProperty('version');

    // GET /model says the same.
    const model = (await (await fetch(`${fromFile.address}/model`)).json()) as Record<string, unknown>;
    expect(model).toMatchObject({
      uri: file,
      name: null,
      version: null,
      estimator: 'logistic',
      checksum: fileSha,
      trained_at: fittedAt,
    });
    const runModel = (await (await fetch(`${fromRun.address}/model`)).json()) as Record<string, unknown>;
    expect(runModel).toMatchObject({ run_id: logged.runId, estimator: 'gbdt', checksum: runSha });

    // onset send shows what answered, not "- v-".
    const [sent, sentJson] = await Promise.all([
      runCliAsync(['send', '--url', fromFile.address, '-n', '2']),
      runCliAsync(['send', '--url', fromRun.address, '-n', '1', '--json']),
    ]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).not.toMatch(/- v-/);
    const rows = sent.stdout.split('\n').filter((line) => /^800\d{3} /.test(line));
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).toMatch(new RegExp(` logistic ${fileSha.slice(0, 12)}$`));
    expect(sent.stdout).toContain(
      `model: ${file} (logistic, sha256 ${fileSha.slice(0, 12)}, trained ${printed(fittedAt)})\n`,
    );
    expect(sentJson.code, sentJson.stderr).toBe(0);
    expect(JSON.parse(sentJson.stdout).model).toMatchObject({
      uri: runUri,
      estimator: 'gbdt',
      checksum: runSha,
    });
  }, 90_000);
});

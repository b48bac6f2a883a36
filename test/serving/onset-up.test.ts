import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset, writeKaggleCsv } from '../../src/data/generator/generator.js';
import { FEATURE_NAMES } from '../../src/data/schema.js';
import { runCli } from '../support/cli.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const home = mkdtempSync(join(tmpdir(), 'onset-up-'));
const dataPath = join(home, 'small.csv');
beforeAll(() => writeKaggleCsv(dataPath, generateDataset({ rows: 600, seed: 21 })));
afterAll(() => rmSync(home, { recursive: true, force: true }));

interface Started {
  readonly child: ChildProcessWithoutNullStreams;
  readonly address: string;
  readonly stdout: () => string;
  readonly stderr: () => string;
}

/** Starts `onset up` as a user would (from source), on a free port; resolves when it prints its address. */
function startUp(): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', `${ROOT}/src/cli/main.ts`, 'up', '--port', '0'], {
    cwd: ROOT,
    env: { ...process.env, ONSET_HOME: home, ONSET_DATA: dataPath },
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /Onset is up on (http:\/\/[\d.:]+)\n[\s\S]*artifacts/.exec(out);
      if (match) resolve({ child, address: match[1]!, stdout: () => out, stderr: () => err });
    });
    child.on('exit', (code) => reject(new Error(`onset up exited (${code}) before it was up:\n${err}`)));
  });
}

function stop(started: Started): Promise<number | null> {
  return new Promise((resolve) => {
    started.child.once('exit', (code) => resolve(code));
    started.child.kill('SIGTERM');
  });
}

const record = (() => {
  const one = generateDataset({ rows: 1, seed: 3 });
  return Object.fromEntries(FEATURE_NAMES.map((name) => [name, one.columns[name][0]!]));
})();

describe('onset up on a fresh ONSET_HOME', () => {
  it('trains and promotes a first model, serves predictions, reuses the model on the next start, and stops cleanly', async () => {
    const first = await startUp();
    expect(first.stderr()).toMatch(
      /No Production version of parkinson-disease-prediction yet: training the four families on .*small\.csv/,
    );
    expect(first.stderr()).toMatch(/train-all \w+ finished in [\d.]+ s: promoted: first model/);
    // The first training shows its blocks as they go, each with its duration.
    expect(first.stderr()).toMatch(/^ {2}> train-gbdt$/m);
    expect(first.stderr()).toMatch(/^ {2}OK train-oblivious SUCCEEDED \(\d+\.\d s\)$/m);
    expect(first.stdout()).toMatch(/model\s+parkinson-disease-prediction version 1/);
    expect((await fetch(`${first.address}/ready`)).status).toBe(200);
    const response = await fetch(`${first.address}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ data: record, patient_id: 'e2e' }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      patient_id: 'e2e',
      model: { name: 'parkinson-disease-prediction', version: '1' },
    });
    const metrics = await (await fetch(`${first.address}/metrics`)).text();
    expect(metrics).toMatch(/^onset_predictions_total\{model_version="1",predicted_class="[01]"\} 1$/m);
    // The client, like the original test_local.py: generated records, each answered.
    const sent = runCli(['send', '--url', first.address, '-n', '3', '--json']);
    expect(sent.code, sent.stderr).toBe(0);
    const answers = JSON.parse(sent.stdout).answers as { status: number; body: { diagnosis: number } }[];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(await stop(first)).toBe(0);
    const refused = runCli(['send', '--url', first.address, '-n', '1']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/Cannot reach .*Is the server running/);

    const second = await startUp();
    expect(second.stderr()).not.toMatch(/training the four families/);
    expect(second.stdout()).toMatch(/model\s+parkinson-disease-prediction version 1/);
    expect(await stop(second)).toBe(0);
  }, 90_000);
});

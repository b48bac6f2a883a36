/**
 * `onset monitor simulate` run as a user runs it (the CLI from source, a child process) against a real
 * server (`startServer`, as `onset up` starts it, with the prediction log and an API key): what it sends
 * is what the log holds, each prediction labelled with the truth of the patient sent, shifted and at
 * the asked prevalence; Ctrl-C stops it gracefully; a bad --shift is refused before anything is sent.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config.js';
import { generateDataset } from '../src/data/generator/generator.js';
import { FEATURE_NAMES } from '../src/data/schema.js';
import { SimulatedPatients } from '../src/monitoring/simulation/simulated-patients.js';
import { type RunningServer, startServer } from '../src/server/server.js';
import { startCli, waitFor } from './support/child-process.js';
import { runCliAsync } from './support/cli.js';
import { freePort } from './support/ports.js';
import { trainAndPromote } from './support/registry.js';

const KEY = 'simulate-k3y';
const home = mkdtempSync(join(tmpdir(), 'onset-simulate-'));
let server: RunningServer;
let url: string;

beforeAll(async () => {
  const config = resolveConfig({ home, port: 0 }, { ONSET_API_KEY: KEY });
  const { openOnsetStores } = await import('../src/server/open-stores.js');
  const stores = await openOnsetStores(config);
  try {
    await trainAndPromote(stores, 'parkinson-disease-prediction', generateDataset({ rows: 400, seed: 5 }), {
      n_estimators: 20,
    });
  } finally {
    await stores.close();
  }
  server = await startServer(config, { pipelines: false, logger: false });
  url = server.address;
}, 90_000);
afterAll(async () => {
  await server?.stop();
  rmSync(home, { recursive: true, force: true });
});

/** Every logged prediction with its label, as rows keyed by their 32 values. */
async function logged() {
  await server.predictionLog.writer!.flush();
  const rows: { key: string; features: Float64Array; label: number | undefined }[] = [];
  let pageToken: string | undefined;
  do {
    const page = await server.stores.predictionLog.listPredictions({
      maxResults: 1000,
      ...(pageToken ? { pageToken } : {}),
    });
    for (const prediction of page.items) {
      const label = await server.stores.predictionLog.getLabel(prediction.predictionId);
      rows.push({
        key: Array.from(prediction.features).join(','),
        features: prediction.features,
        label: label?.diagnosis,
      });
    }
    pageToken = page.nextPageToken ?? undefined;
  } while (pageToken);
  return rows;
}

/** Empties the log, so that each test finds only what it sent. */
async function deleteLog(): Promise<void> {
  await server.predictionLog.writer!.flush();
  for (;;) {
    const page = await server.stores.predictionLog.listPredictions({ maxResults: 1000 });
    if (page.items.length === 0) return;
    await server.stores.predictionLog.deletePredictions(page.items.map((p) => p.predictionId));
  }
}

describe('onset monitor simulate', () => {
  it('sends shifted patients at the rate, and posts the truth of each after the delay', async () => {
    await deleteLog();
    const started = Date.now();
    const result = await runCliAsync([
      'monitor',
      'simulate',
      '--url',
      url,
      '--api-key',
      KEY,
      '--rate',
      '40',
      '--duration',
      '2',
      '--shift',
      'Age=+15',
      '--shift',
      'Ethnicity=2',
      '--feedback-delay',
      '1',
      '--seed',
      '7',
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    // 80 at 40/s for 2 s; a loaded machine answers fewer in the time (the rate achieved says so).
    const sent = summary.sent as number;
    expect(sent).toBeGreaterThanOrEqual(40);
    expect(sent).toBeLessThanOrEqual(80);
    expect(summary).toMatchObject({
      url,
      rate: 40,
      shifts: ['Age=+15', 'Ethnicity=2'],
      prevalence: null,
      feedback_delay_s: 1,
      stopped: 'duration',
      answered: sent,
      errors: 0,
      failures: [],
      feedback: { sent, errors: 0, unlogged: 0 },
    });
    expect(summary.rate_achieved).toBeGreaterThan(15);
    expect(summary.rate_achieved).toBeLessThan(44);
    // Two seconds of sending, then the last feedback a second after its answer.
    expect(Date.now() - started).toBeGreaterThan(3_000);

    // The log holds exactly the patients the generator makes with these options, each labelled with its truth.
    const expected = new SimulatedPatients({
      seed: 7,
      shifts: [
        { feature: 'Age', kind: 'delta', delta: 15 },
        { feature: 'Ethnicity', kind: 'set', value: 2 },
      ],
    });
    const truth = new Map<string, number>();
    for (let i = 0; i < sent; i++) {
      const patient = expected.next();
      truth.set(FEATURE_NAMES.map((name) => patient.features[name]).join(','), patient.diagnosis);
    }
    const rows = await logged();
    expect(rows).toHaveLength(sent);
    for (const row of rows) expect(row.label, row.key).toBe(truth.get(row.key));
    const age = FEATURE_NAMES.indexOf('Age');
    const ethnicity = FEATURE_NAMES.indexOf('Ethnicity');
    // The generator's ages are 50 to 90: moved by 15.
    expect(Math.min(...rows.map((row) => row.features[age]!))).toBeGreaterThanOrEqual(65);
    expect(rows.every((row) => row.features[ethnicity] === 2)).toBe(true);
  }, 90_000);

  it('draws the asked prevalence, and prints a summary a person reads', async () => {
    await deleteLog();
    const result = await runCliAsync([
      'monitor',
      'simulate',
      '--url',
      url,
      '--api-key',
      KEY,
      '--rate',
      '200',
      '--duration',
      '2s',
      '--prevalence',
      '0.2',
      '--feedback-delay',
      '0',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(
      /^sending 200\/s for 2 s to http:\/\/127\.0\.0\.1:\d+; shift: none; prevalence 0\.2$/m,
    );
    const sent = Number(/(\d+) predictions sent in [\d.]+ s, \1 answered, 0 errors/.exec(result.stdout)?.[1]);
    expect(sent, result.stdout).toBeGreaterThanOrEqual(200);
    expect(sent).toBeLessThanOrEqual(400);
    expect(result.stdout).toMatch(/rate: \d+\.\d\/s achieved \(200\/s asked\)/);
    expect(result.stdout).toMatch(
      new RegExp(`feedback: ${sent} true diagnoses posted 0 s after their answers, 0 errors`),
    );
    const share = Number(/patients with the disease: ([\d.]+)% \(the truth\)/.exec(result.stdout)![1]) / 100;
    expect(Math.abs(share - 0.2)).toBeLessThan(0.08);
    const rows = await logged();
    expect(rows).toHaveLength(sent);
    expect(rows.filter((row) => row.label === 1).length / sent).toBeCloseTo(share, 2);
  }, 90_000);

  it('counts refusals with their reason and exits 1 (no API key), and posts no feedback with --no-feedback', async () => {
    await deleteLog();
    const refused = await runCliAsync([
      'monitor',
      'simulate',
      '--url',
      url,
      '--rate',
      '20',
      '--duration',
      '1',
      '--json',
    ]);
    expect(refused.code).toBe(1);
    const summary = JSON.parse(refused.stdout);
    const sent = summary.sent as number;
    expect(sent).toBeGreaterThanOrEqual(10);
    expect(sent).toBeLessThanOrEqual(20);
    expect(summary).toMatchObject({ answered: 0, errors: sent, feedback: { sent: 0 } });
    expect(summary.failures).toEqual([
      { kind: '401', count: sent, example: expect.stringMatching(/needs an API key/) },
    ]);
    const quiet = await runCliAsync([
      'monitor',
      'simulate',
      '--url',
      url,
      '--api-key',
      KEY,
      '--rate',
      '20',
      '--duration',
      '1',
      '--no-feedback',
    ]);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stdout).toMatch(/feedback: none \(--no-feedback\)/);
    const quietSent = Number(/(\d+) predictions sent/.exec(quiet.stdout)![1]);
    const rows = await logged();
    expect(rows).toHaveLength(quietSent);
    expect(rows.every((row) => row.label === undefined)).toBe(true);
  }, 90_000);

  it('stops on Ctrl-C: what is on its way is answered, the feedback waiting is posted, exit 130', async () => {
    await deleteLog();
    const child = startCli([
      'monitor',
      'simulate',
      '--url',
      url,
      '--api-key',
      KEY,
      '--rate',
      '50',
      '--duration',
      '60',
      '--feedback-delay',
      '60',
    ]);
    await waitFor(() => /sending 50\/s/.test(child.stderr()), 20_000, 'the simulation to start', child);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    child.process.kill('SIGINT');
    const exit = await child.exited;
    expect(exit.code, child.stderr()).toBe(130);
    expect(child.stderr()).toMatch(/stopping: answering what is on its way and posting the feedback due/);
    const sent = Number(/stopped early: (\d+) predictions sent/.exec(child.stdout())![1]);
    expect(sent).toBeGreaterThan(20);
    expect(child.stdout()).toMatch(new RegExp(`${sent} answered, 0 errors`));
    expect(child.stdout()).toMatch(
      new RegExp(`feedback: ${sent} true diagnoses posted \\(60 s after their answers, or at the stop`),
    );
    const rows = await logged();
    expect(rows).toHaveLength(sent);
    expect(rows.every((row) => row.label !== undefined)).toBe(true);
  }, 90_000);

  it('refuses a bad --shift or option before sending anything, naming what was wrong', async () => {
    await deleteLog();
    const cases: [string[], RegExp][] = [
      [
        ['--shift', 'Weight=+3'],
        /shift "Weight=\+3": "Weight" is not a feature; the features are Age, Gender/,
      ],
      [['--shift', 'age=+3'], /"age" is not a feature \(did you mean Age\?\)/],
      [['--shift', 'MoCA=31'], /shift "MoCA=31": 31 is outside what MoCA can be: 0 to 30 score/],
      [['--shift', 'Age=+130'], /moves Age by more than all it can be \(0 to 125 years/],
      [
        ['--shift', 'Gender=+1'],
        /Gender is binary, set to one of its codes, not moved \(e\.g\. Gender=1\); it takes 0 = Male, 1 = Female/,
      ],
      [['--shift', 'EducationLevel=5'], /5 is not a code of EducationLevel: 0 = None, 1 = High School/],
      [['--shift', 'Age'], /shift "Age" is not FEATURE=\+DELTA, FEATURE=-DELTA or FEATURE=VALUE/],
      [['--prevalence', '1.5'], /--prevalence.*expected a number from 0 to 1, got "1\.5"/],
      [['--rate', '0'], /--rate.*expected predictions per second above 0/],
      [['--duration', 'soon'], /--duration.*expected seconds \(e\.g\. 90\) or a duration/],
    ];
    for (const [args, message] of cases) {
      const result = await runCliAsync(['monitor', 'simulate', '--url', url, '--api-key', KEY, ...args]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(message);
    }
    expect(await logged()).toHaveLength(0);
    const closed = await freePort();
    const nowhere = await runCliAsync([
      'monitor',
      'simulate',
      '--url',
      `http://127.0.0.1:${closed}`,
      '--duration',
      '1',
    ]);
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr).toMatch(
      new RegExp(`Cannot reach http://127\\.0\\.0\\.1:${closed}: .*ECONNREFUSED.*Is the server running`),
    );
  }, 90_000);
});

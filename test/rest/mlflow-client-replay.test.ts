/**
 * MLflow's Python client, replayed: test/fixtures/mlflow-client/ holds what the MLflow 2.12 client sent
 * and what MLflow's own server (the reference) answered while scripts/mlflow/client-checks.py ran, one
 * file per group of checks (recorded by `npm run mlflow:record`). Each check's exchanges are replayed in
 * order against a fresh Onset app, with the identifiers Onset assigns in place of the recorded ones, and
 * each answer must carry the status and the shape and values the client depends on (see `ExchangeReplay`).
 *
 * Where today's Onset does not give what the client expects, the check is listed in KNOWN_GAPS with the
 * reason and runs as `it.fails`: it passes while the gap is there and fails once it is closed, which is
 * the signal to delete its line.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Exchange, ExchangeFixture } from '../../scripts/mlflow/exchange-fixture.js';
import { ADMIN_TOKEN, useFullApp } from './full-app.js';
import { ExchangeReplay } from './mlflow-replay.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/mlflow-client', import.meta.url));

/**
 * Checks whose recorded exchanges Onset does not answer as MLflow does, each with why (run as expected
 * failures). None today: every recorded exchange is answered as MLflow answers it.
 */
const KNOWN_GAPS: Readonly<Record<string, string>> = {};

const fixtures: ExchangeFixture[] = readdirSync(FIXTURES)
  .filter((file) => file.endsWith('.json'))
  .sort()
  .map((file) => JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as ExchangeFixture);

describe.each(fixtures)('MLflow client replay: $group', (fixture) => {
  const full = useFullApp(`mlflow-replay-${fixture.group}`);
  let replay: ExchangeReplay | undefined;
  const replayOf = () => {
    replay ??= new ExchangeReplay(full.app, { authorization: `Bearer ${ADMIN_TOKEN}` });
    return replay;
  };

  for (const check of fixture.checks) {
    const gap = KNOWN_GAPS[check.name];
    const test = gap === undefined ? it : it.fails;
    test(`${check.name}${gap === undefined ? '' : ` (fails today: ${gap})`}`, async () => {
      const problems: string[] = [];
      for (const exchange of check.exchanges) problems.push(...(await replayOf().replay(exchange)));
      expect(
        problems.length,
        `differences from the recorded answers:\n${problems.slice(0, 30).join('\n')}`,
      ).toBe(0);
    });
  }

  it('artifact locations are mlflow-artifacts:/, as MLflow hands them out', () => {
    expect(replayOf().schemeDifferences).toEqual([]);
  });
});

describe('MLflow client replay: the comparison itself', () => {
  const full = useFullApp('mlflow-replay-comparison');
  const replayOn = () => new ExchangeReplay(full.app, { authorization: `Bearer ${ADMIN_TOKEN}` });
  const json = (value: unknown) => ({ json: value });
  const create = (name: string, recordedId: string): Exchange => ({
    method: 'POST',
    path: '/api/2.0/mlflow/experiments/create',
    query: '',
    requestType: 'application/json',
    request: json({ name }),
    status: 200,
    responseType: 'application/json',
    response: json({ experiment_id: recordedId }),
  });
  const get = (
    recordedId: string,
    experiment: unknown,
    path = '/api/2.0/mlflow/experiments/get',
  ): Exchange => ({
    method: 'GET',
    path,
    query: `experiment_id=${recordedId}`,
    status: 200,
    responseType: 'application/json',
    response: json({ experiment }),
  });

  it('binds the ids the server assigns and sends them in later requests', async () => {
    const replay = replayOn();
    expect(await replay.replay(create('comparison-bound', '917'))).toEqual([]);
    const recorded = { experiment_id: '917', name: 'comparison-bound', lifecycle_stage: 'active', tags: [] };
    expect(await replay.replay(get('917', recorded))).toEqual([]);
  });

  it('reports a route that disappeared', async () => {
    const replay = replayOn();
    await replay.replay(create('comparison-gone', '918'));
    const problems = await replay.replay(
      get('918', { name: 'comparison-gone' }, '/api/2.0/mlflow/experiments/gone'),
    );
    expect(problems).toEqual([expect.stringMatching(/status 404, recorded 200/)]);
  });

  it('reports a missing field, a changed type and a changed value', async () => {
    const replay = replayOn();
    await replay.replay(create('comparison-shape', '919'));
    const problems = await replay.replay(
      get('919', { name: 'comparison-shape', owner: 'someone', lifecycle_stage: 'deleted', tags: {} }),
    );
    expect(problems).toEqual([
      expect.stringMatching(/ \.experiment\.owner: missing/),
      expect.stringMatching(/ \.experiment\.lifecycle_stage: "active", recorded "deleted"/),
      expect.stringMatching(/ \.experiment\.tags: \[\], recorded an object/),
    ]);
    const typed = await replay.replay(get('919', { name: 7 }));
    expect(typed).toEqual([
      expect.stringMatching(/\.experiment\.name: "comparison-shape", recorded the number 7/),
    ]);
  });

  it('compares binary bodies by size and digest of what the replay uploaded', async () => {
    const replay = replayOn();
    const bytes = { size: 1000, sha256: 'a'.repeat(64) };
    const path = '/api/2.0/mlflow-artifacts/artifacts/comparison/blob.bin';
    const upload: Exchange = { method: 'PUT', path, query: '', request: { bytes }, status: 200 };
    expect(await replay.replay(upload)).toEqual([]);
    expect(await replay.replay({ method: 'GET', path, query: '', status: 200, response: { bytes } })).toEqual(
      [],
    );
    const other = { bytes: { size: 1000, sha256: 'b'.repeat(64) } };
    expect(await replay.replay({ method: 'GET', path, query: '', status: 200, response: other })).toEqual([
      expect.stringMatching(/the bytes differ/),
    ]);
  });
});

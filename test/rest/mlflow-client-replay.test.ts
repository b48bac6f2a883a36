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

// Why today's Onset answers some recorded exchanges differently (issue 14). Several checks of a group
// build on an earlier one: a model version that could not be registered is missing from every later
// answer about it.
const LOG_INPUTS = 'POST runs/log-inputs is missing (404): the run has no dataset inputs';
const DATASET_FILTERS = 'datasets.* search filters are refused (400)';
const LOG_MODEL = 'POST runs/log-model is missing (404): the run lacks the mlflow.log-model.history tag';
const MODEL_DIRECTORY =
  'model-versions/create refuses an MLflow model directory as source (404 "it is a directory, not a file"), so the version does not exist';
const REGISTERED_MODEL_DELETE_TAG = 'DELETE registered-models/delete-tag is missing (404)';
const MODEL_VERSION_DELETE_TAG = 'DELETE model-versions/delete-tag is missing (404)';
const INACTIVE = 'INVALID_STATE where MLflow answers INVALID_PARAMETER_VALUE';
const MISSING_ALIAS = '404 RESOURCE_DOES_NOT_EXIST where MLflow answers 400 INVALID_PARAMETER_VALUE';

/** Checks whose recorded exchanges today's Onset does not answer as MLflow does, and why. */
const KNOWN_GAPS: Readonly<Record<string, string>> = {
  'datasets/mlflow.log_input with a pandas dataset': LOG_INPUTS,
  "datasets/the run's inputs hold the dataset with its schema, profile and context": LOG_INPUTS,
  'datasets/logging the same dataset twice keeps one input': LOG_INPUTS,
  'datasets/two datasets (training and evaluation) on one run': LOG_INPUTS,
  'datasets/search_runs by dataset name and context': DATASET_FILTERS,
  'datasets/search_runs by dataset digest': DATASET_FILTERS,
  'datasets/the dataset source loads back': LOG_INPUTS,
  'errors/logging to a deleted run: INVALID_PARAMETER_VALUE': INACTIVE,
  'errors/creating a run in a deleted experiment: INVALID_PARAMETER_VALUE': INACTIVE,
  'errors/a missing alias: INVALID_PARAMETER_VALUE': MISSING_ALIAS,
  'errors/an unknown stage: INVALID_PARAMETER_VALUE': `${LOG_MODEL}; ${MODEL_DIRECTORY}`,
  'models/sklearn log_model without registering': LOG_MODEL,
  'models/log_model records the mlflow.log-model.history tag': LOG_MODEL,
  'models/sklearn load_model from runs:/ and predict': LOG_MODEL,
  'models/pyfunc load_model from runs:/ with its signature': LOG_MODEL,
  'models/mlflow.models.get_model_info from runs:/': LOG_MODEL,
  'models/mlflow.register_model from runs:/': `${LOG_MODEL}; ${MODEL_DIRECTORY}`,
  'models/sklearn load_model from models:/name/1 and predict': MODEL_DIRECTORY,
  "models/create_model_version from the run's artifact URI": `${LOG_MODEL}; ${MODEL_DIRECTORY}`,
  'models/load_model from models:/name/2 (a version from an artifact URI)': MODEL_DIRECTORY,
  'models/load_model from models:/name@alias': MODEL_DIRECTORY,
  'models/load_model from models:/name/Production': MODEL_DIRECTORY,
  'models/load_model from models:/name/latest': MODEL_DIRECTORY,
  'models/sklearn log_model with registered_model_name': `${LOG_MODEL}; ${MODEL_DIRECTORY}`,
  'models/xgboost log_model, JSON format, without registering': LOG_MODEL,
  'models/xgboost log_model, JSON format, with registered_model_name': `${LOG_MODEL}; ${MODEL_DIRECTORY}`,
  'models/xgboost load_model from models:/ (JSON) and predict': MODEL_DIRECTORY,
  'models/xgboost log_model, UBJ format, with registered_model_name': `${LOG_MODEL}; ${MODEL_DIRECTORY}`,
  'models/xgboost load_model from models:/ (UBJ) and pyfunc predict': MODEL_DIRECTORY,
  'models/xgboost UBJ log_model without registering': LOG_MODEL,
  'models/pyfunc PythonModel log_model without registering, then register_model': `${LOG_MODEL}; ${MODEL_DIRECTORY}`,
  'models/pyfunc PythonModel log_model with registered_model_name': `${LOG_MODEL}; ${MODEL_DIRECTORY}`,
  "models/get_model_version_download_uri leads to the model's files": MODEL_DIRECTORY,
  'models/models:/ download with mlflow.artifacts.download_artifacts': MODEL_DIRECTORY,
  'models/copy_model_version to another registered model': MODEL_DIRECTORY,
  'registry/set_registered_model_tag and delete_registered_model_tag': REGISTERED_MODEL_DELETE_TAG,
  'registry/create_model_version with tags and description': `${LOG_MODEL}; ${MODEL_DIRECTORY}`,
  'registry/versions number 1, 2, 3': MODEL_DIRECTORY,
  'registry/get_model_version': MODEL_DIRECTORY,
  'registry/update_model_version description': MODEL_DIRECTORY,
  'registry/set_model_version_tag and delete_model_version_tag': `${MODEL_DIRECTORY}; ${MODEL_VERSION_DELETE_TAG}`,
  'registry/transition_model_version_stage to Staging and Production': MODEL_DIRECTORY,
  'registry/stage names are case-insensitive': MODEL_DIRECTORY,
  'registry/archive_existing_versions archives the previous Production version': MODEL_DIRECTORY,
  'registry/get_latest_versions by stage and for all stages': MODEL_DIRECTORY,
  'registry/registered model latest_versions lists one per stage': MODEL_DIRECTORY,
  'registry/set_registered_model_alias and get_model_version_by_alias': MODEL_DIRECTORY,
  'registry/moving an alias to another version': MODEL_DIRECTORY,
  'registry/delete_registered_model_alias': MODEL_DIRECTORY,
  "registry/get_model_version_download_uri is the version's artifact location": MODEL_DIRECTORY,
  'registry/search_registered_models by tag': `${MODEL_DIRECTORY}; ${REGISTERED_MODEL_DELETE_TAG}`,
  'registry/search_model_versions by name and by run_id': MODEL_DIRECTORY,
  'registry/search_model_versions ordered and paged': MODEL_DIRECTORY,
  'registry/rename_registered_model keeps its versions': `${MODEL_DIRECTORY}; ${REGISTERED_MODEL_DELETE_TAG}`,
  'registry/delete_model_version': MODEL_DIRECTORY,
  'registry/a new version after a deletion takes the next number': MODEL_DIRECTORY,
  'registry/delete_registered_model deletes its versions': MODEL_DIRECTORY,
};

/**
 * MLflow's server hands out `mlflow-artifacts:/` locations (its artifact proxy, the default since 2.0);
 * Onset hands out `file://` ones, which only a client on the server's host can use. Tolerated in every
 * check, and counted here instead.
 */
const PROXIED_LOCATIONS_GAP = true;

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

  (PROXIED_LOCATIONS_GAP ? it.fails : it)(
    'artifact locations are mlflow-artifacts:/ (fails today: Onset answers file:// locations)',
    () => {
      expect(replayOf().schemeDifferences).toEqual([]);
    },
  );
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

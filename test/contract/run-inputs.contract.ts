/**
 * The TrackingStore contract, continued: what MLflow's clients log besides metrics, params and tags (the
 * datasets a run used, the log-model history), deleting experiment tags, and searching runs by dataset.
 * Every backend runs it (see `tracking-store.sqlite.test.ts` and `tracking-store.postgres.test.ts`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dataset, DatasetInput, Tag } from '../../src/tracking/entities.js';
import type { TrackingStore } from '../../src/tracking/tracking-store.js';
import { expectCode, type OpenedStores, unique } from './tracking-store.contract.js';

const dataset = (name: string, digest: string, more: Partial<Dataset> = {}): Dataset => ({
  name,
  digest,
  sourceType: 'local',
  source: JSON.stringify({ uri: `/data/${name}.csv` }),
  schema: null,
  profile: null,
  ...more,
});

const input = (data: Dataset, tags: readonly Tag[] = []): DatasetInput => ({ dataset: data, tags });
const context = (value: string): Tag => ({ key: 'mlflow.data.context', value });

export function describeRunInputsContract(name: string, open: () => Promise<OpenedStores>): void {
  describe(`TrackingStore contract, run inputs and more: ${name}`, () => {
    let stores: OpenedStores;
    let store: TrackingStore;

    beforeAll(async () => {
      stores = await open();
      store = stores.tracking;
    });

    afterAll(async () => {
      await stores?.close();
    });

    const newRun = async (experimentId?: string) =>
      (
        await store.createRun({
          experimentId: experimentId ?? (await store.createExperiment({ name: unique('inputs') })),
        })
      ).info.runId;

    describe('logInputs', () => {
      it('records the datasets a run used, with their tags, in the order logged', async () => {
        const runId = await newRun();
        expect((await store.getRun(runId)).inputs).toEqual({ datasetInputs: [], modelInputs: [] });
        const train = dataset('train', 'f0f3e026', {
          sourceType: 'local',
          schema: JSON.stringify({ mlflow_colspec: [{ name: 'a', type: 'long' }] }),
          profile: JSON.stringify({ num_rows: 2, num_elements: 6 }),
        });
        await store.logInputs(runId, [
          input(train, [{ key: 'foo', value: 'baz' }, context('training')]),
          input(dataset('eval', 'aa11'), [context('evaluation')]),
        ]);
        await store.logInputs(runId, [input(dataset('later', 'bb22'))]);
        const run = await store.getRun(runId);
        expect(run.inputs.datasetInputs).toEqual([
          { dataset: train, tags: [{ key: 'foo', value: 'baz' }, context('training')] },
          { dataset: dataset('eval', 'aa11'), tags: [context('evaluation')] },
          { dataset: dataset('later', 'bb22'), tags: [] },
        ]);
        // searchRuns answers the same inputs.
        const [found] = (await store.searchRuns({ experimentIds: [run.info.experimentId] })).items;
        expect(found).toEqual(run);
        // Nothing to log is no error.
        await store.logInputs(runId, []);
        expect((await store.getRun(runId)).inputs).toEqual(run.inputs);
      });

      it('keeps one dataset per experiment, name and digest, and one use of it per run', async () => {
        const experimentId = await store.createExperiment({ name: unique('dedup') });
        const first = await newRun(experimentId);
        const second = await newRun(experimentId);
        const original = dataset('data', 'd1', { source: 'first-source' });
        await store.logInputs(first, [
          input(original, [context('training')]),
          // The same name and digest again in one call: the first counts.
          input(dataset('data', 'd1', { source: 'ignored' }), [context('ignored')]),
        ]);
        // Logged again on the same run, with other tags: nothing changes.
        await store.logInputs(first, [input(dataset('data', 'd1', { source: 'other' }), [context('again')])]);
        expect((await store.getRun(first)).inputs.datasetInputs).toEqual([
          { dataset: original, tags: [context('training')] },
        ]);
        // Another run of the experiment uses the stored dataset, with its own tags.
        await store.logInputs(second, [
          input(dataset('data', 'd1', { source: 'second-source' }), [context('evaluation')]),
          input(dataset('data', 'd2')),
        ]);
        expect((await store.getRun(second)).inputs.datasetInputs).toEqual([
          { dataset: original, tags: [context('evaluation')] },
          { dataset: dataset('data', 'd2'), tags: [] },
        ]);
        // Another experiment stores its own copy.
        const elsewhere = await newRun();
        await store.logInputs(elsewhere, [input(dataset('data', 'd1', { source: 'elsewhere' }))]);
        expect((await store.getRun(elsewhere)).inputs.datasetInputs[0]!.dataset.source).toBe('elsewhere');
        expect(await store.searchDatasets([experimentId])).toEqual([
          { experimentId, name: 'data', digest: 'd1', context: 'evaluation' },
          { experimentId, name: 'data', digest: 'd1', context: 'training' },
          { experimentId, name: 'data', digest: 'd2', context: null },
        ]);
      });

      it('takes concurrent calls logging the same new dataset', async () => {
        const experimentId = await store.createExperiment({ name: unique('concurrent') });
        const runs = await Promise.all([1, 2, 3, 4].map(() => newRun(experimentId)));
        await Promise.all(runs.map((runId) => store.logInputs(runId, [input(dataset('shared', 'cc'))])));
        for (const runId of runs) {
          expect((await store.getRun(runId)).inputs.datasetInputs.map((i) => i.dataset.name)).toEqual([
            'shared',
          ]);
        }
        expect(await store.searchDatasets([experimentId])).toHaveLength(1);
      });

      it("enforces MLflow's limits and refuses deleted and unknown runs, writing nothing", async () => {
        const runId = await newRun();
        const refused = async (inputs: readonly DatasetInput[], message: RegExp) => {
          await expectCode(store.logInputs(runId, inputs), 'INVALID_PARAMETER_VALUE', message);
          expect((await store.getRun(runId)).inputs.datasetInputs).toEqual([]);
        };
        const ok = dataset('ok', 'ok');
        await refused([input(ok), input(dataset('n'.repeat(501), 'x'))], /Dataset name exceeds .* 500/);
        await refused([input(dataset('d', 'x'.repeat(37)))], /Dataset digest exceeds .* 36/);
        await refused([input(dataset('d', 'x', { source: 's'.repeat(65_536) }))], /Dataset source exceeds/);
        await refused([input(dataset('d', 'x', { schema: 's'.repeat(65_536) }))], /Dataset schema exceeds/);
        await refused([input(dataset('', 'x'))], /Dataset name/);
        await refused([input(dataset('d', ''))], /Dataset digest/);
        await refused([input(ok, [{ key: 'k'.repeat(256), value: 'v' }])], /InputTag key exceeds .* 255/);
        await refused([input(ok, [{ key: 'k', value: 'v'.repeat(501) }])], /InputTag value exceeds .* 500/);
        await refused(
          Array.from({ length: 1_001 }, (_, i) => input(dataset(`d${i}`, 'x'))),
          /at most 1000/,
        );
        // At the limits exactly: accepted.
        await store.logInputs(runId, [
          input(dataset('n'.repeat(500), 'x'.repeat(36), { schema: 's'.repeat(65_535) }), [
            { key: 'k'.repeat(255), value: 'v'.repeat(500) },
          ]),
        ]);
        expect((await store.getRun(runId)).inputs.datasetInputs).toHaveLength(1);
        await store.deleteRun(runId);
        await expectCode(
          store.logInputs(runId, [input(ok)]),
          'INVALID_PARAMETER_VALUE',
          new RegExp(`The run ${runId} must be in the 'active' state`),
        );
        await expectCode(
          store.logInputs('0'.repeat(32), [input(ok)]),
          'RESOURCE_DOES_NOT_EXIST',
          /Run with id=0{32} not found/,
        );
      });
    });

    describe('searchRuns by dataset', () => {
      let experimentId: string;
      const byName = new Map<string, string>();
      beforeAll(async () => {
        experimentId = await store.createExperiment({ name: unique('dataset-search') });
        const specs = [
          ['a', [input(dataset('iris', 'd1'), [context('training')])]],
          ['b', [input(dataset('iris', 'd2'), [context('evaluation')]), input(dataset('wine', 'w1'))]],
          ['c', [input(dataset('Wine_50%', 'w2'), [context('training')])]],
          ['d', []],
        ] as const;
        for (const [runName, inputs] of specs) {
          const run = await store.createRun({ experimentId, runName });
          await store.logInputs(run.info.runId, inputs);
          byName.set(runName, run.info.runId);
        }
      });

      const names = async (filter: string) =>
        (await store.searchRuns({ experimentIds: [experimentId], filter, orderBy: ['run_name'] })).items.map(
          (run) => run.info.runName,
        );

      it('filters on dataset name, digest and context with every comparator MLflow allows', async () => {
        expect(await names("datasets.name = 'iris'")).toEqual(['a', 'b']);
        expect(await names("dataset.name != 'iris'")).toEqual(['b', 'c']);
        expect(await names("datasets.name LIKE 'wine%'")).toEqual(['b']);
        expect(await names("datasets.name ILIKE 'wine%'")).toEqual(['b', 'c']);
        expect(await names("datasets.name LIKE 'Wine\\_50\\%'")).toEqual(['c']);
        expect(await names("datasets.digest IN ('d2', 'w2')")).toEqual(['b', 'c']);
        expect(await names("datasets.digest NOT IN ('d1', 'd2', 'w1')")).toEqual(['c']);
        expect(await names("datasets.context = 'training'")).toEqual(['a', 'c']);
        expect(await names("datasets.context ILIKE 'EVAL%'")).toEqual(['b']);
        // One comparison, one dataset: a run matches when any of its datasets does.
        expect(await names("datasets.name = 'iris' and datasets.context = 'evaluation'")).toEqual(['b']);
        expect(await names("datasets.name = 'wine' and datasets.digest = 'd2'")).toEqual(['b']);
        expect(await names("datasets.name = 'nothing'")).toEqual([]);
      });

      it('refuses dataset keys, comparators and ordering MLflow does not have', async () => {
        for (const filter of ["datasets.size = '1'", 'datasets.name > 1', 'datasets.name IS NULL']) {
          await expectCode(
            store.searchRuns({ experimentIds: [experimentId], filter }),
            'INVALID_PARAMETER_VALUE',
          );
        }
        await expectCode(
          store.searchRuns({ experimentIds: [experimentId], orderBy: ['datasets.name'] }),
          'INVALID_PARAMETER_VALUE',
          /Dataset ordering is not supported/,
        );
      });
    });

    describe('recordLoggedModel', () => {
      const model = (artifactPath: string, runId: string) => ({
        artifact_path: artifactPath,
        flavors: { python_function: { loader_module: 'mlflow.pyfunc' } },
        utc_time_created: '2024-05-01 10:00:00.000000',
        run_id: runId,
        model_uuid: `uuid-${artifactPath}`,
      });
      const history = async (runId: string) => {
        const tag = (await store.getRun(runId)).data.tags.find((t) => t.key === 'mlflow.log-model.history');
        return tag === undefined ? undefined : (JSON.parse(tag.value) as unknown);
      };

      it("appends each model to the run's mlflow.log-model.history tag, a JSON list", async () => {
        const runId = await newRun();
        expect(await history(runId)).toBeUndefined();
        await store.recordLoggedModel(runId, model('model/0', runId));
        expect(await history(runId)).toEqual([model('model/0', runId)]);
        await store.recordLoggedModel(runId, model('model/1', runId));
        expect(await history(runId)).toEqual([model('model/0', runId), model('model/1', runId)]);
      });

      it('loses no model when several are recorded at once', async () => {
        const runId = await newRun();
        await Promise.all(
          Array.from({ length: 8 }, (_, i) => store.recordLoggedModel(runId, model(`m/${i}`, runId))),
        );
        const recorded = (await history(runId)) as { artifact_path: string }[];
        expect(recorded.map((m) => m.artifact_path).sort()).toEqual(
          Array.from({ length: 8 }, (_, i) => `m/${i}`),
        );
      });

      it('refuses deleted and unknown runs, a history that is no JSON list, and one grown too long', async () => {
        const runId = await newRun();
        await store.logBatch(runId, {
          tags: [{ key: 'mlflow.log-model.history', value: '{"not": "a list"}' }],
        });
        await expectCode(
          store.recordLoggedModel(runId, model('m', runId)),
          'INVALID_STATE',
          /not a JSON list/,
        );
        await store.logBatch(runId, { tags: [{ key: 'mlflow.log-model.history', value: '[]' }] });
        await expectCode(
          store.recordLoggedModel(runId, { ...model('m', runId), padding: 'x'.repeat(1_000_001) }),
          'INVALID_PARAMETER_VALUE',
          /at most 1000000/,
        );
        expect(await history(runId)).toEqual([]);
        await expectCode(
          store.recordLoggedModel(runId, ['a list'] as never),
          'INVALID_PARAMETER_VALUE',
          /JSON object/,
        );
        await store.deleteRun(runId);
        await expectCode(
          store.recordLoggedModel(runId, model('m', runId)),
          'INVALID_PARAMETER_VALUE',
          /active/,
        );
        await expectCode(store.recordLoggedModel('1'.repeat(32), model('m', 'x')), 'RESOURCE_DOES_NOT_EXIST');
      });
    });

    describe('deleteExperimentTag', () => {
      it('deletes a tag; a missing tag, experiment or a deleted experiment is an error', async () => {
        const id = await store.createExperiment({
          name: unique('untag'),
          tags: [
            { key: 'keep', value: '1' },
            { key: 'drop', value: '2' },
          ],
        });
        await store.deleteExperimentTag(id, 'drop');
        expect((await store.getExperiment(id)).tags).toEqual([{ key: 'keep', value: '1' }]);
        await expectCode(
          store.deleteExperimentTag(id, 'drop'),
          'RESOURCE_DOES_NOT_EXIST',
          new RegExp(`No tag with name: drop in experiment with id ${id}`),
        );
        await expectCode(store.deleteExperimentTag('987654321', 'keep'), 'RESOURCE_DOES_NOT_EXIST');
        await store.deleteExperiment(id);
        await expectCode(
          store.deleteExperimentTag(id, 'keep'),
          'INVALID_PARAMETER_VALUE',
          new RegExp(`The experiment ${id} must be in the 'active' state`),
        );
        await store.restoreExperiment(id);
        expect((await store.getExperiment(id)).tags).toEqual([{ key: 'keep', value: '1' }]);
      });
    });

    describe('searchDatasets', () => {
      it('lists datasets of the experiments asked, with each context they were used in', async () => {
        const one = await store.createExperiment({ name: unique('summaries') });
        const two = await store.createExperiment({ name: unique('summaries') });
        await store.logInputs(await newRun(one), [
          input(dataset('b', '2'), [context('training')]),
          input(dataset('a', '1'), [context('training')]),
        ]);
        await store.logInputs(await newRun(one), [input(dataset('a', '1'), [context('training')])]);
        await store.logInputs(await newRun(two), [input(dataset('c', '3'), [{ key: 'other', value: 'x' }])]);
        expect(await store.searchDatasets([one])).toEqual([
          { experimentId: one, name: 'a', digest: '1', context: 'training' },
          { experimentId: one, name: 'b', digest: '2', context: 'training' },
        ]);
        expect((await store.searchDatasets([one, two])).map((s) => [s.name, s.context])).toEqual([
          ['a', 'training'],
          ['b', 'training'],
          ['c', null],
        ]);
        expect(await store.searchDatasets([])).toEqual([]);
        expect(await store.searchDatasets(['987654321'])).toEqual([]);
        await expectCode(store.searchDatasets(['id_1']), 'INVALID_PARAMETER_VALUE', /experiment id/);
      });
    });
  });
}

/**
 * The LoggedModelStore contract (MLflow 3's logged models), with the run side of them in the
 * TrackingStore (a run's model inputs and outputs): every backend runs it (see
 * `tracking-store.sqlite.test.ts` and `tracking-store.postgres.test.ts`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoggedModel, LoggedModelMetric } from '../../src/tracking/entities.js';
import type { LoggedModelQuery, LoggedModelStore } from '../../src/tracking/logged-model-store.js';
import type { TrackingStore } from '../../src/tracking/tracking-store.js';
import { CONTRACT_ARTIFACT_ROOT, expectCode, type OpenedStores, unique } from './tracking-store.contract.js';

export function describeLoggedModelStoreContract(name: string, open: () => Promise<OpenedStores>): void {
  describe(`LoggedModelStore contract: ${name}`, () => {
    let stores: OpenedStores;
    let models: LoggedModelStore;
    let tracking: TrackingStore;

    beforeAll(async () => {
      stores = await open();
      models = stores.loggedModels;
      tracking = stores.tracking;
    });

    afterAll(async () => {
      await stores?.close();
    });

    const newExperiment = () => tracking.createExperiment({ name: unique('logged-models') });
    const metric = (
      model: LoggedModel,
      runId: string,
      key: string,
      value: number,
      more: Partial<LoggedModelMetric> = {},
    ): LoggedModelMetric => ({
      modelId: model.modelId,
      runId,
      key,
      value,
      timestamp: 1_000,
      step: 0,
      datasetName: null,
      datasetDigest: null,
      ...more,
    });

    it('creates a PENDING model with its files under <experiment location>/models/<id>/artifacts', async () => {
      const experimentId = await newExperiment();
      const run = await tracking.createRun({ experimentId });
      const before = Date.now();
      const created = await models.createLoggedModel({
        experimentId,
        name: 'model',
        modelType: 'Classifier',
        sourceRunId: run.info.runId,
        params: [
          { key: 'max_depth', value: '3' },
          { key: 'eta', value: '0.1' },
        ],
        tags: [{ key: 'mlflow.user', value: 'ada' }],
      });
      expect(created).toEqual({
        modelId: created.modelId,
        experimentId,
        name: 'model',
        artifactLocation: `${CONTRACT_ARTIFACT_ROOT}/${experimentId}/models/${created.modelId}/artifacts`,
        creationTimestamp: created.creationTimestamp,
        lastUpdatedTimestamp: created.creationTimestamp,
        status: 'PENDING',
        statusMessage: null,
        modelType: 'Classifier',
        sourceRunId: run.info.runId,
        tags: [{ key: 'mlflow.user', value: 'ada' }],
        params: [
          { key: 'eta', value: '0.1' },
          { key: 'max_depth', value: '3' },
        ],
        metrics: [],
      });
      expect(created.modelId).toMatch(/^m-[0-9a-f]{32}$/);
      expect(created.creationTimestamp).toBeGreaterThanOrEqual(before);
      expect(await models.getLoggedModel(created.modelId)).toEqual(created);
      // Without a name: a random one, as a run's; nothing else required.
      const unnamed = await models.createLoggedModel({ experimentId });
      expect(unnamed.name.length).toBeGreaterThan(0);
      expect(unnamed).toMatchObject({ modelType: null, sourceRunId: null, tags: [], params: [] });
      // A location of an experiment elsewhere under the root is followed.
      const custom = await tracking.createExperiment({
        name: unique('custom-location'),
        artifactLocation: `${CONTRACT_ARTIFACT_ROOT}/team/x`,
      });
      const elsewhere = await models.createLoggedModel({ experimentId: custom });
      expect(elsewhere.artifactLocation).toBe(
        `${CONTRACT_ARTIFACT_ROOT}/team/x/models/${elsewhere.modelId}/artifacts`,
      );
    });

    it('refuses unknown and deleted experiments and bad input, creating nothing', async () => {
      await expectCode(models.createLoggedModel({ experimentId: '987654321' }), 'RESOURCE_DOES_NOT_EXIST');
      await expectCode(models.createLoggedModel({ experimentId: 'x' }), 'RESOURCE_DOES_NOT_EXIST');
      const experimentId = await newExperiment();
      await expectCode(
        models.createLoggedModel({ experimentId, name: 'n'.repeat(501) }),
        'INVALID_PARAMETER_VALUE',
      );
      await expectCode(
        models.createLoggedModel({
          experimentId,
          params: [
            { key: 'a', value: '1' },
            { key: 'a', value: '2' },
          ],
        }),
        'INVALID_PARAMETER_VALUE',
        /write-once/,
      );
      await expectCode(
        models.createLoggedModel({ experimentId, tags: [{ key: '../x', value: '1' }] }),
        'INVALID_PARAMETER_VALUE',
      );
      await expectCode(
        models.createLoggedModel({ experimentId, tags: [{ key: 'k', value: 'v'.repeat(65_536) }] }),
        'INVALID_PARAMETER_VALUE',
      );
      expect((await models.searchLoggedModels({ experimentIds: [experimentId] })).items).toEqual([]);
      await tracking.deleteExperiment(experimentId);
      await expectCode(
        models.createLoggedModel({ experimentId }),
        'INVALID_PARAMETER_VALUE',
        new RegExp(`The experiment ${experimentId} must be in the 'active' state`),
      );
      await expectCode(
        models.getLoggedModel('m-0'),
        'RESOURCE_DOES_NOT_EXIST',
        /Logged model with ID 'm-0' not found/,
      );
    });

    it('finalizes, tags, logs params and deletes a model', async () => {
      const experimentId = await newExperiment();
      const model = await models.createLoggedModel({ experimentId, params: [{ key: 'a', value: '1' }] });
      const ready = await models.finalizeLoggedModel(model.modelId, 'READY');
      expect(ready.status).toBe('READY');
      expect(ready.lastUpdatedTimestamp).toBeGreaterThanOrEqual(model.lastUpdatedTimestamp);
      expect((await models.finalizeLoggedModel(model.modelId, 'FAILED')).status).toBe('FAILED');
      await expectCode(
        models.finalizeLoggedModel(model.modelId, 'DONE' as never),
        'INVALID_PARAMETER_VALUE',
        /PENDING, READY, FAILED/,
      );

      await models.setLoggedModelTags(model.modelId, [
        { key: 'b', value: '1' },
        { key: 'a', value: '1' },
      ]);
      await models.setLoggedModelTags(model.modelId, [{ key: 'a', value: '2' }]);
      expect((await models.getLoggedModel(model.modelId)).tags).toEqual([
        { key: 'a', value: '2' },
        { key: 'b', value: '1' },
      ]);
      await models.deleteLoggedModelTag(model.modelId, 'b');
      expect((await models.getLoggedModel(model.modelId)).tags).toEqual([{ key: 'a', value: '2' }]);
      await expectCode(
        models.deleteLoggedModelTag(model.modelId, 'b'),
        'RESOURCE_DOES_NOT_EXIST',
        /No tag with key 'b' found for model with ID/,
      );

      await models.logLoggedModelParams(model.modelId, [
        { key: 'a', value: '1' },
        { key: 'c', value: '3' },
      ]);
      await expectCode(
        models.logLoggedModelParams(model.modelId, [{ key: 'c', value: '4' }]),
        'INVALID_PARAMETER_VALUE',
        /Changing param values is not allowed/,
      );
      expect((await models.getLoggedModel(model.modelId)).params).toEqual([
        { key: 'a', value: '1' },
        { key: 'c', value: '3' },
      ]);

      await models.deleteLoggedModel(model.modelId);
      await models.deleteLoggedModel(model.modelId);
      await expectCode(models.getLoggedModel(model.modelId), 'RESOURCE_DOES_NOT_EXIST');
      for (const write of [
        () => models.finalizeLoggedModel(model.modelId, 'READY'),
        () => models.setLoggedModelTags(model.modelId, [{ key: 'x', value: '1' }]),
        () => models.logLoggedModelParams(model.modelId, [{ key: 'x', value: '1' }]),
        () => models.checkLoggedModelsExist([model.modelId]),
      ]) {
        await expectCode(write(), 'RESOURCE_DOES_NOT_EXIST');
      }
      await expectCode(models.deleteLoggedModel('m-unknown'), 'RESOURCE_DOES_NOT_EXIST');
      expect((await models.searchLoggedModels({ experimentIds: [experimentId] })).items).toEqual([]);
    });

    it('links metric values runs log to models, once each, NaN included', async () => {
      const experimentId = await newExperiment();
      const run = await tracking.createRun({ experimentId });
      const runId = run.info.runId;
      const model = await models.createLoggedModel({ experimentId });
      const values = [
        metric(model, runId, 'loss', 0.5, { step: 1, timestamp: 2 }),
        metric(model, runId, 'loss', 0.9, { step: 0, timestamp: 1 }),
        metric(model, runId, 'accuracy', Number.NaN, { datasetName: 'eval', datasetDigest: 'e1' }),
      ];
      await models.logLoggedModelMetrics(values);
      await models.logLoggedModelMetrics([values[0]!]);
      expect((await models.getLoggedModel(model.modelId)).metrics).toEqual([values[2], values[1], values[0]]);
      // An unknown model: nothing is linked.
      await expectCode(
        models.logLoggedModelMetrics([
          metric(model, runId, 'x', 1),
          { ...metric(model, runId, 'x', 1), modelId: 'm-nope' },
        ]),
        'RESOURCE_DOES_NOT_EXIST',
        /m-nope/,
      );
      await expectCode(
        models.logLoggedModelMetrics([metric(model, runId, 'bad key/..', 1)]),
        'INVALID_PARAMETER_VALUE',
      );
      expect((await models.getLoggedModel(model.modelId)).metrics.map((m) => m.key)).not.toContain('x');
    });

    describe('searchLoggedModels', () => {
      let experimentId: string;
      let other: string;
      const byName = new Map<string, LoggedModel>();
      beforeAll(async () => {
        experimentId = await newExperiment();
        other = await newExperiment();
        const run = await tracking.createRun({ experimentId });
        const runId = run.info.runId;
        const specs = [
          { name: 'alpha', type: 'Classifier', lr: '0.1', team: 'a', acc: [0.7, 0.9], evalAcc: 0.6 },
          { name: 'beta', type: 'Regressor', lr: '0.2', team: 'b', acc: [0.8], evalAcc: 0.95 },
          { name: 'gamma', type: 'Classifier', lr: '0.1', team: 'b', acc: [Number.NaN], evalAcc: undefined },
          { name: 'delta', type: undefined, lr: undefined, team: undefined, acc: [], evalAcc: undefined },
        ] as const;
        for (const spec of specs) {
          const model = await models.createLoggedModel({
            experimentId,
            name: spec.name,
            ...(spec.type ? { modelType: spec.type } : {}),
            sourceRunId: runId,
            params: spec.lr ? [{ key: 'lr', value: spec.lr }] : [],
            tags: spec.team ? [{ key: 'team', value: spec.team }] : [],
          });
          // Values logged later (by timestamp) are the latest; all of them count in filters.
          await models.logLoggedModelMetrics([
            ...spec.acc.map((value, i) =>
              metric(model, runId, 'accuracy', value, { timestamp: 10 + i, step: i }),
            ),
            ...(spec.evalAcc === undefined
              ? []
              : [
                  metric(model, runId, 'accuracy', spec.evalAcc, {
                    timestamp: 1,
                    datasetName: 'eval',
                    datasetDigest: 'd1',
                  }),
                ]),
          ]);
          byName.set(spec.name, model);
          await new Promise((resolve) => setTimeout(resolve, 3));
        }
        await models.finalizeLoggedModel(byName.get('alpha')!.modelId, 'READY');
        await models.finalizeLoggedModel(byName.get('beta')!.modelId, 'READY');
        await models.createLoggedModel({ experimentId: other, name: 'alpha' });
        const deleted = await models.createLoggedModel({ experimentId, name: 'deleted' });
        await models.deleteLoggedModel(deleted.modelId);
      });

      const names = async (query: Partial<LoggedModelQuery> = {}) =>
        (await models.searchLoggedModels({ experimentIds: [experimentId], ...query })).items.map(
          (m) => m.name,
        );

      it('answers the models of the experiments asked, newest first, deleted ones left out', async () => {
        expect(await names()).toEqual(['delta', 'gamma', 'beta', 'alpha']);
        expect(
          (await models.searchLoggedModels({ experimentIds: [experimentId, other] })).items,
        ).toHaveLength(5);
        expect(await names({ experimentIds: [] })).toEqual([]);
        const [first] = (await models.searchLoggedModels({ experimentIds: [experimentId] })).items;
        expect(first).toEqual(await models.getLoggedModel(byName.get('delta')!.modelId));
      });

      it('filters on attributes, params, tags and metrics (any linked value), as MLflow 3', async () => {
        const filtered = (filter: string, more: Partial<LoggedModelQuery> = {}) =>
          names({ filter, orderBy: [{ field: 'name', ascending: true }], ...more });
        expect(await filtered("name = 'alpha'")).toEqual(['alpha']);
        expect(await filtered("attributes.name LIKE '%a%'")).toEqual(['alpha', 'beta', 'delta', 'gamma']);
        expect(await filtered("model_type = 'Classifier'")).toEqual(['alpha', 'gamma']);
        expect(await filtered("status = 'READY'")).toEqual(['alpha', 'beta']);
        expect(await filtered("status != 'READY'")).toEqual(['delta', 'gamma']);
        expect(await filtered(`model_id = '${byName.get('beta')!.modelId}'`)).toEqual(['beta']);
        expect(await filtered(`source_run_id = '${byName.get('beta')!.sourceRunId}'`)).toHaveLength(4);
        expect(await filtered("params.lr = '0.1'")).toEqual(['alpha', 'gamma']);
        expect(await filtered("tags.team IN ('b', 'c')")).toEqual(['beta', 'gamma']);
        expect(await filtered("tags.team NOT IN ('b')")).toEqual(['alpha']);
        // Any value counts: alpha's earlier 0.9 as well as its latest.
        expect(await filtered('metrics.accuracy > 0.85')).toEqual(['alpha', 'beta']);
        expect(await filtered("metrics.accuracy >= 0.8 AND params.lr = '0.2'")).toEqual(['beta']);
        // On a dataset only.
        expect(await filtered('metrics.accuracy > 0.85', { datasets: [{ name: 'eval' }] })).toEqual(['beta']);
        expect(
          await filtered('metrics.accuracy > 0', { datasets: [{ name: 'eval', digest: 'other' }] }),
        ).toEqual([]);
        // Datasets without a metric filter: the models with metrics on them.
        expect(await filtered('', { datasets: [{ name: 'eval' }] })).toEqual(['alpha', 'beta']);
        const created = byName.get('gamma')!.creationTimestamp;
        expect(await filtered(`creation_timestamp >= ${created}`)).toEqual(['delta', 'gamma']);
        expect(await filtered(`creation_time >= ${created}`)).toEqual(['delta', 'gamma']);
      });

      it('orders by attributes and by the latest value of a metric, missing last', async () => {
        expect(await names({ orderBy: [{ field: 'name', ascending: false }] })).toEqual([
          'gamma',
          'delta',
          'beta',
          'alpha',
        ]);
        expect(await names({ orderBy: [{ field: 'creation_time', ascending: true }] })).toEqual([
          'alpha',
          'beta',
          'gamma',
          'delta',
        ]);
        // The latest by timestamp: alpha 0.9, beta 0.8 (its 0.95 on eval is older), gamma NaN, delta none.
        expect(await names({ orderBy: [{ field: 'metrics.accuracy', ascending: false }] })).toEqual([
          'alpha',
          'beta',
          'gamma',
          'delta',
        ]);
        expect(await names({ orderBy: [{ field: 'metrics.accuracy', ascending: true }] })).toEqual([
          'beta',
          'alpha',
          'gamma',
          'delta',
        ]);
        expect(
          await names({ orderBy: [{ field: 'metrics.accuracy', ascending: false, datasetName: 'eval' }] }),
        ).toEqual(['beta', 'alpha', 'delta', 'gamma']);
        expect(
          await names({
            orderBy: [
              { field: 'model_type', ascending: true },
              { field: 'name', ascending: true },
            ],
          }),
        ).toEqual(['alpha', 'gamma', 'beta', 'delta']);
      });

      it('pages with opaque tokens', async () => {
        const seen: string[] = [];
        let pageToken: string | undefined;
        let pages = 0;
        do {
          const page = await models.searchLoggedModels({
            experimentIds: [experimentId],
            maxResults: 3,
            ...(pageToken ? { pageToken } : {}),
          });
          seen.push(...page.items.map((m) => m.name));
          pageToken = page.nextPageToken ?? undefined;
          pages += 1;
        } while (pageToken);
        expect(pages).toBe(2);
        expect(seen).toEqual(['delta', 'gamma', 'beta', 'alpha']);
      });

      it('refuses malformed filters, orderings, experiment ids and paging', async () => {
        const refused = (query: Partial<LoggedModelQuery>, message?: RegExp) =>
          expectCode(
            models.searchLoggedModels({ experimentIds: [experimentId], ...query }),
            'INVALID_PARAMETER_VALUE',
            message,
          );
        await refused({ filter: "experiment = '1'" }, /Invalid attribute 'experiment'/);
        await refused({ filter: "datasets.name = 'x'" }, /only supported when searching runs/);
        await refused({ filter: "metrics.accuracy = 'high'" });
        await refused({ filter: 'params.lr > 1' });
        await refused(
          { orderBy: [{ field: 'params.lr', ascending: true }] },
          /ordering logged models by params/,
        );
        await refused({ orderBy: [{ field: 'size', ascending: true }] });
        await refused({ orderBy: [{ field: 'name', ascending: true, datasetName: 'eval' }] }, /metrics only/);
        await refused({ datasets: [{ name: '' }] }, /dataset_name/);
        await refused({ maxResults: 1_001 });
        await refused({ pageToken: 'nope' });
        await expectCode(
          models.searchLoggedModels({ experimentIds: ['one'] }),
          'INVALID_PARAMETER_VALUE',
          /experiment id/,
        );
      });
    });

    it("records a run's model inputs and outputs, each once, in the order logged", async () => {
      const experimentId = await newExperiment();
      const run = await tracking.createRun({ experimentId });
      const runId = run.info.runId;
      const [a, b] = [
        await models.createLoggedModel({ experimentId }),
        await models.createLoggedModel({ experimentId }),
      ];
      expect((await tracking.getRun(runId)).outputs).toEqual({ modelOutputs: [] });
      await tracking.logOutputs(runId, [
        { modelId: a!.modelId, step: 3 },
        { modelId: b!.modelId, step: 0 },
      ]);
      await tracking.logOutputs(runId, [{ modelId: a!.modelId, step: 9 }]);
      await tracking.logInputs(runId, [], [{ modelId: b!.modelId }]);
      await tracking.logInputs(runId, [], [{ modelId: b!.modelId }]);
      const fetched = await tracking.getRun(runId);
      expect(fetched.outputs.modelOutputs).toEqual([
        { modelId: a!.modelId, step: 3 },
        { modelId: b!.modelId, step: 0 },
      ]);
      expect(fetched.inputs.modelInputs).toEqual([{ modelId: b!.modelId }]);
      expect((await tracking.searchRuns({ experimentIds: [experimentId] })).items[0]).toEqual(fetched);
      await expectCode(tracking.logOutputs(runId, [{ modelId: '', step: 0 }]), 'INVALID_PARAMETER_VALUE');
      await expectCode(
        tracking.logOutputs(runId, [{ modelId: 'm-x', step: 1.5 }]),
        'INVALID_PARAMETER_VALUE',
      );
      await tracking.deleteRun(runId);
      await expectCode(
        tracking.logOutputs(runId, [{ modelId: a!.modelId, step: 0 }]),
        'INVALID_PARAMETER_VALUE',
        /active/,
      );
      await expectCode(tracking.logOutputs('f'.repeat(32), []), 'RESOURCE_DOES_NOT_EXIST');
    });
  });
}

/**
 * The RegistryStore contract: every backend runs this suite (see `tracking-store.sqlite.test.ts` and
 * `tracking-store.postgres.test.ts`). One store is opened per suite; tests use unique model names.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelVersion } from '../../src/tracking/entities.js';
import type { RegistryStore } from '../../src/tracking/registry-store.js';
import { expectCode, type OpenedStores, unique } from './tracking-store.contract.js';

const CHECKSUM = 'ab'.repeat(32);
/** A version stored as one file with that sha256. */
const ONE_FILE = { storageLocation: 'm/model.json', files: [{ path: '', size: 10, sha256: CHECKSUM }] };

export function describeRegistryStoreContract(name: string, open: () => Promise<OpenedStores>): void {
  describe(`RegistryStore contract: ${name}`, () => {
    let stores: OpenedStores;
    let registry: RegistryStore;

    beforeAll(async () => {
      stores = await open();
      registry = stores.registry;
    });

    afterAll(async () => {
      await stores?.close();
    });

    async function modelWithVersions(count: number, prefix = 'model'): Promise<string> {
      const { name: model } = await registry.createRegisteredModel({ name: unique(prefix) });
      for (let i = 0; i < count; i++) {
        await registry.createModelVersion({ name: model, source: `runs:/r${i}/model`, ...ONE_FILE });
      }
      return model;
    }

    const versions = (list: readonly ModelVersion[]) => list.map((v) => [v.version, v.currentStage]);

    it('creates, reads, updates and tags registered models; names are unique', async () => {
      const model = unique('reg');
      const created = await registry.createRegisteredModel({
        name: model,
        description: 'parkinson',
        tags: [{ key: 'owner', value: 'ml' }],
      });
      expect(created).toEqual({
        name: model,
        creationTimestamp: created.creationTimestamp,
        lastUpdatedTimestamp: created.lastUpdatedTimestamp,
        description: 'parkinson',
        tags: [{ key: 'owner', value: 'ml' }],
        latestVersions: [],
        aliases: [],
      });
      expect(Math.abs(created.creationTimestamp - Date.now())).toBeLessThan(60_000);
      expect(await registry.getRegisteredModel(model)).toEqual(created);
      await expectCode(
        registry.createRegisteredModel({ name: model }),
        'RESOURCE_ALREADY_EXISTS',
        /already exists/,
      );
      await expectCode(registry.createRegisteredModel({ name: '' }), 'INVALID_PARAMETER_VALUE');
      const updated = await registry.updateRegisteredModel(model, 'new description');
      expect(updated.description).toBe('new description');
      await registry.setRegisteredModelTag(model, { key: 'owner', value: 'ops' });
      await registry.setRegisteredModelTag(model, { key: 'tier', value: '1' });
      expect((await registry.getRegisteredModel(model)).tags).toEqual([
        { key: 'owner', value: 'ops' },
        { key: 'tier', value: '1' },
      ]);
      await expectCode(registry.getRegisteredModel(unique('missing')), 'RESOURCE_DOES_NOT_EXIST');
      await expectCode(registry.updateRegisteredModel(unique('missing'), 'x'), 'RESOURCE_DOES_NOT_EXIST');
      await expectCode(
        registry.setRegisteredModelTag(unique('missing'), { key: 'a', value: 'b' }),
        'RESOURCE_DOES_NOT_EXIST',
      );
      await expectCode(
        registry.setRegisteredModelTag(model, { key: '', value: 'b' }),
        'INVALID_PARAMETER_VALUE',
      );
    });

    it('numbers versions from 1 per model and keeps source, run, checksum, metrics and tags', async () => {
      const model = (await registry.createRegisteredModel({ name: unique('versions') })).name;
      const first = await registry.createModelVersion({
        name: model,
        source: 'runs:/0123456789abcdef0123456789abcdef/model/model.json',
        runId: '0123456789abcdef0123456789abcdef',
        description: 'first',
        tags: [{ key: 'algo', value: 'gbdt' }],
        ...ONE_FILE,
        metrics: {
          roc_auc: 0.91,
          nan: Number.NaN,
          inf: Number.POSITIVE_INFINITY,
          ninf: Number.NEGATIVE_INFINITY,
        },
        userId: 'ada',
      });
      expect(first).toEqual({
        name: model,
        version: '1',
        creationTimestamp: first.creationTimestamp,
        lastUpdatedTimestamp: first.lastUpdatedTimestamp,
        description: 'first',
        userId: 'ada',
        currentStage: 'None',
        source: 'runs:/0123456789abcdef0123456789abcdef/model/model.json',
        storageLocation: 'm/model.json',
        runId: '0123456789abcdef0123456789abcdef',
        status: 'READY',
        tags: [{ key: 'algo', value: 'gbdt' }],
        aliases: [],
        checksum: CHECKSUM,
        metrics: {
          roc_auc: 0.91,
          nan: Number.NaN,
          inf: Number.POSITIVE_INFINITY,
          ninf: Number.NEGATIVE_INFINITY,
        },
      });
      const second = await registry.createModelVersion({
        name: model,
        source: 's3://b/m',
        storageLocation: null,
        files: null,
      });
      expect(second).toMatchObject({
        version: '2',
        runId: null,
        metrics: {},
        description: '',
        tags: [],
        storageLocation: null,
        checksum: null,
      });
      expect(await registry.getModelVersion(model, '1')).toEqual(first);
      const other = await modelWithVersions(1);
      expect((await registry.getModelVersion(other, '1')).version).toBe('1');
      await expectCode(
        registry.createModelVersion({ name: unique('missing'), source: 's', ...ONE_FILE }),
        'RESOURCE_DOES_NOT_EXIST',
      );
      await expectCode(
        registry.createModelVersion({
          name: model,
          source: 's',
          storageLocation: 's',
          files: [{ path: '', size: 1, sha256: 'abc' }],
        }),
        'INVALID_PARAMETER_VALUE',
        /sha256/,
      );
      await expectCode(
        registry.createModelVersion({ name: model, source: '', ...ONE_FILE }),
        'INVALID_PARAMETER_VALUE',
      );
      await expectCode(registry.getModelVersion(model, '3'), 'RESOURCE_DOES_NOT_EXIST');
      await expectCode(registry.getModelVersion(model, 'one'), 'INVALID_PARAMETER_VALUE');
      await expectCode(registry.getModelVersion(unique('missing'), '1'), 'RESOURCE_DOES_NOT_EXIST');
    });

    it('updates and tags versions', async () => {
      const model = await modelWithVersions(1);
      expect((await registry.updateModelVersion(model, '1', 'better')).description).toBe('better');
      await registry.setModelVersionTag(model, '1', { key: 'validated', value: 'yes' });
      await registry.setModelVersionTag(model, '1', { key: 'validated', value: 'no' });
      expect((await registry.getModelVersion(model, '1')).tags).toEqual([{ key: 'validated', value: 'no' }]);
      await expectCode(registry.updateModelVersion(model, '9', 'x'), 'RESOURCE_DOES_NOT_EXIST');
      await expectCode(
        registry.setModelVersionTag(model, '9', { key: 'a', value: 'b' }),
        'RESOURCE_DOES_NOT_EXIST',
      );
    });

    it("deletes tags of models and versions; a tag they do not have is no error (MLflow's rule)", async () => {
      const model = await modelWithVersions(2, 'delete-tags');
      await registry.setRegisteredModelTag(model, { key: 'keep', value: '1' });
      await registry.setRegisteredModelTag(model, { key: 'drop', value: '2' });
      await registry.setModelVersionTag(model, '1', { key: 'drop', value: 'a' });
      await registry.setModelVersionTag(model, '1', { key: 'keep', value: 'b' });
      await registry.setModelVersionTag(model, '2', { key: 'drop', value: 'c' });
      const before = (await registry.getRegisteredModel(model)).lastUpdatedTimestamp;
      await registry.deleteRegisteredModelTag(model, 'drop');
      await registry.deleteRegisteredModelTag(model, 'drop');
      await registry.deleteRegisteredModelTag(model, 'never-set');
      const after = await registry.getRegisteredModel(model);
      expect(after.tags).toEqual([{ key: 'keep', value: '1' }]);
      expect(after.lastUpdatedTimestamp).toBeGreaterThanOrEqual(before);
      await registry.deleteModelVersionTag(model, '1', 'drop');
      await registry.deleteModelVersionTag(model, '1', 'drop');
      expect((await registry.getModelVersion(model, '1')).tags).toEqual([{ key: 'keep', value: 'b' }]);
      // Only that version's tag goes.
      expect((await registry.getModelVersion(model, '2')).tags).toEqual([{ key: 'drop', value: 'c' }]);
      await expectCode(
        registry.deleteRegisteredModelTag(unique('missing'), 'keep'),
        'RESOURCE_DOES_NOT_EXIST',
        /Registered Model with name=.+ not found/,
      );
      await expectCode(
        registry.deleteModelVersionTag(model, '9', 'keep'),
        'RESOURCE_DOES_NOT_EXIST',
        /Model Version \(name=.+, version=9\) not found/,
      );
      await expectCode(
        registry.deleteModelVersionTag(unique('missing'), '1', 'k'),
        'RESOURCE_DOES_NOT_EXIST',
      );
      await expectCode(
        registry.deleteModelVersionTag(model, 'one', 'keep'),
        'INVALID_PARAMETER_VALUE',
        /Model version must be an integer/,
      );
      await expectCode(registry.deleteRegisteredModelTag(model, ''), 'INVALID_PARAMETER_VALUE');
      await expectCode(registry.deleteModelVersionTag(model, '1', '../x'), 'INVALID_PARAMETER_VALUE');
    });

    it("answers in MLflow's words where MLflow's clients and tests read them", async () => {
      const model = await modelWithVersions(1, 'words');
      await expectCode(
        registry.createRegisteredModel({ name: model }),
        'RESOURCE_ALREADY_EXISTS',
        new RegExp(`^Registered Model \\(name=${model}\\) already exists`),
      );
      await expectCode(
        registry.getRegisteredModel(`${model}-x`),
        'RESOURCE_DOES_NOT_EXIST',
        new RegExp(`^Registered Model with name=${model}-x not found`),
      );
      await expectCode(
        registry.getModelVersion(model, '7'),
        'RESOURCE_DOES_NOT_EXIST',
        new RegExp(`^Model Version \\(name=${model}, version=7\\) not found`),
      );
      await expectCode(
        registry.getModelVersion(model, 'something not correct'),
        'INVALID_PARAMETER_VALUE',
        /^Model version must be an integer/,
      );
    });

    it('moves versions between stages, archiving the others on request, and records the history', async () => {
      const model = await modelWithVersions(3, 'stages');
      const staged = await registry.transitionModelVersionStage({
        name: model,
        version: '1',
        stage: 'Staging',
        archiveExistingVersions: false,
        user: 'ada',
        reason: 'validation',
      });
      expect(staged.currentStage).toBe('Staging');
      await registry.transitionModelVersionStage({
        name: model,
        version: '1',
        stage: 'Production',
        archiveExistingVersions: false,
      });
      await registry.transitionModelVersionStage({
        name: model,
        version: '2',
        stage: 'production' as never,
        archiveExistingVersions: false,
      });
      const byVersion = { filter: `name = '${model}'`, orderBy: ['version_number DESC'] };
      expect(versions((await registry.searchModelVersions(byVersion)).items)).toEqual([
        ['3', 'None'],
        ['2', 'Production'],
        ['1', 'Production'],
      ]);
      const promoted = await registry.transitionModelVersionStage({
        name: model,
        version: '3',
        stage: 'Production',
        archiveExistingVersions: true,
        user: 'bob',
        reason: 'better auc',
      });
      expect(promoted.currentStage).toBe('Production');
      expect((await registry.getModelVersion(model, '1')).currentStage).toBe('Archived');
      expect((await registry.getModelVersion(model, '2')).currentStage).toBe('Archived');

      const history = await registry.getStageHistory(model);
      expect(history.map((t) => [t.version, t.fromStage, t.toStage, t.user])).toEqual([
        ['1', 'None', 'Staging', 'ada'],
        ['1', 'Staging', 'Production', ''],
        ['2', 'None', 'Production', ''],
        ['3', 'None', 'Production', 'bob'],
        ['1', 'Production', 'Archived', 'bob'],
        ['2', 'Production', 'Archived', 'bob'],
      ]);
      expect(history[0]).toMatchObject({ name: model, reason: 'validation' });
      expect(history[3]?.reason).toBe('better auc');
      expect(history[4]?.reason).toMatch(/version 3/);
      for (const transition of history)
        expect(Math.abs(transition.timestamp - Date.now())).toBeLessThan(60_000);
      expect((await registry.getStageHistory(model, '1')).map((t) => t.toStage)).toEqual([
        'Staging',
        'Production',
        'Archived',
      ]);
      await expectCode(registry.getStageHistory(model, '9'), 'RESOURCE_DOES_NOT_EXIST');
      await expectCode(registry.getStageHistory(unique('missing')), 'RESOURCE_DOES_NOT_EXIST');
      await expectCode(
        registry.transitionModelVersionStage({
          name: model,
          version: '1',
          stage: 'Archived',
          archiveExistingVersions: true,
        }),
        'INVALID_PARAMETER_VALUE',
        /Staging and Production/,
      );
      await expectCode(
        registry.transitionModelVersionStage({
          name: model,
          version: '1',
          stage: 'Live' as never,
          archiveExistingVersions: false,
        }),
        'INVALID_PARAMETER_VALUE',
        /None, Staging, Production, Archived/,
      );
      await expectCode(
        registry.transitionModelVersionStage({
          name: model,
          version: '7',
          stage: 'Staging',
          archiveExistingVersions: false,
        }),
        'RESOURCE_DOES_NOT_EXIST',
      );
    });

    it('reports the latest version per stage', async () => {
      const model = await modelWithVersions(5, 'latest');
      const move = (version: string, stage: 'Staging' | 'Production' | 'Archived') =>
        registry.transitionModelVersionStage({ name: model, version, stage, archiveExistingVersions: false });
      await move('1', 'Production');
      await move('2', 'Production');
      await move('3', 'Staging');
      await move('4', 'Archived');
      // In MLflow's order: by the oldest version in each stage (its walk over the versions meets them so).
      expect(versions(await registry.getLatestVersions(model))).toEqual([
        ['2', 'Production'],
        ['3', 'Staging'],
        ['4', 'Archived'],
        ['5', 'None'],
      ]);
      expect(versions(await registry.getLatestVersions(model, ['Production', 'Staging']))).toEqual([
        ['2', 'Production'],
        ['3', 'Staging'],
      ]);
      expect(versions((await registry.getRegisteredModel(model)).latestVersions)).toEqual([
        ['2', 'Production'],
        ['3', 'Staging'],
        ['4', 'Archived'],
        ['5', 'None'],
      ]);
      await expectCode(registry.getLatestVersions(unique('missing')), 'RESOURCE_DOES_NOT_EXIST');
      await expectCode(registry.getLatestVersions(model, ['Gold' as never]), 'INVALID_PARAMETER_VALUE');
    });

    it('sets, moves, reads and deletes aliases; a deleted version loses its aliases', async () => {
      const model = await modelWithVersions(3, 'alias');
      await registry.setAlias(model, 'stable', '1');
      await registry.setAlias(model, 'challenger', '2');
      expect((await registry.getModelVersionByAlias(model, 'stable')).version).toBe('1');
      expect((await registry.getModelVersion(model, '1')).aliases).toEqual(['stable']);
      await registry.setAlias(model, 'stable', '2');
      expect((await registry.getModelVersionByAlias(model, 'stable')).version).toBe('2');
      expect((await registry.getModelVersion(model, '1')).aliases).toEqual([]);
      expect((await registry.getModelVersion(model, '2')).aliases).toEqual(['challenger', 'stable']);
      expect((await registry.getRegisteredModel(model)).aliases).toEqual([
        { alias: 'challenger', version: '2' },
        { alias: 'stable', version: '2' },
      ]);
      await registry.deleteAlias(model, 'challenger');
      // A missing alias is INVALID_PARAMETER_VALUE, with MLflow's words; deleting one again is no error.
      await expectCode(
        registry.getModelVersionByAlias(model, 'challenger'),
        'INVALID_PARAMETER_VALUE',
        /Registered model alias challenger not found/,
      );
      await registry.deleteAlias(model, 'challenger');
      await expectCode(registry.deleteAlias(unique('missing'), 'challenger'), 'RESOURCE_DOES_NOT_EXIST');
      await expectCode(registry.deleteAlias(model, 'has space'), 'INVALID_PARAMETER_VALUE');
      await registry.deleteModelVersion(model, '2');
      await expectCode(registry.getModelVersionByAlias(model, 'stable'), 'INVALID_PARAMETER_VALUE');
      expect((await registry.getRegisteredModel(model)).aliases).toEqual([]);
      await expectCode(registry.setAlias(model, 'stable', '2'), 'RESOURCE_DOES_NOT_EXIST');
      await expectCode(registry.setAlias(model, 'latest', '1'), 'INVALID_PARAMETER_VALUE', /reserved/);
      await expectCode(registry.setAlias(model, 'v3', '1'), 'INVALID_PARAMETER_VALUE');
      await expectCode(registry.setAlias(model, 'has space', '1'), 'INVALID_PARAMETER_VALUE');
      await expectCode(registry.setAlias(unique('missing'), 'a', '1'), 'RESOURCE_DOES_NOT_EXIST');
      await expectCode(registry.getModelVersionByAlias(unique('missing'), 'a'), 'INVALID_PARAMETER_VALUE');
    });

    it('keeps the champion alias on the Production version, whatever moves it', async () => {
      const model = await modelWithVersions(3, 'champion');
      const move = (version: string, stage: 'Staging' | 'Production' | 'Archived', archive = false) =>
        registry.transitionModelVersionStage({
          name: model,
          version,
          stage,
          archiveExistingVersions: archive,
        });
      const champion = async () => {
        try {
          return (await registry.getModelVersionByAlias(model, 'champion')).version;
        } catch {
          return null;
        }
      };
      await move('1', 'Production');
      expect(await champion()).toBe('1');
      // Several in Production only when asked: the champion is the newest there, as models:/NAME/Production.
      await move('2', 'Production');
      expect(await champion()).toBe('2');
      await move('2', 'Archived');
      expect(await champion()).toBe('1');
      // Already there: nothing moves and no transition is recorded.
      const recorded = (await registry.getStageHistory(model)).length;
      expect((await move('1', 'Production')).currentStage).toBe('Production');
      expect(await registry.getStageHistory(model)).toHaveLength(recorded);

      // Set directly, it is a plain alias, as in MLflow; the next move into or out of Production puts it back.
      await registry.setAlias(model, 'champion', '3');
      expect((await registry.getModelVersion(model, '3')).currentStage).toBe('None');
      await move('3', 'Production', true);
      expect(await champion()).toBe('3');
      expect((await registry.getModelVersion(model, '1')).currentStage).toBe('Archived');

      // Leaving Production takes the alias with it.
      await move('3', 'Staging');
      expect(await champion()).toBeNull();
      await move('3', 'Production');
      await move('1', 'Production');
      expect(await champion()).toBe('3');
      await registry.deleteModelVersion(model, '3');
      expect(await champion()).toBe('1');
    });

    it('deletes versions without reusing their numbers', async () => {
      const model = await modelWithVersions(3, 'delete-version');
      await registry.setModelVersionTag(model, '3', { key: 'k', value: 'v' });
      await registry.deleteModelVersion(model, '3');
      await expectCode(registry.getModelVersion(model, '3'), 'RESOURCE_DOES_NOT_EXIST');
      const next = await registry.createModelVersion({ name: model, source: 's', ...ONE_FILE });
      expect(next.version).toBe('4');
      expect(next.tags).toEqual([]);
      await expectCode(registry.deleteModelVersion(model, '3'), 'RESOURCE_DOES_NOT_EXIST');
    });

    it('renames a model, cascading to versions, tags, aliases and history', async () => {
      const model = await modelWithVersions(2, 'rename');
      await registry.setRegisteredModelTag(model, { key: 'team', value: 'a' });
      await registry.setModelVersionTag(model, '2', { key: 'k', value: 'v' });
      await registry.setAlias(model, 'champion', '2');
      await registry.transitionModelVersionStage({
        name: model,
        version: '2',
        stage: 'Production',
        archiveExistingVersions: true,
      });
      const renamedName = unique('renamed');
      const renamed = await registry.renameRegisteredModel(model, renamedName);
      expect(renamed.name).toBe(renamedName);
      expect(renamed.tags).toEqual([{ key: 'team', value: 'a' }]);
      expect(renamed.aliases).toEqual([{ alias: 'champion', version: '2' }]);
      expect(versions(renamed.latestVersions)).toEqual([
        ['1', 'None'],
        ['2', 'Production'],
      ]);
      const version = await registry.getModelVersionByAlias(renamedName, 'champion');
      expect(version).toMatchObject({ name: renamedName, version: '2', tags: [{ key: 'k', value: 'v' }] });
      expect((await registry.getStageHistory(renamedName, '2')).map((t) => t.name)).toEqual([renamedName]);
      await expectCode(registry.getRegisteredModel(model), 'RESOURCE_DOES_NOT_EXIST');
      expect((await registry.searchModelVersions({ filter: `name = '${model}'` })).items).toEqual([]);
      expect(
        (await registry.createModelVersion({ name: renamedName, source: 's', ...ONE_FILE })).version,
      ).toBe('3');
      const taken = await modelWithVersions(0, 'taken');
      await expectCode(registry.renameRegisteredModel(renamedName, taken), 'RESOURCE_ALREADY_EXISTS');
      await expectCode(
        registry.renameRegisteredModel(unique('missing'), unique('x')),
        'RESOURCE_DOES_NOT_EXIST',
      );
    });

    it('deletes a model with its versions, tags and aliases', async () => {
      const model = await modelWithVersions(2, 'delete');
      await registry.setAlias(model, 'champion', '1');
      await registry.deleteRegisteredModel(model);
      await expectCode(registry.getRegisteredModel(model), 'RESOURCE_DOES_NOT_EXIST');
      await expectCode(registry.getModelVersion(model, '1'), 'RESOURCE_DOES_NOT_EXIST');
      expect((await registry.searchModelVersions({ filter: `name = '${model}'` })).items).toEqual([]);
      await expectCode(registry.deleteRegisteredModel(model), 'RESOURCE_DOES_NOT_EXIST');
      // The name is free again, and versions start over.
      await registry.createRegisteredModel({ name: model });
      expect((await registry.createModelVersion({ name: model, source: 's', ...ONE_FILE })).version).toBe(
        '1',
      );
    });

    it('searches registered models by name and tags, with order and paging', async () => {
      const prefix = unique('find');
      for (const [index, suffix] of ['b', 'a', 'C', 'd'].entries()) {
        await registry.createRegisteredModel({
          name: `${prefix}-${suffix}`,
          tags: [{ key: 'parity', value: index % 2 === 0 ? 'even' : 'odd' }],
        });
      }
      const names = async (query: Parameters<RegistryStore['searchRegisteredModels']>[0]) =>
        (await registry.searchRegisteredModels(query)).items.map((model) =>
          model.name.slice(prefix.length + 1),
        );
      expect(await names({ filter: `name LIKE '${prefix}-%'` })).toEqual(['C', 'a', 'b', 'd']);
      expect(await names({ filter: `name LIKE '${prefix}-c'` })).toEqual([]);
      expect(await names({ filter: `name ILIKE '${prefix}-c'` })).toEqual(['C']);
      expect(await names({ filter: `name = '${prefix}-a'` })).toEqual(['a']);
      expect(await names({ filter: `name != '${prefix}-a' AND name LIKE '${prefix}%'` })).toEqual([
        'C',
        'b',
        'd',
      ]);
      expect(await names({ filter: `name LIKE '${prefix}%' AND tags.parity = 'odd'` })).toEqual(['a', 'd']);
      expect(await names({ filter: `name LIKE '${prefix}%'`, orderBy: ['name DESC'] })).toEqual([
        'd',
        'b',
        'a',
        'C',
      ]);
      expect(
        await names({ filter: `name LIKE '${prefix}%'`, orderBy: ['creation_timestamp DESC'] }),
      ).toHaveLength(4);
      const first = await registry.searchRegisteredModels({
        filter: `name LIKE '${prefix}%'`,
        maxResults: 3,
      });
      expect(first.items).toHaveLength(3);
      expect(first.nextPageToken).not.toBeNull();
      const second = await registry.searchRegisteredModels({
        filter: `name LIKE '${prefix}%'`,
        maxResults: 3,
        pageToken: first.nextPageToken!,
      });
      expect(second.items.map((model) => model.name)).toEqual([`${prefix}-d`]);
      expect(second.nextPageToken).toBeNull();
      await expectCode(registry.searchRegisteredModels({ maxResults: 1_001 }), 'INVALID_PARAMETER_VALUE');
      await expectCode(registry.searchRegisteredModels({ pageToken: '!!' }), 'INVALID_PARAMETER_VALUE');
      await expectCode(
        registry.searchRegisteredModels({ filter: 'metrics.x > 1' }),
        'INVALID_PARAMETER_VALUE',
      );
    });

    it('records a manifest of every file of a version, and its digest as the checksum', async () => {
      const model = (await registry.createRegisteredModel({ name: unique('manifest') })).name;
      const files = [
        { path: 'model.json', size: 120, sha256: 'cd'.repeat(32) },
        { path: 'MLmodel', size: 300, sha256: 'ab'.repeat(32) },
        { path: 'data/xgboost.json', size: 4096, sha256: 'ef'.repeat(32) },
      ];
      const version = await registry.createModelVersion({
        name: model,
        source: 'mlflow-artifacts:/1/r/artifacts/model',
        storageLocation: '1/r/artifacts/model',
        files,
      });
      expect(version.storageLocation).toBe('1/r/artifacts/model');
      // sha256sum format, sorted by path (byte order).
      const lines = [files[1]!, files[2]!, files[0]!]
        .map((file) => `${file.sha256}  ${file.path}\n`)
        .join('');
      expect(version.checksum).toBe(createHash('sha256').update(lines).digest('hex'));
      expect(await registry.getModelFiles(model, '1')).toEqual([files[1], files[2], files[0]]);

      // The manifest follows the model when it is renamed, and goes with the version.
      const renamed = unique('manifest-renamed');
      await registry.renameRegisteredModel(model, renamed);
      expect(await registry.getModelFiles(renamed, '1')).toHaveLength(3);
      await registry.deleteModelVersion(renamed, '1');
      await expectCode(registry.getModelFiles(renamed, '1'), 'RESOURCE_DOES_NOT_EXIST');

      for (const bad of [
        [{ path: '../x', size: 1, sha256: CHECKSUM }],
        [{ path: 'a//b', size: 1, sha256: CHECKSUM }],
        [
          { path: 'a', size: 1, sha256: CHECKSUM },
          { path: 'a', size: 2, sha256: CHECKSUM },
        ],
        [{ path: 'a', size: -1, sha256: CHECKSUM }],
        [{ path: 'a', size: 1, sha256: 'AB'.repeat(32) }],
        [],
      ]) {
        await expectCode(
          registry.createModelVersion({ name: renamed, source: 's', storageLocation: 's', files: bad }),
          'INVALID_PARAMETER_VALUE',
        );
      }
      expect((await registry.searchModelVersions({ filter: `name = '${renamed}'` })).items).toEqual([]);
    });

    it('finds the versions whose files a deletion would touch', async () => {
      const model = (await registry.createRegisteredModel({ name: unique('stored-at') })).name;
      const file = [{ path: 'model.json', size: 1, sha256: CHECKSUM }];
      await registry.createModelVersion({
        name: model,
        source: 's',
        storageLocation: 'e/r_1/model',
        files: file,
      });
      await registry.createModelVersion({
        name: model,
        source: 's',
        storageLocation: 'e/r%2/model',
        files: null,
      });
      const at = async (path: string) =>
        (await registry.versionsStoredAt(path)).filter((v) => v.name === model).map((v) => v.version);
      expect(await at('e/r_1/model')).toEqual(['1']);
      expect(await at('e/r_1/model/model.json')).toEqual(['1']);
      expect(await at('e')).toEqual(['1', '2']);
      expect(await at('e/r%2')).toEqual(['2']);
      // Neighbours and look-alikes (LIKE's _ and % are plain characters here) are not touched.
      expect(await at('e/r_1/mod')).toEqual([]);
      expect(await at('e/rx1/model')).toEqual([]);
      expect(await at('e/r_1/model2')).toEqual([]);
    });

    it('records the files of a version registered before they existed, once', async () => {
      const model = (await registry.createRegisteredModel({ name: unique('pending') })).name;
      const pending = await registry.createModelVersion({
        name: model,
        source: 'runs:/r/model',
        storageLocation: '1/r/artifacts/model',
        files: null,
      });
      expect(pending.checksum).toBeNull();
      expect(await registry.getModelFiles(model, '1')).toBeNull();
      const first = [{ path: 'model.json', size: 5, sha256: CHECKSUM }];
      const recorded = await registry.recordModelFiles(model, '1', first);
      expect(recorded.checksum).toMatch(/^[0-9a-f]{64}$/);
      // The first record wins: a later one (another reader, changed files) does not replace it.
      const again = await registry.recordModelFiles(model, '1', [
        { path: 'model.json', size: 6, sha256: 'cd'.repeat(32) },
      ]);
      expect(again.checksum).toBe(recorded.checksum);
      expect(await registry.getModelFiles(model, '1')).toEqual(first);

      const elsewhere = await registry.createModelVersion({
        name: model,
        source: 's3://another-bucket/model',
        storageLocation: null,
        files: null,
      });
      await expectCode(
        registry.recordModelFiles(model, elsewhere.version, first),
        'INVALID_PARAMETER_VALUE',
        /not in the artifact store/,
      );
      await expectCode(
        registry.createModelVersion({ name: model, source: 's', storageLocation: null, files: first }),
        'INVALID_PARAMETER_VALUE',
      );
    });

    it('searches model versions by name, run_id, source_path, version and tags', async () => {
      const model = (await registry.createRegisteredModel({ name: unique('mv-search') })).name;
      const runs = ['a'.repeat(32), 'b'.repeat(32), 'c'.repeat(32)];
      for (const [index, runId] of runs.entries()) {
        await registry.createModelVersion({
          name: model,
          source: `runs:/${runId}/model${index === 2 ? '_v2' : ''}`,
          runId,
          ...ONE_FILE,
          tags: index === 1 ? [{ key: 'approved', value: 'true' }] : [],
        });
      }
      const found = async (filter: string, orderBy?: readonly string[]) =>
        (await registry.searchModelVersions({ filter, ...(orderBy ? { orderBy } : {}) })).items.map(
          (v) => v.version,
        );
      expect(await found(`name = '${model}'`)).toEqual(['3', '2', '1']);
      expect(await found(`name = '${model}'`, ['version_number ASC'])).toEqual(['1', '2', '3']);
      expect(await found(`name = '${model}' AND run_id = '${runs[1]}'`)).toEqual(['2']);
      expect(await found(`name = '${model}' AND run_id IN ('${runs[0]}', '${runs[2]}')`)).toEqual(['3', '1']);
      expect(await found(`name = '${model}' AND source_path LIKE '%\\_v2'`)).toEqual(['3']);
      expect(await found(`name = '${model}' AND version_number > 1`)).toEqual(['3', '2']);
      expect(await found(`name = '${model}' AND tags.approved = 'true'`)).toEqual(['2']);
      expect(await found(`name LIKE '${model.toUpperCase()}'`)).toEqual([]);
      expect(await found(`name ILIKE '${model.toUpperCase()}'`)).toEqual(['3', '2', '1']);
      const first = await registry.searchModelVersions({ filter: `name = '${model}'`, maxResults: 2 });
      expect(first.items.map((v) => v.version)).toEqual(['3', '2']);
      const rest = await registry.searchModelVersions({
        filter: `name = '${model}'`,
        maxResults: 2,
        pageToken: first.nextPageToken!,
      });
      expect(rest.items.map((v) => v.version)).toEqual(['1']);
      expect(rest.nextPageToken).toBeNull();
      await expectCode(registry.searchModelVersions({ filter: "name > 'a'" }), 'INVALID_PARAMETER_VALUE');
      await expectCode(registry.searchModelVersions({ maxResults: 0 }), 'INVALID_PARAMETER_VALUE');
      // Without order_by, the last updated first (MLflow's default), then the newest version.
      await new Promise((resolve) => setTimeout(resolve, 5));
      await registry.updateModelVersion(model, '1', 'touched');
      expect(await found(`name = '${model}'`)).toEqual(['1', '3', '2']);
    });
  });
}

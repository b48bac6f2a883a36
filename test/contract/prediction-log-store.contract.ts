/**
 * The PredictionLogStore contract, run against every backend (SQLite and PostgreSQL; see the
 * `tracking-store.*.test.ts` runners). Tests keep apart by logging under their own model names; the
 * retention tests, which count and delete over the whole log, open a store of their own.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEATURE_NAMES } from '../../src/data/schema.js';
import { newPredictionId } from '../../src/monitoring/prediction-log/prediction-id.js';
import {
  type LoggedModel,
  type LoggedPrediction,
  type PredictionLogStore,
  predictionColumns,
} from '../../src/monitoring/prediction-log/prediction-log-store.js';
import { LOGGED_FEATURES_0001 } from '../../src/monitoring/prediction-log/sql/migrations.js';
import { expectCode, type OpenedStores, unique } from './tracking-store.contract.js';

const T0 = Date.UTC(2026, 0, 1);

/** A registered model's version, under a name no other test uses. */
function model(version = '1'): LoggedModel {
  return {
    name: unique('model'),
    version,
    runId: 'a'.repeat(32),
    uri: 'models:/m/Production',
    checksum: 'c'.repeat(64),
  };
}

/** A prediction of `of`, made at `timestamp`, with features that say which one it is. */
function prediction(
  of: LoggedModel,
  timestamp: number,
  overrides: Partial<LoggedPrediction> = {},
): LoggedPrediction {
  const features = Float64Array.from(FEATURE_NAMES, (_, j) => j + (timestamp - T0) / 1000);
  const probability = ((timestamp - T0) % 997) / 997;
  return {
    predictionId: newPredictionId(timestamp),
    timestamp,
    model: of,
    features,
    probability,
    diagnosis: probability >= 0.5 ? 1 : 0,
    latencyMs: 0.25,
    source: 'http',
    patientKey: null,
    ...overrides,
  };
}

/** Predictions of `of` one second apart from T0 + `start` s. */
function series(of: LoggedModel, count: number, start = 0): LoggedPrediction[] {
  return Array.from({ length: count }, (_, i) => prediction(of, T0 + (start + i) * 1000));
}

export function describePredictionLogStoreContract(name: string, open: () => Promise<OpenedStores>): void {
  describe(`PredictionLogStore contract: ${name}`, () => {
    let stores: OpenedStores;
    let store: PredictionLogStore;
    beforeAll(async () => {
      stores = await open();
      store = stores.predictionLog;
    });
    afterAll(async () => {
      await stores?.close();
    });

    it('has a column for each feature of the schema (a new feature needs a new migration)', () => {
      expect([...LOGGED_FEATURES_0001]).toEqual([...FEATURE_NAMES]);
    });

    it('appends predictions and reads them back as they were, a missing value as NaN', async () => {
      const registered = model();
      const file: LoggedModel = {
        name: null,
        version: null,
        runId: null,
        uri: '/models/gbdt.json',
        checksum: 'f'.repeat(64),
      };
      const features = Float64Array.from(FEATURE_NAMES, (_, j) => (j === 4 ? Number.NaN : j * 1.5 + 0.125));
      const logged = [
        prediction(registered, T0, { patientKey: 'k'.repeat(64), source: 'http_batch', latencyMs: 1.75 }),
        prediction(file, T0 + 1, { features, probability: 0.123456789012345, diagnosis: 0, source: 'cli' }),
      ];
      await store.appendPredictions(predictionColumns(logged));
      expect(await store.getPrediction(logged[0]!.predictionId)).toEqual(logged[0]);
      const read = await store.getPrediction(logged[1]!.predictionId);
      expect(read).toEqual(logged[1]);
      expect(Number.isNaN(read.features[4])).toBe(true);
      expect(read.model).toEqual(file);
      await expectCode(
        store.getPrediction('0'.repeat(32)),
        'RESOURCE_DOES_NOT_EXIST',
        /No prediction with prediction_id 0{32} is logged/,
      );
      await store.appendPredictions(predictionColumns([]));
    });

    it('appends a batch larger than one statement whole, or not at all', async () => {
      const of = model();
      const batch = series(of, 1_203);
      await store.appendPredictions(predictionColumns(batch));
      expect(await store.countPredictions({ modelName: of.name! })).toBe(1_203);
      // A batch holding an id already logged (its last one) adds nothing.
      const other = model();
      const failing = [...series(other, 700), { ...batch[0]!, model: other }];
      await expect(store.appendPredictions(predictionColumns(failing))).rejects.toThrow();
      expect(await store.countPredictions({ modelName: other.name! })).toBe(0);
    });

    it('refuses an id that does not begin with its time (the order and windows rest on it), logging nothing', async () => {
      const of = model();
      const good = prediction(of, T0 + 5_000);
      const late = { ...prediction(of, T0 + 6_000), predictionId: newPredictionId(T0 + 9_000) };
      await expectCode(
        store.appendPredictions(predictionColumns([good, late])),
        'INVALID_PARAMETER_VALUE',
        new RegExp(`Prediction id ${late.predictionId} was not made for its time ${T0 + 6_000}`),
      );
      await expectCode(
        store.appendPredictions(predictionColumns([{ ...good, predictionId: 'not-an-id' }])),
        'INVALID_PARAMETER_VALUE',
      );
      expect(await store.countPredictions({ modelName: of.name! })).toBe(0);
    });

    it('lists a window by time and model, in time order, paged, and counts it', async () => {
      const v1 = model('1');
      const v2 = { ...v1, version: '2' };
      await store.appendPredictions(predictionColumns([...series(v1, 10), ...series(v2, 5, 10)]));
      const window = { modelName: v1.name!, from: T0 + 3_000, to: T0 + 12_000 };
      expect(await store.countPredictions(window)).toBe(9);
      expect(await store.countPredictions({ ...window, modelVersion: '2' })).toBe(2);
      const seen: LoggedPrediction[] = [];
      let pageToken: string | undefined;
      do {
        const page = await store.listPredictions({
          ...window,
          maxResults: 4,
          ...(pageToken ? { pageToken } : {}),
        });
        expect(page.items.length).toBeLessThanOrEqual(4);
        seen.push(...page.items);
        pageToken = page.nextPageToken ?? undefined;
      } while (pageToken);
      expect(seen.map((p) => p.timestamp)).toEqual(Array.from({ length: 9 }, (_, i) => T0 + (3 + i) * 1000));
      expect(seen.map((p) => p.model.version)).toEqual([...'1111111'.split(''), '2', '2']);
      const first = await store.listPredictions({ modelName: v1.name!, modelVersion: '1' });
      expect(first.items).toHaveLength(10);
      expect(first.nextPageToken).toBeNull();
      expect((await store.listPredictions({ modelName: unique('none') })).items).toEqual([]);
      await expectCode(
        store.listPredictions({ maxResults: 1_001 }),
        'INVALID_PARAMETER_VALUE',
        /max_results/,
      );
      await expectCode(store.listPredictions({ pageToken: 'nope' }), 'INVALID_PARAMETER_VALUE', /page token/);
    });

    it('reads columns of a window in time order: features, probability, label; the latest N; the labelled only', async () => {
      const of = model();
      const logged = series(of, 20);
      await store.appendPredictions(predictionColumns([...logged].reverse()));
      const window = { modelName: of.name! };
      const all = await store.readColumns(window, ['Age', 'MoCA', 'probability', 'timestamp', 'label']);
      expect(all.rows).toBe(20);
      const moca = FEATURE_NAMES.indexOf('MoCA');
      expect([...all.columns.MoCA]).toEqual(logged.map((p) => p.features[moca]!));
      expect([...all.columns.Age]).toEqual(logged.map((p) => p.features[0]!));
      expect([...all.columns.probability]).toEqual(logged.map((p) => p.probability));
      expect([...all.columns.timestamp]).toEqual(logged.map((p) => p.timestamp));
      expect(all.columns.label.every(Number.isNaN)).toBe(true);

      const latest = await store.readColumns(window, ['timestamp'], { maxRows: 5 });
      expect([...latest.columns.timestamp]).toEqual(logged.slice(15).map((p) => p.timestamp));
      // A page at a time: the same columns, in time order, whole or the latest.
      for (const pageRows of [1, 3, 7, 20]) {
        const paged = await store.readColumns(window, ['MoCA', 'timestamp', 'label'], { pageRows });
        expect(paged.rows).toBe(20);
        expect([...paged.columns.MoCA]).toEqual([...all.columns.MoCA]);
        expect([...paged.columns.timestamp]).toEqual([...all.columns.timestamp]);
        const latestPaged = await store.readColumns(window, ['timestamp'], { maxRows: 11, pageRows });
        expect([...latestPaged.columns.timestamp]).toEqual(logged.slice(9).map((p) => p.timestamp));
      }

      const labelled = await store.recordFeedback([
        { target: { predictionId: logged[3]!.predictionId }, diagnosis: 1 },
        { target: { predictionId: logged[7]!.predictionId }, diagnosis: 0 },
      ]);
      expect(labelled.ok).toBe(true);
      const withLabels = await store.readColumns(window, ['diagnosis', 'label', 'latencyMs'], {
        labelledOnly: true,
        pageRows: 1,
      });
      expect(withLabels.rows).toBe(2);
      expect([...withLabels.columns.label]).toEqual([1, 0]);
      expect([...withLabels.columns.diagnosis]).toEqual([logged[3]!.diagnosis, logged[7]!.diagnosis]);
      expect([...withLabels.columns.latencyMs]).toEqual([0.25, 0.25]);
      const empty = await store.readColumns({ modelName: unique('none') }, ['Age']);
      expect(empty).toEqual({ rows: 0, columns: { Age: new Float64Array(0) } });
      await expectCode(
        store.readColumns(window, ['Height' as 'Age']),
        'INVALID_PARAMETER_VALUE',
        /Unknown prediction log column\(s\) Height/,
      );
      await expectCode(
        store.readColumns(window, ['Age'], { maxRows: 0 }),
        'INVALID_PARAMETER_VALUE',
        /maxRows/,
      );
      await expectCode(
        store.readColumns(window, ['Age'], { pageRows: 0.5 }),
        'INVALID_PARAMETER_VALUE',
        /pageRows/,
      );
    });

    it("finds a patient's predictions by key, newest first", async () => {
      const of = model();
      const key = unique('key').padEnd(64, '0');
      const logged = [
        prediction(of, T0 + 1_000, { patientKey: key }),
        prediction(of, T0 + 3_000, { patientKey: key }),
        prediction(of, T0 + 2_000, { patientKey: 'other'.padEnd(64, '0') }),
      ];
      await store.appendPredictions(predictionColumns(logged));
      const found = await store.findByPatientKey(key);
      expect(found.items.map((p) => p.predictionId)).toEqual([
        logged[1]!.predictionId,
        logged[0]!.predictionId,
      ]);
      const paged = await store.findByPatientKey(key, { maxResults: 1 });
      expect(paged.items).toHaveLength(1);
      expect(paged.nextPageToken).not.toBeNull();
      expect((await store.findByPatientKey('n'.repeat(64))).items).toEqual([]);
    });

    it('finds a patient among thousands of others, over writers whose id ranges overlap, newest first, paged', async () => {
      const of = model();
      const keyOf = (i: number) => createHash('sha256').update(`${of.name} ${i}`).digest('hex');
      const patient = keyOf(-1);
      // Two writers a millisecond apart: each append's ids span the other's. 2,500 keyed predictions per
      // append make three patient filters each.
      const append = (offset: number, patientRows: readonly number[]) =>
        Array.from({ length: 2_500 }, (_, i) =>
          prediction(of, T0 + 2 * i + offset, {
            patientKey: patientRows.includes(i) ? patient : keyOf(i),
          }),
        );
      const even = append(0, [10, 1_500, 2_400]);
      const odd = append(1, [5, 2_000]);
      await store.appendPredictions(predictionColumns(even));
      await store.appendPredictions(predictionColumns(odd));
      const expected = [even[2_400]!, odd[2_000]!, even[1_500]!, even[10]!, odd[5]!].map(
        (p) => p.predictionId,
      );
      const seen: string[] = [];
      let pageToken: string | undefined;
      do {
        const page = await store.findByPatientKey(patient, {
          maxResults: 2,
          ...(pageToken ? { pageToken } : {}),
        });
        seen.push(...page.items.map((p) => p.predictionId));
        pageToken = page.nextPageToken ?? undefined;
      } while (pageToken !== undefined);
      expect(seen).toEqual(expected);
      expect((await store.findByPatientKey(keyOf(7))).items.map((p) => p.predictionId)).toEqual([
        odd[7]!.predictionId,
        even[7]!.predictionId,
      ]);
      expect((await store.findByPatientKey(keyOf(10_000))).items).toEqual([]);
      const feedback = await store.recordFeedback([{ target: { patientKey: patient }, diagnosis: 1 }]);
      expect(feedback.ok && feedback.outcomes.map((o) => o.predictionId)).toEqual([expected[0]]);
    });

    it('records feedback by prediction id and by patient key (the latest prediction); the same label again changes nothing', async () => {
      const of = model();
      const key = unique('patient').padEnd(64, '0');
      const logged = [
        prediction(of, T0 + 1_000, { patientKey: key }),
        prediction(of, T0 + 5_000, { patientKey: key }),
        prediction(of, T0 + 2_000),
      ];
      await store.appendPredictions(predictionColumns(logged));
      const first = await store.recordFeedback([
        { target: { predictionId: logged[2]!.predictionId }, diagnosis: 1 },
        { target: { patientKey: key }, diagnosis: 0 },
      ]);
      expect(first.ok).toBe(true);
      if (!first.ok) return;
      expect(first.outcomes.map((o) => [o.predictionId, o.diagnosis, o.status])).toEqual([
        [logged[2]!.predictionId, 1, 'recorded'],
        [logged[1]!.predictionId, 0, 'recorded'],
      ]);
      const recordedAt = first.outcomes[0]!.recordedAt;
      expect(recordedAt).toBeGreaterThan(Date.now() - 60_000);
      expect(await store.getLabel(logged[2]!.predictionId)).toEqual({ diagnosis: 1, recordedAt });
      expect(await store.getLabel(logged[0]!.predictionId)).toBeUndefined();
      const again = await store.recordFeedback([
        { target: { predictionId: logged[2]!.predictionId }, diagnosis: 1 },
      ]);
      expect(again).toEqual({
        ok: true,
        outcomes: [{ predictionId: logged[2]!.predictionId, diagnosis: 1, status: 'unchanged', recordedAt }],
      });
      const labelled = await store.listLabelledPredictions({ modelName: of.name! });
      expect(labelled.items.map((p) => [p.predictionId, p.label.diagnosis])).toEqual([
        [logged[2]!.predictionId, 1],
        [logged[1]!.predictionId, 0],
      ]);
      expect(labelled.items[0]).toEqual({ ...logged[2], label: { diagnosis: 1, recordedAt } });
      const window = await store.listLabelledPredictions({
        modelName: of.name!,
        from: T0 + 3_000,
        maxResults: 1,
      });
      expect(window.items.map((p) => p.predictionId)).toEqual([logged[1]!.predictionId]);
    });

    it('refuses unknown targets and conflicting labels, naming each by index, and then records nothing', async () => {
      const of = model();
      const logged = series(of, 4);
      await store.appendPredictions(predictionColumns(logged));
      await store.recordFeedback([{ target: { predictionId: logged[0]!.predictionId }, diagnosis: 1 }]);
      const before = await store.getLabel(logged[0]!.predictionId);
      const result = await store.recordFeedback([
        { target: { predictionId: logged[1]!.predictionId }, diagnosis: 1 },
        { target: { predictionId: '0'.repeat(32) }, diagnosis: 1 },
        { target: { predictionId: logged[0]!.predictionId }, diagnosis: 0 },
        { target: { patientKey: 'z'.repeat(64) }, diagnosis: 0 },
        { target: { predictionId: logged[2]!.predictionId }, diagnosis: 0 },
        { target: { predictionId: logged[2]!.predictionId }, diagnosis: 0 },
        { target: { predictionId: logged[2]!.predictionId }, diagnosis: 1 },
      ]);
      expect(result).toEqual({
        ok: false,
        problems: [
          { index: 1, reason: 'unknown' },
          { index: 2, reason: 'conflict', predictionId: logged[0]!.predictionId, recorded: before },
          { index: 3, reason: 'unknown' },
          {
            index: 6,
            reason: 'conflict',
            predictionId: logged[2]!.predictionId,
            recorded: { diagnosis: 0, recordedAt: expect.any(Number) },
            earlierIndex: 4,
          },
        ],
      });
      // Nothing of the call was recorded, the valid records included.
      expect(await store.getLabel(logged[1]!.predictionId)).toBeUndefined();
      expect(await store.getLabel(logged[2]!.predictionId)).toBeUndefined();
      expect(await store.getLabel(logged[0]!.predictionId)).toEqual(before);
      expect((await store.listLabelledPredictions({ modelName: of.name! })).items).toHaveLength(1);
    });

    it('takes concurrent feedback for one prediction: one label wins, the other is told', async () => {
      const of = model();
      const [logged] = series(of, 1);
      await store.appendPredictions(predictionColumns([logged!]));
      // Connections open beforehand (PostgreSQL's pool), so that the calls do overlap.
      await Promise.all(Array.from({ length: 8 }, () => store.countPredictions({ modelName: of.name! })));
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => i % 2).map((diagnosis) =>
          store.recordFeedback([
            { target: { predictionId: logged!.predictionId }, diagnosis: diagnosis as 0 | 1 },
          ]),
        ),
      );
      const label = await store.getLabel(logged!.predictionId);
      expect(label).toBeDefined();
      for (const result of results) {
        if (result.ok) expect(result.outcomes[0]!.diagnosis).toBe(label!.diagnosis);
        else expect(result.problems[0]).toMatchObject({ reason: 'conflict', recorded: label });
      }
      expect(results.filter((r) => r.ok && r.outcomes[0]!.status === 'recorded')).toHaveLength(1);
    });

    describe('retention', () => {
      let own: OpenedStores;
      beforeAll(async () => {
        own = await open();
      });
      afterAll(async () => {
        await own?.close();
      });

      it('deletes by id, by age and beyond a row limit, the oldest first, labels with their predictions', async () => {
        const log = own.predictionLog;
        const of = model();
        // Several pieces of the age deletion (1,000 rows each).
        const logged = series(of, 6_010);
        await log.appendPredictions(predictionColumns(logged));
        const labelled = [logged[0]!, logged[5_000]!, logged[6_005]!];
        const feedback = await log.recordFeedback(
          labelled.map((p) => ({ target: { predictionId: p.predictionId }, diagnosis: 1 as const })),
        );
        expect(feedback.ok).toBe(true);

        expect(await log.deletePredictions([logged[6_009]!.predictionId, '0'.repeat(32)])).toBe(1);
        expect(await log.deletePredictions([])).toBe(0);
        // Everything before the 5,001st goes, its label with it.
        expect(await log.deleteOlderThan(logged[5_001]!.timestamp)).toBe(5_001);
        expect(await log.countPredictions({})).toBe(1_008);
        expect(await log.getLabel(logged[0]!.predictionId)).toBeUndefined();
        expect(await log.getLabel(logged[5_000]!.predictionId)).toBeUndefined();
        expect(await log.deleteOlderThan(logged[5_001]!.timestamp)).toBe(0);

        expect(await log.deleteBeyondRows(10)).toBe(998);
        const kept = await log.listPredictions({ maxResults: 100 });
        expect(kept.items.map((p) => p.predictionId)).toEqual(
          logged.slice(5_999, 6_009).map((p) => p.predictionId),
        );
        expect(await log.getLabel(logged[6_005]!.predictionId)).toEqual({
          diagnosis: 1,
          recordedAt: expect.any(Number),
        });
        expect((await log.listLabelledPredictions({})).items.map((p) => p.predictionId)).toEqual([
          logged[6_005]!.predictionId,
        ]);
        expect(await log.deleteBeyondRows(10)).toBe(0);
        // The patient filters of the deleted predictions go with them; the kept ones still find theirs.
        const keyed = series(of, 3, 7_000).map((p, i) => ({ ...p, patientKey: `kept-${i}`.padEnd(64, '0') }));
        await log.appendPredictions(predictionColumns(keyed));
        expect(await log.deleteBeyondRows(12)).toBe(1); // the oldest of the ten
        expect((await log.findByPatientKey(keyed[2]!.patientKey!)).items.map((p) => p.predictionId)).toEqual([
          keyed[2]!.predictionId,
        ]);
        expect(await log.deletePredictions(keyed.map((p) => p.predictionId))).toBe(3);
        expect((await log.findByPatientKey(keyed[2]!.patientKey!)).items).toEqual([]);
        expect(await log.deleteBeyondRows(0)).toBe(9);
        expect(await log.countPredictions({})).toBe(0);
        expect((await log.listLabelledPredictions({})).items).toEqual([]);
        await expectCode(log.deleteBeyondRows(-1), 'INVALID_PARAMETER_VALUE');
      }, 60_000);
    });
  });
}

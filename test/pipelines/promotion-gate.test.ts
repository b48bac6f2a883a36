import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { createDataset, type Dataset, selectRows } from '../../src/data/dataset.js';
import { generateDataset } from '../../src/data/generator/generator.js';
import { FEATURE_NAMES } from '../../src/data/schema.js';
import { type ThresholdPolicy, thresholdFigures } from '../../src/ml/decision/threshold-policy.js';
import { evaluateBinary } from '../../src/ml/metrics/index.js';
import { featureMatrix, trainOnDataset } from '../../src/ml/train-on-dataset.js';
import { BUILT_IN_GOLDEN_CASES, readGoldenCases } from '../../src/pipelines/builtin/golden-cases.js';
import {
  applyPromotionGate,
  decidePromotion,
  MIN_FAIR_ROWS,
} from '../../src/pipelines/builtin/promotion-gate.js';
import { type OnsetStores, openOnsetStores } from '../../src/server/open-stores.js';
import { registerModelVersion } from '../../src/tracking/model-registry.js';
import { logTrainingRun } from '../../src/tracking/training-logger.js';

const allPass = { passed: 20, failed: [] };

describe('the promotion rule', () => {
  it('promotes the first model that passes the golden cases', () => {
    expect(decidePromotion({ metric: 'roc_auc', margin: 0, golden: allPass, challenger: 0.9 })).toEqual({
      stage: 'Production',
      reason: 'first model: passes all 20 golden cases (held-out roc_auc 0.9000), no Production version yet',
    });
  });

  it('stages a challenger that fails a golden case, even with no Production version', () => {
    const golden = {
      passed: 19,
      failed: [{ id: 'generated.csv:900034', expected: 1 as const, probability: 0.31 }],
    };
    expect(decidePromotion({ metric: 'roc_auc', margin: 0, golden, challenger: 0.99 })).toEqual({
      stage: 'Staging',
      reason: 'fails 1 of 20 golden case(s): generated.csv:900034 (expected 1, probability 0.310)',
    });
  });

  it('promotes a better challenger, stages a worse one or one within the margin', () => {
    const champion = { version: '3', value: 0.95 };
    expect(
      decidePromotion({ metric: 'roc_auc', margin: 0.01, golden: allPass, challenger: 0.965, champion }),
    ).toEqual({
      stage: 'Production',
      reason:
        "beats Production by 0.0150 (margin 0.01): held-out roc_auc 0.9650 vs Production version 3's 0.9500",
    });
    expect(
      decidePromotion({ metric: 'roc_auc', margin: 0.01, golden: allPass, challenger: 0.955, champion })
        .stage,
    ).toBe('Staging');
    expect(
      decidePromotion({ metric: 'roc_auc', margin: 0, golden: allPass, challenger: 0.95, champion }),
    ).toEqual({
      stage: 'Staging',
      reason:
        "does not beat Production by more than the margin 0 (better by 0.0000): held-out roc_auc 0.9500 vs Production version 3's 0.9500",
    });
    expect(
      decidePromotion({ metric: 'roc_auc', margin: 0, golden: allPass, challenger: 0.9, champion }).reason,
    ).toMatch(/worse by 0.0500/);
  });

  it('knows that lower log loss and Brier score are better', () => {
    const champion = { version: '1', value: 0.3 };
    expect(
      decidePromotion({ metric: 'log_loss', margin: 0, golden: allPass, challenger: 0.2, champion }).stage,
    ).toBe('Production');
    expect(
      decidePromotion({ metric: 'brier', margin: 0, golden: allPass, challenger: 0.4, champion }).stage,
    ).toBe('Staging');
  });

  it('says when a model was trained on held-out rows: judged on the others, or left to a person', () => {
    const champion = { version: '2', value: 0.95 };
    const partly = { heldOut: 400, challengerSeen: 0, championSeen: 150, unseen: 250, fair: true };
    expect(
      decidePromotion({
        metric: 'roc_auc',
        margin: 0,
        golden: allPass,
        challenger: 0.97,
        champion,
        overlap: partly,
      }),
    ).toEqual({
      stage: 'Production',
      reason:
        "beats Production by 0.0200 (margin 0): held-out roc_auc 0.9700 vs Production version 2's 0.9500 on the 250 held-out rows neither was trained on (Production version 2 was trained on 150 of the 400 held-out rows, the challenger on 0)",
    });
    const wholly = { heldOut: 400, challengerSeen: 0, championSeen: 400, unseen: 0, fair: false };
    expect(
      decidePromotion({
        metric: 'roc_auc',
        margin: 0,
        golden: allPass,
        challenger: Number.NaN,
        champion,
        overlap: wholly,
      }),
    ).toEqual({
      stage: 'Staging',
      reason: `no fair comparison with Production version 2: Production version 2 was trained on 400 of the 400 held-out rows, the challenger on 0, leaving 0 rows neither was trained on (at least ${MIN_FAIR_ROWS} of both classes needed); a person should decide`,
    });
    const own = { heldOut: 400, challengerSeen: 400, championSeen: 0, unseen: 0, fair: false };
    expect(
      decidePromotion({ metric: 'roc_auc', margin: 0, golden: allPass, challenger: Number.NaN, overlap: own })
        .reason,
    ).toBe(
      'first model: passes all 20 golden cases (not measured fairly: the challenger was trained on 400 of the 400 held-out rows), no Production version yet',
    );
  });

  it('stages a challenger whose figures differ between subgroups beyond the bound, and says where', () => {
    const gap = {
      group: 'Age' as const,
      metric: 'specificity' as const,
      gap: 0.16,
      lowest: { value: '80-90', metric: 0.62 },
      highest: { value: '60-69', metric: 0.78 },
      bound: 0.1,
      flagged: true,
    };
    const champion = { version: '3', value: 0.9 };
    expect(
      decidePromotion({
        metric: 'roc_auc',
        margin: 0,
        golden: allPass,
        challenger: 0.99,
        champion,
        subgroupGaps: [gap],
      }),
    ).toEqual({
      stage: 'Staging',
      reason:
        'differs between subgroups by more than 0.1 on the held-out rows: Age specificity 80-90 0.6200 vs 60-69 0.7800; a person should decide',
    });
    // Checked and none above the bound: the comparison decides.
    expect(
      decidePromotion({
        metric: 'roc_auc',
        margin: 0,
        golden: allPass,
        challenger: 0.99,
        champion,
        subgroupGaps: [],
      }).stage,
    ).toBe('Production');
  });

  it('stages the challenger when the Production model cannot be evaluated', () => {
    const champion = { version: '2', error: 'its artifact changed since registration' };
    expect(
      decidePromotion({ metric: 'roc_auc', margin: 0, golden: allPass, challenger: 0.99, champion }),
    ).toEqual({
      stage: 'Staging',
      reason:
        'Production version 2 could not be evaluated (its artifact changed since registration); a person should decide',
    });
  });
});

describe('the promotion gate on a real registry', () => {
  const home = mkdtempSync(join(tmpdir(), 'onset-gate-'));
  let stores: OnsetStores;
  const data = generateDataset({ rows: 600, seed: 3 });
  const holdout = generateDataset({ rows: 400, seed: 4 });
  const log = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
  };
  beforeAll(async () => {
    stores = await openOnsetStores(resolveConfig({ home }));
  });
  afterAll(async () => {
    await stores.close();
    rmSync(home, { recursive: true, force: true });
  });

  async function register(
    dataset: Dataset,
    estimator: 'logistic' | 'gbdt',
    params = {},
    name = 'gated',
    threshold?: ThresholdPolicy,
  ) {
    const result = trainOnDataset(dataset, { estimator, params, ...(threshold ? { threshold } : {}) });
    const logged = await logTrainingRun(stores, { result, datasetPath: 'generated' });
    const version = await registerModelVersion(stores, {
      name,
      source: logged.modelSource,
      runId: logged.runId,
      createModelIfMissing: true,
    });
    return { version, model: result.model, threshold: result.document.threshold };
  }

  it('promotes the first, stages a worse one, promotes a better one, and stages one failing a golden case', async () => {
    const golden = await readGoldenCases(BUILT_IN_GOLDEN_CASES);
    expect(golden.cases).toHaveLength(20);
    const gate = async (candidate: Awaited<ReturnType<typeof register>>) =>
      applyPromotionGate(stores, {
        ...candidate,
        holdout,
        golden,
        metric: 'roc_auc',
        margin: 0,
        pipelineRunId: 'p1',
        log,
      });

    const weak = await register(data, 'gbdt', { n_estimators: 3, max_depth: 1 });
    const first = await gate(weak);
    expect(first).toMatchObject({ stage: 'Production', champion: null, golden: { passed: 20, failed: 0 } });

    const weaker = await register(data, 'gbdt', { n_estimators: 1, max_depth: 1 });
    const second = await gate(weaker);
    expect(second.stage).toBe('Staging');
    expect(second.champion?.version).toBe(weak.version.version);
    expect(second.challenger).toBeLessThan(second.champion!.value);

    const strong = await register(data, 'gbdt', { n_estimators: 100, max_depth: 3 });
    const third = await gate(strong);
    expect(third).toMatchObject({ stage: 'Production', champion: { version: weak.version.version } });
    expect(third.challenger).toBeGreaterThan(third.champion!.value);

    // A model trained on flipped labels predicts the clear cases the wrong way round.
    const flipped = createDataset({
      columns: { ...data.columns },
      target: data.target!.map((y) => 1 - y),
      patientIds: data.patientIds,
    });
    const broken = await register(flipped, 'logistic');
    const fourth = await gate(broken);
    expect(fourth.stage).toBe('Staging');
    expect(fourth.reason).toMatch(/^fails \d+ of 20 golden case\(s\): generated\.csv:9000/);

    const versions = await stores.registry.searchModelVersions({ filter: "name = 'gated'" });
    const stageOf = (v: string) => versions.items.find((item) => item.version === v)?.currentStage;
    expect([weak, weaker, strong, broken].map((c) => stageOf(c.version.version))).toEqual([
      'Archived',
      'Staging',
      'Production',
      'Staging',
    ]);
    expect((await stores.registry.getModelVersionByAlias('gated', 'champion')).version).toBe(
      strong.version.version,
    );
    expect((await stores.registry.getModelVersionByAlias('gated', 'challenger')).version).toBe(
      broken.version.version,
    );
    const history = await stores.registry.getStageHistory('gated', broken.version.version);
    expect(history.at(-1)?.reason).toBe(fourth.reason);
    const tags = (await stores.registry.getModelVersion('gated', strong.version.version)).tags;
    expect(tags).toEqual(
      expect.arrayContaining([
        { key: 'onset.gate.stage', value: 'Production' },
        { key: 'onset.pipeline_run_id', value: 'p1' },
      ]),
    );
    await expect(gate(strong)).rejects.toThrow(/already in Production/);

    // With a subgroup gap bound no model can meet (a gap above 0.0001), a better model stays in Staging.
    const stronger = await register(data, 'gbdt', { n_estimators: 150, max_depth: 4 });
    const strict = await applyPromotionGate(stores, {
      ...stronger,
      holdout,
      golden,
      metric: 'roc_auc',
      margin: -1,
      subgroupGap: 0.0001,
      pipelineRunId: 'p1',
      log,
    });
    expect(strict.stage).toBe('Staging');
    expect(strict.reason).toMatch(/^differs between subgroups by more than 0.0001 on the held-out rows: /);
  });

  it('compares challenger and champion at their own thresholds on the policy metric', async () => {
    const golden = await readGoldenCases(BUILT_IN_GOLDEN_CASES);
    const policy: ThresholdPolicy = { kind: 'min_sensitivity', sensitivity: 0.95 };
    const gate = (candidate: Awaited<ReturnType<typeof register>>) =>
      applyPromotionGate(stores, {
        ...candidate,
        holdout,
        golden,
        metric: 'roc_auc',
        margin: 0,
        pipelineRunId: 'p3',
        log,
      });
    const weak = await register(data, 'gbdt', { n_estimators: 5, max_depth: 2 }, 'sensitive', policy);
    const strong = await register(data, 'gbdt', { n_estimators: 100, max_depth: 3 }, 'sensitive', policy);
    // Each chose its own threshold, neither of them 0.5.
    expect(weak.threshold!.value).not.toBe(strong.threshold!.value);
    expect(weak.threshold!.held_out!.sensitivity).toBeGreaterThanOrEqual(0.95);
    const first = await gate(weak);
    expect(first.stage).toBe('Production');
    expect(first.metric).toBe('specificity');
    const second = await gate(strong);
    expect(second.metric).toBe('specificity');
    // What each was measured at: its own threshold, on the policy's metric (specificity).
    const specificityOf = (candidate: typeof weak) =>
      thresholdFigures(
        holdout.target!,
        candidate.model.predictProba(featureMatrix(holdout)),
        candidate.threshold!.value,
      ).specificity;
    expect(second.challenger).toBe(specificityOf(strong));
    expect(second.champion).toEqual({ version: weak.version.version, value: specificityOf(weak) });
    expect(second.reason).toContain(
      `held-out specificity at threshold ${strong.threshold!.value.toFixed(3)} (sensitivity `,
    );
    expect(second.reason).toContain(
      `Production version ${weak.version.version}'s ${specificityOf(weak).toFixed(4)} at threshold ${weak.threshold!.value.toFixed(3)}`,
    );
    const tags = (await stores.registry.getModelVersion('sensitive', strong.version.version)).tags;
    expect(tags).toContainEqual({ key: 'onset.gate.threshold', value: String(strong.threshold!.value) });
  });

  it('finds a Production model trained on the held-out rows (the same patients from another file) and says so', async () => {
    const golden = await readGoldenCases(BUILT_IN_GOLDEN_CASES);
    const gate = async (candidate: Awaited<ReturnType<typeof register>>, rows: Dataset) =>
      applyPromotionGate(stores, {
        ...candidate,
        holdout: rows,
        golden,
        metric: 'roc_auc',
        margin: 0,
        pipelineRunId: 'p2',
        log,
      });
    const name = 'leaky';
    const registerAs = (dataset: Dataset, params: Record<string, number>) =>
      register(dataset, 'gbdt', params, name);
    // The champion saw every held-out patient (under other ids, rows shuffled): nothing fair is left.
    const shuffled = selectRows(
      holdout,
      Array.from({ length: holdout.rowCount }, (_, i) => holdout.rowCount - 1 - i),
    );
    const renamed = createDataset({
      columns: shuffled.columns,
      target: shuffled.target,
      patientIds: shuffled.patientIds!.map((id) => `copy-${id}`),
    });
    const champion = await registerAs(renamed, { n_estimators: 20, max_depth: 3 });
    expect((await gate(champion, holdout)).stage).toBe('Production');
    const challenger = await registerAs(data, { n_estimators: 100, max_depth: 3 });
    const unfair = await gate(challenger, holdout);
    expect(unfair).toMatchObject({ stage: 'Staging', challenger: null, champion: null, judgedRows: 0 });
    expect(unfair.reason).toBe(
      `no fair comparison with Production version ${champion.version.version}: Production version ${champion.version.version} was trained on 400 of the 400 held-out rows, the challenger on 0, leaving 0 rows neither was trained on (at least ${MIN_FAIR_ROWS} of both classes needed); a person should decide`,
    );

    // Judged on a file half of which the champion saw: compared on the other half, and said so.
    const fresh = generateDataset({ rows: 200, seed: 77 });
    const concat = (first: Float64Array, second: Float64Array) => Float64Array.from([...first, ...second]);
    const halfSeen = createDataset({
      columns: Object.fromEntries(
        FEATURE_NAMES.map((feature) => [
          feature,
          concat(holdout.columns[feature].subarray(0, 200), fresh.columns[feature]),
        ]),
      ) as Dataset['columns'],
      target: concat(holdout.target!.subarray(0, 200), fresh.target!),
    });
    const another = await registerAs(data, { n_estimators: 60, max_depth: 2 });
    const partial = await gate(another, halfSeen);
    expect(partial.judgedRows).toBe(200);
    expect(partial.reason).toContain(
      `on the 200 held-out rows neither was trained on (Production version ${champion.version.version} was trained on 200 of the 400 held-out rows, the challenger on 0)`,
    );
    const unseenOnly = selectRows(
      halfSeen,
      Array.from({ length: 200 }, (_, i) => 200 + i),
    );
    expect(partial.champion?.value).toBeCloseTo(
      evaluateBinary(unseenOnly.target!, champion.model.predictProba(featureMatrix(unseenOnly))).roc_auc,
      12,
    );
  });
});

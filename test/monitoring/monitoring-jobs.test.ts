/**
 * The drift and performance jobs over real SQLite stores: a model trained (cross-validated) and promoted,
 * predictions of generated patients logged through the real log store at chosen times, feedback recorded
 * for some. Each job's stored result is compared with the pure functions run directly on the same
 * patients, and its gauges read from a real prom-client registry.
 */
import { Registry } from 'prom-client';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from '../../src/data/dataset.js';
import { createDataset } from '../../src/data/dataset.js';
import { generateDataset } from '../../src/data/generator/generator.js';
import { FEATURE_NAMES, type FeatureName } from '../../src/data/schema.js';
import type { FittedModel } from '../../src/ml/estimator.js';
import { featureMatrix, trainOnDataset } from '../../src/ml/train-on-dataset.js';
import type { CheckedModel, MonitoringCheck } from '../../src/monitoring/checks/monitoring-check-store.js';
import { computeDrift } from '../../src/monitoring/drift/compute-drift.js';
import { driftReportJson } from '../../src/monitoring/drift/drift-report-json.js';
import { ModelReferences } from '../../src/monitoring/jobs/model-references.js';
import { MonitoringGauges } from '../../src/monitoring/jobs/monitoring-gauges.js';
import { driftJob, performanceJob } from '../../src/monitoring/jobs/monitoring-jobs.js';
import { realizedPerformance } from '../../src/monitoring/performance/realized.js';
import { parseWindow, parseWindowList } from '../../src/monitoring/time-window.js';
import { registerModelVersion } from '../../src/tracking/model-registry.js';
import { logTrainingRun } from '../../src/tracking/training-logger.js';
import { loggedVersion, logScored, recordTruth } from '../support/monitoring.js';
import { trainAndPromote } from '../support/registry.js';
import { useTemporaryStores } from '../support/stores.js';

const temporary = useTemporaryStores('monitoring-jobs');
const NOW = Date.UTC(2026, 4, 1, 12);
const HOUR = 3_600_000;
const DRIFT = { window: parseWindow('24h'), maxRows: 100_000, minRows: 30 };

/** The patients of `data` with `shift` added to some features. */
function shifted(data: Dataset, shift: Partial<Record<FeatureName, number>>): Dataset {
  const columns = {} as Record<FeatureName, Float64Array>;
  for (const name of FEATURE_NAMES) {
    columns[name] = data.columns[name].map((value) => value + (shift[name] ?? 0));
  }
  return createDataset({ columns, target: data.target, patientIds: data.patientIds });
}

/** Every series of a gauge, as `labels → value` (labels written `k=v,...` in the gauge's order). */
async function seriesOf(registry: Registry, name: string): Promise<Map<string, number>> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return new Map(
    values.map((entry) => [
      Object.entries(entry.labels)
        .map(([key, value]) => `${key}=${value}`)
        .join(','),
      entry.value,
    ]),
  );
}

interface Trained {
  readonly model: CheckedModel;
  readonly fitted: FittedModel;
}

async function trained(name: string, seed: number): Promise<Trained> {
  const result = await trainAndPromote(
    temporary.stores,
    name,
    generateDataset({ rows: 800, seed }),
    {},
    {
      estimator: 'logistic',
      cvFolds: 3,
    },
  );
  return { model: { name, version: result.version, runId: result.runId }, fitted: result.model };
}

describe('the drift job', () => {
  const registry = new Registry();
  const gauges = new MonitoringGauges(registry);
  let watched: Trained;
  const same = generateDataset({ rows: 400, seed: 62 });
  const older = shifted(generateDataset({ rows: 400, seed: 63 }), { Age: 15 });
  const served = () => ({ model: watched.model, served: true, estimator: 'logistic' });
  const jobAt = (now: number) =>
    driftJob(
      {
        log: temporary.stores.predictionLog,
        checks: temporary.stores.checks,
        references: new ModelReferences(temporary.stores),
        gauges,
        now: () => now,
      },
      DRIFT,
    );

  beforeAll(async () => {
    watched = await trained('watched', 61);
    const as = loggedVersion('watched', watched.model.version, watched.model.runId);
    // From an hour ago, one every 5 s: patients like the training data; 30 hours ago: patients 15 years older.
    await logScored(temporary.stores.predictionLog, as, watched.fitted, same, (i) => NOW - HOUR + i * 5_000);
    await logScored(
      temporary.stores.predictionLog,
      as,
      watched.fitted,
      older,
      (i) => NOW - 30 * HOUR + i * 5_000,
    );
  }, 60_000);

  it("compares the window's predictions with the reference as computeDrift does, stores it, and sets the gauges", async () => {
    const check = await jobAt(NOW).run(served());
    expect(check).toMatchObject({
      kind: 'drift',
      model: watched.model,
      window: { from: NOW - 24 * HOUR, to: NOW },
      startedAt: NOW,
      finishedAt: NOW,
      status: 'succeeded',
      error: null,
    });
    expect(await temporary.stores.checks.getCheck(check.checkId)).toEqual(check);
    const result = check.result as {
      outcome: string;
      window: Record<string, unknown>;
      report: ReturnType<typeof driftReportJson>;
    };
    expect(result.outcome).toBe('checked');
    expect(result.window).toEqual({
      label: '24h',
      from: NOW - 24 * HOUR,
      to: NOW,
      rows: 400,
      window_rows: 400,
      truncated: false,
      max_rows: 100_000,
      min_rows: 30,
    });
    // The same as computeDrift on the same patients and the model's probabilities for them.
    const profile = (await new ModelReferences(temporary.stores).reference(watched.model)).profile;
    const direct = computeDrift(profile, {
      rowCount: same.rowCount,
      columns: same.columns,
      probabilities: watched.fitted.predictProba(featureMatrix(same)),
    });
    const expected = driftReportJson(direct, {
      model: { uri: '', name: '', version: '', runId: null, estimator: null },
      referenceSource: '',
      currentSource: '',
      computedAt: '',
      seconds: 0,
    });
    expect(result.report.features).toEqual(expected.features);
    expect(result.report.prediction_drift).toEqual(expected.prediction_drift);
    expect(result.report.dataset_drift).toEqual(expected.dataset_drift);
    expect(result.report.reference.source).toBe(`runs:/${watched.model.runId}/data/reference-profile.json`);
    expect(result.report.current).toEqual({
      source: `the prediction log, last 24h (to ${new Date(NOW).toISOString()})`,
      rows: 400,
    });
    expect(result.report.model).toMatchObject({ name: 'watched', version: '1', estimator: 'logistic' });
    expect(check.summary).toEqual({
      outcome: 'checked',
      rows: 400,
      dataset_drifted: direct.dataset.drifted,
      drift_share: direct.dataset.share,
      drifted_features: direct.dataset.driftedFeatures,
      features: 32,
      prediction_drifted: direct.prediction!.drifted,
    });
    expect(direct.dataset.drifted).toBe(false);

    const at = 'model=watched,version=1';
    expect(await seriesOf(registry, 'onset_drift_share')).toEqual(new Map([[at, direct.dataset.share]]));
    expect(await seriesOf(registry, 'onset_drift_dataset')).toEqual(new Map([[at, 0]]));
    const age = direct.features.find((feature) => feature.column === 'Age')!;
    const psi = await seriesOf(registry, 'onset_drift_feature_psi');
    expect(psi.size).toBe(32);
    expect(psi.get(`${at},feature=Age`)).toBe(age.psi);
    const scores = await seriesOf(registry, 'onset_drift_feature_score');
    expect(scores.get(`${at},feature=Age,test=${age.test}`)).toBe(age.score);
    expect((await seriesOf(registry, 'onset_drift_feature_drifted')).get(`${at},feature=Age`)).toBe(0);
    expect(await seriesOf(registry, 'onset_drift_prediction_drifted')).toEqual(
      new Map([[at, direct.prediction!.drifted ? 1 : 0]]),
    );
    expect(await seriesOf(registry, 'onset_drift_prediction_score')).toEqual(
      new Map([[`${at},test=${direct.prediction!.test}`, direct.prediction!.score!]]),
    );
    expect(await seriesOf(registry, 'onset_drift_last_success_timestamp_seconds')).toEqual(
      new Map([['model=watched', NOW / 1000]]),
    );
  });

  it('finds Age drifted in the window of the older patients, and replaces the gauges with what it found', async () => {
    const check = await jobAt(NOW - 25 * HOUR).run(served());
    const report = (check.result as { report: ReturnType<typeof driftReportJson> }).report;
    const age = report.features.find((feature) => feature.column === 'Age')!;
    expect(age).toMatchObject({ drifted: true });
    expect(age.psi).toBeGreaterThan(1);
    expect(check.summary).toMatchObject({ outcome: 'checked', rows: 400 });
    const at = 'model=watched,version=1';
    expect((await seriesOf(registry, 'onset_drift_feature_drifted')).get(`${at},feature=Age`)).toBe(1);
    expect((await seriesOf(registry, 'onset_drift_feature_psi')).get(`${at},feature=Age`)).toBe(age.psi);
    expect(await seriesOf(registry, 'onset_drift_last_success_timestamp_seconds')).toEqual(
      new Map([['model=watched', (NOW - 25 * HOUR) / 1000]]),
    );
  });

  it('stores "too few predictions" without a verdict, and leaves the gauges as they were', async () => {
    const before = {
      share: await seriesOf(registry, 'onset_drift_share'),
      psi: await seriesOf(registry, 'onset_drift_feature_psi'),
      last: await seriesOf(registry, 'onset_drift_last_success_timestamp_seconds'),
    };
    // The last 28 minutes hold 16 of the 400 (one every 5 s from an hour ago: the last 16 of them).
    const check = await jobAt(NOW).run({ ...served(), window: parseWindow('28m') });
    expect(check.status).toBe('succeeded');
    expect(check.summary).toEqual({
      outcome: 'too_few_rows',
      rows: 16,
      dataset_drifted: null,
      drift_share: null,
      drifted_features: null,
      features: null,
      prediction_drifted: null,
    });
    expect(check.result).toMatchObject({
      outcome: 'too_few_rows',
      report: null,
      note: '16 predictions of watched version 1 in the last 28m; a drift check needs at least 30: no verdict, the gauges keep their values',
    });
    expect(await seriesOf(registry, 'onset_drift_share')).toEqual(before.share);
    expect(await seriesOf(registry, 'onset_drift_feature_psi')).toEqual(before.psi);
    expect(await seriesOf(registry, 'onset_drift_last_success_timestamp_seconds')).toEqual(before.last);
  });

  it('stores a failed check, saying why, for a version without a reference profile, and sets no gauge', async () => {
    const before = await seriesOf(registry, 'onset_drift_share');
    const job = jobAt(NOW);
    const none = await job.run({ ...served(), model: { ...watched.model, runId: null } });
    expect(none).toMatchObject({
      status: 'failed',
      error:
        'watched version 1 has no reference profile: it was not registered from an Onset training run; train it with onset train or an Onset pipeline (every training run stores one) and register that run',
      summary: null,
      result: null,
    });
    const unknownRun = await job.run({ ...served(), model: { ...watched.model, runId: 'f'.repeat(32) } });
    expect(unknownRun.status).toBe('failed');
    expect(unknownRun.error).toMatch(/f{32}/);
    expect(await temporary.stores.checks.getCheck(unknownRun.checkId)).toEqual(unknownRun);
    expect(await seriesOf(registry, 'onset_drift_share')).toEqual(before);
  });

  it('sets no gauge for a version that is not served, and drops the series of versions no longer served', async () => {
    const before = await seriesOf(registry, 'onset_drift_share');
    const other = await jobAt(NOW).run({ ...served(), served: false, window: parseWindow('48h') });
    expect(other.summary).toMatchObject({ outcome: 'checked', rows: 800 });
    expect(await seriesOf(registry, 'onset_drift_share')).toEqual(before);
    gauges.servedVersion('watched', '2');
    expect((await seriesOf(registry, 'onset_drift_share')).size).toBe(0);
    expect((await seriesOf(registry, 'onset_drift_feature_psi')).size).toBe(0);
    await jobAt(NOW).run(served());
    expect([...(await seriesOf(registry, 'onset_drift_share')).keys()]).toEqual(['model=watched,version=1']);
    // The version served stays.
    gauges.servedVersion('watched', '1');
    expect((await seriesOf(registry, 'onset_drift_feature_psi')).size).toBe(32);
  });

  it('runs one check at a time: the same check joins the one running, another is refused with 409', async () => {
    const job = jobAt(NOW);
    const first = job.run(served());
    expect(job.running?.description).toBe('drift check of watched version 1 over the last 24h');
    const joined = job.run(served());
    expect(() => job.run({ ...served(), window: parseWindow('1h') })).toThrow(
      expect.objectContaining({
        code: 'INVALID_STATE',
        httpStatus: 409,
        message: expect.stringMatching(
          /^A drift check of watched version 1 over the last 24h has been running since .*; one drift check runs at a time/,
        ),
      }),
    );
    const [a, b] = await Promise.all([first, joined]);
    expect(b.checkId).toBe(a.checkId);
    expect(job.running).toBeUndefined();
    // Once it has finished, the other one runs.
    expect((await job.run({ ...served(), window: parseWindow('1h') })).summary).toMatchObject({ rows: 400 });
  });

  it('runs on a schedule, now and then every interval, skipping while nothing is served, until stopped', async () => {
    const job = jobAt(NOW);
    const checked: MonitoringCheck[] = [];
    const skipped: string[] = [];
    let target: ReturnType<typeof served> | undefined;
    job.schedule(40, () => target, {
      onChecked: (check) => checked.push(check),
      onSkipped: (reason) => skipped.push(reason),
    });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(checked).toEqual([]);
    expect(skipped[0]).toBe('no registered model version is served');
    target = served();
    const deadline = Date.now() + 20_000;
    while (checked.length < 2 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    await job.stop();
    const after = checked.length;
    expect(after).toBeGreaterThanOrEqual(2);
    expect(checked.every((check) => check.status === 'succeeded')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(checked.length).toBe(after);
  }, 30_000);
});

describe('the performance job', () => {
  const registry = new Registry();
  const gauges = new MonitoringGauges(registry);
  const WINDOWS = parseWindowList('10m,1h,24h,7d', 'test');
  let performing: Trained;
  const recent = generateDataset({ rows: 200, seed: 72 });
  const earlier = generateDataset({ rows: 300, seed: 73 });
  const lastWeek = generateDataset({ rows: 300, seed: 74 });
  const job = () =>
    performanceJob(
      {
        log: temporary.stores.predictionLog,
        checks: temporary.stores.checks,
        references: new ModelReferences(temporary.stores),
        gauges,
        now: () => NOW,
      },
      { windows: WINDOWS, maxRows: 100_000 },
    );

  beforeAll(async () => {
    performing = await trained('performing', 71);
    const as = loggedVersion('performing', performing.model.version, performing.model.runId);
    const log = temporary.stores.predictionLog;
    // The last 30 minutes, all with feedback; 5 hours ago, every other one; 3 days ago, none.
    const a = await logScored(log, as, performing.fitted, recent, (i) => NOW - 1_800_000 + i * 5_000);
    const b = await logScored(log, as, performing.fitted, earlier, (i) => NOW - 5 * HOUR + i * 5_000);
    await logScored(log, as, performing.fitted, lastWeek, (i) => NOW - 72 * HOUR + i * 5_000);
    await recordTruth(log, a, recent.target!);
    await recordTruth(log, b, earlier.target!, (i) => i % 2 === 0);
  }, 60_000);

  /** The realized performance of the labelled patients, computed directly. */
  function realizedOf(parts: readonly { data: Dataset; pick: (i: number) => boolean }[]) {
    const probability: number[] = [];
    const label: number[] = [];
    for (const { data, pick } of parts) {
      const p = performing.fitted.predictProba(featureMatrix(data));
      for (let i = 0; i < data.rowCount; i++) {
        if (!pick(i)) continue;
        probability.push(p[i]!);
        label.push(data.target![i]!);
      }
    }
    return realizedPerformance({
      probability: Float64Array.from(probability),
      prediction: Float64Array.from(probability, (value) => (value >= 0.5 ? 1 : 0)),
      label: Float64Array.from(label),
    });
  }

  it('measures each window on its labelled predictions, estimates it from all of them, stores it and sets the gauges', async () => {
    const check = await job().run({ model: performing.model, served: true, estimator: 'logistic' });
    expect(check).toMatchObject({
      kind: 'performance',
      status: 'succeeded',
      window: { from: NOW - 7 * 24 * HOUR, to: NOW },
    });
    interface WindowJson {
      window: string;
      records: number;
      realized: {
        records: number;
        metrics: Record<string, { value: number | null; undefined_reason: string | null }>;
      };
      estimated: {
        records: number;
        metrics: Record<string, { estimate: number | null; lower: number | null; upper: number | null }>;
      } | null;
      estimate_truncated: boolean;
      labelled_truncated: boolean;
    }
    const result = check.result as unknown as {
      estimation: Record<string, unknown>;
      windows: WindowJson[];
    };
    expect(result.estimation).toMatchObject({
      available: true,
      reason: null,
      reference_records: 800,
      probability_source: 'out_of_fold',
      band_width: 3,
    });
    expect(
      result.windows.map((w) => [w.window, w.records, w.realized.records, w.estimated?.records]),
    ).toEqual([
      ['10m', 0, 0, 0],
      ['1h', 200, 200, 200],
      ['24h', 500, 350, 500],
      ['7d', 800, 350, 800],
    ]);
    const all = () => true;
    const even = (i: number) => i % 2 === 0;
    const expected = {
      '1h': realizedOf([{ data: recent, pick: all }]),
      // In time order, as the log reads them (sums in the same order, to the last bit).
      '24h': realizedOf([
        { data: earlier, pick: even },
        { data: recent, pick: all },
      ]),
    };
    for (const window of result.windows.slice(1)) {
      const direct = window.window === '1h' ? expected['1h'] : expected['24h'];
      for (const [metric, value] of Object.entries(direct.metrics)) {
        expect(window.realized.metrics[metric], `${window.window} ${metric}`).toEqual({
          value: value.value,
          undefined_reason: value.undefinedReason,
        });
      }
      for (const metric of ['accuracy', 'roc_auc', 'recall', 'specificity', 'brier']) {
        const estimated = window.estimated!.metrics[metric]!;
        expect(estimated.lower!).toBeLessThanOrEqual(estimated.estimate!);
        expect(estimated.upper!).toBeGreaterThanOrEqual(estimated.estimate!);
      }
      // No shift: the estimate is close to what the labels say.
      expect(
        Math.abs(window.estimated!.metrics.roc_auc!.estimate! - window.realized.metrics.roc_auc!.value!),
      ).toBeLessThan(0.1);
      expect(window.estimate_truncated).toBe(false);
      expect(window.labelled_truncated).toBe(false);
    }
    expect(result.windows[0]!.realized.metrics.accuracy).toEqual({
      value: null,
      undefined_reason: 'no labelled predictions',
    });
    expect(check.summary).toEqual({
      estimation_available: true,
      windows: result.windows.map((w) => ({
        window: w.window,
        records: w.records,
        labelled_records: w.realized.records,
        realized_roc_auc: w.realized.metrics.roc_auc!.value,
        realized_accuracy: w.realized.metrics.accuracy!.value,
        estimated_roc_auc: w.estimated?.metrics.roc_auc?.estimate ?? null,
        estimated_accuracy: w.estimated?.metrics.accuracy?.estimate ?? null,
      })),
    });

    const at = 'model=performing,version=1';
    const realized = await seriesOf(registry, 'onset_performance_realized');
    // Six metrics in each window with feedback; none in the 10-minute window, which has none.
    expect(realized.size).toBe(18);
    expect(realized.get(`${at},metric=roc_auc,window=24h`)).toBe(expected['24h'].metrics.roc_auc.value);
    expect(realized.get(`${at},metric=ece,window=1h`)).toBe(expected['1h'].metrics.ece.value);
    expect([...realized.keys()].some((key) => key.includes('window=10m'))).toBe(false);
    expect(await seriesOf(registry, 'onset_performance_labelled_records')).toEqual(
      new Map([
        [`${at},window=10m`, 0],
        [`${at},window=1h`, 200],
        [`${at},window=24h`, 350],
        [`${at},window=7d`, 350],
      ]),
    );
    expect((await seriesOf(registry, 'onset_performance_window_records')).get(`${at},window=7d`)).toBe(800);
    const estimated = await seriesOf(registry, 'onset_performance_estimated');
    // Five metrics, three bounds, in the three windows with predictions.
    expect(estimated.size).toBe(45);
    const auc7d = result.windows[3]!.estimated!.metrics.roc_auc!;
    expect(estimated.get(`${at},metric=roc_auc,window=7d,bound=estimate`)).toBe(auc7d.estimate);
    expect(estimated.get(`${at},metric=roc_auc,window=7d,bound=lower`)).toBe(auc7d.lower);
    expect(estimated.get(`${at},metric=roc_auc,window=7d,bound=upper`)).toBe(auc7d.upper);
    expect(await seriesOf(registry, 'onset_performance_last_success_timestamp_seconds')).toEqual(
      new Map([['model=performing', NOW / 1000]]),
    );
  });

  it('measures what it can without an estimator (a profile without diagnoses), saying why there is no estimate', async () => {
    // A version whose run stored a profile as Onset did before it kept the diagnoses.
    const result = trainOnDataset(generateDataset({ rows: 300, seed: 75 }), {
      estimator: 'logistic',
      cvFolds: 3,
    });
    const profile = result.referenceProfile;
    const logged = await logTrainingRun(temporary.stores, {
      result: { ...result, referenceProfile: { ...profile, sample: { ...profile.sample, labels: null } } },
      datasetPath: 'generated',
    });
    const version = await registerModelVersion(temporary.stores, {
      name: 'performing',
      source: logged.modelSource,
      runId: logged.runId,
    });
    const model = { name: 'performing', version: version.version, runId: logged.runId };
    const as = loggedVersion('performing', version.version, logged.runId);
    const patients = generateDataset({ rows: 50, seed: 76 });
    const predictions = await logScored(
      temporary.stores.predictionLog,
      as,
      result.model,
      patients,
      (i) => NOW - HOUR / 2 + i * 1_000,
    );
    await recordTruth(temporary.stores.predictionLog, predictions, patients.target!);
    const before = await seriesOf(registry, 'onset_performance_realized');
    const check = await job().run({ model, served: false, estimator: null });
    expect(check.status).toBe('succeeded');
    const documents = check.result as {
      estimation: { available: boolean; reason: string };
      windows: { window: string; records: number; realized: { records: number }; estimated: unknown }[];
    };
    expect(documents.estimation).toMatchObject({
      available: false,
      reason: `the reference profile of performing version ${version.version} has no diagnoses (it was stored before Onset kept them, or the training data had none): retrain the model to get estimates`,
    });
    expect(documents.windows.map((w) => [w.window, w.records, w.realized.records, w.estimated])).toEqual([
      ['10m', 0, 0, null],
      ['1h', 50, 50, null],
      ['24h', 50, 50, null],
      ['7d', 50, 50, null],
    ]);
    // Not served: the gauges stay the served version's.
    expect(await seriesOf(registry, 'onset_performance_realized')).toEqual(before);
  });
});

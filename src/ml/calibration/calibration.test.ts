/**
 * Calibration chosen by cross-fitting on out-of-fold probabilities, kept in the model document and applied
 * wherever a loaded model scores: an overconfident model's held-out calibration error falls, the ranking
 * stays, explanations and XGBoost exports stay the model's own, and a broken calibration is refused.
 */
import { describe, expect, it } from 'vitest';
import { expectRefusal } from '../../../test/support/onset-error.js';
import { generateDataset } from '../../data/generator/generator.js';
import { createMatrix } from '../../math/matrix.js';
import { Random } from '../../util/random.js';
import { explainModel } from '../explain/explain.js';
import { expectedCalibrationError, logLoss } from '../metrics/index.js';
import { exportedCalibration, exportXgboost, parseModel, serializeModelDocument } from '../model-document.js';
import { featureMatrix, trainOnDataset } from '../train-on-dataset.js';
import { CalibratedModel, uncalibrated } from './calibrated-model.js';
import {
  Calibration,
  calibrationFigures,
  chooseCalibration,
  ECE_TOLERANCE,
  ROC_AUC_TOLERANCE,
} from './calibration.js';

/** Labels drawn from true probabilities, and a model that says them twice as far from even (in log-odds). */
function overconfident(rows: number, seed: number): { probability: Float64Array; target: Float64Array } {
  const random = new Random(seed);
  const probability = new Float64Array(rows);
  const target = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const logit = random.normal() * 1.5;
    target[i] = random.next() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
    probability[i] = 1 / (1 + Math.exp(-2.5 * logit));
  }
  return { probability, target };
}

describe('chooseCalibration', () => {
  it('calibrates an overconfident model: held-out ECE and log loss fall, and it says what it compared', () => {
    const { probability, target } = overconfident(3000, 5);
    const chosen = chooseCalibration(probability, target, { choice: 'auto', folds: 5, seed: 42 });
    expect(chosen.document.chosen_by).toBe('cross_validation');
    expect(chosen.document.method).not.toBe('none');
    expect(chosen.document.candidates.map((c) => c.method)).toEqual([
      'none',
      'platt',
      'monotone_cubic',
      'isotonic',
      'venn_abers',
    ]);
    const none = chosen.document.candidates[0]!;
    expect(expectedCalibrationError(target, chosen.heldOut)).toBeLessThan(none.ece / 2);
    expect(logLoss(target, chosen.heldOut)).toBeLessThan(none.log_loss);
    expect(chosen.document.fitted_on).toEqual({ source: 'out_of_fold', rows: 3000, folds: 5, seed: 42 });
    // The document's calibration is the one fitted.
    const again = Calibration.fromDocument(chosen.document, 'the document');
    for (const p of [0.01, 0.2, 0.5, 0.77, 0.999])
      expect(again.applyOne(p)).toBe(chosen.calibration.applyOne(p));
  });

  it('never takes a method that ranks patients worse by more than ROC_AUC_TOLERANCE, nor a noisy ECE gain over a simpler one', () => {
    for (const seed of [1, 2, 3, 4]) {
      const { probability, target } = overconfident(1500, seed);
      const chosen = chooseCalibration(probability, target, { choice: 'auto', folds: 5, seed });
      const [none, ...others] = chosen.document.candidates;
      const picked = chosen.document.candidates.find((c) => c.method === chosen.document.method)!;
      expect(picked.roc_auc!).toBeGreaterThanOrEqual(none!.roc_auc! - ROC_AUC_TOLERANCE);
      // Every simpler method that kept the ranking was worse by more than the tolerance (or on log loss).
      const order = chosen.document.candidates.map((c) => c.method);
      for (const simpler of others.filter((c) => order.indexOf(c.method) < order.indexOf(picked.method))) {
        const keeps = simpler.roc_auc! >= none!.roc_auc! - ROC_AUC_TOLERANCE;
        if (keeps && simpler.log_loss <= picked.log_loss * 1.01)
          expect(simpler.ece).toBeGreaterThan(picked.ece + ECE_TOLERANCE);
      }
    }
  });

  it('fits Platt scaling on the probability itself when that fits better (a clipped linear score)', () => {
    const random = new Random(12);
    const n = 3000;
    const probability = new Float64Array(n);
    const target = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const z = random.normal();
      target[i] = random.next() < 1 / (1 + Math.exp(-2 * z)) ? 1 : 0;
      // A linear probability model: a straight line in z, clipped to [0, 1].
      probability[i] = Math.min(1, Math.max(0, 0.5 + 0.35 * z));
    }
    const platt = Calibration.fit('platt', probability, target);
    expect(platt.parameters().platt?.input).toBe('probability');
    const again = Calibration.fromDocument(
      {
        method: 'platt',
        chosen_by: 'user',
        ...platt.parameters(),
        fitted_on: { source: 'out_of_fold', rows: n, folds: 5, seed: 1 },
        candidates: [],
      },
      'model.json',
    );
    for (const p of [0, 0.2, 0.5, 0.9, 1]) expect(again.applyOne(p)).toBe(platt.applyOne(p));
    expect(logLoss(target, platt.apply(probability))).toBeLessThan(
      logLoss(target, Calibration.fit('isotonic', probability, target).apply(probability)) + 0.01,
    );
    // A lopsided truth behind the same line needs more than one sigmoid: the monotone cubic follows it.
    const lopsided = Float64Array.from(probability, (p) => (random.next() < 0.05 + 0.9 * p ** 3 ? 1 : 0));
    const cubic = Calibration.fit('monotone_cubic', probability, lopsided);
    expect(logLoss(lopsided, cubic.apply(probability))).toBeLessThan(
      logLoss(lopsided, Calibration.fit('platt', probability, lopsided).apply(probability)) - 0.002,
    );
    const cubicAgain = Calibration.fromDocument(
      {
        method: 'monotone_cubic',
        chosen_by: 'user',
        ...cubic.parameters(),
        fitted_on: { source: 'out_of_fold', rows: n, folds: 5, seed: 1 },
        candidates: [],
      },
      'model.json',
    );
    for (const p of [0, 0.2, 0.5, 0.9, 1]) expect(cubicAgain.applyOne(p)).toBe(cubic.applyOne(p));
    // A logistic model's probabilities keep the log-odds input, which documents without `input` mean.
    const { probability: logistic, target: labels } = overconfident(3000, 5);
    expect(Calibration.fit('platt', logistic, labels).parameters().platt?.input).toBeUndefined();
  });

  it('barely moves a calibrated model, and fits the method named', () => {
    const random = new Random(9);
    const probability = Float64Array.from({ length: 3000 }, () => random.next());
    const target = Float64Array.from(probability, (p) => (random.next() < p ? 1 : 0));
    // Whatever it chooses barely moves a model that is calibrated already.
    const chosen = chooseCalibration(probability, target, { choice: 'auto', folds: 5, seed: 1 });
    const none = chosen.document.candidates[0]!;
    expect(logLoss(target, chosen.heldOut)).toBeLessThanOrEqual(none.log_loss * 1.01);
    for (const p of [0.1, 0.3, 0.5, 0.7, 0.9]) {
      expect(Math.abs(chosen.calibration.applyOne(p) - p)).toBeLessThan(0.04);
    }
    const named = chooseCalibration(probability, target, { choice: 'isotonic', folds: 5, seed: 1 });
    expect(named.document).toMatchObject({ method: 'isotonic', chosen_by: 'user' });
    expect(named.document.candidates.map((c) => c.method)).toEqual(['isotonic']);
  });

  it('gives the ECE a bootstrap interval around it, and the parts of the Brier score', () => {
    const { probability, target } = overconfident(2000, 6);
    const figures = calibrationFigures(target, probability, 3);
    expect(figures.ece_interval[0]).toBeLessThanOrEqual(figures.ece);
    expect(figures.ece_interval[1]).toBeGreaterThan(figures.ece_interval[0]);
    expect(figures.reliability - figures.resolution + figures.uncertainty).toBeCloseTo(figures.brier, 2);
    expect(figures.bins).toHaveLength(10);
  });

  it('refuses a broken calibration in a document, naming the document', () => {
    expectRefusal(
      () =>
        Calibration.fromDocument(
          {
            method: 'isotonic',
            chosen_by: 'user',
            isotonic: { thresholds: [0.5, 0.2], values: [0, 1] },
            fitted_on: { source: 'out_of_fold', rows: 2, folds: 2, seed: 1 },
            candidates: [],
          },
          'model.json',
        ),
      /model\.json: its calibration cannot be read: .*thresholds must increase strictly/,
    );
    expectRefusal(
      () =>
        Calibration.fromDocument(
          {
            method: 'monotone_cubic',
            chosen_by: 'user',
            monotone_cubic: { coefficients: [1, 0, 2, 3] },
            fitted_on: { source: 'out_of_fold', rows: 2, folds: 2, seed: 1 },
            candidates: [],
          },
          'model.json',
        ),
      /model\.json: its calibration cannot be read: .*non-decreasing/,
    );
    expectRefusal(
      () =>
        Calibration.fromDocument(
          {
            method: 'magic' as 'platt',
            chosen_by: 'user',
            fitted_on: { source: 'out_of_fold', rows: 2, folds: 2, seed: 1 },
            candidates: [],
          },
          'model.json',
        ),
      'unknown calibration method "magic"',
    );
  });
});

describe('a calibrated model', () => {
  const dataset = generateDataset({ rows: 600, seed: 21 });
  const x = featureMatrix(dataset);
  const result = trainOnDataset(dataset, {
    estimator: 'gbdt',
    params: { n_estimators: 60, max_depth: 4 },
    calibration: 'platt',
  });

  it('is written as a version 2 document and scores the same once read back, one row or many', () => {
    expect(result.model).toBeInstanceOf(CalibratedModel);
    expect(result.document.format_version).toBe(2);
    expect(result.document.calibration).toMatchObject({ method: 'platt', chosen_by: 'user' });
    expect(result.report.calibration?.method).toBe('platt');
    expect(result.report.evaluation.source).toBe('out-of-fold');
    const loaded = parseModel(JSON.parse(serializeModelDocument(result.document)), 'model.json');
    expect(loaded.model).toBeInstanceOf(CalibratedModel);
    const probabilities = loaded.model.predictProba(x);
    expect(Array.from(probabilities)).toEqual(Array.from(result.model.predictProba(x)));
    const raw = uncalibrated(loaded.model).predictProba(x);
    expect(Array.from(probabilities)).not.toEqual(Array.from(raw));
    const one = (loaded.model as CalibratedModel).predictProbaOne(x.data.subarray(0, x.cols));
    expect(one).toBe(probabilities[0]);
  });

  it('explains the model behind its calibration, and folds Platt scaling of the log-odds into an XGBoost export', () => {
    const own = uncalibrated(result.model);
    const row = createMatrix(x.data.slice(0, x.cols * 3), 3, x.cols);
    expect(explainModel(result.model, row)).toEqual(explainModel(own, row));
    expect(result.document.calibration?.platt?.input).toBeUndefined();
    expect(exportedCalibration(result.model)).toBe('folded');
    // The exported booster gives the calibrated probabilities, to the float32 the format keeps.
    const exported = parseModel(JSON.parse(exportXgboost(result.model, 'model.json')), 'exported.json');
    const calibrated = result.model.predictProba(x);
    const viaXgboost = exported.model.predictProba(x);
    let largest = 0;
    for (let i = 0; i < x.rows; i++) largest = Math.max(largest, Math.abs(viaXgboost[i]! - calibrated[i]!));
    expect(largest).toBeLessThan(1e-5);
    const raw = own.predictProba(x);
    expect(Math.max(...Array.from(calibrated, (p, i) => Math.abs(p - raw[i]!)))).toBeGreaterThan(1e-3);
    // A calibration XGBoost cannot hold is left out, and said so.
    for (const method of ['monotone_cubic', 'isotonic'] as const) {
      const unfoldable = new CalibratedModel(
        own,
        Calibration.fit(method, own.predictProba(x), dataset.target!),
      );
      expect(exportedCalibration(unfoldable)).toBe('left_out');
      expect(exportXgboost(unfoldable, 'model.json')).toBe(exportXgboost(own, 'model.json'));
    }
    expect(exportedCalibration(own)).toBe('none');
  });
});

import { describe, expect, it } from 'vitest';
import { errorOf } from '../../test/support/onset-error.js';
import { createDataset, type Dataset, toRowMajor } from '../data/dataset.js';
import { fingerprintDataset } from '../data/fingerprint.js';
import { generateDataset } from '../data/generator/generator.js';
import { FEATURE_NAMES } from '../data/schema.js';
import { EARLY_STOPPING_HOLDOUT } from './fit-with-holdout.js';
import { BINARY_METRIC_NAMES, evaluateBinary } from './metrics/index.js';
import { parseModel, serializeModelDocument } from './model-document.js';
import { featureMatrix, trainOnDataset } from './train-on-dataset.js';

const dataset = generateDataset({ rows: 300, seed: 31 });
const GBDT = { n_estimators: 20, max_depth: 4, seed: 3 } as const;

function withTarget(source: Dataset, target: Float64Array | undefined): Dataset {
  return createDataset({ columns: { ...source.columns }, target, patientIds: source.patientIds });
}

describe('trainOnDataset', () => {
  it('fits the final model on every row and documents training and cross-validation metrics', () => {
    const folds: number[] = [];
    const rounds: number[] = [];
    const started = Date.now();
    const result = trainOnDataset(dataset, {
      estimator: 'gbdt',
      params: GBDT,
      cvFolds: 3,
      onFold: (done) => folds.push(done),
      onProgress: (progress) => rounds.push(progress.iteration),
    });
    const finished = Date.now();

    expect(folds).toEqual([1, 2, 3]);
    expect(rounds.at(-1)).toBe(20); // the final fit's progress (folds report through onFold only)
    expect(result.fitSeconds).toBeGreaterThan(0);
    expect(result.model.estimator).toBe('gbdt');
    expect(result.model.params.n_estimators).toBe(20);

    const { document } = result;
    expect(document.estimator).toBe('gbdt');
    expect(document.params).toEqual(result.model.params);
    expect(document.params.learning_rate).toBe(0.3); // defaults filled in
    expect(document.training.rows).toBe(300);
    expect(document.training.fit_seconds).toBe(result.fitSeconds);
    expect(document.training.dataset_fingerprint).toBe(fingerprintDataset(dataset));
    expect(document.training.dataset_fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    const fittedAt = Date.parse(document.training.fitted_at!);
    expect(fittedAt).toBeGreaterThanOrEqual(started);
    expect(fittedAt).toBeLessThanOrEqual(finished);
    expect(document.training.validation_rows).toBeUndefined();

    // Training metrics: the final model scored on its own rows.
    const expected = evaluateBinary(dataset.target!, result.model.predictProba(featureMatrix(dataset)));
    expect(result.trainingMetrics).toEqual(expected);
    expect(document.metrics.training).toEqual(expected);
    expect(expected.n).toBe(300);

    const cv = document.metrics.cross_validation!;
    expect(cv.folds).toBe(3);
    expect(cv.seed).toBe(42);
    expect(cv.per_fold).toHaveLength(3);
    expect(cv.per_fold.reduce((sum, fold) => sum + fold.n, 0)).toBe(300);
    expect(Object.keys(cv.summary).sort()).toEqual([...BINARY_METRIC_NAMES].sort());
    expect(cv.summary).toEqual(result.crossValidation!.summary);
    expect(cv.per_fold).toEqual(result.crossValidation!.perFold.map((fold) => fold.metrics));
    const meanAuc = cv.per_fold.reduce((sum, fold) => sum + fold.roc_auc, 0) / 3;
    expect(cv.summary.roc_auc.mean).toBeCloseTo(meanAuc, 12);
    // Held-out scores are worse than the optimistic training scores.
    expect(cv.summary.log_loss.mean).toBeGreaterThan(expected.log_loss);

    // The document is a valid model file whose model predicts as the trained one.
    const loaded = parseModel(JSON.parse(serializeModelDocument(document)), 'trained.json');
    expect(Array.from(loaded.model.predictProba(featureMatrix(dataset)))).toEqual(
      Array.from(result.model.predictProba(featureMatrix(dataset))),
    );
  });

  it('leaves out cross-validation without calibration unless asked, and honours cvSeed and threshold', () => {
    const plain = trainOnDataset(dataset, { estimator: 'logistic', calibration: 'none' });
    expect(plain.document.calibration).toBeUndefined();
    expect(plain.document.format_version).toBe(1);
    expect(plain.crossValidation).toBeUndefined();
    expect(plain.document.metrics.cross_validation).toBeUndefined();
    expect(plain.document.metrics.training).toBeDefined();
    expect(plain.fitSeconds).toBeGreaterThan(0);

    const seeded = trainOnDataset(dataset, {
      estimator: 'logistic',
      cvFolds: 4,
      cvSeed: 7,
      threshold: { kind: 'fixed', threshold: 0.7 },
      calibration: 'none',
    });
    expect(seeded.document.metrics.cross_validation).toMatchObject({ folds: 4, seed: 7 });
    // A threshold other than 0.5 is kept in the document, which an Onset too old to apply it refuses.
    expect(seeded.document.threshold).toMatchObject({
      value: 0.7,
      policy: { kind: 'fixed', threshold: 0.7 },
    });
    expect(seeded.document.threshold!.held_out!.rows).toBe(dataset.rowCount);
    expect(seeded.document.format_version).toBe(3);
    expect(seeded.report.evaluation.threshold).toBe(0.7);
    expect(seeded.referenceProfile.decisionThreshold).toBe(0.7);
    expect(seeded.trainingMetrics.threshold).toBe(0.7);
    for (const fold of seeded.document.metrics.cross_validation!.per_fold) expect(fold.threshold).toBe(0.7);
    // Same fit, so the threshold-free metrics match the unseeded run's.
    expect(seeded.trainingMetrics.roc_auc).toBe(plain.trainingMetrics.roc_auc);
  });

  it('refuses invalid parameters before any fitting, listing the valid ones', () => {
    let progressed = false;
    const typo = errorOf(() =>
      trainOnDataset(dataset, {
        estimator: 'gbdt',
        params: { n_estimator: 20 },
        cvFolds: 3,
        onFold: () => {
          progressed = true;
        },
        onProgress: () => {
          progressed = true;
        },
      }),
    );
    expect(progressed).toBe(false);
    expect(typo.code).toBe('INVALID_PARAMETER_VALUE');
    expect(typo.message).toContain('Unknown parameter "n_estimator" for gbdt');
    expect(typo.message).toContain('valid parameters of gbdt:');
    expect(typo.message).toContain(
      'n_estimators (alias num_boost_round): an integer in [1, 100000], default 100',
    );
    expect(typo.message).toContain('early_stopping_rounds');

    const range = errorOf(() => trainOnDataset(dataset, { estimator: 'gbdt', params: { max_depth: 0 } }));
    expect(range.message).toContain('Invalid value 0 for parameter max_depth of gbdt');
    expect(range.message).toContain('an integer in [1, 16]');

    // Parameters are checked before the data: an unlabelled data set still gets the parameter error.
    const unlabelled = withTarget(dataset, undefined);
    expect(
      errorOf(() => trainOnDataset(unlabelled, { estimator: 'logistic', params: { C: 1, bogus: 2 } }))
        .message,
    ).toContain('Unknown parameter "bogus" for logistic');
    expect(errorOf(() => trainOnDataset(unlabelled, { estimator: 'logistic' })).message).toContain(
      'no Diagnosis column',
    );

    expect(errorOf(() => trainOnDataset(dataset, { estimator: 'forest' as 'gbdt' })).message).toContain(
      'known families: linear, logistic, gbdt',
    );
  });

  it('refuses a one-class data set with a clear error', () => {
    const negatives = withTarget(dataset, new Float64Array(dataset.rowCount));
    const error = errorOf(() => trainOnDataset(negatives, { estimator: 'logistic', params: {} }));
    expect(error.code).toBe('INVALID_PARAMETER_VALUE');
    expect(error.message).toContain('only one class (0 positive, 300 negative rows)');
    const positives = withTarget(dataset, new Float64Array(dataset.rowCount).fill(1));
    const cv = errorOf(() => trainOnDataset(positives, { estimator: 'gbdt', params: GBDT, cvFolds: 3 }));
    expect(cv.message).toContain('only one class');
    expect(cv.message).toContain('both are needed');
  });

  it('records the validation rows when early stopping holds some out', () => {
    const result = trainOnDataset(dataset, {
      estimator: 'gbdt',
      params: { n_estimators: 200, max_depth: 3, early_stopping_rounds: 3, seed: 4 },
    });
    expect(result.document.training.validation_rows).toBe(Math.ceil(EARLY_STOPPING_HOLDOUT * 300));
    expect(result.document.training.rows).toBe(300);
    expect(result.document.params.early_stopping_rounds).toBe(3);
    const best = result.document.model.best_iteration;
    expect(typeof best).toBe('number');
    expect(best as number).toBeLessThan(199);
    expect(result.document.model.trees).toHaveLength((best as number) + 1);
    // Training metrics still cover every row, the held-out ones included.
    expect(result.trainingMetrics.n).toBe(300);
    expect(serializeModelDocument(result.document)).toContain(`"validation_rows":60`);
  });

  it('uses the features in schema order', () => {
    const matrix = featureMatrix(dataset);
    expect(matrix.rows).toBe(300);
    expect(matrix.cols).toBe(FEATURE_NAMES.length);
    expect(Array.from(matrix.data)).toEqual(Array.from(toRowMajor(dataset)));
    expect(matrix.data[FEATURE_NAMES.indexOf('UPDRS')]).toBe(dataset.columns.UPDRS[0]);
  });
});

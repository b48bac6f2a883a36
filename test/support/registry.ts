import type { Dataset } from '../../src/data/dataset.js';
import type { CalibrationChoice } from '../../src/ml/calibration/calibration.js';
import type { ThresholdPolicy } from '../../src/ml/decision/threshold-policy.js';
import type { EstimatorName, FittedModel } from '../../src/ml/estimator.js';
import type { ModelDocument } from '../../src/ml/model-document.js';
import { trainOnDataset } from '../../src/ml/train-on-dataset.js';
import type { OnsetStores } from '../../src/server/open-stores.js';
import { registerModelVersion } from '../../src/tracking/model-registry.js';
import { logTrainingRun } from '../../src/tracking/training-logger.js';

/**
 * Trains a `gbdt` (or `options.estimator`) with `params` on `data` (cross-validated with
 * `options.cvFolds`, which makes the reference profile's probabilities out of fold), logs the run,
 * registers it as a new version of `name` and moves it to Production (archiving the previous one).
 * Returns the version and the run's artifact URI.
 */
export async function trainAndPromote(
  stores: Pick<OnsetStores, 'tracking' | 'registry' | 'artifacts'>,
  name: string,
  data: Dataset,
  params: Record<string, unknown>,
  options: {
    readonly estimator?: EstimatorName;
    readonly cvFolds?: number;
    readonly threshold?: ThresholdPolicy;
    readonly calibration?: CalibrationChoice;
  } = {},
): Promise<{
  version: string;
  artifactUri: string;
  runId: string;
  model: FittedModel;
  document: ModelDocument;
}> {
  const result = trainOnDataset(data, {
    estimator: options.estimator ?? 'gbdt',
    params,
    ...(options.cvFolds === undefined ? {} : { cvFolds: options.cvFolds }),
    ...(options.threshold === undefined ? {} : { threshold: options.threshold }),
    ...(options.calibration === undefined ? {} : { calibration: options.calibration }),
  });
  const logged = await logTrainingRun(stores, { result, datasetPath: 'generated' });
  const version = await registerModelVersion(stores, {
    name,
    source: logged.modelSource,
    runId: logged.runId,
    createModelIfMissing: true,
  });
  await stores.registry.transitionModelVersionStage({
    name,
    version: version.version,
    stage: 'Production',
    archiveExistingVersions: true,
  });
  return {
    version: version.version,
    artifactUri: logged.artifactUri,
    runId: logged.runId,
    model: result.model,
    document: result.document,
  };
}

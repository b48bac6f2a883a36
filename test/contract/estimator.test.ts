import type { EstimatorName } from '../../src/ml/estimator.js';
import { ESTIMATOR_NAMES } from '../../src/ml/estimator-registry.js';
import { describeEstimatorContract } from './estimator.contract.js';

/**
 * Parameters that keep the suite quick and make the seed matter (gbdt samples rows and features only
 * below 1; oblivious's split-score noise and permutations use its seed by default). A family not listed
 * runs the suite on its defaults.
 */
const QUICK_PARAMS: Partial<Record<EstimatorName, Readonly<Record<string, unknown>>>> = {
  gbdt: { n_estimators: 20, max_depth: 4, subsample: 0.8, colsample_bytree: 0.7 },
  oblivious: { iterations: 20, depth: 3 },
};

for (const name of ESTIMATOR_NAMES) describeEstimatorContract(name, { params: QUICK_PARAMS[name] ?? {} });

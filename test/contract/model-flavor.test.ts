import { ESTIMATOR_NAMES } from '../../src/ml/estimator-registry.js';
import { MODEL_FLAVORS } from '../../src/ml/formats/mlflow-model.js';
import { describeModelFlavorContract } from './model-flavor.contract.js';

for (const flavor of MODEL_FLAVORS) describeModelFlavorContract(flavor, ESTIMATOR_NAMES);

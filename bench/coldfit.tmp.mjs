import { readDatasetFile } from '../dist/data/csv-reader.js';
import { gbdt } from '../dist/ml/gbdt/gbdt.js';
import { featureMatrix } from '../dist/ml/train-on-dataset.js';

const { dataset } = await readDatasetFile('/tmp/train1684.csv', { target: 'required' });
const x = featureMatrix(dataset);
const y = dataset.target;
console.log('--- fit');
const t = performance.now();
gbdt().fit(x, y);
console.log(`fit: ${(performance.now() - t).toFixed(1)} ms`);

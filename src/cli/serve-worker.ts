/**
 * The entry of each worker process of `onset up` and `onset serve` with more than one worker (see
 * `server/cluster-primary.ts`): a prediction server on the shared port, run as the primary says.
 */
import { runClusterWorker } from '../server/cluster-worker.js';
import { describeServing } from './serving-summary.js';

runClusterWorker(describeServing);

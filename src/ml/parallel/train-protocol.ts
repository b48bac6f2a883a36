import type { Dataset } from '../../data/dataset.js';
import type { FitProgress } from '../estimator.js';
import type { TrainOptions, TrainResult } from '../train-on-dataset.js';
import type { TrialResult } from '../tuning/tune.js';

/** Training options without callbacks: what crosses to the training worker. */
export type TrainTask = {
  readonly dataset: Dataset;
  readonly options: Omit<TrainOptions, 'onFold' | 'onProgress' | 'tune'> & {
    readonly tune?: Omit<NonNullable<TrainOptions['tune']>, 'onTrial'>;
  };
};

/** A training result without the live model (the main thread rebuilds it from the document). */
export type TrainedResult = Omit<TrainResult, 'model'>;

/** What the training worker posts back: progress while it works, then one result or error. */
export type TrainMessage =
  | { readonly type: 'fold'; readonly done: number; readonly total: number }
  | { readonly type: 'trial'; readonly done: number; readonly total: number; readonly best: TrialResult }
  | { readonly type: 'fit'; readonly progress: FitProgress }
  | { readonly type: 'result'; readonly result: TrainedResult }
  | {
      readonly type: 'error';
      readonly code: string | undefined;
      readonly message: string;
      readonly stack: string | undefined;
    };

/**
 * The value types of the built-in pipelines' blocks, added to `PipelineValueTypes` by declaration merging
 * (the core in `../block.ts` knows only the generic ones).
 */
import type { Dataset } from '../../data/dataset.js';
import type { BinaryMetrics } from '../../ml/metrics/index.js';
import type { TrainResult } from '../../ml/train-on-dataset.js';
import type { ModelVersion } from '../../tracking/entities.js';

/** Labelled data read and validated by a loader. */
export interface LoadedData {
  readonly dataset: Dataset;
  /** The file it came from, or `built-in:...` for generated data. */
  readonly source: string;
  readonly fingerprint: string;
}

/** A seeded train/holdout split: models are trained and cross-validated on `train`, compared on `holdout`. */
export interface DataSplit {
  readonly source: string;
  readonly train: Dataset;
  readonly holdout: Dataset;
  readonly seed: number;
}

/** A trained model with its held-out metrics. */
export interface Candidate {
  readonly source: string;
  readonly result: TrainResult;
  readonly holdout: BinaryMetrics;
}

/** The candidate a comparison chose, and how every candidate scored. */
export interface Selection {
  readonly metric: string;
  readonly best: Candidate;
  readonly ranking: readonly { readonly estimator: string; readonly cv: number; readonly holdout: number }[];
  /** Tracking runs of every candidate, by estimator. */
  readonly runs: Readonly<Record<string, string>>;
}

/** A registered model version and the training behind it. */
export interface RegisteredCandidate {
  readonly version: ModelVersion;
  readonly candidate: Candidate;
}

/** What the promotion gate decided. */
export interface PromotionDecision {
  readonly name: string;
  readonly version: string;
  readonly stage: 'Production' | 'Staging';
  readonly reason: string;
  readonly metric: string;
  /** The challenger's metric on the rows judged on; null when no fair comparison could be made. */
  readonly challenger: number | null;
  readonly champion: { readonly version: string; readonly value: number } | null;
  /** Held-out rows the metrics were measured on (those neither model was trained on); 0 when none were. */
  readonly judgedRows: number;
  readonly golden: { readonly passed: number; readonly failed: number };
}

declare module '../block.js' {
  interface PipelineValueTypes {
    data: LoadedData;
    split: DataSplit;
    candidate: Candidate;
    selection: Selection;
    'registered-model': RegisteredCandidate;
    decision: PromotionDecision;
  }
}

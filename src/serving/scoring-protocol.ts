/** What the scoring threads of `startScoringThreads` are given and say back. */

export interface ScoringThreadData {
  /** The model to load, as `loadModelPath` reads it. */
  readonly modelPath: string;
  /** Features per row. */
  readonly cols: number;
}

/** A batch to score: its buffer is moved to the thread and moved back with the answer. */
export interface ScoringRequest {
  readonly id: number;
  readonly features: Float64Array;
  readonly rows: number;
}

export type ScoringReply =
  | {
      readonly id: number;
      readonly probabilities: Float64Array;
      readonly features: Float64Array;
      readonly latencyMs: number;
    }
  | { readonly id: number; readonly error: string };

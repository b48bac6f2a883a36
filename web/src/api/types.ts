/** The JSON shapes of the answers the UI reads (snake_case, as every Onset and MLflow answer). */

export interface KeyValue {
  readonly key: string;
  readonly value: string;
}

export interface Experiment {
  readonly experiment_id: string;
  readonly name: string;
  readonly artifact_location: string;
  readonly lifecycle_stage: string;
  readonly last_update_time?: number;
  readonly creation_time?: number;
  readonly tags?: readonly KeyValue[];
}

export interface Metric {
  readonly key: string;
  readonly value: number | string;
  readonly timestamp: number;
  readonly step: number;
}

export interface RunInfo {
  readonly run_id: string;
  readonly run_name?: string;
  readonly experiment_id: string;
  readonly user_id?: string;
  readonly status: string;
  readonly start_time?: number;
  readonly end_time?: number | null;
  readonly artifact_uri: string;
  readonly lifecycle_stage: string;
}

export interface Run {
  readonly info: RunInfo;
  readonly data: {
    readonly metrics?: readonly Metric[];
    readonly params?: readonly KeyValue[];
    readonly tags?: readonly KeyValue[];
  };
}

export interface FileInfo {
  readonly path: string;
  readonly is_dir: boolean;
  readonly file_size?: number;
}

export interface ModelVersion {
  readonly name: string;
  readonly version: string;
  readonly creation_timestamp: number;
  readonly last_updated_timestamp: number;
  readonly user_id?: string;
  readonly current_stage: string;
  readonly description?: string;
  readonly source: string;
  readonly run_id?: string;
  readonly status: string;
  readonly tags?: readonly KeyValue[];
  readonly aliases?: readonly string[];
  readonly checksum?: string | null;
  readonly metrics?: Readonly<Record<string, number>>;
}

export interface RegisteredModel {
  readonly name: string;
  readonly creation_timestamp: number;
  readonly last_updated_timestamp: number;
  readonly description?: string;
  readonly latest_versions?: readonly ModelVersion[];
  readonly tags?: readonly KeyValue[];
  readonly aliases?: readonly { readonly alias: string; readonly version: string }[];
}

export interface StageTransition {
  readonly name: string;
  readonly version: string;
  readonly from_stage: string;
  readonly to_stage: string;
  readonly timestamp: number;
  readonly user: string;
  readonly reason: string;
}

export type ParamSpec =
  | {
      readonly type: 'string';
      readonly default: string;
      readonly description: string;
      readonly choices?: readonly string[];
    }
  | {
      readonly type: 'integer' | 'number';
      readonly default: number;
      readonly description: string;
      readonly min?: number;
      readonly max?: number;
    }
  | { readonly type: 'boolean'; readonly default: boolean; readonly description: string };

export interface Pipeline {
  readonly name: string;
  readonly description: string;
  readonly params: Readonly<Record<string, ParamSpec>>;
  readonly blocks: readonly {
    readonly name: string;
    readonly kind: string;
    readonly description: string;
    readonly inputs: Readonly<Record<string, { readonly from: string; readonly type: string }>>;
    readonly upstream: readonly string[];
    readonly output: string;
    readonly retry?: { readonly attempts: number; readonly backoff_ms: number };
  }[];
}

export type PipelineRunStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

export interface BlockRun {
  readonly block: string;
  readonly status: string;
  readonly attempts: number;
  readonly start_time: number | null;
  readonly end_time: number | null;
  readonly error: { readonly message: string } | null;
  readonly output: Readonly<Record<string, unknown>> | null;
}

export interface PipelineRun {
  readonly run_id: string;
  readonly pipeline: string;
  readonly status: PipelineRunStatus;
  readonly params: Readonly<Record<string, unknown>>;
  readonly trigger: string;
  readonly start_time: number;
  readonly end_time: number | null;
  readonly error: string | null;
  readonly cancel_requested: boolean;
  readonly blocks: readonly BlockRun[];
  readonly links: readonly { readonly kind: string; readonly target: string; readonly block: string }[];
}

export interface LogLine {
  readonly block: string;
  readonly attempt: number;
  readonly timestamp: number;
  readonly level: string;
  readonly message: string;
}

export interface Schedule {
  readonly schedule_id: string;
  readonly pipeline: string;
  readonly cron: string;
  readonly timezone: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly enabled: boolean;
  readonly next_run_time: number | null;
  readonly last_run_id: string | null;
  readonly created_time: number;
}

export interface ServedModel {
  readonly uri: string;
  readonly name: string | null;
  readonly version: string | null;
  readonly stage: string | null;
  readonly run_id: string | null;
  readonly estimator: string;
  readonly checksum: string | null;
  readonly metrics: Readonly<Record<string, number>>;
  readonly trained_on: { readonly rows: number | null; readonly dataset_fingerprint: string | null };
  readonly training_ranges: {
    readonly source: 'model' | 'schema';
    readonly features: Readonly<Record<string, { readonly min: number; readonly max: number }>>;
  };
  readonly trained_at: string | null;
  readonly calibration: {
    readonly method: 'none' | 'platt' | 'monotone_cubic' | 'isotonic' | 'venn_abers';
    readonly chosen_by: 'cross_validation' | 'user' | null;
  };
  readonly loaded_at: string;
  readonly fallback?: { readonly instead_of: string; readonly reason: string };
}

export interface CodeLabel {
  readonly code: number;
  readonly label: string;
}

export type Feature =
  | {
      readonly name: string;
      readonly group: string;
      readonly description: string;
      readonly kind: 'continuous';
      readonly unit: string;
      readonly limits: { readonly min: number; readonly max: number };
      readonly training: { readonly min: number; readonly max: number };
      readonly integer: boolean;
    }
  | {
      readonly name: string;
      readonly group: string;
      readonly description: string;
      readonly kind: 'binary' | 'categorical';
      readonly codes: readonly CodeLabel[];
    };

export interface FeatureSchema {
  readonly features: readonly Feature[];
  readonly groups: readonly { readonly group: string; readonly label: string }[];
  readonly id_column: string;
  readonly target: { readonly name: string; readonly codes: readonly CodeLabel[] };
}

export interface OutOfDistribution {
  readonly feature: string;
  readonly value: number;
  readonly training_range: { readonly min: number; readonly max: number };
}

export interface Explanation {
  readonly bias: number;
  readonly contributions: Readonly<Record<string, number>>;
  /** The model's own probability (the margin's), before its calibration. */
  readonly uncalibrated_probability: number;
}

export interface ModelRef {
  readonly name: string | null;
  readonly version: string | null;
  readonly run_id: string | null;
}

/** The threshold a model diagnoses at, and the policy that chose it. */
export interface DecisionThreshold {
  readonly value: number;
  /** As onset train --threshold takes it: 0.5, sensitivity:0.95, cost:5. */
  readonly policy: string;
  readonly description: string;
}

export interface Prediction {
  readonly patient_id: string | null;
  readonly probability: number;
  /** 1 when the probability is at least `threshold.value`. */
  readonly diagnosis: 0 | 1;
  readonly out_of_distribution: readonly OutOfDistribution[];
  /** The diagnoses the model cannot rule out at its conformal level; absent for a model without. */
  readonly prediction_set?: readonly (0 | 1)[];
  /** The Venn-Abers pair (p0, p1) around the probability; absent unless calibrated by Venn-Abers. */
  readonly probability_interval?: readonly [number, number];
  readonly threshold: DecisionThreshold;
  readonly model: ModelRef;
  readonly explanation?: Explanation;
}

export interface BatchResult {
  readonly index: number;
  readonly patient_id?: string | null;
  readonly probability?: number;
  readonly diagnosis?: 0 | 1;
  readonly out_of_distribution?: readonly OutOfDistribution[];
  readonly prediction_set?: readonly (0 | 1)[];
  readonly errors?: readonly { readonly field: string; readonly message: string; readonly reason: string }[];
}

export interface BatchAnswer {
  readonly model: ModelRef;
  readonly threshold: DecisionThreshold;
  readonly valid: number;
  readonly invalid: number;
  readonly results: readonly BatchResult[];
}

/** The model report a training run logs (`report/model-report.json`; see src/ml/report/). */
/** A model's decision threshold as its report keeps it (src/ml/decision/threshold-policy.ts). */
export interface ThresholdDocument {
  readonly value: number;
  readonly policy:
    | { readonly kind: 'fixed'; readonly threshold: number }
    | { readonly kind: 'min_sensitivity'; readonly sensitivity: number }
    | { readonly kind: 'cost_ratio'; readonly ratio: number };
  readonly reason: string;
  readonly held_out?: {
    readonly rows: number;
    readonly sensitivity: number;
    readonly specificity: number;
    readonly precision: number;
    readonly negative_predictive_value: number;
    readonly diagnosed_share: number;
  };
  readonly cost_per_patient?: number;
}

export interface ModelReport {
  readonly name: 'onset-model-report';
  readonly estimator: string;
  readonly params: Readonly<Record<string, unknown>>;
  /** The decision threshold and how it was chosen; absent from reports made before models chose one. */
  readonly threshold?: ThresholdDocument;
  readonly metrics: {
    readonly training: Readonly<Record<string, number>>;
    readonly cross_validation?: {
      readonly folds: number;
      readonly seed: number;
      readonly summary: Readonly<Record<string, { readonly mean: number; readonly std: number }>>;
    };
  };
  readonly evaluation: {
    readonly source: 'out-of-fold' | 'training';
    readonly rows: number;
    readonly threshold: number;
    readonly confusion: {
      readonly tp: number;
      readonly fp: number;
      readonly tn: number;
      readonly fn: number;
    };
    readonly brier: number;
    readonly roc: {
      readonly auc: number;
      readonly fpr: readonly number[];
      readonly tpr: readonly number[];
      readonly thresholds?: readonly number[];
    };
    readonly precision_recall: {
      readonly average_precision: number;
      readonly precision: readonly number[];
      readonly recall: readonly number[];
    };
    readonly calibration: readonly {
      readonly lower: number;
      readonly upper: number;
      readonly count: number;
      readonly meanPredicted: number | null;
      readonly observedRate: number | null;
    }[];
    readonly subgroups: readonly {
      readonly group: string;
      readonly value: string;
      readonly count: number;
      readonly positives: number;
      readonly accuracy: number;
      readonly precision: number;
      readonly recall: number;
      readonly specificity: number;
      readonly roc_auc: number | null;
      readonly brier: number;
      readonly intervals?: {
        readonly accuracy: readonly [number, number];
        readonly recall: readonly [number, number];
        readonly specificity: readonly [number, number];
        readonly roc_auc: readonly [number, number] | null;
        readonly brier: readonly [number, number];
      };
    }[];
    readonly subgroup_gaps?: readonly {
      readonly group: string;
      readonly metric: string;
      readonly gap: number;
      readonly lowest: { readonly value: string; readonly metric: number };
      readonly highest: { readonly value: string; readonly metric: number };
      readonly bound: number;
      readonly flagged: boolean;
    }[];
    readonly decision_curve?: {
      readonly thresholds: readonly number[];
      readonly model: readonly number[];
      readonly treat_all: readonly number[];
    };
  };
  readonly calibration?: {
    readonly method: 'none' | 'platt' | 'monotone_cubic' | 'isotonic' | 'venn_abers';
    readonly chosen_by: 'cross_validation' | 'user';
    readonly before: {
      readonly ece: number;
      readonly ece_interval: readonly [number, number];
      readonly brier: number;
    };
    readonly after: {
      readonly ece: number;
      readonly ece_interval: readonly [number, number];
      readonly brier: number;
    };
  };
  readonly importance?: {
    readonly mean_abs_contribution: readonly { readonly feature: string; readonly value: number }[];
    readonly gain?: readonly { readonly feature: string; readonly value: number }[];
  };
  readonly data: { readonly fingerprint: string; readonly rows: number };
}

/** `GET /api/onset/monitoring/traffic`: the prediction log over a window, in buckets. */
export interface Traffic {
  readonly from: number;
  readonly to: number;
  readonly step_ms: number;
  readonly predictions: number;
  readonly positive: number;
  readonly labelled: number;
  readonly probability_histogram: readonly number[];
  readonly read_from: number | null;
  readonly buckets: readonly {
    readonly start: number;
    readonly predictions: number;
    readonly positive: number;
    readonly labelled: number;
    readonly latency_ms: { readonly p50: number; readonly p95: number } | null;
    readonly probability: {
      readonly mean: number;
      readonly p10: number;
      readonly p50: number;
      readonly p90: number;
    } | null;
  }[];
}

/** A stored monitoring check (`/api/onset/monitoring/checks`). */
export interface MonitoringCheck {
  readonly check_id: string;
  readonly kind: 'drift' | 'performance';
  readonly model: { readonly name: string; readonly version: string; readonly run_id: string | null };
  readonly window: { readonly from: number; readonly to: number };
  readonly started_at: number;
  readonly finished_at: number;
  readonly status: 'succeeded' | 'failed';
  readonly error: string | null;
  readonly summary: DriftSummary | PerformanceSummary | null;
  /** Only when one check is read. */
  readonly result?: DriftResult | PerformanceResult | null;
}

export interface DriftSummary {
  readonly outcome: 'checked' | 'too_few_rows';
  readonly rows: number;
  readonly dataset_drifted: boolean | null;
  readonly drift_share: number | null;
  readonly drifted_features: number | null;
  readonly features: number | null;
  readonly prediction_drifted: boolean | null;
}

export interface PerformanceSummary {
  readonly estimation_available: boolean;
  readonly windows: readonly {
    readonly window: string;
    readonly records: number;
    readonly labelled_records: number;
    readonly realized_roc_auc: number | null;
    readonly realized_accuracy: number | null;
    readonly estimated_roc_auc: number | null;
    readonly estimated_accuracy: number | null;
  }[];
}

export interface ColumnDrift {
  readonly column: string;
  readonly type: string;
  readonly test: string;
  readonly test_label: string;
  readonly score_kind: string;
  readonly score: number | null;
  readonly threshold: number;
  readonly drift_when: string;
  readonly drifted: boolean;
  readonly psi: number | null;
  readonly histogram: readonly {
    readonly label: string;
    readonly reference_share: number;
    readonly current_share: number;
    readonly reference_count: number;
    readonly current_count: number;
  }[];
  readonly note: string | null;
}

export interface DriftResult {
  readonly outcome: 'checked' | 'too_few_rows';
  readonly window: { readonly label: string; readonly rows: number; readonly truncated: boolean };
  readonly note: string | null;
  readonly report: {
    readonly reference: {
      readonly source: string;
      readonly training_rows: number;
      readonly sample_rows: number;
    };
    readonly dataset_drift: {
      readonly drifted: boolean;
      readonly drifted_features: number;
      readonly features: number;
      readonly share: number;
      readonly drift_share: number;
    };
    readonly prediction_drift: ColumnDrift | null;
    readonly features: readonly ColumnDrift[];
  } | null;
}

export interface MetricFigure {
  readonly value: number | null;
  readonly undefined_reason: string | null;
}

export interface EstimatedFigure {
  readonly estimate: number | null;
  readonly lower: number | null;
  readonly upper: number | null;
  readonly undefined_reason: string | null;
}

export interface PerformanceResult {
  readonly estimation: { readonly available: boolean; readonly reason: string | null };
  readonly windows: readonly {
    readonly window: string;
    readonly records: number;
    readonly realized: {
      readonly records: number;
      readonly metrics: Readonly<Record<string, MetricFigure>>;
    };
    readonly estimated: {
      readonly records: number;
      readonly metrics: Readonly<Record<string, EstimatedFigure>>;
    } | null;
  }[];
}

/** An alert received from Alertmanager (`/api/onset/alerts`), with what it triggered. */
export interface ReceivedAlert {
  readonly alert_id: string;
  readonly alert_name: string;
  readonly status: 'firing' | 'resolved';
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly starts_at: number;
  readonly ends_at: number | null;
  /** Alertmanager's identity of the alert: its firing and resolved notifications share it. */
  readonly fingerprint: string;
  readonly generator_url: string;
  readonly received_at: number;
  readonly outcome: string;
  readonly pipeline_run_id: string | null;
  readonly detail: string | null;
  readonly triggered: string;
}

/** A model card (src/ml/report/model-card.ts), as a training run logs it (`report/model-card.json`). */
export type CardBlock =
  | { readonly kind: 'paragraph'; readonly text: string }
  | { readonly kind: 'list'; readonly items: readonly string[] }
  | {
      readonly kind: 'table';
      readonly caption: string;
      readonly columns: readonly string[];
      readonly rows: readonly (readonly string[])[];
    }
  | {
      readonly kind: 'chart';
      readonly caption: string;
      readonly xLabel: string;
      readonly yLabel: string;
      readonly x: readonly number[];
      readonly series: readonly {
        readonly label: string;
        readonly values: readonly (number | null)[];
        readonly dashed?: boolean;
        readonly points?: boolean;
      }[];
      readonly xRange: readonly [number, number];
      readonly yRange: readonly [number, number];
    };

export interface ModelCard {
  readonly name: 'onset-model-card';
  readonly title: string;
  readonly generated_at: string;
  readonly sections: readonly {
    readonly id: string;
    readonly title: string;
    readonly blocks: readonly CardBlock[];
  }[];
}

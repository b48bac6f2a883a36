/**
 * A model card per model version, after TRIPOD+AI's reporting items: intended use and users, the data and
 * its provenance, the features, how the model was built and validated, its performance with calibration
 * and subgroups, the threshold policy, and its limitations and behaviour out of distribution. Built once as
 * structured sections from the model document (and, when known, where the registry keeps it), then
 * written as Markdown or HTML, or rendered by the UI from the structure.
 */
import { FEATURES, type FeatureGroup, TARGET_COLUMN } from '../../data/schema.js';
import { CALIBRATION_METHOD_NAMES, CALIBRATION_METHODS } from '../calibration/calibration.js';
import { describeThresholdPolicy } from '../decision/threshold-policy.js';
import type { CalibrationBin } from '../metrics/index.js';
import type { ModelDocument } from '../model-document.js';
import { COVERAGE_TOLERANCE, formatSubgroupCoverage, type ModelReport } from './model-report.js';

/** One block of a card section. */
export type CardBlock =
  | { readonly kind: 'paragraph'; readonly text: string }
  | { readonly kind: 'list'; readonly items: readonly string[] }
  | {
      readonly kind: 'table';
      readonly caption: string;
      readonly columns: readonly string[];
      readonly rows: readonly (readonly string[])[];
    }
  | CardChart;

/**
 * A line chart of series over one increasing x (null where a series has no value), drawn in the HTML card
 * and the UI; Markdown leaves it out (a table beside it holds the same figures).
 */
export interface CardChart {
  readonly kind: 'chart';
  readonly caption: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly x: readonly number[];
  readonly series: readonly {
    readonly label: string;
    readonly values: readonly (number | null)[];
    readonly dashed?: boolean;
    /** Points rather than a line. */
    readonly points?: boolean;
  }[];
  readonly xRange: readonly [number, number];
  readonly yRange: readonly [number, number];
}

export interface CardSection {
  readonly id: string;
  readonly title: string;
  readonly blocks: readonly CardBlock[];
}

export interface ModelCard {
  readonly name: 'onset-model-card';
  readonly format_version: 1;
  readonly title: string;
  /** ISO 8601: when the card was made. */
  readonly generated_at: string;
  readonly sections: readonly CardSection[];
}

/** Where a version is kept, when the card is of a registered version. */
export interface CardContext {
  readonly name?: string | null;
  readonly version?: string | null;
  readonly stage?: string | null;
  readonly runId?: string | null;
  readonly checksum?: string | null;
  /** Where the training data was read from (a run's `dataset_path`), when known. */
  readonly datasetSource?: string | null;
}

const GROUP_NAMES: Readonly<Record<FeatureGroup, string>> = {
  demographics: 'Demographics',
  lifestyle: 'Lifestyle',
  medical_history: 'Medical history',
  clinical_measurements: 'Clinical measurements',
  cognitive_functional: 'Cognitive and functional assessment',
  symptoms: 'Symptoms',
};

const fixed = (value: number, digits = 3) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const percent = (value: number) => `${(100 * value).toFixed(1)}%`;
const interval = (pair: readonly [number, number] | null | undefined, digits = 3) =>
  pair ? ` [${fixed(pair[0], digits)}, ${fixed(pair[1], digits)}]` : '';

/** The card of a model document (`context`: where the registry keeps it, when it is a registered version). */
export function buildModelCard(
  document: ModelDocument,
  context: CardContext = {},
  now = new Date(),
): ModelCard {
  const report = document.report;
  const title =
    context.name && context.version
      ? `Model card: ${context.name} version ${context.version}`
      : `Model card: ${document.estimator} model`;
  const sections: CardSection[] = [
    detailsSection(document, context),
    intendedUseSection(),
    dataSection(document, report, context),
    featuresSection(report),
    developmentSection(document, report),
    performanceSection(document, report),
    calibrationSection(report),
    thresholdSection(document, report),
    predictionSetsSection(report),
    subgroupsSection(report),
    decisionCurveSection(report),
    limitationsSection(document, report),
  ];
  return { name: 'onset-model-card', format_version: 1, title, generated_at: now.toISOString(), sections };
}

function detailsSection(document: ModelDocument, context: CardContext): CardSection {
  const items = [
    ...(context.name ? [`Registered model: ${context.name}`] : []),
    ...(context.version
      ? [`Version: ${context.version}${context.stage ? ` (stage ${context.stage})` : ''}`]
      : []),
    ...(context.runId ? [`Training run: ${context.runId}`] : []),
    `Model family: ${document.estimator}`,
    `Fitted: ${document.training.fitted_at ?? 'unknown (imported)'}, by Onset ${document.training.onset_version}`,
    `Model document format version ${document.format_version}${context.checksum ? `, checksum ${context.checksum}` : ''}`,
    ...(document.training.imported_from
      ? [
          `Imported from ${document.training.imported_from}${document.training.imported_source ? ` (${document.training.imported_source})` : ''}`,
        ]
      : []),
  ];
  return { id: 'details', title: 'Model details', blocks: [{ kind: 'list', items }] };
}

function intendedUseSection(): CardSection {
  return {
    id: 'intended-use',
    title: 'Intended use and users',
    blocks: [
      {
        kind: 'paragraph',
        text: "The model estimates the probability that a patient has Parkinson's disease from 32 routinely collected clinical features (demographics, lifestyle, medical history, vital signs and laboratory values, UPDRS, MoCA, functional assessment and motor and non-motor symptoms). It is meant to support clinicians in deciding whom to refer for a specialist neurological assessment: an early-warning aid, not a diagnosis.",
      },
      {
        kind: 'list',
        items: [
          'Users: clinicians and the teams that run the model; the answer gives a calibrated probability, a diagnosis at the threshold below, and a prediction set that says when the model cannot tell (refer).',
          'Population: adults like those of the training data (see Data); not children, and not patients whose values lie outside the training ranges without the warning the answer carries.',
          "Not for: ruling Parkinson's disease out on its own, staging or treatment decisions, or populations whose prevalence or case mix differ from the training data without recalibration.",
        ],
      },
    ],
  };
}

function dataSection(
  document: ModelDocument,
  report: ModelReport | undefined,
  context: CardContext,
): CardSection {
  const blocks: CardBlock[] = [];
  const rows = document.training.rows;
  const profile = report?.data.profile;
  blocks.push({
    kind: 'list',
    items: [
      `Training rows: ${rows ?? 'unknown'}${document.training.validation_rows ? ` (${document.training.validation_rows} of them held out for early stopping)` : ''}`,
      `Data fingerprint: ${document.training.dataset_fingerprint ?? 'unknown'} (the same rows in any order give the same fingerprint)`,
      ...(context.datasetSource ? [`Read from: ${context.datasetSource}`] : []),
      ...(profile?.target
        ? [
            `Diagnosis: ${profile.target.classes.map((c) => `${c.label} ${c.count} (${percent(c.share)})`).join(', ')}`,
          ]
        : []),
      "Provenance: the data set named above. Onset's built-in data is synthetic, generated to the marginals and dependencies of Kaggle's \"Parkinson's Disease Dataset Analysis\" (2,105 patients); a model trained on it is a demonstration, not a clinical model.",
      'Identifiers: the DoctorInCharge column is dropped when the data is read; patient identifiers are not features.',
    ],
  });
  if (profile) {
    const demographics = profile.features.filter(
      (f) => f.name === 'Age' || f.name === 'Gender' || f.name === 'Ethnicity',
    );
    blocks.push({
      kind: 'table',
      caption: 'Demographics of the training rows',
      columns: ['feature', 'distribution'],
      rows: demographics.map((f) => [
        f.name,
        f.codes
          ? f.codes.map((c) => `${c.label} ${percent(c.share)}`).join(', ')
          : `${fixed(f.min ?? Number.NaN, 0)} to ${fixed(f.max ?? Number.NaN, 0)}, mean ${fixed(f.mean ?? Number.NaN, 1)}`,
      ]),
    });
  }
  return { id: 'data', title: 'Data', blocks };
}

function featuresSection(report: ModelReport | undefined): CardSection {
  const groups = new Map<FeatureGroup, string[]>();
  for (const feature of FEATURES) {
    const names = groups.get(feature.group) ?? [];
    names.push(feature.name);
    groups.set(feature.group, names);
  }
  const blocks: CardBlock[] = [
    {
      kind: 'paragraph',
      text: `${FEATURES.length} features in one schema (\`onset data schema\`), the target ${TARGET_COLUMN} (1: Parkinson's disease). Every record is checked against the schema's valid ranges before it is scored.`,
    },
    {
      kind: 'table',
      caption: 'Features by group',
      columns: ['group', 'features'],
      rows: [...groups].map(([group, names]) => [GROUP_NAMES[group], names.join(', ')]),
    },
  ];
  const importance = report?.importance?.mean_abs_contribution;
  if (importance && importance.length > 0) {
    blocks.push({
      kind: 'table',
      caption: 'The ten features that move the prediction most (mean absolute contribution to the log-odds)',
      columns: ['feature', 'mean |contribution|'],
      rows: importance.slice(0, 10).map((f) => [f.feature, fixed(f.value, 4)]),
    });
  }
  return { id: 'features', title: 'Features', blocks };
}

function developmentSection(document: ModelDocument, report: ModelReport | undefined): CardSection {
  const cv = document.metrics.cross_validation;
  const tuning = document.tuning;
  const params = Object.entries(document.params)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ');
  const items = [
    `Family: ${document.estimator}; parameters: ${params || 'none'}`,
    tuning
      ? `Parameters searched with ${tuning.trials.length} trials (${tuning.sampler}), each cross-validated on ${tuning.folds} folds; best ${tuning.metric} ${fixed(tuning.best_value, 4)}`
      : 'Parameters: as given (no search)',
    cv
      ? `Validated by ${cv.folds}-fold stratified cross-validation (seed ${cv.seed}): every figure below marked held out is of patients the model that scored them did not see`
      : 'Not cross-validated: the figures below are of the training rows and are optimistic',
    document.calibration && document.calibration.method !== 'none'
      ? `Probabilities calibrated by ${CALIBRATION_METHOD_NAMES[document.calibration.method]} (${document.calibration.chosen_by === 'cross_validation' ? `chosen by cross-validation among none, ${CALIBRATION_METHODS.map((m) => CALIBRATION_METHOD_NAMES[m]).join(', ')}, keeping the ranking` : 'as named'}), fitted on the out-of-fold probabilities`
      : "Probabilities: the model's own (not calibrated)",
    `Decision threshold: ${document.threshold ? `${document.threshold.value}, chosen for ${describeThresholdPolicy(document.threshold.policy)}` : '0.5 (the default)'}`,
    ...(document.conformal
      ? [
          `Prediction sets: split conformal prediction at level ${document.conformal.level}, ${document.conformal.by_subgroup ? 'conditional on the diagnosis and on each sex, ethnicity and age band' : 'conditional on the diagnosis'}`,
        ]
      : []),
    ...(report?.evaluation.source === 'out-of-fold' ? [] : ['The report was made on the training rows.']),
  ];
  return {
    id: 'development',
    title: 'How the model was built and validated',
    blocks: [{ kind: 'list', items }],
  };
}

function performanceSection(document: ModelDocument, report: ModelReport | undefined): CardSection {
  const blocks: CardBlock[] = [];
  const cv = document.metrics.cross_validation;
  if (cv) {
    const names: [string, string][] = [
      ['roc_auc', 'ROC AUC'],
      ['pr_auc', 'PR AUC'],
      ['accuracy', 'accuracy'],
      ['recall', 'sensitivity'],
      ['specificity', 'specificity'],
      ['brier', 'Brier score'],
      ['log_loss', 'log loss'],
    ];
    blocks.push({
      kind: 'table',
      caption: `Cross-validated over ${cv.folds} folds (mean ± standard deviation; the fold models before calibration, decisions at ${document.threshold?.policy.kind === 'fixed' ? document.threshold.value : 0.5})`,
      columns: ['metric', 'value'],
      rows: names.map(([key, label]) => {
        const summary = cv.summary[key as keyof typeof cv.summary];
        return [label, summary ? `${fixed(summary.mean, 4)} ± ${fixed(summary.std, 4)}` : 'n/a'];
      }),
    });
  }
  if (report) {
    const e = report.evaluation;
    const { tp, fp, tn, fn } = e.confusion;
    blocks.push({
      kind: 'table',
      caption: `Decisions at the threshold ${e.threshold}, on ${e.rows} ${e.source === 'out-of-fold' ? 'held-out (out-of-fold, calibrated) predictions' : 'training rows'}`,
      columns: ['', "predicted Parkinson's", 'predicted healthy'],
      rows: [
        ["has Parkinson's", String(tp), String(fn)],
        ['healthy', String(fp), String(tn)],
      ],
    });
    blocks.push({
      kind: 'paragraph',
      text: `Sensitivity ${fixed(tp / Math.max(1, tp + fn))}, specificity ${fixed(tn / Math.max(1, tn + fp))}, ROC AUC ${fixed(e.roc.auc, 4)}, average precision ${fixed(e.precision_recall.average_precision, 4)}, Brier score ${fixed(e.brier, 4)}.`,
    });
  }
  if (blocks.length === 0)
    blocks.push({ kind: 'paragraph', text: 'No figures were recorded (an imported model).' });
  return { id: 'performance', title: 'Performance', blocks };
}

function calibrationSection(report: ModelReport | undefined): CardSection {
  const calibration = report?.calibration;
  if (!calibration) {
    return {
      id: 'calibration',
      title: 'Calibration',
      blocks: [{ kind: 'paragraph', text: "Not calibrated: the probabilities are the model's own." }],
    };
  }
  const row = (label: string, f: typeof calibration.before) => [
    label,
    `${fixed(f.ece, 4)}${interval(f.ece_interval, 4)}`,
    fixed(f.brier, 4),
    fixed(f.reliability, 4),
    fixed(f.resolution, 4),
    fixed(f.uncertainty, 4),
  ];
  return {
    id: 'calibration',
    title: 'Calibration',
    blocks: [
      {
        kind: 'paragraph',
        text: `Method: ${calibration.method} (${calibration.chosen_by === 'cross_validation' ? 'chosen by cross-validation' : 'named by the user'}). A probability of 0.8 should mean that about 8 in 10 such patients have the disease; the expected calibration error (ECE, 10 bins) is how far the held-out probabilities are from that on average, with a 95% bootstrap interval.`,
      },
      {
        kind: 'table',
        caption: 'Held-out calibration before and after (Brier = reliability − resolution + uncertainty)',
        columns: ['', 'ECE [95% CI]', 'Brier', 'reliability', 'resolution', 'uncertainty'],
        rows: [row('before', calibration.before), row('after', calibration.after)],
      },
      reliabilityChart(calibration.before.bins, calibration.after.bins),
      {
        kind: 'table',
        caption: 'Reliability diagram (held out, after calibration)',
        columns: ['bin', 'patients', 'mean probability', 'observed rate'],
        rows: calibration.after.bins
          .filter((bin) => bin.count > 0)
          .map((bin) => [
            `${fixed(bin.lower, 1)}–${fixed(bin.upper, 1)}`,
            String(bin.count),
            fixed(bin.meanPredicted ?? Number.NaN),
            fixed(bin.observedRate ?? Number.NaN),
          ]),
      },
    ],
  };
}

/** Observed rate against mean probability per bin, before and after calibration, beside the diagonal. */
function reliabilityChart(before: readonly CalibrationBin[], after: readonly CalibrationBin[]): CardChart {
  const filled = (bins: readonly CalibrationBin[]) =>
    bins.filter((bin) => bin.count > 0 && bin.meanPredicted !== null && bin.observedRate !== null);
  const points = [...filled(before), ...filled(after)].map((bin) => bin.meanPredicted!);
  const x = [...new Set([0, 1, ...points])].sort((a, b) => a - b);
  const at = (bins: readonly CalibrationBin[]) => {
    const byX = new Map(filled(bins).map((bin) => [bin.meanPredicted!, bin.observedRate!]));
    return x.map((value) => byX.get(value) ?? null);
  };
  return {
    kind: 'chart',
    caption: 'Reliability diagram: the observed rate of the disease against the mean probability, per bin',
    xLabel: 'mean probability',
    yLabel: 'observed rate',
    x,
    series: [
      {
        label: 'perfect',
        values: x,
        dashed: true,
      },
      { label: 'before calibration', values: at(before), points: true },
      { label: 'after calibration', values: at(after), points: true },
    ],
    xRange: [0, 1],
    yRange: [0, 1],
  };
}

function thresholdSection(document: ModelDocument, report: ModelReport | undefined): CardSection {
  const threshold = document.threshold ?? report?.threshold;
  if (!threshold) {
    return {
      id: 'threshold',
      title: 'Decision threshold',
      blocks: [
        {
          kind: 'paragraph',
          text: "A patient is diagnosed with Parkinson's disease at a probability of 0.5 or more (the default; no policy was recorded).",
        },
      ],
    };
  }
  const held = threshold.held_out;
  return {
    id: 'threshold',
    title: 'Decision threshold',
    blocks: [
      {
        kind: 'paragraph',
        text: `A patient is diagnosed with Parkinson's disease at a probability of ${threshold.value} or more. Policy: ${describeThresholdPolicy(threshold.policy)}. Why this value: ${threshold.reason}.`,
      },
      ...(held
        ? [
            {
              kind: 'list' as const,
              items: [
                `Held-out sensitivity ${fixed(held.sensitivity)}, specificity ${fixed(held.specificity)}, on the out-of-fold probabilities it was chosen on`,
                ...(threshold.cross_fitted
                  ? [
                      `Chosen on ${threshold.cross_fitted.folds - 1} of ${threshold.cross_fitted.folds} folds and applied to the other, in turn (what to expect for new patients): sensitivity ${fixed(threshold.cross_fitted.sensitivity)}, specificity ${fixed(threshold.cross_fitted.specificity)}`,
                    ]
                  : []),
                `Of the patients diagnosed, ${percent(held.precision)} have the disease; of those not diagnosed, ${percent(held.negative_predictive_value)} do not`,
                `${percent(held.diagnosed_share)} of the ${held.rows} patients are diagnosed`,
              ],
            },
          ]
        : []),
    ],
  };
}

function predictionSetsSection(report: ModelReport | undefined): CardSection {
  const conformal = report?.conformal;
  if (!conformal) {
    return {
      id: 'prediction-sets',
      title: 'Prediction sets',
      blocks: [{ kind: 'paragraph', text: 'None: the model was trained without cross-validation.' }],
    };
  }
  return {
    id: 'prediction-sets',
    title: 'Prediction sets',
    blocks: [
      {
        kind: 'paragraph',
        text: `Each answer carries a prediction set at level ${conformal.level}: the diagnoses the model cannot rule out. [1] or [0] means it is sure at that level, [0, 1] that it cannot tell (refer), [] that the patient is unlike its calibration patients. Each diagnosis is in the set of the patients who have it at least ${percent(conformal.level)} of the time (conformal prediction conditional on the diagnosis and on each sex, ethnicity and age band with enough patients: a guarantee over patients exchangeable with the training data). Held out: coverage ${fixed(conformal.held_out.coverage[0])} for patients without the disease and ${fixed(conformal.held_out.coverage[1])} for those with it; ${percent(conformal.held_out.undecided)} undecided, ${percent(conformal.held_out.empty)} empty: the price of the guarantee.`,
      },
      {
        kind: 'table',
        caption: 'Held-out coverage by subgroup',
        columns: [
          'group',
          'subgroup',
          'patients',
          'coverage without PD [95% CI]',
          'coverage with PD [95% CI]',
          'undecided',
        ],
        rows: conformal.subgroups.map((g) => [
          g.group,
          g.value,
          String(g.count),
          formatSubgroupCoverage(g, 0),
          formatSubgroupCoverage(g, 1),
          percent(g.undecided),
        ]),
      },
      {
        kind: 'paragraph',
        text: offTargetText(conformal),
      },
    ],
  };
}

/** Which subgroups' coverage misses the level beyond their sampling error, in words. */
function offTargetText(conformal: NonNullable<ModelReport['conformal']>): string {
  const rule = `A subgroup's coverage is off target when its 95% interval lies wholly outside ${conformal.level} ± ${COVERAGE_TOLERANCE}`;
  const off = conformal.subgroups.flatMap((g) =>
    ([0, 1] as const)
      .filter((label) => g.off_target?.[label])
      .map((label) => `${g.group} ${g.value} ${label === 1 ? 'with' : 'without'} PD`),
  );
  if (conformal.subgroups.every((g) => g.off_target === undefined))
    return `${rule}; this report was made before intervals were recorded.`;
  return off.length === 0 ? `${rule}: none is.` : `${rule}: ${off.join('; ')}.`;
}

function subgroupsSection(report: ModelReport | undefined): CardSection {
  if (!report)
    return {
      id: 'subgroups',
      title: 'Subgroups',
      blocks: [{ kind: 'paragraph', text: 'No report was recorded.' }],
    };
  const e = report.evaluation;
  const gaps = (e.subgroup_gaps ?? []).filter((gap) => gap.flagged);
  return {
    id: 'subgroups',
    title: 'Subgroups',
    blocks: [
      {
        kind: 'table',
        caption: `By sex, ethnicity and age band, at the threshold ${e.threshold} (${e.source === 'out-of-fold' ? 'held out' : 'training rows'}; [95% bootstrap interval])`,
        columns: ['group', 'subgroup', 'patients', 'accuracy', 'sensitivity', 'specificity', 'ROC AUC'],
        rows: e.subgroups.map((g) => [
          g.group,
          g.value,
          String(g.count),
          `${fixed(g.accuracy)}${interval(g.intervals?.accuracy)}`,
          `${fixed(g.recall)}${interval(g.intervals?.recall)}`,
          `${fixed(g.specificity)}${interval(g.intervals?.specificity)}`,
          g.roc_auc === null ? '–' : `${fixed(g.roc_auc)}${interval(g.intervals?.roc_auc)}`,
        ]),
      },
      {
        kind: 'paragraph',
        text:
          gaps.length === 0
            ? "No gap between subgroups (of 30 patients or more) exceeds the report's bound."
            : `Flagged: ${gaps.map((gap) => `${gap.group} ${gap.metric === 'recall' ? 'sensitivity' : gap.metric} differs by ${fixed(gap.gap)} (${gap.lowest.value} ${fixed(gap.lowest.metric)}, ${gap.highest.value} ${fixed(gap.highest.metric)}; bound ${gap.bound})`).join('; ')}.`,
      },
    ],
  };
}

function decisionCurveSection(report: ModelReport | undefined): CardSection {
  const curve = report?.evaluation.decision_curve;
  if (!curve) {
    return {
      id: 'decision-curve',
      title: 'Decision curve',
      blocks: [{ kind: 'paragraph', text: 'Not recorded.' }],
    };
  }
  // Where acting on the model beats both treating everyone and treating no one.
  const useful = curve.thresholds.filter((_, k) => curve.model[k]! > Math.max(curve.treat_all[k]!, 0));
  const shown = [0.05, 0.1, 0.2, 0.3, 0.5, 0.7];
  return {
    id: 'decision-curve',
    title: 'Decision curve',
    blocks: [
      {
        kind: 'paragraph',
        text: `Net benefit (true positives per patient, less false positives weighed by the odds of the threshold) of acting on the model, beside treating every patient and none. ${useful.length > 0 ? `The model is the better choice at threshold probabilities from ${fixed(useful[0]!, 2)} to ${fixed(useful[useful.length - 1]!, 2)}.` : 'The model beats neither treating everyone nor treating no one at any threshold.'}`,
      },
      {
        kind: 'chart',
        caption: 'Decision curve: net benefit against the threshold probability (held out)',
        xLabel: 'threshold probability',
        yLabel: 'net benefit',
        x: curve.thresholds,
        series: [
          { label: 'the model', values: curve.model },
          { label: 'treat all', values: curve.treat_all, dashed: true },
          { label: 'treat none', values: curve.thresholds.map(() => 0), dashed: true },
        ],
        xRange: [0, 1],
        // Treating everyone falls far below 0 at high thresholds: the chart stops a little below it.
        yRange: [-0.05, Math.max(0.05, ...curve.model, ...curve.treat_all) + 0.02],
      },
      {
        kind: 'table',
        caption: 'Net benefit at a few threshold probabilities (held out)',
        columns: ['threshold', 'model', 'treat all', 'treat none'],
        rows: shown.flatMap((pt) => {
          const k = curve.thresholds.findIndex((t) => Math.abs(t - pt) < 1e-9);
          return k < 0 ? [] : [[fixed(pt, 2), fixed(curve.model[k]!, 4), fixed(curve.treat_all[k]!, 4), '0']];
        }),
      },
    ],
  };
}

function limitationsSection(document: ModelDocument, report: ModelReport | undefined): CardSection {
  const profile = report?.data.profile;
  const prevalence = profile?.target?.classes.find((c) => c.code === 1)?.share;
  const ranges =
    profile?.features.filter((f) => f.kind === 'continuous' && f.min !== null && f.max !== null) ?? [];
  return {
    id: 'limitations',
    title: 'Limitations and out-of-distribution behaviour',
    blocks: [
      {
        kind: 'list',
        items: [
          'Validated internally only (cross-validation on the training data): no external or temporal validation is recorded. Validate on your own population before clinical use.',
          prevalence !== undefined
            ? `Probabilities are calibrated to a population in which ${percent(prevalence)} have the disease; where prevalence differs, they are biased accordingly until the model is recalibrated (retrain on local data, or watch the monitoring's calibration check).`
            : 'Probabilities are calibrated to the training population; where prevalence differs they are biased until the model is recalibrated.',
          'Subgroups with fewer than 30 patients get no gap check, and their intervals are wide.',
          "Out of distribution: a value outside the range of the training rows is still scored, and the answer lists it under out_of_distribution (the probability is less certain than it says); values outside the schema's valid ranges are refused. Drift checks compare new records with the training rows.",
          document.conformal
            ? 'The coverage guarantee of the prediction sets holds for patients exchangeable with the training data; under drift it does not.'
            : 'No prediction sets: nothing says when the model cannot tell.',
        ],
      },
      ...(ranges.length > 0
        ? [
            {
              kind: 'table' as const,
              caption: 'Training ranges of the continuous features (beyond them an answer flags the value)',
              columns: ['feature', 'min', 'max'],
              rows: ranges.map((f) => [f.name, String(f.min), String(f.max)]),
            },
          ]
        : []),
    ],
  };
}

// ---------------------------------------------------------------------------------------------------
// Writers

/** The card as Markdown (GitHub's flavour: pipes in cells escaped). */
export function modelCardMarkdown(card: ModelCard): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [`# ${card.title}`, '', `_Generated by Onset at ${card.generated_at}._`];
  for (const section of card.sections) {
    lines.push('', `## ${section.title}`);
    for (const block of section.blocks) {
      if (block.kind === 'chart') continue;
      lines.push('');
      if (block.kind === 'paragraph') lines.push(block.text);
      else if (block.kind === 'list') lines.push(...block.items.map((item) => `- ${item}`));
      else {
        lines.push(
          `_${block.caption}_`,
          '',
          `| ${block.columns.map(cell).join(' | ')} |`,
          `| ${block.columns.map(() => '---').join(' | ')} |`,
          ...block.rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
        );
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** `code` spans of the Markdown text, escaped, as HTML. */
function inlineHtml(text: string): string {
  return escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');
}

/** Colours of the series (Okabe-Ito, as the UI's charts). */
const CHART_COLORS = ['#7f7f7f', '#0072b2', '#d55e00', '#009e73'];

/** A chart as an inline SVG figure: axes with ticks at fifths, a line or points per series, a legend. */
function chartSvg(chart: CardChart): string {
  const width = 560;
  const height = 360;
  const left = 56;
  const right = 16;
  const top = 16;
  const bottom = 44;
  const [x0, x1] = chart.xRange;
  const [y0, y1] = chart.yRange;
  const px = (x: number) => left + ((x - x0) / (x1 - x0)) * (width - left - right);
  const py = (y: number) =>
    top + (1 - (Math.min(Math.max(y, y0), y1) - y0) / (y1 - y0)) * (height - top - bottom);
  const ticks = (from: number, to: number) =>
    Array.from({ length: 6 }, (_, k) => from + ((to - from) * k) / 5);
  const parts = [
    `<figure><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(chart.caption)}">`,
    `<rect x="${left}" y="${top}" width="${width - left - right}" height="${height - top - bottom}" fill="none" stroke="#d0d7de"/>`,
    ...ticks(x0, x1).map(
      (x) =>
        `<text x="${px(x).toFixed(1)}" y="${height - bottom + 16}" font-size="11" text-anchor="middle">${x.toFixed(1)}</text>`,
    ),
    ...ticks(y0, y1).map(
      (y) =>
        `<text x="${left - 6}" y="${(py(y) + 4).toFixed(1)}" font-size="11" text-anchor="end">${y.toFixed(2)}</text>`,
    ),
    `<text x="${(left + width - right) / 2}" y="${height - 6}" font-size="12" text-anchor="middle">${escapeHtml(chart.xLabel)}</text>`,
    `<text x="14" y="${(top + height - bottom) / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 14 ${(top + height - bottom) / 2})">${escapeHtml(chart.yLabel)}</text>`,
  ];
  chart.series.forEach((series, s) => {
    const color = CHART_COLORS[s % CHART_COLORS.length]!;
    const points = chart.x.flatMap((x, k) => {
      const y = series.values[k];
      return y === null || y === undefined ? [] : [[px(x), py(y)] as const];
    });
    if (series.points) {
      for (const [x, y] of points)
        parts.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3.5" fill="${color}"/>`);
    } else {
      parts.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2"${series.dashed ? ' stroke-dasharray="6 4"' : ''} points="${points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')}"/>`,
      );
    }
    parts.push(
      `<text x="${left + 10}" y="${top + 16 + 15 * s}" font-size="11" fill="${color}">${escapeHtml(series.label)}</text>`,
    );
  });
  parts.push('</svg>', `<figcaption>${inlineHtml(chart.caption)}</figcaption></figure>`);
  return parts.join('');
}

const CARD_STYLE =
  'body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}table{border-collapse:collapse;margin:.5rem 0 1rem}th,td{border:1px solid #d0d7de;padding:.25rem .6rem;text-align:left;vertical-align:top}caption{text-align:left;font-style:italic;padding:.25rem 0}h2{margin-top:2rem;border-bottom:1px solid #d0d7de}code{background:#f3f4f6;padding:0 .2rem}';

/** The card as one HTML document, with nothing but its own style (no scripts, nothing fetched). */
export function modelCardHtml(card: ModelCard): string {
  const parts = [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(card.title)}</title>`,
    `<style>${CARD_STYLE}</style>`,
    '</head>',
    '<body>',
    `<h1>${escapeHtml(card.title)}</h1>`,
    `<p><em>Generated by Onset at ${escapeHtml(card.generated_at)}.</em></p>`,
  ];
  for (const section of card.sections) {
    parts.push(`<section id="${escapeHtml(section.id)}">`, `<h2>${escapeHtml(section.title)}</h2>`);
    for (const block of section.blocks) {
      if (block.kind === 'chart') parts.push(chartSvg(block));
      else if (block.kind === 'paragraph') parts.push(`<p>${inlineHtml(block.text)}</p>`);
      else if (block.kind === 'list')
        parts.push(`<ul>${block.items.map((item) => `<li>${inlineHtml(item)}</li>`).join('')}</ul>`);
      else {
        parts.push(
          '<table>',
          `<caption>${inlineHtml(block.caption)}</caption>`,
          `<thead><tr>${block.columns.map((c) => `<th scope="col">${escapeHtml(c)}</th>`).join('')}</tr></thead>`,
          `<tbody>${block.rows.map((row) => `<tr>${row.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('')}</tbody>`,
          '</table>',
        );
      }
    }
    parts.push('</section>');
  }
  parts.push('</body>', '</html>');
  return `${parts.join('\n')}\n`;
}

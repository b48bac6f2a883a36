import type { Dataset } from '../../data/dataset.js';
import { requireTarget, selectRows } from '../../data/dataset.js';
import { rowDigests } from '../../data/fingerprint.js';
import { OnsetError } from '../../errors.js';
import {
  costPerPatient,
  DEFAULT_THRESHOLD_POLICY,
  decisionThreshold,
  type ThresholdDocument,
  type ThresholdPolicy,
  thresholdFigures,
} from '../../ml/decision/threshold-policy.js';
import type { FittedModel } from '../../ml/estimator.js';
import {
  DEFAULT_THRESHOLD,
  evaluateBinary,
  lowerIsBetter,
  type SelectionMetric,
} from '../../ml/metrics/index.js';
import { type SubgroupGap, subgroupGaps, subgroupMetrics } from '../../ml/report/model-report.js';
import { featureMatrix } from '../../ml/train-on-dataset.js';
import type { ModelVersion } from '../../tracking/entities.js';
import { loadModelVersion, type RegistryStores } from '../../tracking/model-registry.js';
import { trainingRowsOf } from '../../tracking/training-logger.js';
import type { BlockLogger } from '../block.js';
import { checkGoldenCases, type GoldenCases, type GoldenResult } from './golden-cases.js';
import type { PromotionDecision } from './value-types.js';

/** The alias of the version the gate staged last (`champion` follows Production: see `CHAMPION_ALIAS`). */
export const CHALLENGER_ALIAS = 'challenger';

/** Fewest held-out rows, seen by neither model, that a comparison is made on. */
export const MIN_FAIR_ROWS = 30;

/**
 * How many of the held-out rows each model was trained on (from the rows their runs recorded), and how
 * many were left to judge on. Absent when neither model saw any of them.
 */
export interface HeldOutOverlap {
  readonly heldOut: number;
  /** Rows the challenger was trained on. */
  readonly challengerSeen: number;
  /** Rows the Production model was trained on (0 without one). */
  readonly championSeen: number;
  /** Rows neither was trained on: what the metric was measured on, if at least `MIN_FAIR_ROWS`. */
  readonly unseen: number;
  /** False when too few unseen rows (or only one class) were left for a comparison. */
  readonly fair: boolean;
}

/**
 * What the gate compares on: the pipeline's metric for a challenger with a fixed threshold, else its
 * threshold policy's (`specificity` for a minimum sensitivity, `cost` per patient for a cost ratio).
 * Each model is measured at its own decision threshold.
 */
export type GateMetric = SelectionMetric | 'specificity' | 'cost';

export function gateMetricOf(policy: ThresholdPolicy, metric: SelectionMetric): GateMetric {
  switch (policy.kind) {
    case 'fixed':
      return metric;
    case 'min_sensitivity':
      return 'specificity';
    case 'cost_ratio':
      return 'cost';
  }
}

function gateLowerIsBetter(metric: GateMetric): boolean {
  return metric === 'cost' || (metric !== 'specificity' && lowerIsBetter(metric));
}

/** A model's value of the gate's metric on labelled rows, at its own threshold, with its sensitivity there. */
export interface GateMeasure {
  readonly value: number;
  readonly threshold: number;
  readonly sensitivity: number;
}

export function measureForGate(
  model: FittedModel,
  threshold: number,
  data: Dataset,
  metric: GateMetric,
  policy: ThresholdPolicy,
): GateMeasure {
  const target = requireTarget(data);
  const probabilities = model.predictProba(featureMatrix(data));
  const figures = thresholdFigures(target, probabilities, threshold);
  const value =
    metric === 'cost'
      ? costPerPatient(target, probabilities, threshold, policy.kind === 'cost_ratio' ? policy.ratio : 1)
      : metric === 'specificity'
        ? figures.specificity
        : evaluateBinary(target, probabilities, { threshold })[metric];
  return { value, threshold, sensitivity: figures.sensitivity };
}

export interface GateInput {
  readonly metric: GateMetric;
  /** How much better the challenger must be (in the metric's units). */
  readonly margin: number;
  readonly golden: GoldenResult;
  /** The challenger's metric on the rows judged on (every held-out row, or those neither model saw). */
  readonly challenger: number | GateMeasure;
  /** The current Production version on the same rows; undefined when there is none. */
  readonly champion?:
    | ({ readonly version: string; readonly value: number } & Partial<GateMeasure>)
    | { readonly version: string; readonly error: string };
  readonly overlap?: HeldOutOverlap;
  /** The challenger's subgroup gaps on the judged rows above the gate's bound (none: checked and passed). */
  readonly subgroupGaps?: readonly SubgroupGap[];
}

/**
 * The promotion rule: a challenger that fails a golden case goes to Staging; with no Production version,
 * it is promoted; otherwise it is promoted only if it beats Production on the metric by more than the
 * margin, on held-out rows neither model was trained on, and goes to Staging with the reason otherwise.
 * When a model was trained on held-out rows, they are left out and the reason says so; when too few are
 * left for a fair comparison, the challenger goes to Staging for a person to decide. With a subgroup gap
 * bound, a challenger whose figures differ between subgroups by more than it goes to Staging too.
 */
export function decidePromotion(input: GateInput): { stage: 'Production' | 'Staging'; reason: string } {
  const { metric, margin, golden, overlap } = input;
  const format = (value: number) => value.toFixed(4);
  const challengerValue = typeof input.challenger === 'number' ? input.challenger : input.challenger.value;
  if (golden.failed.length > 0) {
    const shown = golden.failed
      .slice(0, 3)
      .map((c) => `${c.id} (expected ${c.expected}, probability ${c.probability.toFixed(3)})`)
      .join(', ');
    return {
      stage: 'Staging',
      reason: `fails ${golden.failed.length} of ${golden.passed + golden.failed.length} golden case(s): ${shown}${golden.failed.length > 3 ? ', ...' : ''}`,
    };
  }
  const gaps = input.subgroupGaps ?? [];
  if (gaps.length > 0) {
    const shown = gaps
      .map(
        (gap) =>
          `${gap.group} ${gap.metric === 'recall' ? 'sensitivity' : gap.metric} ${gap.lowest.value} ${format(gap.lowest.metric)} vs ${gap.highest.value} ${format(gap.highest.metric)}`,
      )
      .join(', ');
    return {
      stage: 'Staging',
      reason: `differs between subgroups by more than ${gaps[0]!.bound} on the held-out rows: ${shown}; a person should decide`,
    };
  }
  const champion = input.champion;
  const seen = overlap && seenWords(overlap, champion?.version);
  const judgedOn = overlap ? ` on the ${overlap.unseen} held-out rows it was not trained on` : '';
  if (champion === undefined) {
    const measured =
      overlap && !overlap.fair
        ? `not measured fairly: ${seen}`
        : `held-out ${metric}${atThreshold(input.challenger)} ${format(challengerValue)}${judgedOn}`;
    return {
      stage: 'Production',
      reason: `first model: passes all ${golden.passed} golden cases (${measured}), no Production version yet`,
    };
  }
  if ('error' in champion) {
    return {
      stage: 'Staging',
      reason: `Production version ${champion.version} could not be evaluated (${champion.error}); a person should decide`,
    };
  }
  if (overlap && !overlap.fair) {
    return {
      stage: 'Staging',
      reason: `no fair comparison with Production version ${champion.version}: ${seen}, leaving ${overlap.unseen} rows neither was trained on (at least ${MIN_FAIR_ROWS} of both classes needed); a person should decide`,
    };
  }
  const gain = gateLowerIsBetter(metric)
    ? champion.value - challengerValue
    : challengerValue - champion.value;
  const rows = overlap ? ` on the ${overlap.unseen} held-out rows neither was trained on (${seen})` : '';
  const comparison = `held-out ${metric}${atThreshold(input.challenger)} ${format(challengerValue)} vs Production version ${champion.version}'s ${format(champion.value)}${atThreshold(champion)}${rows}`;
  if (gain > margin) {
    return {
      stage: 'Production',
      reason: `beats Production by ${format(gain)} (margin ${margin}): ${comparison}`,
    };
  }
  return {
    stage: 'Staging',
    reason: `does not beat Production by more than the margin ${margin} (${gain >= 0 ? 'better' : 'worse'} by ${format(Math.abs(gain))}): ${comparison}`,
  };
}

/** " at threshold 0.312 (sensitivity 0.951)" for a measure taken at a threshold other than 0.5. */
function atThreshold(measure: number | Partial<GateMeasure>): string {
  if (typeof measure === 'number' || measure.threshold === undefined) return '';
  if (measure.threshold === DEFAULT_THRESHOLD) return '';
  return ` at threshold ${measure.threshold.toFixed(3)} (sensitivity ${measure.sensitivity!.toFixed(3)})`;
}

/** "Production version 2 was trained on 421 of the 421 held-out rows, the challenger on 0". */
function seenWords(overlap: HeldOutOverlap, championVersion: string | undefined): string {
  const of = `of the ${overlap.heldOut} held-out rows`;
  const parts: string[] = [];
  if (championVersion !== undefined && overlap.championSeen > 0) {
    parts.push(`Production version ${championVersion} was trained on ${overlap.championSeen} ${of}`);
  }
  if (overlap.challengerSeen > 0 || parts.length > 0) {
    parts.push(
      parts.length > 0
        ? `the challenger on ${overlap.challengerSeen}`
        : `the challenger was trained on ${overlap.challengerSeen} ${of}`,
    );
  }
  return parts.join(', ');
}

/**
 * Runs the gate for a registered version: golden cases, then the comparison with the current Production
 * version on `holdout`; moves the version to Production (archiving the previous one; the `champion` alias
 * follows) or to Staging (alias `challenger`), recording the reason on the transition and as version tags.
 */
export async function applyPromotionGate(
  stores: RegistryStores,
  input: {
    readonly version: ModelVersion;
    readonly model: FittedModel;
    /** The challenger's decision threshold and its policy (absent: 0.5). */
    readonly threshold: ThresholdDocument | undefined;
    readonly holdout: Dataset;
    readonly golden: GoldenCases;
    readonly metric: SelectionMetric;
    readonly margin: number;
    /** Above 0: the bound on the challenger's subgroup gaps on the judged rows (see `subgroupGaps`). */
    readonly subgroupGap?: number;
    readonly pipelineRunId: string;
    readonly log: BlockLogger;
  },
): Promise<PromotionDecision> {
  const { version } = input;
  const policy = input.threshold?.policy ?? DEFAULT_THRESHOLD_POLICY;
  const threshold = decisionThreshold(input);
  const metric = gateMetricOf(policy, input.metric);
  const golden = checkGoldenCases(input.model, input.golden, threshold);
  input.log.info(`golden cases: ${golden.passed} passed, ${golden.failed.length} failed`);
  const [production] = await stores.registry.getLatestVersions(version.name, ['Production']);
  if (production?.version === version.version) {
    throw new OnsetError(
      'INVALID_STATE',
      `${version.name} version ${version.version} is already in Production`,
    );
  }
  const judged = await rowsToJudgeOn(stores, input.holdout, version, production);
  if (judged.overlap) {
    input.log.info(
      `${judged.overlap.heldOut - judged.overlap.unseen} held-out rows were in a model's training data: judging on the other ${judged.overlap.unseen}`,
    );
  }
  const fair = judged.overlap?.fair ?? true;
  const unmeasured = { value: Number.NaN, threshold, sensitivity: Number.NaN };
  const challenger = fair ? measureForGate(input.model, threshold, judged.rows, metric, policy) : unmeasured;
  let champion: GateInput['champion'];
  if (production) {
    try {
      const loaded = await loadModelVersion(stores, production);
      // The champion at its own threshold, measured on the challenger's policy's metric.
      const own = decisionThreshold(loaded.document);
      champion = {
        version: production.version,
        ...(fair
          ? measureForGate(loaded.model, own, judged.rows, metric, policy)
          : { ...unmeasured, threshold: own }),
      };
    } catch (error) {
      champion = { version: production.version, error: (error as Error).message };
    }
  }
  const gapBound = input.subgroupGap ?? 0;
  let flaggedGaps: SubgroupGap[] = [];
  if (gapBound > 0 && fair) {
    const probabilities = input.model.predictProba(featureMatrix(judged.rows));
    const gaps = subgroupGaps(subgroupMetrics(judged.rows, probabilities, threshold), gapBound);
    flaggedGaps = gaps.filter((gap) => gap.flagged);
    input.log.info(
      `subgroup gaps above ${gapBound}: ${flaggedGaps.length === 0 ? 'none' : flaggedGaps.map((gap) => `${gap.group} ${gap.metric} ${gap.gap.toFixed(3)}`).join(', ')}`,
    );
  }
  const decision = decidePromotion({
    metric,
    margin: input.margin,
    golden,
    challenger,
    ...(gapBound > 0 ? { subgroupGaps: flaggedGaps } : {}),
    ...(champion ? { champion } : {}),
    ...(judged.overlap ? { overlap: judged.overlap } : {}),
  });
  input.log.info(`${version.name} version ${version.version} -> ${decision.stage}: ${decision.reason}`);
  await stores.registry.transitionModelVersionStage({
    name: version.name,
    version: version.version,
    stage: decision.stage,
    archiveExistingVersions: decision.stage === 'Production',
    user: 'onset-promotion-gate',
    reason: decision.reason,
  });
  const tags = {
    'onset.gate.stage': decision.stage,
    'onset.gate.judged_rows': String(judged.rows.rowCount),
    'onset.gate.reason': decision.reason,
    'onset.gate.metric': metric,
    'onset.gate.challenger_value': String(challenger.value),
    'onset.gate.threshold': String(threshold),
    'onset.gate.golden': `${golden.passed}/${golden.passed + golden.failed.length}`,
    'onset.pipeline_run_id': input.pipelineRunId,
  };
  for (const [key, value] of Object.entries(tags)) {
    await stores.registry.setModelVersionTag(version.name, version.version, {
      key,
      value: value.slice(0, 5000),
    });
  }
  if (decision.stage === 'Staging')
    await stores.registry.setAlias(version.name, CHALLENGER_ALIAS, version.version);
  return {
    name: version.name,
    version: version.version,
    stage: decision.stage,
    reason: decision.reason,
    metric,
    challenger: fair ? challenger.value : null,
    champion:
      champion && 'value' in champion && fair ? { version: champion.version, value: champion.value } : null,
    judgedRows: fair ? judged.rows.rowCount : 0,
    golden: { passed: golden.passed, failed: golden.failed.length },
  };
}

/**
 * The held-out rows to judge on: all of them, or, when the challenger's or the Production model's run
 * recorded training rows among them, the others (`overlap` says how many, and whether enough were left).
 * A run without recorded rows (older runs, models logged by other tools) is taken not to have seen them.
 */
async function rowsToJudgeOn(
  stores: RegistryStores,
  holdout: Dataset,
  challenger: ModelVersion,
  production: ModelVersion | undefined,
): Promise<{ rows: Dataset; overlap?: HeldOutOverlap }> {
  const seenBy = async (version: ModelVersion | undefined) =>
    version?.runId ? await trainingRowsOf(stores, version.runId) : undefined;
  const [challengerRows, championRows] = await Promise.all([seenBy(challenger), seenBy(production)]);
  if (challengerRows === undefined && championRows === undefined) return { rows: holdout };
  const digests = rowDigests(holdout);
  const unseen: number[] = [];
  let challengerSeen = 0;
  let championSeen = 0;
  digests.forEach((digest, row) => {
    const byChallenger = challengerRows?.has(digest) ?? false;
    const byChampion = championRows?.has(digest) ?? false;
    if (byChallenger) challengerSeen++;
    if (byChampion) championSeen++;
    if (!byChallenger && !byChampion) unseen.push(row);
  });
  if (unseen.length === holdout.rowCount) return { rows: holdout };
  const rows = selectRows(holdout, unseen);
  const target = requireTarget(rows);
  const positives = target.reduce((sum, value) => sum + value, 0);
  const fair = unseen.length >= MIN_FAIR_ROWS && positives > 0 && positives < unseen.length;
  return {
    rows,
    overlap: { heldOut: holdout.rowCount, challengerSeen, championSeen, unseen: unseen.length, fair },
  };
}

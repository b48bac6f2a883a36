import type { Dataset } from '../../data/dataset.js';
import { requireTarget } from '../../data/dataset.js';
import { OnsetError } from '../../errors.js';
import type { FittedModel } from '../../ml/estimator.js';
import { evaluateBinary, lowerIsBetter, type SelectionMetric } from '../../ml/metrics/index.js';
import { featureMatrix } from '../../ml/train-on-dataset.js';
import type { ModelVersion } from '../../tracking/entities.js';
import { loadModelVersion, type RegistryStores } from '../../tracking/model-registry.js';
import type { BlockLogger } from '../block.js';
import { checkGoldenCases, type GoldenCases, type GoldenResult } from './golden-cases.js';
import type { PromotionDecision } from './value-types.js';

export const CHAMPION_ALIAS = 'champion';
export const CHALLENGER_ALIAS = 'challenger';

export interface GateInput {
  readonly metric: SelectionMetric;
  /** How much better the challenger must be (in the metric's units). */
  readonly margin: number;
  readonly golden: GoldenResult;
  readonly challenger: number;
  /** The current Production version on the same held-out data; undefined when there is none. */
  readonly champion?:
    | { readonly version: string; readonly value: number }
    | { readonly version: string; readonly error: string };
}

/**
 * The promotion rule: a challenger that fails a golden case goes to Staging; with no Production version,
 * it is promoted; otherwise it is promoted only if it beats Production on the metric by more than the
 * margin (held-out data the same for both), and goes to Staging with the reason otherwise.
 */
export function decidePromotion(input: GateInput): { stage: 'Production' | 'Staging'; reason: string } {
  const { metric, margin, golden } = input;
  const format = (value: number) => value.toFixed(4);
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
  const champion = input.champion;
  if (champion === undefined) {
    return {
      stage: 'Production',
      reason: `first model: passes all ${golden.passed} golden cases (held-out ${metric} ${format(input.challenger)}), no Production version yet`,
    };
  }
  if ('error' in champion) {
    return {
      stage: 'Staging',
      reason: `Production version ${champion.version} could not be evaluated (${champion.error}); a person should decide`,
    };
  }
  const gain = lowerIsBetter(metric) ? champion.value - input.challenger : input.challenger - champion.value;
  const comparison = `held-out ${metric} ${format(input.challenger)} vs Production version ${champion.version}'s ${format(champion.value)}`;
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

/** The metric's value for a model on labelled data. */
export function heldOutMetric(model: FittedModel, data: Dataset, metric: SelectionMetric): number {
  const metrics = evaluateBinary(requireTarget(data), model.predictProba(featureMatrix(data)));
  return metrics[metric];
}

/**
 * Runs the gate for a registered version: golden cases, then the comparison with the current Production
 * version on `holdout`; moves the version to Production (archiving the previous one, alias `champion`)
 * or to Staging (alias `challenger`), recording the reason on the transition and as version tags.
 */
export async function applyPromotionGate(
  stores: RegistryStores,
  input: {
    readonly version: ModelVersion;
    readonly model: FittedModel;
    readonly holdout: Dataset;
    readonly golden: GoldenCases;
    readonly metric: SelectionMetric;
    readonly margin: number;
    readonly pipelineRunId: string;
    readonly log: BlockLogger;
  },
): Promise<PromotionDecision> {
  const { version, metric } = input;
  const golden = checkGoldenCases(input.model, input.golden);
  input.log.info(`golden cases: ${golden.passed} passed, ${golden.failed.length} failed`);
  const challenger = heldOutMetric(input.model, input.holdout, metric);
  const [production] = await stores.registry.getLatestVersions(version.name, ['Production']);
  if (production?.version === version.version) {
    throw new OnsetError(
      'INVALID_STATE',
      `${version.name} version ${version.version} is already in Production`,
    );
  }
  let champion: GateInput['champion'];
  if (production) {
    try {
      const loaded = await loadModelVersion(stores, production);
      champion = { version: production.version, value: heldOutMetric(loaded.model, input.holdout, metric) };
    } catch (error) {
      champion = { version: production.version, error: (error as Error).message };
    }
  }
  const decision = decidePromotion({
    metric,
    margin: input.margin,
    golden,
    challenger,
    ...(champion ? { champion } : {}),
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
    'onset.gate.reason': decision.reason,
    'onset.gate.metric': metric,
    'onset.gate.challenger_value': String(challenger),
    'onset.gate.golden': `${golden.passed}/${golden.passed + golden.failed.length}`,
    'onset.pipeline_run_id': input.pipelineRunId,
  };
  for (const [key, value] of Object.entries(tags)) {
    await stores.registry.setModelVersionTag(version.name, version.version, {
      key,
      value: value.slice(0, 5000),
    });
  }
  await stores.registry.setAlias(
    version.name,
    decision.stage === 'Production' ? CHAMPION_ALIAS : CHALLENGER_ALIAS,
    version.version,
  );
  return {
    name: version.name,
    version: version.version,
    stage: decision.stage,
    reason: decision.reason,
    metric,
    challenger,
    champion: champion && 'value' in champion ? champion : null,
    golden: { passed: golden.passed, failed: golden.failed.length },
  };
}

/**
 * Performance estimation checked on simulated traffic where the truth is known (test/support/cbpe-simulation.ts):
 * a gradient-boosted model trained on generated patients, CBPE fitted on a held-out reference, then an
 * analysis window of 5,000 patients. Under covariate shift (features move, P(diagnosis | features) stays),
 * the estimated ROC AUC and accuracy, from the probabilities alone, are within 0.03 of those realized with
 * the labels. Under concept shift (P(diagnosis | features) changes) CBPE cannot see the drop; the realized
 * metrics do, once labels arrive, and fall below the alert floor of the rules.
 * `npm run bench:cbpe` measures the differences over more seeds.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { reversedSymptomsModel, type Shift, simulate } from '../support/cbpe-simulation.js';
import { RULES_FILE } from '../support/promql.js';

const COVARIATE_SHIFTS: readonly (readonly [string, Shift])[] = [
  ['older patients with higher UPDRS', { kind: 'covariate', deltas: { UPDRS: 25, Age: 8 } }],
  ['lower UPDRS and better MoCA', { kind: 'covariate', deltas: { UPDRS: -30, MoCA: 4 } }],
];
const SEEDS = [1, 2, 3];
const BOUND = 0.03;

/** The ROC AUC floor of the OnsetRollingAucLow rule (deploy/prometheus/rules). */
function rollingAucFloor(): number {
  const rules = parseYaml(readFileSync(RULES_FILE, 'utf8')) as {
    groups: { rules: { alert?: string; expr: string }[] }[];
  };
  const rule = rules.groups.flatMap((group) => group.rules).find((r) => r.alert === 'OnsetRollingAucLow')!;
  return Number(/metric="roc_auc"\}\s*<\s*([\d.]+)/.exec(rule.expr)![1]);
}

describe('CBPE on simulated traffic', () => {
  for (const [name, shift] of COVARIATE_SHIFTS) {
    for (const seed of SEEDS) {
      it(`estimates ROC AUC and accuracy within ${BOUND} under covariate shift (${name}, seed ${seed})`, () => {
        const result = simulate({ seed, shift });
        // The shift changed the population: the share of patients with the disease moved by 8 points or more.
        expect(Math.abs(result.analysisPositiveRate - result.referencePositiveRate)).toBeGreaterThan(0.08);
        for (const metric of ['roc_auc', 'accuracy'] as const) {
          const estimated = result.estimate.metrics[metric].estimate!;
          const realized = result.realized.metrics[metric].value!;
          expect(
            Math.abs(estimated - realized),
            `${metric}: estimated ${estimated}, realized ${realized}`,
          ).toBeLessThan(BOUND);
        }
      });
    }
  }

  it('under concept shift, the realized AUC falls below the estimate’s band and the alert floor once labels arrive', () => {
    const floor = rollingAucFloor();
    expect(floor).toBe(0.85);
    const result = simulate({ seed: 1, shift: { kind: 'concept', labelModel: reversedSymptomsModel() } });
    const estimate = result.estimate.metrics.roc_auc;
    const realized = result.realized.metrics.roc_auc.value!;
    // CBPE only sees the probabilities, which did not change: it still expects the reference performance.
    expect(estimate.estimate!).toBeGreaterThan(floor);
    // The labels tell otherwise: far outside the band, and below the floor OnsetRollingAucLow alerts on.
    expect(realized).toBeLessThan(estimate.lower!);
    expect(realized).toBeLessThan(floor);
    expect(result.realized.records).toBeGreaterThanOrEqual(100);
  });
});

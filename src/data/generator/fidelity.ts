import type { Dataset } from '../dataset.js';
import { FEATURES } from '../schema.js';
import { ksStatistic, mean } from '../statistics.js';

/** Limits a generated data set must meet against the real one (the foundation issue's figures). */
export const FIDELITY_LIMITS = {
  /** Two-sample Kolmogorov-Smirnov statistic per continuous feature. */
  ks: 0.05,
  /** Absolute difference of each binary rate and categorical share. */
  share: 0.03,
  /** Absolute difference of the Diagnosis rate. */
  diagnosisRate: 0.02,
} as const;

export interface FidelityCheck {
  readonly name: string;
  readonly measure: 'ks' | 'share' | 'diagnosisRate';
  readonly value: number;
  readonly limit: number;
  readonly pass: boolean;
}

/** Compares a generated data set's marginals and Diagnosis rate to a reference data set. */
export function compareToReference(
  generated: Dataset,
  reference: Dataset,
): { pass: boolean; checks: FidelityCheck[] } {
  const checks: FidelityCheck[] = [];
  const add = (name: string, measure: FidelityCheck['measure'], value: number) => {
    const limit = FIDELITY_LIMITS[measure];
    checks.push({ name, measure, value, limit, pass: value <= limit });
  };
  for (const feature of FEATURES) {
    const a = generated.columns[feature.name];
    const b = reference.columns[feature.name];
    if (feature.kind === 'continuous') {
      add(feature.name, 'ks', ksStatistic(a, b));
    } else {
      for (const { code, label } of feature.codes) {
        add(`${feature.name}=${code} (${label})`, 'share', Math.abs(share(a, code) - share(b, code)));
      }
    }
  }
  if (generated.target !== undefined && reference.target !== undefined) {
    add('Diagnosis rate', 'diagnosisRate', Math.abs(mean(generated.target) - mean(reference.target)));
  }
  return { pass: checks.every((check) => check.pass), checks };
}

function share(column: Float64Array, code: number): number {
  let count = 0;
  for (const value of column) if (value === code) count++;
  return count / column.length;
}

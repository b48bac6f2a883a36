/**
 * The SciPy reference values for the drift statistics (`scripts/fixtures/make-drift-fixtures.py`), and
 * the comparison the tests make with them.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';

/** A fixture number: JSON has no infinities or NaN, so the script writes those as strings. */
export type FixtureNumber = number | 'Infinity' | '-Infinity' | 'NaN';

/** A sample the script wrote out, or the integer formula both sides evaluate to the same doubles. */
export type FixtureSample =
  | { readonly values: readonly number[] }
  | {
      readonly lattice: {
        readonly count: number;
        readonly multiplier: number;
        readonly modulus: number;
        readonly shift: number;
        readonly offset: number;
        readonly scale: number;
        readonly integer: boolean;
      };
    };

export interface DriftFixtures {
  readonly scipy: string;
  readonly ks_2samp: readonly {
    name: string;
    a: FixtureSample;
    b: FixtureSample;
    method: 'exact' | 'asymptotic';
    statistic: FixtureNumber;
    pvalue: FixtureNumber;
  }[];
  readonly kstwo_sf: readonly { n: number; x: number; sf: FixtureNumber }[];
  readonly smirnov: readonly { n: number; x: number; sf: FixtureNumber }[];
  readonly chisquare: readonly {
    name: string;
    observed: number[];
    expected: number[];
    statistic: FixtureNumber;
    pvalue: FixtureNumber;
  }[];
  readonly chi2_sf: readonly { df: number; x: number; sf: FixtureNumber }[];
  readonly norm_cdf: readonly { z: number; cdf: FixtureNumber }[];
  readonly special: {
    readonly lgamma: readonly { x: number; value: number }[];
    readonly erfc: readonly { x: number; value: FixtureNumber }[];
  };
  readonly z_test: readonly {
    s1: number;
    n1: number;
    s2: number;
    n2: number;
    statistic: FixtureNumber;
    pvalue: FixtureNumber;
  }[];
  readonly wasserstein_distance: readonly {
    name: string;
    u: FixtureSample;
    v: FixtureSample;
    distance: FixtureNumber;
  }[];
  readonly jensenshannon: readonly {
    name: string;
    p: number[];
    q: number[];
    base: number | null;
    distance: FixtureNumber;
  }[];
  readonly psi: readonly { name: string; reference: number[]; current: number[]; psi: number }[];
  readonly evidently_binning: readonly {
    name: string;
    reference: number[];
    current: number[];
    edges: number[];
    reference_shares: number[];
    current_shares: number[];
  }[];
}

export const DRIFT_FIXTURES = JSON.parse(
  readFileSync(new URL('../fixtures/drift/scipy-drift.json', import.meta.url), 'utf8'),
) as DriftFixtures;

export function fixtureNumber(value: FixtureNumber): number {
  return typeof value === 'number' ? value : Number(value);
}

/** The values of a fixture sample (a lattice evaluated exactly as the Python script does). */
export function sampleValues(sample: FixtureSample): Float64Array {
  if ('values' in sample) return Float64Array.from(sample.values);
  const { count, multiplier, modulus, shift, offset, scale, integer } = sample.lattice;
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const k = (i * multiplier + shift) % modulus;
    values[i] = integer ? offset + k : offset + scale * (k / modulus);
  }
  return values;
}

/** The tolerance of every comparison with SciPy: 1e-9, relative (so tiny p-values are compared in full). */
export const RELATIVE_TOLERANCE = 1e-9;

/** Expects `actual` to equal SciPy's `expected` to a relative 1e-9 (infinities and NaN exactly). */
export function expectMatchesScipy(actual: number, expected: FixtureNumber, what: string): void {
  const want = fixtureNumber(expected);
  if (!Number.isFinite(want) || want === 0) {
    expect(actual, what).toBe(want);
    return;
  }
  const error = Math.abs(actual - want) / Math.abs(want);
  expect(error, `${what}: got ${actual}, SciPy ${want} (relative error ${error})`).toBeLessThanOrEqual(
    RELATIVE_TOLERANCE,
  );
}

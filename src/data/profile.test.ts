import { describe, expect, it } from 'vitest';
import { createDataset } from './dataset.js';
import { profileDataset } from './profile.js';
import { FEATURE_NAMES, type FeatureName } from './schema.js';
import { ksStatistic } from './statistics.js';

function dataset(rows: number, fill: Partial<Record<FeatureName, number[]>>, target?: number[]) {
  const columns = {} as Record<FeatureName, Float64Array>;
  for (const name of FEATURE_NAMES) columns[name] = Float64Array.from(fill[name] ?? new Array(rows).fill(0));
  return createDataset({ columns, target: target ? Float64Array.from(target) : undefined });
}

describe('profileDataset', () => {
  // Reference values from numpy 1.24: mean, std(ddof=1), quantile (linear).
  const bmi = [3, 1, 4, 1, 5, 9, 2, 6].map((v) => v + 15);
  const data = dataset(
    9,
    {
      BMI: [...bmi, Number.NaN],
      Ethnicity: [0, 0, 1, 2, 2, 2, 3, 3, 3],
      Smoking: [1, 0, 0, 0, 0, 0, 0, 1, 1],
    },
    [1, 1, 1, 0, 0, 1, 1, 1, 0],
  );
  const profile = profileDataset(data);
  const feature = (name: string) => profile.features.find((f) => f.name === name)!;

  it('describes a continuous feature like numpy and pandas', () => {
    const f = feature('BMI');
    expect(f).toMatchObject({ kind: 'continuous', count: 8, missing: 1, min: 16, max: 24 });
    expect(f.mean).toBeCloseTo(18.875, 12);
    expect(f.std).toBeCloseTo(2.748376143938713, 12);
    expect(f.quantiles.map((q) => q.value)).toEqual(
      [16, 16.75, 18.5, 20.25, 22.95].map((v) => expect.closeTo(v, 9)),
    );
    expect(f.histogram!.counts.reduce((a, b) => a + b, 0)).toBe(8);
    expect(f.histogram!.edges).toHaveLength(11);
  });

  it('gives the share of every code, zero shares included', () => {
    expect(feature('Ethnicity').codes!.map((c) => [c.label, c.count])).toEqual([
      ['Caucasian', 2],
      ['African American', 1],
      ['Asian', 3],
      ['Other', 3],
    ]);
    expect(feature('Smoking').codes!.map((c) => c.share)).toEqual([6 / 9, 3 / 9]);
    expect(feature('Gender').codes!.map((c) => c.share)).toEqual([1, 0]);
  });

  it('reports the class balance', () => {
    expect(profile.target!.classes.map((c) => c.count)).toEqual([3, 6]);
    expect(profile.target!.classes[1]!.share).toBeCloseTo(2 / 3, 12);
    expect(profile.rowCount).toBe(9);
  });
});

describe('ksStatistic', () => {
  it('matches scipy.stats.ks_2samp, ties included', () => {
    expect(ksStatistic([0.1, 0.5, 0.5, 0.9, 1.3, 2, 2, 2], [0.5, 0.7, 1, 2, 2.5, 3])).toBeCloseTo(1 / 3, 12);
    expect(ksStatistic([1, 2, 3], [1, 2, 3])).toBe(0);
    expect(ksStatistic([1, 2, 3], [4, 5])).toBe(1);
  });

  it('ignores missing values and refuses empty samples', () => {
    expect(ksStatistic([1, Number.NaN, 2], [1, 2])).toBe(0);
    expect(() => ksStatistic([], [1])).toThrow('at least one value');
  });
});

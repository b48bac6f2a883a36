/**
 * Class-conditional conformal prediction sets: each diagnosis covered at the level on average over many
 * random splits (the guarantee is over the calibration draw, so its mean and spread are what is tested),
 * the thresholds and sets of the textbook computation in numpy, and the sets' shapes.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expectRefusal } from '../../../test/support/onset-error.js';
import { FEATURE_NAMES } from '../../data/schema.js';
import { Random } from '../../util/random.js';
import { SUBGROUP_DESIGN_COLUMNS, subgroupDesign } from '../subgroups.js';
import {
  conformalThresholds,
  fitConformal,
  predictionSet,
  subgroupThresholds,
  thresholdsFor,
} from './conformal.js';

/** Patients whose diagnosis follows their probability (a calibrated model), 60% positive on average. */
function patients(rows: number, seed: number) {
  const random = new Random(seed);
  const probability = new Float64Array(rows);
  const target = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const logit = 0.4 + 2 * random.normal();
    probability[i] = 1 / (1 + Math.exp(-logit));
    target[i] = random.next() < probability[i]! ? 1 : 0;
  }
  return { probability, target };
}

describe('conformal prediction sets', () => {
  it('covers each diagnosis at the level on average over 300 random splits, with the spread expected', () => {
    const { probability, target } = patients(2000, 11);
    const random = new Random(5);
    for (const level of [0.8, 0.9, 0.95]) {
      const coverage: [number[], number[]] = [[], []];
      for (let split = 0; split < 300; split++) {
        const order = random.permutation(probability.length);
        const calibration = order.subarray(0, 1000);
        const test = order.subarray(1000);
        const { thresholds } = conformalThresholds(
          Float64Array.from(calibration, (i) => probability[i]!),
          Float64Array.from(calibration, (i) => target[i]!),
          level,
        );
        for (const label of [0, 1] as const) {
          let covered = 0;
          let count = 0;
          for (const i of test) {
            if (target[i] !== label) continue;
            count++;
            if (predictionSet(probability[i]!, thresholds).includes(label)) covered++;
          }
          coverage[label].push(covered / count);
        }
      }
      for (const label of [0, 1] as const) {
        const mean = coverage[label].reduce((a, b) => a + b, 0) / coverage[label].length;
        // At least the level, and at most the level plus one calibration row's share (about 1/400 here).
        expect(mean, `level ${level}, diagnosis ${label}`).toBeGreaterThanOrEqual(level - 0.005);
        expect(mean, `level ${level}, diagnosis ${label}`).toBeLessThan(level + 0.02);
        const spread = Math.sqrt(
          coverage[label].reduce((sum, c) => sum + (c - mean) ** 2, 0) / coverage[label].length,
        );
        // Each split varies with its calibration rows: a few points, not more.
        expect(spread).toBeLessThan(0.03);
      }
    }
  });

  it('takes the ⌈(n + 1) · level⌉-th smallest nonconformity of each diagnosis, and 1 with too few rows', () => {
    // Diagnosis 1: nonconformities 1 - p = 0.1, 0.2, 0.3, 0.4 (n = 4): at 0.6, ⌈5 · 0.6⌉ = 3rd, 0.3.
    // Diagnosis 0: nonconformities p = 0.05, 0.15 (n = 2): ⌈3 · 0.6⌉ = 2nd, 0.15.
    const probability = Float64Array.of(0.9, 0.8, 0.7, 0.6, 0.05, 0.15);
    const target = Float64Array.of(1, 1, 1, 1, 0, 0);
    const { thresholds, rows } = conformalThresholds(probability, target, 0.6);
    expect(rows).toEqual([2, 4]);
    expect(thresholds[0]).toBe(0.15);
    expect(thresholds[1]).toBeCloseTo(0.3, 12);
    // At 0.9, ⌈3 · 0.9⌉ = 3 > 2 rows of diagnosis 0: every patient's set holds 0.
    expect(conformalThresholds(probability, target, 0.9).thresholds[0]).toBe(1);
    expectRefusal(() => conformalThresholds(probability, target, 1), 'between 0 and 1');
  });

  it('gives the thresholds and sets of the textbook computation (numpy, scripts/fixtures/make-conformal-fixtures.py)', () => {
    const fixture = JSON.parse(
      readFileSync(
        new URL('../../../test/fixtures/conformal/class-conditional.json', import.meta.url),
        'utf8',
      ),
    ) as {
      cases: {
        name: string;
        probability: number[];
        label: number[];
        level: number;
        thresholds: [number, number];
        query: number[];
        sets: (0 | 1)[][];
      }[];
    };
    expect(fixture.cases).toHaveLength(5);
    for (const reference of fixture.cases) {
      const { thresholds } = conformalThresholds(
        Float64Array.from(reference.probability),
        Float64Array.from(reference.label),
        reference.level,
      );
      expect(thresholds, reference.name).toEqual(reference.thresholds);
      expect(
        reference.query.map((p) => [...predictionSet(p, thresholds)]),
        reference.name,
      ).toEqual(reference.sets);
    }
  });

  it('sets: one diagnosis when sure, both when it cannot tell, none when unlike either', () => {
    expect(predictionSet(0.95, [0.2, 0.2])).toEqual([1]);
    expect(predictionSet(0.05, [0.2, 0.2])).toEqual([0]);
    expect(predictionSet(0.5, [0.6, 0.6])).toEqual([0, 1]);
    expect(predictionSet(0.5, [0.2, 0.2])).toEqual([]);
  });

  it('measures its sets held out: coverage near the level, and the share left undecided', () => {
    const { probability, target } = patients(2000, 12);
    const { document, heldOutSets } = fitConformal(probability, target, { level: 0.9, folds: 5, seed: 42 });
    expect(heldOutSets).toHaveLength(2000);
    expect(document.held_out.coverage[0]).toBeGreaterThan(0.87);
    expect(document.held_out.coverage[1]).toBeGreaterThan(0.87);
    expect(document.held_out.undecided).toBeGreaterThan(0);
    expect(document.held_out.undecided).toBeLessThan(1);
    expect(document.rows[0] + document.rows[1]).toBe(2000);
  });
});

describe('subgroup-conditional prediction sets', () => {
  const AGE = FEATURE_NAMES.indexOf('Age');
  const GENDER = FEATURE_NAMES.indexOf('Gender');
  const ETHNICITY = FEATURE_NAMES.indexOf('Ethnicity');
  /** Patients whose model is overconfident under 60 and calibrated above: one threshold fits neither. */
  function patients(n: number, random: Random) {
    const rows: Float64Array[] = [];
    const probability = new Float64Array(n);
    const target = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const row = new Float64Array(FEATURE_NAMES.length);
      row[AGE] = 50 + random.int(40);
      row[GENDER] = random.int(2);
      row[ETHNICITY] = random.int(4);
      const z = random.normal() * 1.5;
      target[i] = random.next() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
      probability[i] = 1 / (1 + Math.exp(-(row[AGE]! < 60 ? 3 : 1) * z));
      rows.push(row);
    }
    return { rows, probability, target };
  }
  const groups = [
    { name: 'Age 50-59', member: (row: Float64Array) => row[AGE]! < 60 },
    { name: 'Age 60-89', member: (row: Float64Array) => row[AGE]! >= 60 },
    { name: 'Female', member: (row: Float64Array) => row[GENDER] === 1 },
    { name: 'Asian', member: (row: Float64Array) => row[ETHNICITY] === 2 },
  ];

  it('covers each diagnosis in each subgroup at the level on average over 100 random splits, where one threshold does not', () => {
    const random = new Random(17);
    const level = 0.9;
    // coverage[method][group][diagnosis]: summed over splits.
    const sums = { subgroup: groups.map(() => [0, 0]), global: groups.map(() => [0, 0]) };
    const splits = 100;
    for (let s = 0; s < splits; s++) {
      const calibration = patients(1500, random);
      const test = patients(1500, random);
      const designs = calibration.rows.map(subgroupDesign);
      const bySubgroup = subgroupThresholds(calibration.probability, calibration.target, designs, level);
      const global = conformalThresholds(calibration.probability, calibration.target, level).thresholds;
      groups.forEach((group, g) => {
        const covered = { subgroup: [0, 0], global: [0, 0] };
        const counts = [0, 0];
        test.rows.forEach((row, i) => {
          if (!group.member(row)) return;
          const label = test.target[i] === 1 ? 1 : 0;
          counts[label]!++;
          const p = test.probability[i]!;
          if (
            predictionSet(p, thresholdsFor({ thresholds: global, by_subgroup: bySubgroup }, row)).includes(
              label,
            )
          )
            covered.subgroup[label]!++;
          if (predictionSet(p, global).includes(label)) covered.global[label]!++;
        });
        for (const label of [0, 1]) {
          sums.subgroup[g]![label]! += covered.subgroup[label]! / counts[label]!;
          sums.global[g]![label]! += covered.global[label]! / counts[label]!;
        }
      });
    }
    groups.forEach((group, g) => {
      for (const label of [0, 1]) {
        const average = sums.subgroup[g]![label]! / splits;
        expect(Math.abs(average - level), `${group.name}, diagnosis ${label}: ${average}`).toBeLessThan(0.02);
      }
    });
    // One threshold per diagnosis under-covers the overconfident subgroup.
    const young = sums.global[0]!.map((sum) => sum / splits);
    expect(Math.min(...young)).toBeLessThan(level - 0.04);
  });

  it('keeps the document its thresholds when it has no subgroups, and fits them when given the rows', () => {
    const random = new Random(3);
    const { rows, probability, target } = patients(1200, random);
    const plain = fitConformal(probability, target, { level: 0.9, folds: 5, seed: 1 });
    expect(plain.document.by_subgroup).toBeUndefined();
    expect(thresholdsFor(plain.document, rows[0]!)).toEqual(plain.document.thresholds);
    const fitted = fitConformal(probability, target, {
      level: 0.9,
      folds: 5,
      seed: 1,
      rows: (i) => rows[i]!,
    });
    expect(fitted.document.by_subgroup!.columns).toEqual(SUBGROUP_DESIGN_COLUMNS);
    // Under 60 the model is overconfident: its patients get wider thresholds.
    const young = rows.find((row) => row[AGE]! < 60)!;
    const old = rows.find(
      (row) =>
        row[AGE]! >= 70 &&
        row[AGE]! < 80 &&
        row[GENDER] === young[GENDER] &&
        row[ETHNICITY] === young[ETHNICITY],
    )!;
    expect(thresholdsFor(fitted.document, young)[1]).toBeGreaterThan(thresholdsFor(fitted.document, old)[1]);
  });
});

import { describe, expect, it } from 'vitest';
import { createDataset, type Dataset } from './dataset.js';
import { generateDataset } from './generator/generator.js';
import {
  buildReferenceProfile,
  countIntervals,
  intervalBinsOf,
  intervalIndex,
  PROBABILITY_COLUMN,
  parseReferenceProfile,
  REFERENCE_PROFILE_NAME,
  REFERENCE_SAMPLE_ROWS,
  serializeReferenceProfile,
} from './reference-profile.js';
import { FEATURE_NAMES, FEATURES, type FeatureName } from './schema.js';

/** A probability per row that depends on the row (so that sampling can be checked against it). */
function probabilitiesOf(dataset: Dataset): Float64Array {
  return Float64Array.from({ length: dataset.rowCount }, (_, i) => (i % 997) / 997);
}

describe('interval bins', () => {
  it('are the training deciles between the minimum and the maximum, with a bin below and one above', () => {
    const values = Float64Array.from({ length: 100 }, (_, i) => i + 1); // 1 .. 100
    const bins = intervalBinsOf(values);
    expect(bins.edges).toEqual([1, 11, 21, 31, 41, 51, 61, 71, 81, 91, 100]);
    // Below, ten deciles of ten rows each, above.
    expect(bins.counts).toEqual([0, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 0]);
  });

  it('place a value at an edge in the bin that starts there, the maximum in the last, others outside', () => {
    const edges = [0, 10, 20];
    expect(intervalIndex(edges, -0.1)).toBe(0);
    expect(intervalIndex(edges, 0)).toBe(1);
    expect(intervalIndex(edges, 9.99)).toBe(1);
    expect(intervalIndex(edges, 10)).toBe(2);
    expect(intervalIndex(edges, 20)).toBe(2);
    expect(intervalIndex(edges, 20.01)).toBe(3);
    expect(countIntervals(edges, [-5, 0, 5, 10, 20, 25, Number.NaN])).toEqual({
      type: 'intervals',
      edges,
      counts: [1, 2, 2, 1],
      missing: 1,
    });
  });

  it('merge deciles that ties make equal, and hold a constant column in one bin', () => {
    const ties = Float64Array.from({ length: 100 }, (_, i) => (i < 60 ? 5 : i - 50)); // 60 fives, then 10 .. 49
    const bins = intervalBinsOf(ties);
    expect(new Set(bins.edges).size).toBe(bins.edges.length);
    expect(bins.edges[0]).toBe(5);
    expect(bins.counts.reduce((a, b) => a + b, 0)).toBe(100);
    expect(intervalBinsOf([3, 3, 3]).counts).toEqual([0, 3, 0]);
  });
});

describe('buildReferenceProfile', () => {
  const training = generateDataset({ rows: 300, seed: 3 });
  const profile = buildReferenceProfile(training, probabilitiesOf(training), {
    probabilitySource: 'out_of_fold',
    seed: 42,
    datasetFingerprint: 'abc',
    createdAt: new Date('2026-01-02T03:04:05Z'),
  });

  it('counts every training row in the bins of every feature and of the probability', () => {
    expect(profile.trainingRows).toBe(300);
    for (const name of [...FEATURE_NAMES, PROBABILITY_COLUMN] as const) {
      const bins = profile.bins[name];
      expect(bins.counts.reduce((a, b) => a + b, 0) + bins.missing, name).toBe(300);
    }
  });

  it('bins codes in the order of the schema, continuous features at their deciles', () => {
    for (const feature of FEATURES) {
      const bins = profile.bins[feature.name];
      if (feature.kind === 'continuous') {
        expect(bins.type).toBe('intervals');
        // Nothing of the training rows lies outside their own range.
        expect(bins.counts[0]).toBe(0);
        expect(bins.counts[bins.counts.length - 1]).toBe(0);
      } else {
        expect(bins).toMatchObject({ type: 'codes', codes: feature.codes.map((entry) => entry.code) });
      }
    }
  });

  it('keeps every training row, in order, as the sample when there are few enough', () => {
    expect(profile.sample.rows).toBe(300);
    expect([...profile.sample.columns.Age]).toEqual([...training.columns.Age]);
    expect([...profile.sample.columns[PROBABILITY_COLUMN]]).toEqual([...probabilitiesOf(training)]);
  });

  it("keeps each sampled row's diagnosis (what CBPE is fitted on), none when the data has no target", () => {
    expect([...profile.sample.labels!]).toEqual([...training.target!]);
    const many = generateDataset({ rows: 600, seed: 6 });
    const sampled = buildReferenceProfile(many, probabilitiesOf(many), {
      probabilitySource: 'out_of_fold',
      seed: 4,
      sampleRows: 100,
    }).sample;
    // Each label is its own row's, found by the row's BMI.
    const rowOf = new Map(Array.from(many.columns.BMI, (bmi, i) => [bmi, i]));
    sampled.columns.BMI.forEach((bmi, k) => {
      expect(sampled.labels![k]).toBe(many.target![rowOf.get(bmi)!]);
    });
    const unlabelled = createDataset({ columns: training.columns });
    expect(
      buildReferenceProfile(unlabelled, probabilitiesOf(training), { probabilitySource: 'scored', seed: 1 })
        .sample.labels,
    ).toBeNull();
  });

  it('keeps a seeded random subset of at most REFERENCE_SAMPLE_ROWS rows, each with its own probability', () => {
    expect(REFERENCE_SAMPLE_ROWS).toBe(5000);
    const many = generateDataset({ rows: 1200, seed: 5 });
    const probabilities = probabilitiesOf(many);
    const sample = (seed: number) =>
      buildReferenceProfile(many, probabilities, { probabilitySource: 'training_fit', seed, sampleRows: 400 })
        .sample;
    const first = sample(1);
    expect(first.rows).toBe(400);
    expect(sample(1).columns.BMI).toEqual(first.columns.BMI);
    expect(sample(2).columns.BMI).not.toEqual(first.columns.BMI);
    // Each sampled row is a training row with its probability.
    const rowOf = new Map(Array.from(many.columns.BMI, (bmi, i) => [bmi, i]));
    first.columns.BMI.forEach((bmi, k) => {
      const row = rowOf.get(bmi)!;
      expect(first.columns.Age[k]).toBe(many.columns.Age[row]);
      expect(first.columns[PROBABILITY_COLUMN][k]).toBe(probabilities[row]);
    });
  });

  it('keeps missing values as missing: counted apart, NaN in the sample, null in the document', () => {
    const columns = {} as Record<FeatureName, Float64Array>;
    for (const name of FEATURE_NAMES)
      columns[name] = Float64Array.from(training.columns[name].subarray(0, 20));
    columns.BMI[3] = Number.NaN;
    const withGap = createDataset({ columns });
    const gapped = buildReferenceProfile(withGap, new Float64Array(20).fill(0.5), {
      probabilitySource: 'scored',
      seed: 1,
    });
    expect(gapped.bins.BMI.missing).toBe(1);
    expect(gapped.sample.columns.BMI[3]).toBeNaN();
    const text = serializeReferenceProfile(gapped);
    expect(
      (JSON.parse(text) as { sample: { columns: { BMI: unknown[] } } }).sample.columns.BMI[3],
    ).toBeNull();
    expect(parseReferenceProfile(text, 'gapped').sample.columns.BMI[3]).toBeNaN();
  });
});

describe('the reference profile document', () => {
  const training = generateDataset({ rows: 120, seed: 9 });
  const profile = buildReferenceProfile(training, probabilitiesOf(training), {
    probabilitySource: 'out_of_fold',
    seed: 42,
    createdAt: new Date('2026-01-02T03:04:05Z'),
  });
  const text = serializeReferenceProfile(profile);

  it('is name-tagged and versioned, and a parse -> serialize round trip gives the same bytes', () => {
    const json = JSON.parse(text) as Record<string, unknown>;
    expect(json.name).toBe(REFERENCE_PROFILE_NAME);
    expect(json.format_version).toBe(1);
    expect(Object.keys(json)).toEqual([
      'name',
      'format_version',
      'created_at',
      'dataset_fingerprint',
      'training_rows',
      'decision_threshold',
      'bins',
      'sample',
    ]);
    const parsed = parseReferenceProfile(text, 'profile.json');
    expect(serializeReferenceProfile(parsed)).toBe(text);
    expect(parsed.sample.columns.Age).toEqual(profile.sample.columns.Age);
    expect(parsed.sample.labels).toEqual(profile.sample.labels);
    expect(Object.keys(json.sample as object)).toEqual([
      'rows',
      'seed',
      'probability_source',
      'columns',
      'labels',
    ]);
  });

  it('reads a profile stored before Onset kept the labels (no labels), and writes it back the same', () => {
    const json = JSON.parse(text) as { sample: Record<string, unknown> };
    delete json.sample.labels;
    const older = `${JSON.stringify(json)}\n`;
    const parsed = parseReferenceProfile(older, 'older.json');
    expect(parsed.sample.labels).toBeNull();
    expect(serializeReferenceProfile(parsed)).toBe(older);
  });

  it('refuses another document, a newer version and a truncated one, naming the source', () => {
    expect(() => parseReferenceProfile('{"name":"onset-model"}', 'x.json')).toThrow(
      /x.json is not a valid reference profile: its name is not "onset-reference-profile"/,
    );
    const newer = text.replace('"format_version":1', '"format_version":2');
    expect(() => parseReferenceProfile(newer, 'x.json')).toThrow(
      /format version 2; this Onset reads version 1/,
    );
    const json = JSON.parse(text) as { sample: { columns: Record<string, unknown[]> } };
    json.sample.columns.MoCA = json.sample.columns.MoCA!.slice(1);
    expect(() => parseReferenceProfile(JSON.stringify(json), 'x.json')).toThrow(
      /MoCA column does not have 120 values/,
    );
    expect(() => parseReferenceProfile('not json', 'x.json')).toThrow(/x.json is not a reference profile/);
    for (const labels of [[0, 1], Array.from({ length: 120 }, () => 2), 'yes']) {
      const bad = JSON.parse(text) as { sample: Record<string, unknown> };
      bad.sample.labels = labels;
      expect(() => parseReferenceProfile(JSON.stringify(bad), 'x.json')).toThrow(
        /x.json is not a valid reference profile: the sample's labels are not 120 values of 0 or 1/,
      );
    }
  });
});

import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAS_REAL_DATA, REAL_DATA_PATH } from '../../../test/support/fixtures.js';
import { sigmoid } from '../../math/sigmoid.js';
import { readDatasetFile } from '../csv-reader.js';
import type { Dataset } from '../dataset.js';
import { FEATURES, KAGGLE_COLUMNS } from '../schema.js';
import { mean } from '../statistics.js';
import { calibrateGenerator } from './calibrate.js';
import { GENERATOR_CONSTANTS } from './constants.js';
import { compareToReference } from './fidelity.js';
import { generateDataset, writeKaggleCsv } from './generator.js';
import { labelLogit } from './model.js';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'onset-generator-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function generateFile(rows: number, seed: number): Promise<{ path: string; bytes: Buffer }> {
  const path = join(directory, `generated-${rows}-${seed}.csv`);
  await writeKaggleCsv(path, generateDataset({ rows, seed }));
  return { path, bytes: await readFile(path) };
}

describe('generateDataset', () => {
  it('gives the same file byte for byte for the same seed, and another for another seed', async () => {
    const first = await generateFile(500, 7);
    const again = await readFile((await generateFile(500, 7)).path);
    expect(again.equals(first.bytes)).toBe(true);
    const other = await generateFile(500, 8);
    expect(other.bytes.equals(first.bytes)).toBe(false);
  });

  it('keeps the built-in data set stable (update this hash only when changing the generator on purpose)', async () => {
    const { bytes } = await generateFile(2105, 42);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(
      'bb482cc8453c3b297b3ee65d0e43afe6b1460c0309bc4923533c6de7b8c41406',
    );
  });

  it('writes the exact layout of the Kaggle file, which validates with no issue', async () => {
    const { path, bytes } = await generateFile(300, 1);
    expect(bytes.toString('utf8').split('\n')[0]).toBe(KAGGLE_COLUMNS.join(','));
    const { dataset, report } = await readDatasetFile(path, {
      target: 'required',
      missingFeatures: 'reject',
    });
    expect(report).toMatchObject({
      valid: true,
      warningCount: 0,
      rowsAccepted: 300,
      columns: { dropped: ['DoctorInCharge'] },
    });
    expect(dataset.patientIds![0]).toBe('3058');
  });

  it('stays inside every training range and code set, with whole numbers where the source has them', () => {
    const data = generateDataset({ rows: 3000, seed: 5 });
    for (const feature of FEATURES) {
      const column = data.columns[feature.name];
      for (const value of column) {
        if (feature.kind === 'continuous') {
          expect(value).toBeGreaterThanOrEqual(feature.training.min);
          expect(value).toBeLessThanOrEqual(feature.training.max);
          if (feature.integer) expect(Number.isInteger(value)).toBe(true);
        } else {
          expect(feature.codes.map((c) => c.code)).toContain(value);
        }
      }
    }
  });

  it('matches the calibrated marginals and Diagnosis rate closely, even for small files', () => {
    const data = generateDataset({ rows: 400, seed: 11 });
    const tremor = GENERATOR_CONSTANTS.marginals.Tremor;
    if (tremor.type !== 'codes') throw new Error('Tremor should have code counts');
    const tremorRate = tremor.counts[1]! / (tremor.counts[0]! + tremor.counts[1]!);
    expect(Math.abs(mean(data.columns.Tremor) - tremorRate)).toBeLessThan(0.01);
    expect(Math.abs(mean(data.target!) - GENERATOR_CONSTANTS.source.positiveRate)).toBeLessThan(0.06);
  });

  it('draws Diagnosis from the label model: the mean probability is the calibration rate', () => {
    const data = generateDataset({ rows: 20_000, seed: 3 });
    let total = 0;
    for (let i = 0; i < data.rowCount; i++) {
      total += sigmoid(labelLogit(GENERATOR_CONSTANTS.labelModel, (name) => data.columns[name][i]!));
    }
    expect(Math.abs(total / data.rowCount - GENERATOR_CONSTANTS.source.positiveRate)).toBeLessThan(0.01);
    expect(Math.abs(mean(data.target!) - total / data.rowCount)).toBeLessThan(0.015);
  });

  it('rejects impossible sizes and seeds', () => {
    expect(() => generateDataset({ rows: 0, seed: 1 })).toThrow('rows must be an integer from 1');
    expect(() => generateDataset({ rows: 10, seed: 0.5 })).toThrow('seed must be an integer');
  });
});

describe.skipIf(!HAS_REAL_DATA)('generator against the real Kaggle file', () => {
  let real: Dataset;
  beforeAll(async () => {
    real = (await readDatasetFile(REAL_DATA_PATH, { target: 'required' })).dataset;
  });

  it.each([42, 1, 2, 3])('seed %i: KS <= 0.05, shares within 0.03, Diagnosis rate within 0.02', (seed) => {
    const generated = generateDataset({ rows: 2105, seed });
    const { pass, checks } = compareToReference(generated, real);
    expect(checks.filter((check) => !check.pass)).toEqual([]);
    expect(pass).toBe(true);
    expect(checks.filter((check) => check.measure === 'ks')).toHaveLength(15);
  });

  it('re-calibrating on the real file reproduces the committed constants', () => {
    expect(calibrateGenerator(real)).toEqual(GENERATOR_CONSTANTS);
  });
});

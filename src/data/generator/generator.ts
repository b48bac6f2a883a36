import { invalidParameter } from '../../errors.js';
import { sigmoid } from '../../math/sigmoid.js';
import { Random } from '../../util/random.js';
import { writeCsvFile } from '../csv-writer.js';
import { createDataset, type Dataset } from '../dataset.js';
import {
  CONFIDENTIAL_PLACEHOLDER,
  FEATURE_NAMES,
  FEATURES,
  type FeatureName,
  ID_COLUMN,
  KAGGLE_COLUMNS,
  TARGET_COLUMN,
} from '../schema.js';
import { GENERATOR_CONSTANTS } from './constants.js';
import { type GeneratorConstants, labelLogit, type Marginal } from './model.js';

export interface GenerateOptions {
  readonly rows: number;
  readonly seed: number;
  /** Defaults to the constants calibrated on the real Kaggle file. */
  readonly constants?: GeneratorConstants;
  /** First PatientID; the Kaggle file starts at 3058. */
  readonly firstPatientId?: number;
}

/** Significant digits of generated continuous values, as in the Kaggle file. */
const SIGNIFICANT_DIGITS = 10;
export const MAX_GENERATED_ROWS = 10_000_000;

/**
 * Generates a synthetic data set in the schema of the Kaggle file. Each feature is drawn independently
 * from its calibrated marginal with Latin hypercube sampling (one stratum of the CDF per row, strata in a
 * random order per feature), so even small files match the marginals closely while the features stay
 * independent; Diagnosis is then drawn from the calibrated label model, keeping its label noise.
 * The same options always give the same data set.
 */
export function generateDataset(options: GenerateOptions): Dataset {
  const { rows, seed } = options;
  if (!Number.isInteger(rows) || rows < 1 || rows > MAX_GENERATED_ROWS) {
    throw invalidParameter(`rows must be an integer from 1 to ${MAX_GENERATED_ROWS}, got ${rows}`);
  }
  if (!Number.isInteger(seed)) {
    throw invalidParameter(`seed must be an integer, got ${seed}`);
  }
  const constants = options.constants ?? GENERATOR_CONSTANTS;
  const random = new Random(seed);

  const columns = {} as Record<FeatureName, Float64Array>;
  for (const feature of FEATURES) {
    const marginal = constants.marginals[feature.name];
    const strata = random.permutation(rows);
    const column = new Float64Array(rows);
    for (let i = 0; i < rows; i++) {
      const u = (strata[i]! + random.next()) / rows;
      column[i] = inverseCdf(marginal, u);
    }
    columns[feature.name] = column;
  }

  const target = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const probability = sigmoid(labelLogit(constants.labelModel, (name) => columns[name][i]!));
    target[i] = random.next() < probability ? 1 : 0;
  }

  const firstId = options.firstPatientId ?? 3058;
  const patientIds = Array.from({ length: rows }, (_, i) => String(firstId + i));
  return createDataset({ columns, target, patientIds });
}

/** The value at cumulative probability `u` in [0, 1) of a marginal. */
function inverseCdf(marginal: Marginal, u: number): number {
  switch (marginal.type) {
    case 'quantiles': {
      const position = u * (marginal.values.length - 1);
      const lower = Math.floor(position);
      const upper = Math.min(lower + 1, marginal.values.length - 1);
      const weight = position - lower;
      const value = marginal.values[lower]! * (1 - weight) + marginal.values[upper]! * weight;
      return Number(value.toPrecision(SIGNIFICANT_DIGITS));
    }
    case 'integers':
      return marginal.min + pickByCounts(marginal.counts, u);
    case 'codes':
      return marginal.codes[pickByCounts(marginal.counts, u)]!;
  }
}

function pickByCounts(counts: readonly number[], u: number): number {
  let total = 0;
  for (const count of counts) total += count;
  let cumulative = 0;
  for (let k = 0; k < counts.length; k++) {
    cumulative += counts[k]!;
    if (u * total < cumulative) return k;
  }
  return counts.length - 1;
}

/** Writes a data set in the exact column layout of the Kaggle file, DoctorInCharge included. */
export async function writeKaggleCsv(path: string, dataset: Dataset): Promise<void> {
  if (dataset.patientIds === undefined || dataset.target === undefined) {
    throw invalidParameter(`A Kaggle-layout file needs ${ID_COLUMN} and ${TARGET_COLUMN}`);
  }
  const ids = dataset.patientIds;
  const target = dataset.target;
  const featureColumns = FEATURE_NAMES.map((name) => dataset.columns[name]);
  function* rows() {
    for (let i = 0; i < dataset.rowCount; i++) {
      yield [ids[i], ...featureColumns.map((column) => column[i]), target[i], CONFIDENTIAL_PLACEHOLDER];
    }
  }
  await writeCsvFile(path, KAGGLE_COLUMNS, rows());
}

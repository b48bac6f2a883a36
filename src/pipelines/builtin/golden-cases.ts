import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDatasetFile } from '../../data/csv-reader.js';
import { type Dataset, requireTarget, selectRows } from '../../data/dataset.js';
import { GENERATOR_CONSTANTS } from '../../data/generator/constants.js';
import { generateDataset } from '../../data/generator/generator.js';
import { labelLogit } from '../../data/generator/model.js';
import { OnsetError } from '../../errors.js';
import type { FittedModel } from '../../ml/estimator.js';
import { featureMatrix } from '../../ml/train-on-dataset.js';

/** The golden cases shipped with Onset (see docs/pipelines.md, "Golden cases"). */
export const BUILT_IN_GOLDEN_CASES = fileURLToPath(new URL('../../../golden-cases', import.meta.url));

export interface GoldenCase {
  /** `file:PatientID` (or `file:row N` without an id). */
  readonly id: string;
  readonly expected: 0 | 1;
}

export interface GoldenCases {
  readonly folder: string;
  readonly cases: readonly GoldenCase[];
  readonly dataset: Dataset;
}

export interface GoldenResult {
  readonly passed: number;
  readonly failed: readonly { readonly id: string; readonly expected: 0 | 1; readonly probability: number }[];
}

/**
 * Reads every `*.csv` file of a folder (Kaggle layout; `Diagnosis` is the expected diagnosis), each
 * validated like any training file (the first problem names its file, row and column).
 */
export async function readGoldenCases(folder: string): Promise<GoldenCases> {
  let names: string[];
  try {
    names = (await readdir(folder)).filter((name) => name.toLowerCase().endsWith('.csv')).sort();
  } catch (error) {
    throw new OnsetError(
      'INVALID_PARAMETER_VALUE',
      `Cannot read the golden cases folder ${folder}: ${(error as Error).message}`,
    );
  }
  if (names.length === 0) {
    throw new OnsetError('INVALID_PARAMETER_VALUE', `The golden cases folder ${folder} has no .csv files`);
  }
  const cases: GoldenCase[] = [];
  const parts: Dataset[] = [];
  for (const name of names) {
    const { dataset } = await readDatasetFile(join(folder, name), { target: 'required' });
    const target = requireTarget(dataset);
    for (let i = 0; i < dataset.rowCount; i++) {
      cases.push({
        id: `${name}:${dataset.patientIds?.[i] ?? `row ${i + 1}`}`,
        expected: target[i] === 1 ? 1 : 0,
      });
    }
    parts.push(dataset);
  }
  return { folder, cases, dataset: concatenate(parts) };
}

function concatenate(parts: readonly Dataset[]): Dataset {
  if (parts.length === 1) return parts[0]!;
  const total = parts.reduce((sum, part) => sum + part.rowCount, 0);
  const first = parts[0]!;
  const columns = Object.fromEntries(
    Object.keys(first.columns).map((name) => {
      const column = new Float64Array(total);
      let offset = 0;
      for (const part of parts) {
        column.set(part.columns[name as keyof Dataset['columns']], offset);
        offset += part.rowCount;
      }
      return [name, column];
    }),
  ) as unknown as Dataset['columns'];
  const target = new Float64Array(total);
  let offset = 0;
  for (const part of parts) {
    target.set(part.target!, offset);
    offset += part.rowCount;
  }
  const ids = parts.every((part) => part.patientIds)
    ? parts.flatMap((part) => [...part.patientIds!])
    : undefined;
  return { rowCount: total, columns, target, patientIds: ids };
}

/** Which golden cases a model gets wrong at its decision threshold. */
export function checkGoldenCases(model: FittedModel, golden: GoldenCases, threshold: number): GoldenResult {
  const probabilities = model.predictProba(featureMatrix(golden.dataset));
  const failed = golden.cases.flatMap((goldenCase, i) => {
    const probability = probabilities[i]!;
    const predicted = probability >= threshold ? 1 : 0;
    return predicted === goldenCase.expected
      ? []
      : [{ id: goldenCase.id, expected: goldenCase.expected, probability }];
  });
  return { passed: golden.cases.length - failed.length, failed };
}

/**
 * The shipped golden cases: from 4,000 generated patients (seed 20261127), the `perClass` whose
 * generator label logit is most extreme in each direction, among those whose drawn label agrees. Clear
 * cases a sound model must get right. `npm run golden-cases` rewrites `golden-cases/generated.csv`.
 */
export function makeGoldenCases(perClass = 10): Dataset {
  const pool = generateDataset({ rows: 4000, seed: 20261127, firstPatientId: 900001 });
  const target = requireTarget(pool);
  const logits = Array.from({ length: pool.rowCount }, (_, i) =>
    labelLogit(GENERATOR_CONSTANTS.labelModel, (name) => pool.columns[name][i]!),
  );
  const rows = Array.from({ length: pool.rowCount }, (_, i) => i);
  const positives = rows.filter((i) => target[i] === 1).sort((a, b) => logits[b]! - logits[a]! || a - b);
  const negatives = rows.filter((i) => target[i] === 0).sort((a, b) => logits[a]! - logits[b]! || a - b);
  const chosen = [...positives.slice(0, perClass), ...negatives.slice(0, perClass)].sort((a, b) => a - b);
  return selectRows(pool, chosen);
}

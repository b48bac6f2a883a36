import { invalidParameter } from '../errors.js';
import { FEATURE_NAMES, type FeatureName, TARGET_COLUMN } from './schema.js';

/**
 * A columnar data set in schema order. Missing feature values are NaN. Rows are in file order.
 * Instances are treated as immutable: helpers return new data sets.
 */
export interface Dataset {
  readonly rowCount: number;
  /** One column per feature, each of length `rowCount`. */
  readonly columns: Readonly<Record<FeatureName, Float64Array>>;
  /** The `Diagnosis` column (0 or 1), when the source had one. */
  readonly target: Float64Array | undefined;
  /** The `PatientID` column, when the source had one. */
  readonly patientIds: readonly string[] | undefined;
}

/** Builds a data set from columns, checking that every column has the same length. */
export function createDataset(parts: {
  columns: Record<FeatureName, Float64Array>;
  target?: Float64Array | undefined;
  patientIds?: readonly string[] | undefined;
}): Dataset {
  const rowCount = parts.columns[FEATURE_NAMES[0]!].length;
  for (const name of FEATURE_NAMES) {
    const column = parts.columns[name];
    if (column === undefined || column.length !== rowCount) {
      throw new RangeError(`Column ${name} has ${column?.length ?? 'no'} values; expected ${rowCount}`);
    }
  }
  if (parts.target !== undefined && parts.target.length !== rowCount) {
    throw new RangeError(`Target has ${parts.target.length} values; expected ${rowCount}`);
  }
  if (parts.patientIds !== undefined && parts.patientIds.length !== rowCount) {
    throw new RangeError(`PatientID has ${parts.patientIds.length} values; expected ${rowCount}`);
  }
  return { rowCount, columns: parts.columns, target: parts.target, patientIds: parts.patientIds };
}

/** The rows at `indices`, in that order (used by splits and cross-validation). */
export function selectRows(dataset: Dataset, indices: ArrayLike<number>): Dataset {
  const columns = {} as Record<FeatureName, Float64Array>;
  for (const name of FEATURE_NAMES) {
    columns[name] = gather(dataset.columns[name], indices);
  }
  return createDataset({
    columns,
    target: dataset.target === undefined ? undefined : gather(dataset.target, indices),
    patientIds:
      dataset.patientIds === undefined
        ? undefined
        : Array.from({ length: indices.length }, (_, i) => dataset.patientIds![indices[i]!]!),
  });
}

function gather(source: Float64Array, indices: ArrayLike<number>): Float64Array {
  const out = new Float64Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i]!;
    if (index < 0 || index >= source.length) {
      throw new RangeError(`Row index ${index} is outside 0..${source.length - 1}`);
    }
    out[i] = source[index]!;
  }
  return out;
}

/** A row-major copy of the features (rowCount x 32), the layout estimators consume. */
export function toRowMajor(dataset: Dataset): Float64Array {
  const width = FEATURE_NAMES.length;
  const out = new Float64Array(dataset.rowCount * width);
  FEATURE_NAMES.forEach((name, j) => {
    const column = dataset.columns[name];
    for (let i = 0; i < dataset.rowCount; i++) out[i * width + j] = column[i]!;
  });
  return out;
}

/** The target, or an error naming what is missing. */
export function requireTarget(dataset: Dataset): Float64Array {
  if (dataset.target === undefined) {
    throw invalidParameter(`This data set has no ${TARGET_COLUMN} column; training and evaluation need one`);
  }
  return dataset.target;
}

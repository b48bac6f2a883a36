import { createHash } from 'node:crypto';
import type { Dataset } from './dataset.js';
import { FEATURE_NAMES, ID_COLUMN, TARGET_COLUMN } from './schema.js';

/**
 * The sha256 of a data set's normalized content, as `sha256:<hex>`, for lineage.
 *
 * Normalized means independent of how the file was written: column order, extra and confidential
 * columns, BOM, line endings, quoting and number spelling (`1.05E-05` and `0.0000105`) do not change it;
 * row order and every value do. The canonical text hashed is a header line of the present columns in
 * schema order (`PatientID`, the 32 features, `Diagnosis`), then one line per row with each number in
 * JavaScript's shortest round-trip spelling and missing values as empty fields.
 */
export function fingerprintDataset(dataset: Dataset): string {
  const hash = createHash('sha256');
  const header = [
    ...(dataset.patientIds ? [ID_COLUMN] : []),
    ...FEATURE_NAMES,
    ...(dataset.target ? [TARGET_COLUMN] : []),
  ];
  hash.update(`${header.join(',')}\n`);
  const columns = FEATURE_NAMES.map((name) => dataset.columns[name]);
  const lines: string[] = [];
  for (let i = 0; i < dataset.rowCount; i++) {
    const fields: string[] = [];
    if (dataset.patientIds) fields.push(JSON.stringify(dataset.patientIds[i]));
    for (const column of columns) fields.push(canonicalNumber(column[i]!));
    if (dataset.target) fields.push(canonicalNumber(dataset.target[i]!));
    lines.push(fields.join(','));
    if (lines.length === 4096) {
      hash.update(`${lines.join('\n')}\n`);
      lines.length = 0;
    }
  }
  if (lines.length > 0) hash.update(`${lines.join('\n')}\n`);
  return `sha256:${hash.digest('hex')}`;
}

function canonicalNumber(value: number): string {
  // -0 and 0 are the same measurement.
  return Number.isNaN(value) ? '' : String(value === 0 ? 0 : value);
}

/**
 * One short digest per row (16 hex digits of the sha256 of its 32 feature values, canonical as in
 * `fingerprintDataset`): which patients a model was trained on, without their data. The patient id and the
 * diagnosis are left out, so the same patient copied into another file under another id is still found.
 */
export function rowDigests(dataset: Dataset): string[] {
  const columns = FEATURE_NAMES.map((name) => dataset.columns[name]);
  const digests: string[] = new Array(dataset.rowCount);
  for (let i = 0; i < dataset.rowCount; i++) {
    const line = columns.map((column) => canonicalNumber(column[i]!)).join(',');
    digests[i] = createHash('sha256').update(line).digest('hex').slice(0, 16);
  }
  return digests;
}

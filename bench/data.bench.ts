/**
 * Data-layer benchmarks: `npm run bench`. Each group runs Onset's code next to a reference in the same run,
 * so vitest prints the ratio ("x times slower/faster than").
 */
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { bench, describe } from 'vitest';
import { ingestCsv } from '../src/data/csv-reader.js';
import { csvLine } from '../src/data/csv-writer.js';
import { fingerprintDataset } from '../src/data/fingerprint.js';
import { generateDataset } from '../src/data/generator/generator.js';
import { FEATURE_NAMES, KAGGLE_COLUMNS } from '../src/data/schema.js';
import { HAS_REAL_DATA, REAL_DATA_PATH } from '../test/support/fixtures.js';

// The real file when present, else a generated file of the same size (same layout).
function sampleCsv(): Buffer {
  if (HAS_REAL_DATA) return readFileSync(REAL_DATA_PATH);
  const data = generateDataset({ rows: 2105, seed: 42 });
  const lines = [csvLine(KAGGLE_COLUMNS)];
  for (let i = 0; i < data.rowCount; i++) {
    lines.push(
      csvLine([
        data.patientIds![i],
        ...FEATURE_NAMES.map((n) => data.columns[n][i]),
        data.target![i],
        'DrXXXConfid',
      ]),
    );
  }
  return Buffer.from(lines.join(''));
}

const csv = sampleCsv();
const large = Buffer.concat([csv, ...Array.from({ length: 9 }, () => csv.subarray(csv.indexOf('\n') + 1))]);

async function parseOnly(buffer: Buffer): Promise<number> {
  let rows = 0;
  for await (const _ of Readable.from([buffer]).pipe(
    parse({ bom: true, trim: true, info: true, relax_column_count: true }),
  ))
    rows++;
  return rows;
}

describe('ingest 2,105 rows (Kaggle file size)', () => {
  bench('reference: csv-parse alone (no validation)', async () => {
    await parseOnly(csv);
  });
  bench('onset ingestCsv (parse + validate + columns + fingerprint)', async () => {
    await ingestCsv(Readable.from([csv]), { target: 'required' });
  });
});

describe('ingest 21,050 rows (duplicate ids reported under skip)', () => {
  bench('reference: csv-parse alone (no validation)', async () => {
    await parseOnly(large);
  });
  bench('onset ingestCsv', async () => {
    await ingestCsv(Readable.from([large]), { target: 'required', policy: 'skip' });
  });
});

describe('generate 2,105 rows', () => {
  const data = generateDataset({ rows: 2105, seed: 1 });
  bench('reference: fingerprint the same data set (sha256 of canonical text)', () => {
    fingerprintDataset(data);
  });
  bench('onset generateDataset', () => {
    generateDataset({ rows: 2105, seed: 1 });
  });
});

import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { csvText, HAS_REAL_DATA, REAL_DATA_PATH, VALID_RECORD } from '../../test/support/fixtures.js';
import { OnsetError } from '../errors.js';
import {
  assertIngested,
  type DataIssue,
  formatIssue,
  ingestCsv,
  ingestCsvFile,
  type ReadOptions,
  readDatasetFile,
} from './csv-reader.js';
import { FEATURE_NAMES, KAGGLE_COLUMNS, SCHEMA_TRAINING_RANGES } from './schema.js';

function ingest(text: string | Buffer, options: ReadOptions = {}) {
  return ingestCsv(Readable.from([typeof text === 'string' ? Buffer.from(text) : text]), options);
}

function errors(issues: readonly DataIssue[]) {
  return issues.filter((issue) => issue.severity === 'error');
}

describe('ingestCsv: what real files contain', () => {
  it('reads a well-formed file into schema-ordered columns, target and ids', async () => {
    const { dataset, report } = await ingest(csvText([{}, { Age: '60', Diagnosis: '1' }]));
    expect(report.valid).toBe(true);
    expect(report).toMatchObject({
      rowsRead: 2,
      rowsValid: 2,
      rowsInvalid: 0,
      rowsAccepted: 2,
      errorCount: 0,
    });
    expect(dataset!.rowCount).toBe(2);
    expect(Array.from(dataset!.columns.Age)).toEqual([85, 60]);
    expect(Array.from(dataset!.target!)).toEqual([0, 1]);
    expect(dataset!.patientIds).toEqual(['3058', '3059']);
    expect(report.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('strips a UTF-8 byte order mark', async () => {
    const { dataset, report } = await ingest(
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(csvText([{}]))]),
    );
    expect(report.valid).toBe(true);
    expect(report.hasPatientId).toBe(true);
    expect(dataset!.patientIds).toEqual(['3058']);
  });

  it('accepts CRLF line endings', async () => {
    const { dataset, report } = await ingest(csvText([{}, {}], { eol: '\r\n' }));
    expect(report.valid).toBe(true);
    expect(dataset!.rowCount).toBe(2);
  });

  it('accepts quoted fields, including quoted numbers and quotes inside extra columns', async () => {
    const text = csvText([{ Age: '"70"', BMI: '" 22.5 "', Notes: '"said ""hello"", left"' }], {
      columns: [...KAGGLE_COLUMNS, 'Notes'],
    });
    const { dataset, report } = await ingest(text);
    expect(errors(report.issues)).toEqual([]);
    expect(dataset!.columns.Age[0]).toBe(70);
    expect(dataset!.columns.BMI[0]).toBe(22.5);
  });

  it('parses scientific notation such as 1.05E-05', async () => {
    const { dataset } = await ingest(csvText([{ DietQuality: '1.05E-05', BMI: '2.5e1' }]));
    expect(dataset!.columns.DietQuality[0]).toBeCloseTo(0.0000105, 12);
    expect(dataset!.columns.BMI[0]).toBe(25);
  });

  it('ignores blank trailing lines', async () => {
    const { dataset, report } = await ingest(`${csvText([{}, {}])}\n\n\r\n`);
    expect(report.valid).toBe(true);
    expect(report.rowsRead).toBe(2);
    expect(dataset!.rowCount).toBe(2);
  });

  it('accepts columns in any order and returns them in schema order', async () => {
    const shuffled = [...KAGGLE_COLUMNS].reverse();
    const a = await ingest(csvText([{ Age: '55' }, { Age: '66' }]));
    const b = await ingest(csvText([{ Age: '55' }, { Age: '66' }], { columns: shuffled }));
    expect(b.report.valid).toBe(true);
    for (const name of FEATURE_NAMES) expect(b.dataset!.columns[name]).toEqual(a.dataset!.columns[name]);
    expect(b.report.fingerprint).toBe(a.report.fingerprint);
  });

  it('reports extra columns as warnings and ignores them', async () => {
    const { dataset, report } = await ingest(
      csvText([{ Hospital: 'North' }], { columns: [...KAGGLE_COLUMNS, 'Hospital'] }),
    );
    expect(report.valid).toBe(true);
    expect(report.columns.extra).toEqual(['Hospital']);
    expect(report.issues).toContainEqual(
      expect.objectContaining({ severity: 'warning', rule: 'extra_column', column: 'Hospital', line: 1 }),
    );
    expect(dataset!.rowCount).toBe(1);
  });

  it('keeps missing feature values as NaN and counts them per feature, naming where the first one is', async () => {
    const { dataset, report } = await ingest(csvText([{}, { BMI: '' }, { BMI: 'NA', MoCA: 'NaN' }]));
    expect(report.valid).toBe(true);
    expect(Number.isNaN(dataset!.columns.BMI[1]!)).toBe(true);
    expect(Number.isNaN(dataset!.columns.BMI[2]!)).toBe(true);
    expect(report.missingValues).toEqual({ BMI: 2, MoCA: 1 });
    expect(report.issues).toContainEqual(
      expect.objectContaining({
        severity: 'warning',
        rule: 'missing_value',
        column: 'BMI',
        row: 2,
        line: 3,
        message: expect.stringContaining('the first at row 2 (line 3)'),
      }),
    );
    expect(report.issues).toContainEqual(
      expect.objectContaining({
        severity: 'warning',
        rule: 'missing_value',
        column: 'MoCA',
        row: 3,
        line: 4,
      }),
    );
  });

  it('makes missing feature values errors when asked to', async () => {
    const { dataset, report } = await ingest(csvText([{}, { BMI: '' }]), { missingFeatures: 'reject' });
    expect(report.valid).toBe(false);
    expect(dataset).toBeUndefined();
    expect(errors(report.issues)).toEqual([
      expect.objectContaining({ rule: 'missing_value', row: 2, line: 3, column: 'BMI', value: '' }),
    ]);
  });

  it('drops DoctorInCharge and never echoes its values', async () => {
    const { dataset, report } = await ingest(
      csvText([{ DoctorInCharge: 'Dr Jane Secret' }, { DoctorInCharge: '' }]),
    );
    expect(report.valid).toBe(true);
    expect(report.columns.dropped).toEqual(['DoctorInCharge']);
    expect(JSON.stringify(report)).not.toContain('Jane');
    expect(JSON.stringify(dataset)).not.toContain('Jane');
    expect(Object.keys(dataset!.columns)).not.toContain('DoctorInCharge');
  });

  it('reads a file without PatientID or Diagnosis when the target is optional', async () => {
    const columns = KAGGLE_COLUMNS.filter((name) => name !== 'PatientID' && name !== 'Diagnosis');
    const { dataset, report } = await ingest(csvText([{}, {}], { columns }));
    expect(report).toMatchObject({ valid: true, hasTarget: false, hasPatientId: false });
    expect(dataset!.target).toBeUndefined();
    expect(dataset!.patientIds).toBeUndefined();
  });
});

describe('ingestCsv: every problem names row, line, column, value and rule', () => {
  it('names a missing required column and suggests a case fix', async () => {
    const columns = KAGGLE_COLUMNS.map((name) => (name === 'MoCA' ? 'moca' : name)).filter(
      (n) => n !== 'UPDRS',
    );
    const { dataset, report } = await ingest(csvText([{}], { columns }));
    expect(dataset).toBeUndefined();
    expect(report.readable).toBe(false);
    expect(report.columns.missing).toEqual(['UPDRS', 'MoCA']);
    const moca = report.issues.find((issue) => issue.column === 'MoCA')!;
    expect(moca).toMatchObject({ rule: 'missing_column', severity: 'error' });
    expect(moca.message).toContain('found "moca"');
  });

  it('requires the Diagnosis column when the target is required', async () => {
    const columns = KAGGLE_COLUMNS.filter((name) => name !== 'Diagnosis');
    const { report } = await ingest(csvText([{}], { columns }), { target: 'required' });
    expect(report.issues).toEqual([expect.objectContaining({ rule: 'missing_column', column: 'Diagnosis' })]);
  });

  it('names a duplicated required column and where it appears', async () => {
    const { report } = await ingest(csvText([{}], { columns: [...KAGGLE_COLUMNS, 'BMI'] }));
    expect(report.readable).toBe(false);
    expect(report.issues).toEqual([
      expect.objectContaining({
        rule: 'duplicate_column',
        column: 'BMI',
        message: expect.stringContaining('columns 6, 36'),
      }),
    ]);
  });

  it.each([
    ['not_numeric', { Age: 'sixty' }, 'Age', 'sixty'],
    ['not_numeric', { BMI: '"1,5"' }, 'BMI', '1,5'],
    ['not_numeric', { UPDRS: 'Infinity' }, 'UPDRS', 'Infinity'],
    ['out_of_range', { Age: '130' }, 'Age', '130'],
    ['out_of_range', { SleepQuality: '10.5' }, 'SleepQuality', '10.5'],
    ['out_of_range', { MoCA: '31' }, 'MoCA', '31'],
    ['out_of_range', { UPDRS: '-0.5' }, 'UPDRS', '-0.5'],
    ['unknown_code', { Ethnicity: '4' }, 'Ethnicity', '4'],
    ['unknown_code', { EducationLevel: '1.5' }, 'EducationLevel', '1.5'],
    ['not_binary', { Tremor: '2' }, 'Tremor', '2'],
    ['not_binary', { Diagnosis: 'yes' }, 'Diagnosis', 'yes'],
    ['not_binary', { Diagnosis: '0.5' }, 'Diagnosis', '0.5'],
    ['missing_id', { PatientID: '' }, 'PatientID', ''],
  ] as const)('reports %s for %j', async (rule, overrides, column, value) => {
    const { dataset, report } = await ingest(csvText([{}, overrides, {}]));
    expect(dataset).toBeUndefined();
    expect(report).toMatchObject({ valid: false, readable: true, rowsRead: 3, rowsValid: 2, rowsInvalid: 1 });
    expect(errors(report.issues)).toEqual([
      { severity: 'error', rule, row: 2, line: 3, column, value, message: expect.any(String) },
    ]);
    expect(formatIssue(errors(report.issues)[0]!)).toContain(`row 2, line 3, column ${column}`);
  });

  it('explains limits and codes in the message', async () => {
    const { report } = await ingest(csvText([{ Age: '-1', Ethnicity: '7' }]));
    const [age, ethnicity] = errors(report.issues);
    expect(age!.message).toBe('Age must be between 0 and 125 years (what is possible)');
    expect(ethnicity!.message).toContain('0 = Caucasian, 1 = African American, 2 = Asian, 3 = Other');
  });

  it('keeps a possible value outside the training range, with one warning per column saying where', async () => {
    const rows: Record<string, string>[] = [{}, { Age: '45' }, { Age: '91', BMI: '12.5' }, {}, { Age: '70' }];
    const { dataset, report } = await ingest(csvText(rows));
    expect(report).toMatchObject({ valid: true, rowsValid: 5, errorCount: 0, warningCount: 2 });
    expect(Array.from(dataset!.columns.Age).slice(1, 3)).toEqual([45, 91]);
    expect(report.warningsByRule).toEqual({ outside_training_range: 2 });
    expect(report.issues).toEqual([
      {
        severity: 'warning',
        rule: 'outside_training_range',
        row: 2,
        line: 3,
        column: 'Age',
        value: '45',
        message:
          '2 value(s) outside the training range 50 to 90 years, kept (possible, but unlike the data models were trained on), the first at row 2 (line 3)',
      },
      expect.objectContaining({ rule: 'outside_training_range', row: 3, column: 'BMI', value: '12.5' }),
    ]);
  });

  it('warns against the ranges it is given (a model’s own), not only the schema’s', async () => {
    const ranges = SCHEMA_TRAINING_RANGES.map((range, j) =>
      FEATURE_NAMES[j] === 'Age' ? { min: 60, max: 80 } : range,
    );
    const { report } = await ingest(csvText([{ Age: '55' }, { Age: '70' }]), { trainingRanges: ranges });
    expect(report.issues).toEqual([
      expect.objectContaining({
        rule: 'outside_training_range',
        column: 'Age',
        value: '55',
        message: expect.stringContaining('1 value(s) outside the training range 60 to 80 years'),
      }),
    ]);
  });

  it('does not warn about values outside the training range in a row it refuses', async () => {
    const { report } = await ingest(csvText([{ Age: '45', Tremor: '2' }]));
    expect(report.warningCount).toBe(0);
    expect(report.errorsByRule).toEqual({ not_binary: 1 });
  });

  it('reports a missing target only when the target is required', async () => {
    const text = csvText([{}, { Diagnosis: '' }]);
    const optional = await ingest(text);
    expect(optional.report.valid).toBe(true);
    expect(Number.isNaN(optional.dataset!.target![1]!)).toBe(true);
    const required = await ingest(text, { target: 'required' });
    expect(errors(required.report.issues)).toEqual([
      expect.objectContaining({ rule: 'missing_target', row: 2, column: 'Diagnosis' }),
    ]);
  });

  it('reports a duplicate PatientID with the row it repeats', async () => {
    const { report } = await ingest(csvText([{ PatientID: '7' }, { PatientID: '8' }, { PatientID: '7' }]));
    expect(errors(report.issues)).toEqual([
      expect.objectContaining({
        rule: 'duplicate_id',
        row: 3,
        column: 'PatientID',
        value: '7',
        message: 'PatientID repeats the one in row 1',
      }),
    ]);
  });

  it('reports a row with the wrong number of fields', async () => {
    const text = `${csvText([{}])}3059,70,1\n`;
    const { report } = await ingest(text);
    expect(errors(report.issues)).toEqual([
      expect.objectContaining({
        rule: 'wrong_field_count',
        row: 2,
        line: 3,
        message: 'has 3 fields; the header has 35',
      }),
    ]);
  });

  it('reports malformed CSV with its line', async () => {
    const text = `${csvText([{}])}3059,"70,1\n`;
    const { dataset, report } = await ingest(text);
    expect(dataset).toBeUndefined();
    expect(report.readable).toBe(false);
    expect(errors(report.issues)).toEqual([expect.objectContaining({ rule: 'malformed_csv' })]);
    expect(errors(report.issues)[0]!.message).toContain('not valid CSV');
  });

  it('reports an empty file', async () => {
    const { report } = await ingest('');
    expect(report).toMatchObject({ valid: false, readable: false, rowsRead: 0 });
    expect(report.issues).toEqual([expect.objectContaining({ rule: 'empty_file' })]);
  });

  it('reads a header-only file as an empty, valid data set', async () => {
    const { dataset, report } = await ingest(`${KAGGLE_COLUMNS.join(',')}\n`);
    expect(report.valid).toBe(true);
    expect(dataset!.rowCount).toBe(0);
  });

  it('reports every problem of a row and of every row', async () => {
    const { report } = await ingest(csvText([{ Age: '200', BMI: 'x' }, {}, { Tremor: '3' }]));
    expect(report.errorCount).toBe(3);
    expect(report.rowsInvalid).toBe(2);
    expect(report.errorsByRule).toEqual({ out_of_range: 1, not_numeric: 1, not_binary: 1 });
  });
});

describe('ingestCsv: policies and counts', () => {
  const text = csvText([{}, { Age: '200' }, {}, { Tremor: '9', Gender: '5' }, { PatientID: '3058' }]);

  it('fail (default) refuses the whole file but still reports every row', async () => {
    const { dataset, report } = await ingest(text);
    expect(dataset).toBeUndefined();
    expect(report).toMatchObject({
      policy: 'fail',
      rowsRead: 5,
      rowsValid: 2,
      rowsInvalid: 3,
      rowsSkipped: 0,
      rowsAccepted: 0,
    });
    expect(report.fingerprint).toBeNull();
  });

  it('skip leaves out invalid rows, reports them, and the counts add up', async () => {
    const { dataset, report } = await ingest(text, { policy: 'skip' });
    expect(report).toMatchObject({
      policy: 'skip',
      valid: false,
      rowsRead: 5,
      rowsValid: 2,
      rowsInvalid: 3,
      rowsSkipped: 3,
      rowsAccepted: 2,
    });
    expect(report.rowsAccepted + report.rowsSkipped).toBe(report.rowsRead);
    expect(dataset!.patientIds).toEqual(['3058', '3060']);
    expect(new Set(errors(report.issues).map((issue) => issue.row))).toEqual(new Set([2, 4, 5]));
  });

  it('caps the stored issues but keeps exact counts', async () => {
    const rows = Array.from({ length: 50 }, () => ({ Age: '-10' }));
    const { report } = await ingest(csvText(rows), { maxIssues: 10 });
    expect(report.issues).toHaveLength(10);
    expect(report.issuesTruncated).toBe(true);
    expect(report.errorCount).toBe(50);
    expect(report.errorsByRule.out_of_range).toBe(50);
  });

  it('assertIngested throws an OnsetError that quotes the first problems and carries the report', async () => {
    const result = await ingest(text);
    let thrown: unknown;
    try {
      assertIngested(result);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(OnsetError);
    const error = thrown as OnsetError;
    expect(error.code).toBe('INVALID_PARAMETER_VALUE');
    expect(error.httpStatus).toBe(400);
    expect(error.message).toContain('row 2, line 3, column Age: value "200"');
    expect(error.message).toContain('and 1 more error(s)');
    expect(error.details).toBe(result.report);
  });
});

describe('fingerprint', () => {
  const base = csvText([{}, { Age: '66', DietQuality: '1.05E-05' }]);

  it('ignores how the file is written', async () => {
    const reference = (await ingest(base)).report.fingerprint;
    const variants = [
      base.replaceAll('\n', '\r\n'),
      `\ufeff${base}`,
      base.replace('1.05E-05', '0.0000105'),
      csvText([{}, { Age: '66', DietQuality: '1.05E-05' }], { columns: [...KAGGLE_COLUMNS].reverse() }),
      csvText([{ Extra: 'a' }, { Age: '66', DietQuality: '1.05E-05', Extra: 'b' }], {
        columns: [...KAGGLE_COLUMNS, 'Extra'],
      }),
      csvText([{ DoctorInCharge: 'someone' }, { Age: '66', DietQuality: '1.05E-05' }]),
    ];
    for (const variant of variants) expect((await ingest(variant)).report.fingerprint).toBe(reference);
  });

  it('changes with any value or the row order', async () => {
    const reference = (await ingest(base)).report.fingerprint;
    expect((await ingest(base.replace(',66,', ',67,'))).report.fingerprint).not.toBe(reference);
    expect((await ingest(csvText([{ Age: '66', DietQuality: '1.05E-05' }, {}]))).report.fingerprint).not.toBe(
      reference,
    );
  });
});

describe('ingestCsvFile', () => {
  it('says which file does not exist', async () => {
    await expect(ingestCsvFile('/nonexistent/patients.csv')).rejects.toMatchObject({
      code: 'RESOURCE_DOES_NOT_EXIST',
      message: 'Data file not found: /nonexistent/patients.csv',
    });
  });

  it.skipIf(!HAS_REAL_DATA)(
    'reads the real Kaggle file: 2,105 valid rows, DoctorInCharge dropped',
    async () => {
      const { dataset, report } = await readDatasetFile(REAL_DATA_PATH, { target: 'required' });
      expect(report).toMatchObject({ valid: true, rowsRead: 2105, rowsAccepted: 2105, warningCount: 0 });
      expect(report.columns.dropped).toEqual(['DoctorInCharge']);
      expect(dataset.columns.DietQuality.some((value) => value === 1.05e-5)).toBe(true);
      const positives = dataset.target!.reduce((sum, value) => sum + value, 0);
      expect(positives / dataset.rowCount).toBeCloseTo(0.6195, 4);
    },
  );
});

// Keep the fixture honest: the template record must itself be valid.
it('VALID_RECORD covers every Kaggle column', () => {
  expect(Object.keys(VALID_RECORD).sort()).toEqual([...KAGGLE_COLUMNS].sort());
});

describe('scanCsv', () => {
  it('lets a consumer failure propagate instead of reporting it as a CSV problem', async () => {
    const { scanCsv } = await import('./csv-reader.js');
    const failing = scanCsv(Readable.from([Buffer.from(csvText([{}, {}]))]), {}, (row) => {
      if (row.row === 2) throw new Error('disk full');
    });
    await expect(failing).rejects.toThrow('disk full');
  });
});

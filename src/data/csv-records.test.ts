/**
 * The fast record reader against csv-parse itself (with the options the data reader used it with): the
 * same records, the same lines, the same errors, whatever the text and wherever its chunks are cut.
 */
import { Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { forEachCsvRecord, plainDecimal } from './csv-records.js';

type Outcome =
  | { readonly records: { record: string[]; line: number }[] }
  | { readonly error: { code: string; message: string; lines: unknown; records: unknown } };

/** The bytes of `text`, cut at `cuts` (byte offsets, UTF-8 sequences included). */
function chunked(text: string, cuts: readonly number[]): Readable {
  const bytes = Buffer.from(text, 'utf8');
  const at = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const cut of [...at, bytes.length]) {
    if (cut > start) chunks.push(bytes.subarray(start, cut));
    start = Math.max(start, cut);
  }
  return Readable.from(chunks, { objectMode: false });
}

/**
 * What the fast reader reads, as csv-parse gives it. Each field's `plainNumber` is checked on the way: the
 * number `Number` reads from the field's text, or NaN for a field that is not a plain decimal.
 */
async function read(input: Readable): Promise<Outcome> {
  const read: { record: string[]; line: number }[] = [];
  try {
    await forEachCsvRecord(input, (record) => {
      const fields = record.fields();
      fields.forEach((field, k) => {
        // NaN also for a plain decimal with spaces around it in the file (trimmed from the field).
        const value = record.plainNumber(k);
        const plain = /^[+-]?(\d+\.?\d*|\.\d+)$/.test(field) && field.replace(/\D/g, '').length <= 15;
        if (!plain) expect(value).toBeNaN();
        else if (!Number.isNaN(value)) expect(value).toBe(Number(field));
      });
      read.push({ record: fields, line: record.line });
    });
    return { records: read };
  } catch (error) {
    return failure(error);
  }
}

async function outcome(records: AsyncIterable<{ record: string[]; line: number }>): Promise<Outcome> {
  const read: { record: string[]; line: number }[] = [];
  try {
    for await (const { record, line } of records) read.push({ record, line });
    return { records: read };
  } catch (error) {
    return failure(error);
  }
}

function failure(error: unknown): Outcome {
  if (!(error instanceof CsvError)) throw error;
  return { error: { code: error.code, message: error.message, lines: error.lines, records: error.records } };
}

/** What csv-parse reads, as the data reader used it before: each field trimmed again by JavaScript. */
async function* reference(text: string): AsyncGenerator<{ record: string[]; line: number }> {
  const parser = parse({
    bom: true,
    info: true,
    relax_column_count: true,
    skip_empty_lines: true,
    trim: true,
  });
  Readable.from([Buffer.from(text, 'utf8')]).pipe(parser);
  for await (const { record, info } of parser as AsyncIterable<{
    record: string[];
    info: { lines: number };
  }>) {
    yield { record: record.map((field) => field.trim()), line: info.lines };
  }
}

/** Cells of a data file, plain ones mostly, and the characters that make CSV hard. */
const cell = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      '85',
      '0',
      '19.6',
      '-3.5e2',
      '',
      ' 7 ',
      'NaN',
      'P-1',
      '\t12\u00a0',
      '+.5',
      '7.',
      '-0',
      '.',
      '1.2.3',
      '1234567890.12345',
      '123456789.0123456',
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '"',
      '""',
      '"a,b"',
      '" x "',
      'a"b',
      '"a\nb"',
      '\r',
      '\uFEFF',
      '\u2028',
      'é',
      '日本',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);
const text = fc
  .record({
    rows: fc.array(fc.array(cell, { maxLength: 6 }), { maxLength: 12 }),
    newline: fc.constantFrom('\n', '\r\n', '\r'),
    mixed: fc.array(fc.constantFrom('\n', '\r\n', ''), { maxLength: 4 }),
    bom: fc.boolean(),
    trailing: fc.boolean(),
  })
  .map(
    ({ rows, newline, mixed, bom, trailing }) =>
      (bom ? '\uFEFF' : '') +
      rows
        .map((cells, i) => cells.join(',') + (i < rows.length - 1 || trailing ? (mixed[i] ?? newline) : ''))
        .join(''),
  );

describe('forEachCsvRecord', () => {
  it('reads what csv-parse reads: records, lines and errors, in chunks cut anywhere', async () => {
    await fc.assert(
      fc.asyncProperty(text, fc.array(fc.nat(), { maxLength: 5 }), async (input, cuts) => {
        expect(await read(chunked(input, cuts))).toEqual(await outcome(reference(input)));
      }),
      { numRuns: 600 },
    );
  });

  it('reads a plain data file line by line, and a quote further on through csv-parse, its lines counted on', async () => {
    const plain = `PatientID,Age\n${Array.from({ length: 50 }, (_, i) => `${i},${60 + i}`).join('\n')}\n`;
    const quoted = `${plain}"51",70\n52,"7\n1"\n53,72\n`;
    expect(await read(chunked(quoted, [7, 100, 300]))).toEqual(await outcome(reference(quoted)));
    const broken = `${plain}54,7"2\n`;
    const said = await read(chunked(broken, [5]));
    expect(said).toEqual(await outcome(reference(broken)));
    expect(said).toMatchObject({ error: { lines: 52 } });
  });
});

describe('plainDecimal', () => {
  const decimal = fc
    .tuple(
      fc.constantFrom('', '-', '+'),
      fc.stringMatching(/^[0-9]{0,17}$/),
      fc.boolean(),
      fc.stringMatching(/^[0-9]{0,17}$/),
    )
    .map(([sign, whole, point, fraction]) => `${sign}${whole}${point ? '.' : ''}${point ? fraction : ''}`);

  it('reads what Number reads from a decimal of 1 to 15 digits, and NaN from anything else', () => {
    fc.assert(
      fc.property(
        decimal,
        fc.string({ maxLength: 3 }),
        fc.string({ maxLength: 3 }),
        (text, before, after) => {
          const digits = text.replace(/\D/g, '').length;
          const expected = digits >= 1 && digits <= 15 ? Number(text) : Number.NaN;
          // Read where it lies inside other text, as the reader does.
          expect(plainDecimal(before + text + after, before.length, before.length + text.length)).toBe(
            expected,
          );
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it('reads the hard cases of rounding as Number does', () => {
    for (const text of [
      '0.1',
      '0.3',
      '900719925474.099',
      '999999999999999',
      '0.00000000000001',
      '-0',
      '2.675',
    ]) {
      expect(plainDecimal(text, 0, text.length)).toBe(Number(text));
    }
    expect(plainDecimal('1e3', 0, 3)).toBeNaN();
    expect(plainDecimal(' 1', 0, 2)).toBeNaN();
    expect(plainDecimal('1234567890123456', 0, 16)).toBeNaN();
  });
});

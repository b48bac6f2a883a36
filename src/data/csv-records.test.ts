/**
 * The fast record reader against csv-parse itself (with the options the data reader used it with): the
 * same records, the same lines, the same errors, whatever the text and wherever its chunks are cut.
 */
import { Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvRecords } from './csv-records.js';

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

async function outcome(records: AsyncIterable<{ record: string[]; line: number }>): Promise<Outcome> {
  const read: { record: string[]; line: number }[] = [];
  try {
    for await (const { record, line } of records) read.push({ record, line });
    return { records: read };
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    return {
      error: { code: error.code, message: error.message, lines: error.lines, records: error.records },
    };
  }
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
    arbitrary: fc.constantFrom('85', '0', '19.6', '-3.5e2', '', ' 7 ', 'NaN', 'P-1', '\t12\u00a0'),
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

describe('csvRecords', () => {
  it('reads what csv-parse reads: records, lines and errors, in chunks cut anywhere', async () => {
    await fc.assert(
      fc.asyncProperty(text, fc.array(fc.nat(), { maxLength: 5 }), async (input, cuts) => {
        expect(await outcome(csvRecords(chunked(input, cuts)))).toEqual(await outcome(reference(input)));
      }),
      { numRuns: 600 },
    );
  });

  it('reads a plain data file line by line, and a quote further on through csv-parse, its lines counted on', async () => {
    const plain = `PatientID,Age\n${Array.from({ length: 50 }, (_, i) => `${i},${60 + i}`).join('\n')}\n`;
    const quoted = `${plain}"51",70\n52,"7\n1"\n53,72\n`;
    expect(await outcome(csvRecords(chunked(quoted, [7, 100, 300])))).toEqual(
      await outcome(reference(quoted)),
    );
    const broken = `${plain}54,7"2\n`;
    const said = await outcome(csvRecords(chunked(broken, [5])));
    expect(said).toEqual(await outcome(reference(broken)));
    expect(said).toMatchObject({ error: { lines: 52 } });
  });
});

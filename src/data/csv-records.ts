import { Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';

/**
 * A record of a CSV file, read where it lies in the file: its fields, trimmed, and the line it ends on
 * (1 = the first line). The reader reuses one record for the next line, so a visitor copies what it keeps
 * (`fields()`).
 */
export interface CsvRecord {
  readonly line: number;
  /** How many fields it has. */
  readonly size: number;
  /** Field `k`, trimmed. */
  field(k: number): string;
  /**
   * Field `k` as a number when it is a plain decimal (see `plainDecimal`), read without making a string;
   * NaN when it is anything else (spaces, an exponent, a word, nothing), which `field(k)` then says.
   */
  plainNumber(k: number): number;
  /** Every field, trimmed: a copy the reader does not reuse. */
  fields(): string[];
}

/** csv-parse's options for the data files: the records are the same whichever path reads them. */
const PARSE_OPTIONS = { relax_column_count: true, skip_empty_lines: true, trim: true } as const;

/** Exact powers of ten: a decimal of at most 15 digits divided by one is the correctly rounded value. */
const POWERS_OF_TEN = Array.from({ length: 16 }, (_, k) => 10 ** k);

/**
 * The number in `text` from `start` to `end` when it is a plain decimal: an optional sign, then digits
 * with at most one decimal point, 1 to 15 digits in all (no spaces, exponent or other character); NaN
 * otherwise. Such a decimal is an integer below 2^53 divided by an exact power of ten, so one division
 * gives the correctly rounded double: exactly what `Number` reads from the same text.
 */
export function plainDecimal(text: string, start: number, end: number): number {
  let at = start;
  let negative = false;
  if (at < end) {
    const sign = text.charCodeAt(at);
    if (sign === 45) {
      negative = true;
      at++;
    } else if (sign === 43) at++;
  }
  let mantissa = 0;
  let digits = 0;
  let scale = 0;
  let point = false;
  for (; at < end; at++) {
    const digit = text.charCodeAt(at) - 48;
    if (digit >= 0 && digit <= 9) {
      mantissa = mantissa * 10 + digit;
      digits++;
      if (point) scale++;
    } else if (digit === -2 && !point) point = true;
    else return Number.NaN;
  }
  if (digits === 0 || digits > 15) return Number.NaN;
  const value = scale === 0 ? mantissa : mantissa / POWERS_OF_TEN[scale]!;
  return negative ? -value : value;
}

/** Byte values the plain path looks for. */
const COMMA = 0x2c;
const NEWLINE = 0x0a;
const RETURN = 0x0d;
const QUOTE = 0x22;
const MINUS = 0x2d;
const PLUS = 0x2b;
const POINT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * A plain line of the file, read in its bytes: its fields' bounds and plain decimals, found in one pass,
 * and no text made until a field's text is asked for.
 */
class PlainLine implements CsvRecord {
  bytes: Buffer = Buffer.alloc(0);
  line = 0;
  size = 0;
  starts = new Int32Array(64);
  ends = new Int32Array(64);
  /** Each field's value when it is a plain decimal, else NaN (the grammar of `plainDecimal`). */
  values = new Float64Array(64);

  /** Reads `bytes` from `start` to `end` as the fields between its commas. */
  split(bytes: Buffer, start: number, end: number, line: number): void {
    this.bytes = bytes;
    this.line = line;
    let size = 0;
    let at = start;
    for (;;) {
      const fieldStart = at;
      let code = at < end ? bytes[at]! : COMMA;
      let negative = false;
      if (code === MINUS || code === PLUS) {
        negative = code === MINUS;
        code = ++at < end ? bytes[at]! : COMMA;
      }
      let mantissa = 0;
      let digits = 0;
      let scale = 0;
      while (code >= ZERO && code <= NINE) {
        mantissa = mantissa * 10 + (code - ZERO);
        digits++;
        code = ++at < end ? bytes[at]! : COMMA;
      }
      if (code === POINT) {
        code = ++at < end ? bytes[at]! : COMMA;
        while (code >= ZERO && code <= NINE) {
          mantissa = mantissa * 10 + (code - ZERO);
          digits++;
          scale++;
          code = ++at < end ? bytes[at]! : COMMA;
        }
      }
      let plain = digits > 0 && digits <= 15;
      while (code !== COMMA) {
        plain = false;
        code = ++at < end ? bytes[at]! : COMMA;
      }
      if (size === this.starts.length) this.grow();
      this.starts[size] = fieldStart;
      this.ends[size] = at;
      if (plain) {
        const value = scale === 0 ? mantissa : mantissa / POWERS_OF_TEN[scale]!;
        this.values[size] = negative ? -value : value;
      } else this.values[size] = Number.NaN;
      size++;
      if (at >= end) break;
      at++;
    }
    this.size = size;
  }

  private grow(): void {
    const grown = (from: Int32Array) => {
      const to = new Int32Array(from.length * 2);
      to.set(from);
      return to;
    };
    this.starts = grown(this.starts);
    this.ends = grown(this.ends);
    const values = new Float64Array(this.values.length * 2);
    values.set(this.values);
    this.values = values;
  }

  field(k: number): string {
    return this.bytes.toString('utf8', this.starts[k], this.ends[k]).trim();
  }

  plainNumber(k: number): number {
    return this.values[k]!;
  }

  fields(): string[] {
    return Array.from({ length: this.size }, (_, k) => this.field(k));
  }
}

/** A record csv-parse read. */
class ParsedRecord implements CsvRecord {
  constructor(
    private readonly record: readonly string[],
    readonly line: number,
  ) {}

  get size(): number {
    return this.record.length;
  }

  field(k: number): string {
    return this.record[k]!;
  }

  plainNumber(k: number): number {
    const field = this.record[k]!;
    return plainDecimal(field, 0, field.length);
  }

  fields(): string[] {
    return [...this.record];
  }
}

/** Whether the bytes from `start` to `end` are empty or whitespace: no record (skip_empty_lines, after trim). */
function isBlank(bytes: Buffer, start: number, end: number): boolean {
  if (start === end) return true;
  // Most lines start with a visible ASCII character; anything else is left to `trim` to judge.
  const first = bytes[start]!;
  return !(first > 32 && first < 127) && bytes.toString('utf8', start, end).trim() === '';
}

/**
 * What a reader of records does with each: nothing to wait for (most records), a promise to wait for
 * before the next record, or 'stop' to read no further.
 */
export type RecordVisitor = (record: CsvRecord) => void | 'stop' | Promise<void>;

/**
 * Calls `visit` with each record of a CSV file, in order, as csv-parse reads it with `bom`, `relax_column_count`, `skip_empty_lines`
 * and `trim` (and every field trimmed by JavaScript's `trim`, which removes the same characters), read
 * faster. A data file is mostly lines of plain fields: those are split on commas in the file's bytes,
 * without csv-parse's per-byte state machine, and their fields are made into text only when asked for.
 * From the first line that holds a quote, or a carriage return that does not end the line as the lines
 * before did, the rest of the file goes to csv-parse, with the record delimiter the lines before it had
 * and its lines and records counted on from where this stopped (so a malformed quote is reported where it
 * is, as a `CsvError`).
 */
export async function forEachCsvRecord(input: Readable, visit: RecordVisitor): Promise<void> {
  const chunks = input[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const plainLine = new PlainLine();
  let bytes: Buffer = Buffer.alloc(0);
  let at = 0;
  let line = 0;
  let records = 0;
  let ended = false;
  /** The lines' delimiter, from the first line that has one. */
  let delimiter: '\n' | '\r\n' | undefined;
  // The next quote and carriage return from `at` on (bytes.length when there is none), found once per
  // stretch of the file rather than once per line.
  let quoteAt = -1;
  let returnAt = -1;
  const next = (byte: number, from: number) => {
    const found = bytes.indexOf(byte, from);
    return found < 0 ? bytes.length : found;
  };

  const more = async (): Promise<void> => {
    const chunk = await chunks.next();
    ended = chunk.done === true;
    if (chunk.done) return;
    const added = typeof chunk.value === 'string' ? Buffer.from(chunk.value, 'utf8') : chunk.value;
    bytes = at >= bytes.length ? added : Buffer.concat([bytes.subarray(at), added]);
    at = 0;
    quoteAt = -1;
    returnAt = -1;
  };

  // A byte order mark at the start of the file is no content (bom).
  while (bytes.length < 3 && !ended) await more();
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) at = 3;

  for (;;) {
    let newline = bytes.indexOf(NEWLINE, at);
    while (newline < 0 && !ended) {
      await more();
      newline = bytes.indexOf(NEWLINE, at);
    }
    if (newline < 0 && at >= bytes.length) return;
    const end = newline < 0 ? bytes.length : newline;
    const crlf = newline >= 0 && end > at && bytes[end - 1] === RETURN;
    const contentEnd = crlf ? end - 1 : end;
    if (quoteAt < at) quoteAt = next(QUOTE, at);
    if (returnAt < at) returnAt = next(RETURN, at);
    const ending = newline < 0 ? undefined : crlf ? '\r\n' : '\n';
    const plain =
      quoteAt >= contentEnd &&
      returnAt >= contentEnd &&
      (ending === undefined || delimiter === undefined || ending === delimiter);
    if (!plain) {
      await parseRest(bytes.subarray(at), chunks, ended, { line, records, delimiter }, visit);
      return;
    }
    delimiter ??= ending;
    line++;
    const start = at;
    at = newline < 0 ? bytes.length : newline + 1;
    if (isBlank(bytes, start, contentEnd)) continue;
    plainLine.split(bytes, start, contentEnd, line);
    records++;
    const outcome = visit(plainLine);
    if (outcome === 'stop') return;
    // Awaited only when the visitor waits for something: most records take no turn of the event loop.
    if (outcome !== undefined) await outcome;
  }
}

/** The rest of the file, from `head` then the chunks still to come, through csv-parse. */
async function parseRest(
  head: Buffer,
  chunks: AsyncIterator<Buffer | string>,
  ended: boolean,
  before: { line: number; records: number; delimiter: '\n' | '\r\n' | undefined },
  visit: RecordVisitor,
): Promise<void> {
  const rest = Readable.from(
    (async function* () {
      yield head;
      if (ended) return;
      for (;;) {
        const next = await chunks.next();
        if (next.done) return;
        yield typeof next.value === 'string' ? Buffer.from(next.value, 'utf8') : next.value;
      }
    })(),
    { objectMode: false },
  );
  const parser = parse({
    ...PARSE_OPTIONS,
    // At the start of the file only: a BOM further on is content, as it would be to csv-parse.
    bom: before.line === 0,
    info: true,
    ...(before.delimiter === undefined ? {} : { record_delimiter: before.delimiter }),
  });
  rest.on('error', (error) => parser.destroy(error));
  rest.pipe(parser);
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: string[];
      info: { lines: number };
    }>) {
      const outcome = visit(
        new ParsedRecord(
          record.map((field) => field.trim()),
          before.line + info.lines,
        ),
      );
      if (outcome === 'stop') return;
      if (outcome !== undefined) await outcome;
    }
  } catch (error) {
    if (error instanceof CsvError && before.line > 0) {
      // Where the file is wrong, counted from its start (the message says its line too).
      if (typeof error.lines === 'number') error.lines += before.line;
      if (typeof error.records === 'number') error.records += before.records;
      error.message = error.message.replace(
        /\bline (\d+)/g,
        (_, n: string) => `line ${Number(n) + before.line}`,
      );
    }
    throw error;
  }
}

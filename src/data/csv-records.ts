import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { CsvError, parse } from 'csv-parse';

/** A record of a CSV file: its fields, trimmed, and the line it ends on (1 = the first line). */
export interface CsvRecord {
  readonly record: string[];
  readonly line: number;
}

/** csv-parse's options for the data files: the records are the same whichever path reads them. */
const PARSE_OPTIONS = { relax_column_count: true, skip_empty_lines: true, trim: true } as const;

/**
 * The records of CSV text, as csv-parse reads it with `bom`, `relax_column_count`, `skip_empty_lines`
 * and `trim` (and every field trimmed by JavaScript's `trim`, which removes the same characters), read
 * faster. A data file is mostly lines of plain fields: those are split on commas here, without csv-parse's
 * per-byte state machine. From the first line that holds a quote, or a carriage return that does not end
 * the line as the lines before did, the rest of the text goes to csv-parse, with the record delimiter the
 * lines before it had and its lines and records counted on from where this stopped (so a malformed
 * quote is reported where it is, as a `CsvError`).
 */
export async function* csvRecords(input: Readable): AsyncGenerator<CsvRecord> {
  const decoder = new StringDecoder('utf8');
  const chunks = input[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  let text = '';
  let at = 0;
  let line = 0;
  let records = 0;
  let started = false;
  let ended = false;
  /** The lines' delimiter, from the first line that has one. */
  let delimiter: '\n' | '\r\n' | undefined;

  const more = async (): Promise<boolean> => {
    if (ended) return false;
    const next = await chunks.next();
    text = text.slice(at);
    at = 0;
    if (next.done) {
      ended = true;
      text += decoder.end();
    } else {
      text += typeof next.value === 'string' ? next.value : decoder.write(next.value);
    }
    if (!started && text.length > 0) {
      started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    return true;
  };

  for (;;) {
    let newline = text.indexOf('\n', at);
    while (newline < 0 && !ended) {
      await more();
      newline = text.indexOf('\n', at);
    }
    if (newline < 0 && at >= text.length) return;
    const end = newline < 0 ? text.length : newline;
    const crlf = newline >= 0 && end > at && text.charCodeAt(end - 1) === 13;
    const content = text.slice(at, crlf ? end - 1 : end);
    const ending = newline < 0 ? undefined : crlf ? '\r\n' : '\n';
    const plain =
      !content.includes('"') &&
      !content.includes('\r') &&
      (ending === undefined || delimiter === undefined || ending === delimiter);
    if (!plain) {
      yield* parseRest(text.slice(at), chunks, decoder, ended, { line, records, delimiter });
      return;
    }
    delimiter ??= ending;
    line++;
    at = newline < 0 ? text.length : newline + 1;
    // A line of nothing but whitespace is no record (skip_empty_lines, after trim).
    if (content.trim() === '') continue;
    const fields = content.split(',');
    for (let k = 0; k < fields.length; k++) fields[k] = fields[k]!.trim();
    records++;
    yield { record: fields, line };
  }
}

/** The rest of the text, from `head` then the chunks still to come, through csv-parse. */
async function* parseRest(
  head: string,
  chunks: AsyncIterator<Buffer | string>,
  decoder: StringDecoder,
  ended: boolean,
  before: { line: number; records: number; delimiter: '\n' | '\r\n' | undefined },
): AsyncGenerator<CsvRecord> {
  const rest = Readable.from(
    (async function* () {
      yield head;
      if (ended) return;
      for (;;) {
        const next = await chunks.next();
        if (next.done) {
          const last = decoder.end();
          if (last) yield last;
          return;
        }
        yield typeof next.value === 'string' ? next.value : decoder.write(next.value);
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
      yield { record: record.map((field) => field.trim()), line: before.line + info.lines };
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

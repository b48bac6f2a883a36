import { AtomicTextWriter } from '../util/atomic-file.js';

export type CsvCell = string | number | null | undefined;

/** A field as CSV text: numbers in JavaScript's shortest round-trip form, NaN and null as empty. */
export function csvField(value: CsvCell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isNaN(value) ? '' : String(value);
  return /[",\r\n]/.test(value) || value !== value.trim() ? `"${value.replaceAll('"', '""')}"` : value;
}

export function csvLine(cells: readonly CsvCell[]): string {
  return `${cells.map(csvField).join(',')}\n`;
}

/**
 * Writes a CSV file atomically: rows stream to a temporary file beside the target, which is renamed over
 * it only when everything was written, so a failure never leaves a half-written file in its place.
 */
export async function writeCsvFile(
  path: string,
  header: readonly string[],
  rows: Iterable<readonly CsvCell[]>,
): Promise<void> {
  const writer = new AtomicTextWriter(path);
  try {
    const buffer: string[] = [csvLine(header)];
    for (const row of rows) {
      buffer.push(csvLine(row));
      if (buffer.length >= 1024) {
        await writer.write(buffer.join(''));
        buffer.length = 0;
      }
    }
    await writer.write(buffer.join(''));
    await writer.commit();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

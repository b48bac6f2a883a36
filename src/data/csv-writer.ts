import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

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
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const out = createWriteStream(temporary, { encoding: 'utf8' });
  try {
    const buffer: string[] = [csvLine(header)];
    for (const row of rows) {
      buffer.push(csvLine(row));
      if (buffer.length >= 1024) {
        if (!out.write(buffer.join(''))) await once(out, 'drain');
        buffer.length = 0;
      }
    }
    out.end(buffer.join(''));
    await once(out, 'finish');
    await rename(temporary, path);
  } catch (error) {
    out.destroy();
    await rm(temporary, { force: true });
    throw error;
  }
}

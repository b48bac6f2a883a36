/** Rendering helpers shared by the CLI commands: aligned tables, numbers, JSON. */

export interface Column<Row> {
  readonly header: string;
  readonly value: (row: Row) => string;
  readonly align?: 'left' | 'right';
}

/** A plain-text table with a header rule; columns padded to their widest cell. */
export function renderTable<Row>(rows: readonly Row[], columns: readonly Column<Row>[]): string {
  const cells = rows.map((row) => columns.map((column) => column.value(row)));
  const widths = columns.map((column, j) =>
    Math.max(column.header.length, ...cells.map((line) => line[j]!.length)),
  );
  const pad = (text: string, j: number) =>
    columns[j]!.align === 'right' ? text.padStart(widths[j]!) : text.padEnd(widths[j]!);
  const lines = [
    columns.map((column, j) => pad(column.header, j)).join('  '),
    widths.map((width) => '─'.repeat(width)).join('  '),
    ...cells.map((line) => line.map((cell, j) => pad(cell, j)).join('  ')),
  ];
  return lines.map((line) => line.trimEnd()).join('\n');
}

/** A number with at most `digits` significant digits, without exponent noise for ordinary magnitudes. */
export function formatNumber(value: number | null | undefined, digits = 4): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e7)) return value.toExponential(digits - 1);
  return String(Number(value.toPrecision(digits)));
}

/**
 * A number with exactly `decimals` decimals, for a table column: the numbers of one column line up and
 * compare at a glance. `–` when there is none.
 */
export function formatDecimals(value: number | null | undefined, decimals: number): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '-∞';
  const text = value.toFixed(decimals);
  // A tiny negative value rounds to "-0.00": show it as zero.
  return /^-0\.?0*$/.test(text) ? text.slice(1) : text;
}

/** A timestamp (ms) as `YYYY-MM-DD HH:MM:SS` UTC; `–` when there is none. */
export function formatTimestamp(ms: number | null): string {
  return ms === null ? '–' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

export function formatPercent(share: number, digits = 1): string {
  return `${(share * 100).toFixed(digits)}%`;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Marks for success and failure lines; plain ASCII when the output is not a terminal. */
export function marks(stream: NodeJS.WriteStream = process.stdout): {
  ok: string;
  fail: string;
  warn: string;
} {
  return stream.isTTY ? { ok: '✔', fail: '✖', warn: '!' } : { ok: 'OK', fail: 'FAIL', warn: 'WARN' };
}

import { invalidParameter } from '../errors.js';

/** A rolling window: its label as written (`24h`) and its length in milliseconds. */
export interface TimeWindow {
  readonly label: string;
  readonly durationMs: number;
}

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** The longest window accepted: a year, far beyond any retention a prediction log keeps. */
const MAX_WINDOW_MS = 366 * UNIT_MS.d;

/**
 * Parses a window written as a whole number and one unit, as Prometheus writes durations: `30m`, `1h`,
 * `24h`, `7d`, `2w` (units s, m, h, d, w). The label is kept as written, so it is the `window` label of
 * the exported gauges. Throws an `INVALID_PARAMETER_VALUE` naming what is allowed.
 */
export function parseWindow(text: string): TimeWindow {
  const match = /^([1-9]\d{0,5})([smhdw])$/.exec(text);
  if (match === null) {
    throw invalidParameter(
      `window '${text}' is not a duration; write a whole number and one unit of s, m, h, d, w (e.g. 1h, 24h, 7d)`,
    );
  }
  const durationMs = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  if (durationMs > MAX_WINDOW_MS) {
    throw invalidParameter(`window '${text}' is longer than a year; use at most 366d`);
  }
  return { label: text, durationMs };
}

/**
 * A comma-separated list of windows (`1h,24h,7d`, spaces allowed), each as `parseWindow` reads it, in
 * the order given; `where` names the setting or option in the errors. An empty list, or a window given
 * twice, is refused.
 */
export function parseWindowList(text: string, where: string): TimeWindow[] {
  const items = text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (items.length === 0) {
    throw invalidParameter(`${where} names no window; write one or more, e.g. 1h,24h,7d`);
  }
  const windows = items.map((item) => {
    try {
      return parseWindow(item);
    } catch (error) {
      throw invalidParameter(`${where}: ${(error as Error).message}`);
    }
  });
  const twice = windows.find(
    (window, i) => windows.findIndex((w) => w.durationMs === window.durationMs) !== i,
  );
  if (twice !== undefined) {
    throw invalidParameter(`${where} names the window ${twice.label} twice (or another of the same length)`);
  }
  return windows;
}

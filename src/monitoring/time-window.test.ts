import { describe, expect, it } from 'vitest';
import { expectRefusal } from '../../test/support/onset-error.js';
import { parseWindow, parseWindowList } from './time-window.js';

describe('parseWindow', () => {
  it('reads a whole number and a unit, keeping the label as written', () => {
    expect(parseWindow('30m')).toEqual({ label: '30m', durationMs: 1_800_000 });
    expect(parseWindow('1h').durationMs).toBe(3_600_000);
    expect(parseWindow('24h').durationMs).toBe(86_400_000);
    expect(parseWindow('7d').durationMs).toBe(604_800_000);
    expect(parseWindow('2w').durationMs).toBe(1_209_600_000);
    expect(parseWindow('90s').durationMs).toBe(90_000);
  });

  it('refuses anything else, saying what to write', () => {
    for (const text of ['', '24', 'h', '0h', '1.5h', '-1h', '1H', '1 h', '1y', '01h']) {
      expectRefusal(() => parseWindow(text), 'write a whole number and one unit of s, m, h, d, w');
    }
    expectRefusal(() => parseWindow('400d'), 'longer than a year');
  });
});

describe('parseWindowList', () => {
  it('reads comma-separated windows in the order given, spaces allowed', () => {
    expect(parseWindowList('1h,24h, 7d', 'ONSET_PERFORMANCE_WINDOWS').map((w) => w.label)).toEqual([
      '1h',
      '24h',
      '7d',
    ]);
    expect(parseWindowList('30m', 'x')).toEqual([{ label: '30m', durationMs: 1_800_000 }]);
  });

  it('refuses an empty list, a bad window and the same window twice, naming where', () => {
    expectRefusal(() => parseWindowList(' , ', '--window'), '--window names no window');
    expectRefusal(() => parseWindowList('1h,1.5h', '--window'), "--window: window '1.5h' is not a duration");
    expectRefusal(() => parseWindowList('24h,1d', 'W'), 'W names the window 1d twice');
  });
});

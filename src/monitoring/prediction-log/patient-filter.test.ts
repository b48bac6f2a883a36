import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  buildPatientFilter,
  KEYS_PER_FILTER,
  patientFilterMayHold,
  patientFilterRuns,
} from './patient-filter.js';

/** Keys as the log makes them: HMAC-SHA256 digests in hex. */
const hexKey = (i: number) => createHmac('sha256', 'secret').update(`P${i}`).digest('hex');

describe('patient filters', () => {
  it('hold every key they were made of, hex digests and other strings alike', () => {
    const keys = [
      ...Array.from({ length: 1_000 }, (_, i) => hexKey(i)),
      ...Array.from({ length: 1_000 }, (_, i) => `patient-${i}`),
    ];
    const filter = buildPatientFilter(keys);
    expect(keys.filter((key) => !patientFilterMayHold(filter, key))).toEqual([]);
  });

  it('rarely hold a key they were not made of (about once in 2,000)', () => {
    const filter = buildPatientFilter(Array.from({ length: KEYS_PER_FILTER }, (_, i) => hexKey(i)));
    const absent = Array.from({ length: 100_000 }, (_, i) => hexKey(KEYS_PER_FILTER + i));
    const falsePositives = absent.filter((key) => patientFilterMayHold(filter, key)).length;
    expect(falsePositives / absent.length).toBeLessThan(0.002);
    const other = buildPatientFilter(['only-one']);
    expect(other.length).toBe(8);
    expect(patientFilterMayHold(other, 'only-one')).toBe(true);
    expect(patientFilterMayHold(new Uint8Array(0), 'only-one')).toBe(false);
  });

  it('split predictions into runs of KEYS_PER_FILTER keyed ones, each over the range of its ids', () => {
    // Ids out of order within a run (two requests' predictions interleaved), every third one unkeyed.
    const ids = Array.from({ length: 3_500 }, (_, i) => String(i + (i % 2 === 0 ? 1 : -1) + 10_000));
    const keyAt = (row: number) => (row % 3 === 2 ? null : hexKey(row));
    const runs = patientFilterRuns(ids.length, (row) => ids[row]!, keyAt);
    const keyedRows = ids.map((_, row) => row).filter((row) => keyAt(row) !== null);
    expect(runs).toHaveLength(Math.ceil(keyedRows.length / KEYS_PER_FILTER));
    runs.forEach((run, r) => {
      const rows = keyedRows.slice(r * KEYS_PER_FILTER, (r + 1) * KEYS_PER_FILTER);
      const runIds = rows.map((row) => ids[row]!).sort();
      expect([run.firstId, run.lastId]).toEqual([runIds[0], runIds.at(-1)]);
      expect(rows.every((row) => patientFilterMayHold(run.filter, keyAt(row)!))).toBe(true);
    });
    expect(patientFilterRuns(3, String, () => null)).toEqual([]);
  });
});

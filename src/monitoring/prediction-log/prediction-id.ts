import { randomFillSync } from 'node:crypto';

/** A prediction id: 32 lower-case hex digits. */
export const PREDICTION_ID_PATTERN = /^[0-9a-f]{32}$/;

/** Random bytes drawn ahead (as Node's randomUUID does): one system call per 500 ids, not one per id. */
const pool = Buffer.alloc(4000);
let used = pool.length;
/** The time part of the last id's millisecond, reused while the clock stays in it. */
let lastMs = -1;
let lastTimePart = '';
/** How many ids this process has made in that millisecond. */
let sequence = 0;

/**
 * A new prediction id: the time in ms (12 hex digits), a sequence within the millisecond (4 hex digits),
 * then 64 random bits (16 hex digits). Leading with the time keeps ids in the order they were made, so each
 * one lands at the end of the table's primary key and a time window is a range of ids; the sequence keeps
 * that order among the ids one process makes in the same millisecond (a patient's latest prediction is the
 * greatest id); the random part keeps them unguessable. Made on every prediction, so it is made cheaply.
 */
export function newPredictionId(now: number = Date.now()): string {
  if (now !== lastMs) {
    lastMs = now;
    lastTimePart = timePartOf(now);
    sequence = 0;
  }
  if (used + 8 > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  // Beyond 65,536 ids in one millisecond the sequence wraps: their order is then the random part's.
  const id =
    lastTimePart + (sequence++ & 0xffff).toString(16).padStart(4, '0') + pool.toString('hex', used, used + 8);
  used += 8;
  return id;
}

/** The time part of the ids made at `timestamp` (ms): 12 hex digits. */
export function timePartOf(timestamp: number): string {
  return timestamp.toString(16).padStart(12, '0');
}

/**
 * The smallest id made at `timestamp` or later: ids sort as their times do, so a time window is a range
 * of ids (`>= predictionIdFloor(from)` and `< predictionIdFloor(to)`).
 */
export function predictionIdFloor(timestamp: number): string {
  return `${timePartOf(Math.max(0, Math.ceil(timestamp)))}${'0'.repeat(20)}`;
}

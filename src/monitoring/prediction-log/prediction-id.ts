import { randomUUID } from 'node:crypto';

/** A prediction id: 32 lower-case hex digits. */
export const PREDICTION_ID_PATTERN = /^[0-9a-f]{32}$/;

/**
 * A new prediction id: the time in ms (12 hex digits) then 80 random bits (20 hex digits). Leading with
 * the time keeps ids in the order they were made, so each one lands at the end of the table's index
 * rather than anywhere in it; the random part keeps them unguessable.
 */
export function newPredictionId(now: number = Date.now()): string {
  // A v4 UUID's first 8 and last 12 hex digits are random (its version and variant are in between).
  const uuid = randomUUID();
  return `${now.toString(16).padStart(12, '0')}${uuid.slice(0, 8)}${uuid.slice(24)}`;
}

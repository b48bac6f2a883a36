import { randomBytes } from 'node:crypto';
import { timePartOf } from '../prediction-log/prediction-id.js';

/**
 * A new alert id (32 hex digits): the time it was received in ms (12), its place in its notification
 * (4), then 64 random bits. Ids sort as the alerts arrived, those of one notification in its order, so
 * the history's primary key is its order.
 */
export function newAlertId(receivedAt: number, index: number): string {
  if (!Number.isInteger(index) || index < 0 || index > 0xffff) {
    throw new RangeError(`An alert's place in its notification is 0 to 65535, got ${index}`);
  }
  return `${timePartOf(receivedAt)}${index.toString(16).padStart(4, '0')}${randomBytes(8).toString('hex')}`;
}

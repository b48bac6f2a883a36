import { describe, expect, it } from 'vitest';
import { newPredictionId, PREDICTION_ID_PATTERN, predictionIdFloor, timePartOf } from './prediction-id.js';

describe('prediction ids', () => {
  it('begin with their time and sort as their times do', () => {
    const at = Date.UTC(2026, 5, 1, 12);
    const id = newPredictionId(at);
    expect(id).toMatch(PREDICTION_ID_PATTERN);
    expect(id.slice(0, 12)).toBe(timePartOf(at));
    expect(Number.parseInt(id.slice(0, 12), 16)).toBe(at);
    const later = newPredictionId(at + 1);
    expect(later > id).toBe(true);
    expect(predictionIdFloor(at) <= id && id < predictionIdFloor(at + 1)).toBe(true);
    expect(predictionIdFloor(at + 0.5)).toBe(predictionIdFloor(at + 1));
  });

  it('keep the order they were made in within one millisecond', () => {
    const ids = Array.from({ length: 1_000 }, () => newPredictionId(2_000));
    expect([...ids].sort()).toEqual(ids);
    expect(ids[0]!.slice(12, 16)).toBe('0000');
    expect(ids[999]!.slice(12, 16)).toBe((999).toString(16).padStart(4, '0'));
    // A new millisecond starts its sequence again.
    expect(newPredictionId(2_001).slice(12, 16)).toBe('0000');
  });

  it('are unguessable: 64 random bits, none repeated in many draws (several pools)', () => {
    const ids = Array.from({ length: 5_000 }, () => newPredictionId(1_000));
    expect(new Set(ids).size).toBe(ids.length);
    const randomParts = new Set(ids.map((id) => id.slice(16)));
    expect(randomParts.size).toBe(ids.length);
    // Every hex digit turns up in every position of the random part.
    for (let position = 16; position < 32; position++)
      expect(new Set(ids.map((id) => id[position])).size, `position ${position}`).toBe(16);
  });
});

import { describe, expect, it } from 'vitest';
import { sampleSteps } from './metric-histories.js';

const range = (start: number, stop: number, step = 1) =>
  Array.from({ length: Math.ceil((stop - start) / step) }, (_, i) => start + i * step);

describe('sampleSteps', () => {
  // MLflow's cases (tests/tracking/test_rest_tracking.py, test_get_sampled_steps_from_steps).
  it.each([
    // Evenly spaced, with the beginning and the end, even when that makes one more than asked.
    [0, 10, 5, range(0, 10), [0, 2, 4, 6, 8, 9]],
    // A range holding fewer steps than asked: all of them.
    [4, 8, 5, range(0, 10), [4, 5, 6, 7, 8]],
    // Steps logged at intervals.
    [0, 100, 5, range(0, 101, 20), [0, 20, 40, 60, 80, 100]],
    [0, 1000, 5, range(0, 1001, 10), [0, 200, 400, 600, 800, 1000]],
  ])('from %i to %i, at most %i: %j', (start, end, max, steps, expected) => {
    expect([...sampleSteps(steps, start, end, max)].sort((a, b) => a - b)).toEqual(expected);
  });

  it('samples a range that starts past the first step as evenly as one that does not', () => {
    // 10 steps from 10 to 19, 5 asked: every other one and the last (MLflow 2.12 returned fewer here).
    expect([...sampleSteps(range(0, 20), 10, 19, 5)].sort((a, b) => a - b)).toEqual([10, 12, 14, 16, 18, 19]);
  });

  it('gives nothing for a range without steps, and handles negative steps', () => {
    expect(sampleSteps([1, 2, 3], 5, 9, 3).size).toBe(0);
    expect(sampleSteps([], 0, 0, 3).size).toBe(0);
    expect([...sampleSteps([-5, -2, 0, 3], -3, 3, 10)]).toEqual([-2, 0, 3]);
  });
});

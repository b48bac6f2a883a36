import { describe, expect, it } from 'vitest';
import { Random } from './random.js';

describe('Random', () => {
  it('gives the same stream for the same seed and a different one for another seed', () => {
    const draw = (seed: number) => {
      const random = new Random(seed);
      return Array.from({ length: 5 }, () => random.nextUint32());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
  });

  it('draws uniform doubles in [0, 1) with the right mean and variance', () => {
    const random = new Random(1);
    const n = 200_000;
    let sum = 0;
    let squares = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const u = random.next();
      if (!(u >= 0 && u < 1)) outside++;
      sum += u;
      squares += u * u;
    }
    expect(outside).toBe(0);
    expect(sum / n).toBeCloseTo(0.5, 2);
    expect(squares / n - (sum / n) ** 2).toBeCloseTo(1 / 12, 2);
  });

  it('draws standard normals and bounded integers', () => {
    const random = new Random(2);
    const values = Array.from({ length: 100_000 }, () => random.normal());
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
    expect(mean).toBeCloseTo(0, 1);
    expect(variance).toBeCloseTo(1, 1);
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) counts[random.int(3)]!++;
    for (const count of counts) expect(Math.abs(count - 10_000)).toBeLessThan(400);
  });

  it('makes permutations', () => {
    const permutation = Array.from(new Random(3).permutation(50));
    expect([...permutation].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(permutation).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('rejects non-integer seeds and bounds', () => {
    expect(() => new Random(1.5)).toThrow('integer');
    expect(() => new Random(1).int(0)).toThrow('positive integer');
  });
});

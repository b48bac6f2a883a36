import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type KernelTree, ObliviousKernel } from './oblivious-kernel.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** A small deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The margins as the model defines them, level by level, in plain JavaScript. */
function referenceMargins(trees: readonly KernelTree[], base: number, values: Float32Array, cols: number) {
  const rows = values.length / cols;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let margin = base;
    for (const tree of trees) {
      let index = 0;
      for (let level = 0; level < tree.features.length; level++) {
        if (values[r * cols + tree.features[level]!]! >= tree.thresholds[level]!) index |= 1 << level;
      }
      margin += tree.leafValues[index]!;
    }
    out[r] = margin;
  }
  return out;
}

/**
 * Trees over `cols` features whose borders are drawn from a few values a feature (so tests repeat across
 * trees, as a fitted model's do), of the given depths, and rows that hit the borders exactly, miss them,
 * and hold NaN.
 */
function scenario(seed: number, depths: readonly number[], rows: number, cols = 7) {
  const next = random(seed);
  const grid = Array.from({ length: cols }, () =>
    Array.from({ length: 1 + Math.floor(next() * 40) }, () => Math.fround((next() - 0.5) * 100)),
  );
  const trees: KernelTree[] = depths.map((depth) => {
    const features = Array.from({ length: depth }, () => Math.floor(next() * cols));
    return {
      features,
      thresholds: features.map((f) => grid[f]![Math.floor(next() * grid[f]!.length)]!),
      leafValues: Float64Array.from({ length: 1 << depth }, () => next() - 0.5),
    };
  });
  const values = new Float32Array(rows * cols);
  for (let k = 0; k < values.length; k++) {
    const f = k % cols;
    const pick = next();
    values[k] =
      pick < 0.05
        ? Number.NaN
        : pick < 0.4
          ? grid[f]![Math.floor(next() * grid[f]!.length)]!
          : (next() - 0.5) * 120;
  }
  return { trees, values, cols };
}

describe('the oblivious kernel (WebAssembly)', () => {
  it('gives the margins the trees define, bit for bit: one row, blocks of 16 and the rows after them, chunks past 4,096 rows, NaN', () => {
    for (const [seed, depths, rows] of [
      [1, Array(300).fill(6), 5_000], // SIMD blocks, a remainder of 8, two chunks
      [2, Array(50).fill(6), 15], // fewer rows than a block
      [3, [6, 3, 6, 1, 0, 6], 40], // shallower trees padded to depth 6
      [4, Array(40).fill(4), 33], // another depth: row by row
      [5, [], 3], // no trees: the base margin
    ] as const) {
      const { trees, values, cols } = scenario(seed, depths, rows);
      const kernel = new ObliviousKernel(cols, trees, 0.25);
      const expected = referenceMargins(trees, 0.25, values, cols);
      expect(kernel.margins(values, rows)).toEqual(expected);
      for (let r = 0; r < Math.min(rows, 50); r++) {
        expect(kernel.margin(values.subarray(r * cols, (r + 1) * cols))).toBe(expected[r]);
      }
    }
  });

  it('is the module its text assembles to (scripts/build-wasm.ts --check)', () => {
    const check = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build-wasm.ts', '--check'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  }, 60_000);
});

import { growMemoryTo, type KernelMemory, WasmKernel } from '../../util/wasm-kernel.js';
import { OBLIVIOUS_KERNEL_WASM } from './oblivious-kernel-wasm.js';

interface KernelExports {
  readonly memory: KernelMemory;
  /** Where the model is in memory (byte offsets), its sizes and base margin. */
  init(
    features: number,
    featureCount: number,
    borders: number,
    outcomes: number,
    blockOutcomes: number,
    columns: number,
    splits: number,
    trees: number,
    depth: number,
    leaves: number,
    base: number,
  ): void;
  /** Margins of `rows` rows, one by one. */
  predict(values: number, rows: number, cols: number, margins: number): void;
  /** Margins of `blocks` blocks of 16 rows, in SIMD (trees of depth 6). */
  predictBlocks(values: number, blocks: number, cols: number, margins: number): void;
}

/** What the kernel needs of a model's trees: each level's feature and float32 threshold, its leaves. */
export interface KernelTree {
  readonly features: ArrayLike<number>;
  readonly thresholds: ArrayLike<number>;
  readonly leafValues: ArrayLike<number>;
}

/** The kernel's code (`oblivious-kernel.wat`), compiled once per process; each model instantiates it. */
const KERNEL = new WasmKernel<KernelExports>(OBLIVIOUS_KERNEL_WASM);

/** Rows scored per call: their values and margins stay in the kernel's memory (about 0.5 MB). */
const CHUNK_ROWS = 4_096;

const align16 = (bytes: number) => (bytes + 15) & ~15;
/** Rows a block of `predictBlocks` scores at once, side by side in SIMD lanes. */
const BLOCK = 16;

/**
 * An oblivious model's margins, computed in WebAssembly (`oblivious-kernel.wat`): the model's distinct
 * tests sorted by feature and border, so that a row is binarized with one binary search a feature, and
 * each tree's leaf read from the outcome bytes of its levels. Margins are the base margin plus each
 * tree's leaf value, added in tree order in float64, as the model defines them.
 */
export class ObliviousKernel {
  readonly #exports: KernelExports;
  readonly #featureCount: number;
  readonly #depth: number;
  /** The rows' values and their margins, in the kernel's memory (which never grows after it is made). */
  readonly #values: Float32Array;
  readonly #margins: Float64Array;
  /** Where the rows' values and their margins are in the kernel's memory. */
  readonly #at: { readonly values: number; readonly margins: number };

  constructor(featureCount: number, trees: readonly KernelTree[], baseMargin: number) {
    this.#featureCount = featureCount;
    const depth = trees.reduce((deepest, tree) => Math.max(deepest, tree.features.length), 0);
    this.#depth = depth;
    // The distinct tests, by feature then border.
    const bordersOf: Set<number>[] = Array.from({ length: featureCount }, () => new Set());
    for (const tree of trees) {
      for (let level = 0; level < tree.features.length; level++) {
        bordersOf[tree.features[level]!]!.add(tree.thresholds[level]!);
      }
    }
    const sorted = bordersOf.map((set) => Float32Array.from(set).sort());
    const firstTest = new Int32Array(featureCount);
    let tests = 0;
    for (let f = 0; f < featureCount; f++) {
      firstTest[f] = tests;
      tests += sorted[f]!.length;
    }
    // Sizes and places, in bytes (float64 arrays 8-aligned).
    const features = 0;
    const borders = features + 8 * featureCount;
    // 16 borders of +Infinity after the last: the kernel compares 16 at a time.
    const splits = borders + 4 * (tests + 16);
    const leaves = align16(splits + 4 * trees.length * depth);
    const outcomes = leaves + 8 * (trees.length << depth);
    const blockOutcomes = align16(outcomes + tests + 16);
    const columns = blockOutcomes + BLOCK * (tests + 1);
    const values = columns + 4 * BLOCK * featureCount;
    const margins = align16(values + 4 * CHUNK_ROWS * featureCount);
    const end = margins + 8 * CHUNK_ROWS;
    this.#at = { values, margins };

    this.#exports = KERNEL.instantiate();
    const memory = this.#exports.memory;
    growMemoryTo(memory, end);
    const buffer = memory.buffer;
    const featureTable = new Int32Array(buffer, features, 2 * featureCount);
    const borderTable = new Float32Array(buffer, borders, tests + 16).fill(Number.POSITIVE_INFINITY);
    for (let f = 0; f < featureCount; f++) {
      featureTable[2 * f] = firstTest[f]!;
      featureTable[2 * f + 1] = sorted[f]!.length;
      borderTable.set(sorted[f]!, firstTest[f]!);
    }
    // A padded level (a tree shallower than the deepest) makes the test after the last, which never passes.
    const never = tests;
    const splitTable = new Int32Array(buffer, splits, trees.length * depth).fill(never);
    const leafTable = new Float64Array(buffer, leaves, trees.length << depth);
    trees.forEach((tree, t) => {
      for (let level = 0; level < tree.features.length; level++) {
        const feature = tree.features[level]!;
        const border = Math.fround(tree.thresholds[level]!);
        splitTable[t * depth + level] = firstTest[feature]! + sorted[feature]!.indexOf(border);
      }
      leafTable.set(tree.leafValues, t << depth);
    });
    new Uint8Array(buffer, outcomes, columns - outcomes).fill(0);
    this.#exports.init(
      features,
      featureCount,
      borders,
      outcomes,
      blockOutcomes,
      columns,
      splits,
      trees.length,
      depth,
      leaves,
      baseMargin,
    );
    this.#values = new Float32Array(buffer, values, CHUNK_ROWS * featureCount);
    this.#margins = new Float64Array(buffer, margins, CHUNK_ROWS);
  }

  /** The margins of `rows` rows of float32 values, `featureCount` a row (categorical columns encoded). */
  margins(values: Float32Array, rows: number): Float64Array {
    const out = new Float64Array(rows);
    const cols = this.#featureCount;
    for (let start = 0; start < rows; start += CHUNK_ROWS) {
      const count = Math.min(CHUNK_ROWS, rows - start);
      this.#values.set(values.subarray(start * cols, (start + count) * cols));
      // Whole blocks of 16 rows in SIMD (trees of depth 6, the default), the rest one by one.
      const blocks = this.#depth === 6 ? Math.floor(count / BLOCK) : 0;
      if (blocks > 0) this.#predictBlocks(blocks);
      this.#predict(count - blocks * BLOCK, blocks * BLOCK);
      out.set(this.#margins.subarray(0, count), start);
    }
    return out;
  }

  /** The margin of one row of values (categorical columns encoded), compared as float32. */
  margin(row: ArrayLike<number>): number {
    this.#values.set(row);
    this.#predict(1, 0);
    return this.#margins[0]!;
  }

  /** Scores `rows` rows from row `from` of the values in memory, one by one. */
  #predict(rows: number, from: number): void {
    if (rows === 0) return;
    const cols = this.#featureCount;
    this.#exports.predict(this.#at.values + 4 * from * cols, rows, cols, this.#at.margins + 8 * from);
  }

  /** Scores the first `blocks` blocks of 16 rows of the values in memory. */
  #predictBlocks(blocks: number): void {
    this.#exports.predictBlocks(this.#at.values, blocks, this.#featureCount, this.#at.margins);
  }
}

import { invalidParameter } from '../errors.js';
import { Random } from '../util/random.js';

/** Row indices of one split, each ascending. */
export interface Split {
  readonly train: Int32Array;
  readonly test: Int32Array;
}

/** Rows per class label (0/1 or any integer code), each list in row order. */
function rowsByClass(target: ArrayLike<number>): Map<number, number[]> {
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < target.length; i++) {
    const label = target[i]!;
    if (!Number.isFinite(label)) {
      throw invalidParameter(`Cannot stratify: the target of row ${i + 1} is missing`);
    }
    const rows = byClass.get(label);
    if (rows) rows.push(i);
    else byClass.set(label, [i]);
  }
  // Visit classes in label order so results do not depend on which class the file starts with.
  return new Map([...byClass.entries()].sort((a, b) => a[0] - b[0]));
}

function sortedIndices(rows: number[]): Int32Array {
  return Int32Array.from(rows).sort();
}

/**
 * Stratified k-fold cross-validation (as scikit-learn's `StratifiedKFold(shuffle=True)`): each class is
 * shuffled with the seed and dealt round-robin to the folds, so every fold's class counts differ by at most
 * one and fold sizes differ by at most one. Every row is in exactly one test fold.
 */
export function stratifiedKFold(target: ArrayLike<number>, folds: number, seed: number): Split[] {
  if (!Number.isInteger(folds) || folds < 2) {
    throw invalidParameter(`The number of folds must be an integer of at least 2, got ${folds}`);
  }
  const byClass = rowsByClass(target);
  const smallest = Math.min(...[...byClass.values()].map((rows) => rows.length));
  if (target.length < folds) {
    throw invalidParameter(`Cannot make ${folds} folds from ${target.length} rows`);
  }
  if (smallest < folds) {
    const counts = [...byClass.entries()].map(([label, rows]) => `${label}: ${rows.length}`).join(', ');
    throw invalidParameter(
      `Cannot make ${folds} stratified folds: the smallest class has ${smallest} row(s) (${counts}); use at most ${smallest} folds`,
    );
  }
  const random = new Random(seed);
  const testRows: number[][] = Array.from({ length: folds }, () => []);
  let next = 0;
  for (const rows of byClass.values()) {
    const shuffled = random.shuffle([...rows]);
    for (const row of shuffled) {
      testRows[next]!.push(row);
      next = (next + 1) % folds;
    }
  }
  return testRows.map((rows) => {
    const inTest = new Uint8Array(target.length);
    for (const row of rows) inTest[row] = 1;
    const train: number[] = [];
    for (let i = 0; i < target.length; i++) if (inTest[i] === 0) train.push(i);
    return { train: Int32Array.from(train), test: sortedIndices(rows) };
  });
}

export interface TrainTestSplitOptions {
  /** Share of rows held out for testing, in (0, 1). Default 0.2. */
  readonly testFraction?: number;
  readonly seed: number;
  /** Keep class proportions in both parts (default true). */
  readonly stratify?: boolean;
}

/**
 * A seeded train/test split. The test part has `ceil(testFraction * n)` rows (as scikit-learn); with
 * stratification each class contributes in proportion, remainders allotted to the largest fractions.
 */
export function trainTestSplit(target: ArrayLike<number>, options: TrainTestSplitOptions): Split {
  const testFraction = options.testFraction ?? 0.2;
  if (!(testFraction > 0 && testFraction < 1)) {
    throw invalidParameter(`testFraction must be between 0 and 1 (exclusive), got ${testFraction}`);
  }
  const n = target.length;
  const testCount = Math.ceil(testFraction * n);
  if (n < 2 || testCount >= n) {
    throw invalidParameter(
      `Cannot split ${n} row(s) with testFraction ${testFraction}: both parts need rows`,
    );
  }
  const random = new Random(options.seed);
  const groups =
    options.stratify === false ? [Array.from({ length: n }, (_, i) => i)] : [...rowsByClass(target).values()];

  // Largest-remainder allocation of the test rows to the groups.
  const exact = groups.map((rows) => (rows.length * testCount) / n);
  const allotted = exact.map(Math.floor);
  let remaining = testCount - allotted.reduce((a, b) => a + b, 0);
  const order = exact.map((value, index) => ({ index, remainder: value - Math.floor(value) }));
  order.sort((a, b) => b.remainder - a.remainder || a.index - b.index);
  for (const { index } of order) {
    if (remaining === 0) break;
    allotted[index]!++;
    remaining--;
  }

  const train: number[] = [];
  const test: number[] = [];
  groups.forEach((rows, g) => {
    const shuffled = random.shuffle([...rows]);
    test.push(...shuffled.slice(0, allotted[g]));
    train.push(...shuffled.slice(allotted[g]));
  });
  return { train: sortedIndices(train), test: sortedIndices(test) };
}

import { invalidParameter } from '../../errors.js';
import { checkFitRows } from './fit-rows.js';

/**
 * The inductive Venn-Abers predictor (Vovk and Petej, 2014; Vovk, Petej and Fedorova, 2015) on a model's
 * scores. For a new score s, isotonic regression is fitted twice on the calibration rows with (s, 0) and
 * with (s, 1) added; its values at s are p0 <= p1, and one of them is a calibrated probability whatever the
 * distribution (the guarantee holds for patients exchangeable with the calibration rows). The single
 * probability answered is p1 / (1 - p0 + p1), the merge that loses least in log loss; the pair is the
 * interval p0..p1, wide where the calibration rows say little.
 *
 * p0 and p1 depend on s only through where it falls among the K distinct calibration scores: strictly
 * between two of them (K + 1 gaps) or on one (K points). A model document keeps them for all 2K + 1
 * places, so a prediction is one binary search.
 */
export class VennAbersCalibrator {
  /** p0 and p1 at each place, NaN until needed (filled on use, or all at once by `table`). */
  private readonly known0: Float64Array;
  private readonly known1: Float64Array;

  private constructor(
    /** The distinct calibration scores, increasing. */
    readonly scores: Float64Array,
    /** Calibration rows at each distinct score, and how many of them have the disease (null: read from a table). */
    private readonly rows: { readonly weights: number[]; readonly positives: number[] } | null,
    p0?: Float64Array,
    p1?: Float64Array,
  ) {
    const places = 2 * scores.length + 1;
    this.known0 = p0 ?? new Float64Array(places).fill(Number.NaN);
    this.known1 = p1 ?? new Float64Array(places).fill(Number.NaN);
  }

  /** A calibrator from its table (as `table` gives it); refused unless consistent. */
  static fromTable(scores: Float64Array, p0: Float64Array, p1: Float64Array): VennAbersCalibrator {
    const places = 2 * scores.length + 1;
    const ok =
      scores.length > 0 &&
      p0.length === places &&
      p1.length === places &&
      scores.every((x, i) => Number.isFinite(x) && (i === 0 || x > scores[i - 1]!)) &&
      p0.every((v, i) => v >= 0 && v <= p1[i]! && p1[i]! <= 1);
    if (!ok) {
      throw invalidParameter(
        `VennAbersCalibrator.fromTable: expected increasing finite scores and ${places} pairs 0 <= p0 <= p1 <= 1`,
      );
    }
    return new VennAbersCalibrator(scores, null, p0, p1);
  }

  /**
   * Fits on calibration scores and their labels (0 or 1); needs at least one row. p0 and p1 are found as
   * places are asked for (cross-fitting asks for a fold's worth), all of them by `table`.
   */
  static fit(score: Float64Array, target: Float64Array): VennAbersCalibrator {
    const n = score.length;
    checkFitRows('VennAbersCalibrator.fit', score, target);
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[a]! - score[b]!);
    const xs: number[] = [];
    const weights: number[] = [];
    const positives: number[] = [];
    for (const i of order) {
      const x = score[i]!;
      const y = target[i]!;
      if (!Number.isFinite(x) || !(y === 0 || y === 1)) {
        throw invalidParameter(
          `VennAbersCalibrator.fit: row ${i} has score ${x} and target ${y}; scores must be finite, targets 0 or 1`,
        );
      }
      const last = xs.length - 1;
      if (last >= 0 && xs[last] === x) {
        weights[last]!++;
        positives[last]! += y;
      } else {
        xs.push(x);
        weights.push(1);
        positives.push(y);
      }
    }
    return new VennAbersCalibrator(Float64Array.from(xs), { weights, positives });
  }

  /** p0 and p1 at every place (index 2g: the gap before `scores[g]`; 2k + 1: on `scores[k]`). */
  table(): { readonly p0: Float64Array; readonly p1: Float64Array } {
    for (let place = 0; place < this.known0.length; place++) this.pairAt(place);
    return { p0: this.known0, p1: this.known1 };
  }

  private pav: PoolAdjacentViolators | undefined;

  private pairAt(place: number): void {
    if (!Number.isNaN(this.known0[place]!)) return;
    const rows = this.rows!;
    this.pav ??= new PoolAdjacentViolators(this.scores.length + 1);
    this.known0[place] = this.pav.valueWith(rows.weights, rows.positives, place, 0);
    this.known1[place] = this.pav.valueWith(rows.weights, rows.positives, place, 1);
  }

  /** The place of a score among the calibration scores (see `table`). */
  private placeOf(score: number): number {
    const xs = this.scores;
    // The number of scores below it, by binary search; then whether it is one of them.
    let low = 0;
    let high = xs.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (xs[middle]! < score) low = middle + 1;
      else high = middle;
    }
    const place = low < xs.length && xs[low] === score ? 2 * low + 1 : 2 * low;
    this.pairAt(place);
    return place;
  }

  /** p0 and p1 of a score: one of them is calibrated. */
  interval(score: number): [number, number] {
    const place = this.placeOf(score);
    return [this.known0[place]!, this.known1[place]!];
  }

  /** The merged probability of a score, p1 / (1 - p0 + p1). */
  calibrateOne(score: number): number {
    const place = this.placeOf(score);
    const p0 = this.known0[place]!;
    const p1 = this.known1[place]!;
    return p1 / (1 - p0 + p1);
  }
}

/**
 * Pool-adjacent-violators over the distinct calibration scores with one more row added at a place, reused
 * across places (its stacks are allocated once).
 */
class PoolAdjacentViolators {
  private readonly mean: Float64Array;
  private readonly weight: Float64Array;
  private readonly start: Int32Array;

  constructor(capacity: number) {
    this.mean = new Float64Array(capacity);
    this.weight = new Float64Array(capacity);
    this.start = new Int32Array(capacity);
  }

  /**
   * The isotonic fit's value at the added row, for the distinct scores' `weights` and `positives` with a
   * row of label `label` added at `place` (2g: a new score in the gap before score g; 2k + 1: on score k).
   */
  valueWith(weights: readonly number[], positives: readonly number[], place: number, label: 0 | 1): number {
    const onScore = place % 2 === 1;
    const index = onScore ? (place - 1) / 2 : place / 2;
    const points = weights.length + (onScore ? 0 : 1);
    let depth = 0;
    for (let p = 0; p < points; p++) {
      // Point p of the sequence with the added row in it.
      let w: number;
      let s: number;
      if (onScore) {
        w = weights[p]! + (p === index ? 1 : 0);
        s = positives[p]! + (p === index ? label : 0);
      } else if (p === index) {
        w = 1;
        s = label;
      } else {
        const source = p < index ? p : p - 1;
        w = weights[source]!;
        s = positives[source]!;
      }
      let mean = s / w;
      let start = p;
      while (depth > 0 && this.mean[depth - 1]! >= mean) {
        depth--;
        mean = (this.mean[depth]! * this.weight[depth]! + mean * w) / (this.weight[depth]! + w);
        w += this.weight[depth]!;
        start = this.start[depth]!;
      }
      this.mean[depth] = mean;
      this.weight[depth] = w;
      this.start[depth] = start;
      depth++;
    }
    // The block holding the added row's point: the last one that starts at or before it.
    let block = depth - 1;
    while (this.start[block]! > index) block--;
    return this.mean[block]!;
  }
}

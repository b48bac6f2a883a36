/**
 * Distances between two distributions, as SciPy computes them (`wasserstein_distance`,
 * `spatial.distance.jensenshannon`), and the population stability index as Evidently computes it.
 */

/** Adds with Neumaier's compensation: long sums stay within a few units in the last place. */
class CompensatedSum {
  private sum = 0;
  private compensation = 0;

  add(value: number): void {
    const total = this.sum + value;
    if (Math.abs(this.sum) >= Math.abs(value)) this.compensation += this.sum - total + value;
    else this.compensation += value - total + this.sum;
    this.sum = total;
  }

  get value(): number {
    return this.sum + this.compensation;
  }
}

function sortedCopy(values: ArrayLike<number>, name: string): Float64Array {
  if (values.length === 0) throw new RangeError(`${name} is empty`);
  // slice() copies a typed array in one go, where from() would iterate it.
  const sorted = values instanceof Float64Array ? values.slice() : Float64Array.from(values);
  for (let i = 0; i < sorted.length; i++) {
    if (!Number.isFinite(sorted[i])) {
      throw new RangeError(`${name} holds ${sorted[i]}; only finite values can be compared`);
    }
  }
  return sorted.sort();
}

/**
 * The first Wasserstein (earth mover's) distance between two samples, as SciPy's
 * `wasserstein_distance(u, v)`: the area between their empirical distribution functions.
 */
export function wassersteinDistance(u: ArrayLike<number>, v: ArrayLike<number>): number {
  const a = sortedCopy(u, 'The first sample');
  const b = sortedCopy(v, 'The second sample');
  const sum = new CompensatedSum();
  let i = 0;
  let j = 0;
  // Walk the merged values; between each value and the next, the CDFs are flat.
  let previous = Math.min(a[0]!, b[0]!);
  while (i < a.length || j < b.length) {
    const value = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    if (value !== previous) {
      sum.add(Math.abs(i / a.length - j / b.length) * (value - previous));
      previous = value;
    }
    while (i < a.length && a[i] === value) i++;
    while (j < b.length && b[j] === value) j++;
  }
  return sum.value;
}

/** x ln(x / y), with 0 ln(0 / y) = 0 (SciPy's `rel_entr`). */
function relativeEntropyTerm(x: number, y: number): number {
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Number.POSITIVE_INFINITY;
}

/**
 * The Jensen-Shannon distance between two probability vectors (each normalized to sum to 1 first), as
 * SciPy's `jensenshannon(p, q, base)`: the square root of the Jensen-Shannon divergence, in nats unless a
 * `base` is given (base 2 bounds it by 1).
 */
export function jensenShannonDistance(p: ArrayLike<number>, q: ArrayLike<number>, base?: number): number {
  if (p.length !== q.length) {
    throw new RangeError(`jensenShannonDistance needs vectors of one length (${p.length} and ${q.length})`);
  }
  const pTotal = new CompensatedSum();
  const qTotal = new CompensatedSum();
  for (let k = 0; k < p.length; k++) {
    pTotal.add(p[k]!);
    qTotal.add(q[k]!);
  }
  const left = new CompensatedSum();
  const right = new CompensatedSum();
  for (let k = 0; k < p.length; k++) {
    const pk = p[k]! / pTotal.value;
    const qk = q[k]! / qTotal.value;
    const middle = (pk + qk) / 2;
    left.add(relativeEntropyTerm(pk, middle));
    right.add(relativeEntropyTerm(qk, middle));
  }
  let divergence = left.value + right.value;
  if (base !== undefined) divergence /= Math.log(base);
  return Math.sqrt(divergence / 2);
}

/**
 * Shares with their zeros replaced as Evidently does before a PSI: by a millionth of the smallest
 * non-zero share when that is at most 0.0001, otherwise by 0.0001. All-zero shares stay as they are.
 */
export function fillZeroShares(shares: ArrayLike<number>): Float64Array {
  const filled = Float64Array.from(shares);
  let smallest = Number.POSITIVE_INFINITY;
  for (const share of filled) if (share !== 0 && share < smallest) smallest = share;
  if (smallest === Number.POSITIVE_INFINITY) return filled;
  const replacement = smallest <= 0.0001 ? smallest / 10 ** 6 : 0.0001;
  for (let k = 0; k < filled.length; k++) if (filled[k] === 0) filled[k] = replacement;
  return filled;
}

/**
 * The population stability index of two share vectors over the same bins, as Evidently computes it:
 * zero shares filled (see `fillZeroShares`), then Σ (reference - current) ln(reference / current).
 */
export function populationStabilityIndex(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  if (reference.length !== current.length) {
    throw new RangeError(
      `populationStabilityIndex needs shares over the same bins (${reference.length} and ${current.length})`,
    );
  }
  const r = fillZeroShares(reference);
  const c = fillZeroShares(current);
  const sum = new CompensatedSum();
  for (let k = 0; k < r.length; k++) sum.add((r[k]! - c[k]!) * Math.log(r[k]! / c[k]!));
  return sum.value;
}

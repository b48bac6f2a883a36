import type { Random } from '../../util/random.js';
import type { ParamValue } from '../params.js';
import {
  fromInternal,
  internalBounds,
  type NumericDistribution,
  type ParamDistribution,
  type SearchSpace,
  toInternal,
} from './search-space.js';

/** A finished trial as samplers see it: its parameters and score (higher is better). */
export interface ScoredTrial {
  readonly params: Readonly<Record<string, ParamValue>>;
  readonly score: number;
}

/** Proposes the next parameters from the trials so far. */
export interface Sampler {
  readonly name: string;
  propose(space: SearchSpace, history: readonly ScoredTrial[], random: Random): Record<string, ParamValue>;
}

/** Independent uniform draws (in log space for log-scaled ranges). */
export const randomSampler: Sampler = {
  name: 'random',
  propose(space, _history, random) {
    const params: Record<string, ParamValue> = {};
    for (const [name, distribution] of Object.entries(space))
      params[name] = sampleUniform(distribution, random);
    return params;
  },
};

function sampleUniform(distribution: ParamDistribution, random: Random): ParamValue {
  if (distribution.type === 'choice') return distribution.values[random.int(distribution.values.length)]!;
  const [low, high] = internalBounds(distribution);
  if (distribution.type === 'int' && !distribution.log) {
    return distribution.low + random.int(distribution.high - distribution.low + 1);
  }
  return fromInternal(distribution, low + random.next() * (high - low));
}

export interface TpeOptions {
  /** Trials drawn at random before the model-based search starts. Default 10. */
  readonly startupTrials?: number;
  /** Share of trials counted as good. Default 0.25. */
  readonly gamma?: number;
  /** Candidates drawn from the good density per proposal. Default 24. */
  readonly candidates?: number;
}

/**
 * Tree-structured Parzen Estimator (Bergstra et al. 2011), per parameter as hyperopt does: the trials
 * are split into the best `gamma` share and the rest, each side becomes a Gaussian-kernel density in
 * the internal space (bandwidth from the neighbours' spacing, a uniform prior component added), and of
 * `candidates` draws from the good density the one with the highest good/bad density ratio is proposed.
 */
export function tpeSampler(options: TpeOptions = {}): Sampler {
  const startup = options.startupTrials ?? 10;
  const gamma = options.gamma ?? 0.25;
  const candidates = options.candidates ?? 24;
  return {
    name: 'tpe',
    propose(space, history, random) {
      if (history.length < startup) return randomSampler.propose(space, history, random);
      const sorted = [...history].sort((a, b) => b.score - a.score);
      const goodCount = Math.max(1, Math.ceil(gamma * sorted.length));
      const good = sorted.slice(0, goodCount);
      const bad = sorted.slice(goodCount);
      const params: Record<string, ParamValue> = {};
      for (const [name, distribution] of Object.entries(space)) {
        params[name] =
          distribution.type === 'choice'
            ? proposeChoice(distribution.values, good, bad, name, random, candidates)
            : proposeNumeric(distribution, good, bad, name, random, candidates);
      }
      return params;
    },
  };
}

interface Parzen {
  readonly means: readonly number[];
  readonly sigmas: readonly number[];
  readonly low: number;
  readonly high: number;
}

/** A Parzen density: one Gaussian per observation plus a broad prior component over the whole range. */
function parzen(observations: readonly number[], low: number, high: number): Parzen {
  const range = high - low;
  const points = [...observations].sort((a, b) => a - b);
  const floor = range / Math.min(100, points.length + 1);
  const sigmas = points.map((point, i) => {
    const left = i > 0 ? point - points[i - 1]! : point - low;
    const right = i < points.length - 1 ? points[i + 1]! - point : high - point;
    // Bandwidth: the larger gap to a neighbour (or the range edge), within [range / (n + 1), range].
    return Math.min(range, Math.max(left, right, floor));
  });
  return { means: [...points, (low + high) / 2], sigmas: [...sigmas, range], low, high };
}

function logDensity(model: Parzen, x: number): number {
  let total = 0;
  for (let i = 0; i < model.means.length; i++) {
    const sigma = model.sigmas[i]!;
    const z = (x - model.means[i]!) / sigma;
    total += Math.exp(-0.5 * z * z) / sigma;
  }
  return Math.log(total / model.means.length + 1e-300);
}

function sampleParzen(model: Parzen, random: Random): number {
  for (;;) {
    const k = random.int(model.means.length);
    const x = model.means[k]! + model.sigmas[k]! * random.normal();
    if (x >= model.low && x <= model.high) return x;
  }
}

function proposeNumeric(
  distribution: NumericDistribution,
  good: readonly ScoredTrial[],
  bad: readonly ScoredTrial[],
  name: string,
  random: Random,
  candidates: number,
): number {
  const [low, high] = internalBounds(distribution);
  const values = (trials: readonly ScoredTrial[]) =>
    trials.map((trial) => toInternal(distribution, Number(trial.params[name])));
  const l = parzen(values(good), low, high);
  const g = parzen(values(bad), low, high);
  let best = sampleParzen(l, random);
  let bestRatio = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < candidates; c++) {
    const x = c === 0 ? best : sampleParzen(l, random);
    const ratio = logDensity(l, x) - logDensity(g, x);
    if (ratio > bestRatio) {
      bestRatio = ratio;
      best = x;
    }
  }
  return fromInternal(distribution, best);
}

function proposeChoice(
  values: readonly ParamValue[],
  good: readonly ScoredTrial[],
  bad: readonly ScoredTrial[],
  name: string,
  random: Random,
  candidates: number,
): ParamValue {
  // Smoothed category frequencies on each side; draw from the good side, keep the best ratio.
  const weights = (trials: readonly ScoredTrial[]) =>
    values.map(
      (value) =>
        (trials.filter((t) => t.params[name] === value).length + 1) / (trials.length + values.length),
    );
  const l = weights(good);
  const g = weights(bad);
  let best = 0;
  let bestRatio = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < candidates; c++) {
    let u = random.next();
    let k = 0;
    while (k < l.length - 1 && u >= l[k]!) u -= l[k++]!;
    const ratio = Math.log(l[k]!) - Math.log(g[k]!);
    if (ratio > bestRatio) {
      bestRatio = ratio;
      best = k;
    }
  }
  return values[best]!;
}

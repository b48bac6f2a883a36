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
  /** How many of `n` finished trials count as good. Default Optuna's: min(ceil(0.1 n), 25). */
  readonly goodCount?: (trials: number) => number;
  /** Candidates drawn from the good density per proposal. Default 24. */
  readonly candidates?: number;
}

/** Optuna's default split: the best 10% of the trials (at least one, at most 25) are the good ones. */
const defaultGoodCount = (trials: number): number => Math.min(Math.ceil(0.1 * trials), 25);

/**
 * Tree-structured Parzen Estimator (Bergstra et al. 2011), univariate, following Optuna's `TPESampler`
 * defaults (the sampler the reference in `npm run bench:tuning` uses): the finished trials are split into
 * the good ones (`goodCount`) and the rest; each side becomes a mixture of truncated Gaussians in the
 * internal space, one per trial (weighted down for the oldest trials beyond 25) plus a prior component
 * over the whole range; of `candidates` draws from the good mixture, the one with the highest good/bad
 * density ratio is proposed. Integer ranges reach half a step past their ends, so the end values are as
 * likely as the others, and their densities are the mass of their unit interval.
 */
export function tpeSampler(options: TpeOptions = {}): Sampler {
  const startup = options.startupTrials ?? 10;
  const goodCount = options.goodCount ?? defaultGoodCount;
  const candidates = options.candidates ?? 24;
  return {
    name: 'tpe',
    propose(space, history, random) {
      if (history.length < startup) return randomSampler.propose(space, history, random);
      // Best first; equal scores keep trial order. Each side is then put back in trial order for weights.
      const ranked = history
        .map((trial, order) => ({ trial, order }))
        .sort((a, b) => b.trial.score - a.trial.score);
      const split = Math.max(1, goodCount(history.length));
      const byOrder = (side: typeof ranked) =>
        side.sort((a, b) => a.order - b.order).map((entry) => entry.trial);
      const good = byOrder(ranked.slice(0, split));
      const bad = byOrder(ranked.slice(split));
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

/** Optuna's trial weights: equal up to 25 trials, then a ramp from 1/n up to 1 for all but the newest 25. */
function trialWeights(count: number): number[] {
  if (count < 25) return Array.from({ length: count }, () => 1);
  const ramp = count - 25;
  return Array.from({ length: count }, (_, i) =>
    i >= ramp ? 1 : ramp === 1 ? 1 / count : 1 / count + ((1 - 1 / count) * i) / (ramp - 1),
  );
}

/** Mixture weights of the trials (in trial order) and the prior (last), summing to one. */
function mixtureWeights(count: number): number[] {
  const weights = [...trialWeights(count), 1];
  const total = weights.reduce((sum, w) => sum + w, 0);
  return weights.map((w) => w / total);
}

interface Parzen {
  readonly means: readonly number[];
  readonly sigmas: readonly number[];
  readonly weights: readonly number[];
  /** Each kernel's mass inside [low, high], by which its truncated density is divided. */
  readonly inside: readonly number[];
  readonly low: number;
  readonly high: number;
  /** Integer ranges: a value's density is the mass of [value - 0.5, value + 0.5]. */
  readonly step: number | undefined;
}

/** The internal range a numeric distribution is searched in (Optuna's Parzen bounds). */
function parzenBounds(distribution: NumericDistribution): [number, number] {
  if (distribution.type === 'float') return internalBounds(distribution);
  return distribution.log
    ? [Math.log(distribution.low - 0.5), Math.log(distribution.high + 0.5)]
    : [distribution.low - 0.5, distribution.high + 0.5];
}

/**
 * A Parzen density: one Gaussian per observation (in trial order) and a prior over the whole range. Each
 * bandwidth is the larger gap to a sorted neighbour (the range ends count as neighbours except for the
 * outermost points, as Optuna's `consider_endpoints=False`), clipped to [range / min(100, k + 1), range].
 */
function parzen(
  observations: readonly number[],
  low: number,
  high: number,
  step: number | undefined,
): Parzen {
  const range = high - low;
  const means = [...observations, (low + high) / 2];
  const order = means.map((_, i) => i).sort((a, b) => means[a]! - means[b]!);
  const sorted = [low, ...order.map((i) => means[i]!), high];
  const sortedSigmas = order.map((_, k) =>
    Math.max(sorted[k + 1]! - sorted[k]!, sorted[k + 2]! - sorted[k + 1]!),
  );
  if (sorted.length >= 4) {
    sortedSigmas[0] = sorted[2]! - sorted[1]!;
    sortedSigmas[sortedSigmas.length - 1] = sorted[sorted.length - 2]! - sorted[sorted.length - 3]!;
  }
  const minSigma = range / Math.min(100, 1 + means.length);
  const sigmas = new Array<number>(means.length);
  order.forEach((i, k) => {
    sigmas[i] = Math.min(range, Math.max(minSigma, sortedSigmas[k]!));
  });
  sigmas[means.length - 1] = range;
  const inside = means.map((mean, i) => gaussMass((low - mean) / sigmas[i]!, (high - mean) / sigmas[i]!));
  return { means, sigmas, weights: mixtureWeights(observations.length), inside, low, high, step };
}

function logDensity(model: Parzen, x: number): number {
  let total = 0;
  for (let i = 0; i < model.means.length; i++) {
    const mean = model.means[i]!;
    const sigma = model.sigmas[i]!;
    const density =
      model.step === undefined
        ? Math.exp(-0.5 * ((x - mean) / sigma) ** 2) / (sigma * Math.sqrt(2 * Math.PI))
        : gaussMass(
            (Math.max(x - model.step / 2, model.low) - mean) / sigma,
            (Math.min(x + model.step / 2, model.high) - mean) / sigma,
          );
    total += (model.weights[i]! * density) / model.inside[i]!;
  }
  return Math.log(total + 1e-300);
}

/** A draw from the mixture: a component by weight, then its Gaussian truncated to the range. */
function sampleParzen(model: Parzen, random: Random): number {
  const k = drawIndex(model.weights, random);
  for (;;) {
    const x = model.means[k]! + model.sigmas[k]! * random.normal();
    if (x >= model.low && x <= model.high) return x;
  }
}

/** An index drawn with the given probabilities (summing to one). */
function drawIndex(probabilities: readonly number[], random: Random): number {
  let u = random.next();
  let k = 0;
  while (k < probabilities.length - 1 && u >= probabilities[k]!) u -= probabilities[k++]!;
  return k;
}

/** P(a < Z < b) for a standard normal Z, accurate in both tails. */
function gaussMass(a: number, b: number): number {
  if (a >= 0) return upperTail(a) - upperTail(b);
  if (b <= 0) return upperTail(-b) - upperTail(-a);
  return 1 - upperTail(-a) - upperTail(b);
}

/** P(Z > z) = erfc(z / sqrt 2) / 2, with erfc from Numerical Recipes' Chebyshev fit (error below 1.2e-7). */
function upperTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const erfc =
    t *
    Math.exp(
      -x * x -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

function proposeNumeric(
  distribution: NumericDistribution,
  good: readonly ScoredTrial[],
  bad: readonly ScoredTrial[],
  name: string,
  random: Random,
  candidates: number,
): number {
  const values = (trials: readonly ScoredTrial[]) => trials.map((trial) => Number(trial.params[name]));
  const l = numericParzen(distribution, values(good));
  const g = numericParzen(distribution, values(bad));
  // Integer candidates are scored at the value they will be rounded to.
  const snap = (x: number) =>
    distribution.type === 'int' ? toInternal(distribution, fromInternal(distribution, x)) : x;
  let best = snap(sampleParzen(l, random));
  let bestRatio = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < candidates; c++) {
    const x = c === 0 ? best : snap(sampleParzen(l, random));
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
  const l = choiceProbabilities(
    values,
    good.map((trial) => trial.params[name]!),
  );
  const g = choiceProbabilities(
    values,
    bad.map((trial) => trial.params[name]!),
  );
  let best = 0;
  let bestRatio = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < candidates; c++) {
    const k = drawIndex(l, random);
    const ratio = Math.log(l[k]!) - Math.log(g[k]!);
    if (ratio > bestRatio) {
      bestRatio = ratio;
      best = k;
    }
  }
  return values[best]!;
}

/**
 * Optuna's categorical Parzen estimator: each observation's component puts 1 on its own value and
 * 1/(n + 1) on every value (then normalized), the prior component spreads evenly; components are
 * weighted as for numbers.
 */
function choiceProbabilities(values: readonly ParamValue[], observed: readonly ParamValue[]): number[] {
  const weights = mixtureWeights(observed.length);
  const smoothing = 1 / (observed.length + 1);
  const p = values.map(() => weights[observed.length]! / values.length);
  observed.forEach((value, k) => {
    const own = values.indexOf(value);
    values.forEach((_, v) => {
      p[v]! += (weights[k]! * ((v === own ? 1 : 0) + smoothing)) / (1 + smoothing * values.length);
    });
  });
  return p;
}

function numericParzen(distribution: NumericDistribution, observed: readonly number[]): Parzen {
  const [low, high] = parzenBounds(distribution);
  const step = distribution.type === 'int' && !distribution.log ? 1 : undefined;
  return parzen(
    observed.map((value) => toInternal(distribution, value)),
    low,
    high,
    step,
  );
}

/**
 * The log density TPE's Parzen estimator gives `at` after observing `observed` (oldest first), in the
 * internal space (log space for log ranges); for choices, the log probability. Checked against Optuna.
 */
export function parzenLogDensity(
  distribution: ParamDistribution,
  observed: readonly ParamValue[],
  at: ParamValue,
): number {
  if (distribution.type === 'choice') {
    return Math.log(
      choiceProbabilities(distribution.values, observed)[distribution.values.indexOf(at as never)]!,
    );
  }
  return logDensity(numericParzen(distribution, observed.map(Number)), toInternal(distribution, Number(at)));
}

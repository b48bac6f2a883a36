import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toRowMajor } from '../../data/dataset.js';
import { generateDataset } from '../../data/generator/generator.js';
import { FEATURE_NAMES } from '../../data/schema.js';
import { createMatrix } from '../../math/matrix.js';
import { Random } from '../../util/random.js';
import type { ParamValue } from '../params.js';
import { parzenLogDensity, randomSampler, type ScoredTrial, tpeSampler } from './samplers.js';
import type { ParamDistribution, SearchSpace } from './search-space.js';
import { tune } from './tune.js';

const data = generateDataset({ rows: 240, seed: 5 });
const x = createMatrix(toRowMajor(data), data.rowCount, FEATURE_NAMES.length);
const y = data.target!;
const quick = { n_estimators: 15 };

describe('samplers', () => {
  const space: SearchSpace = {
    rate: { type: 'float', low: 0.001, high: 1, log: true },
    depth: { type: 'int', low: 1, high: 6 },
    kind: { type: 'choice', values: ['a', 'b', 'c'] },
  };

  it('random search stays in range, draws integers for int ranges and samples log ranges in log space', () => {
    const random = new Random(1);
    const draws = Array.from({ length: 2000 }, () => randomSampler.propose(space, [], random));
    for (const d of draws) {
      expect(d.rate as number).toBeGreaterThanOrEqual(0.001);
      expect(d.rate as number).toBeLessThanOrEqual(1);
      expect(Number.isInteger(d.depth)).toBe(true);
      expect(['a', 'b', 'c']).toContain(d.kind);
    }
    // Log-uniform on [0.001, 1]: the median is near the geometric middle, 10^-1.5 ≈ 0.032.
    const rates = draws.map((d) => d.rate as number).sort((a, b) => a - b);
    expect(rates[1000]!).toBeGreaterThan(0.02);
    expect(rates[1000]!).toBeLessThan(0.05);
    expect(new Set(draws.map((d) => d.depth))).toEqual(new Set([1, 2, 3, 4, 5, 6]));
  });

  it("TPE's Parzen densities equal Optuna 3.1's (scripts/fixtures/make-tpe-fixtures.py)", () => {
    const fixtures = JSON.parse(
      readFileSync(new URL('../../../test/fixtures/optuna/parzen.json', import.meta.url), 'utf8'),
    ) as {
      cases: {
        name: string;
        distribution: ParamDistribution;
        observed: ParamValue[];
        at: ParamValue[];
        log_density: number[];
      }[];
    };
    expect(fixtures.cases.length).toBeGreaterThanOrEqual(8);
    for (const fixture of fixtures.cases) {
      fixture.at.forEach((at, k) => {
        const ours = parzenLogDensity(fixture.distribution, fixture.observed, at);
        // erfc to 1.2e-7 relative: densities agree to well within 1e-5 in log space.
        expect(Math.abs(ours - fixture.log_density[k]!), `${fixture.name} at ${at}`).toBeLessThan(1e-5);
      });
    }
  });

  it('TPE samples the end values of an integer range as readily as the middle ones', () => {
    // Good and bad trials alike (1 to 5 on each side): every candidate has the same ratio, so the
    // proposals follow the good density, which should not favour the middle of the range.
    const depth: SearchSpace = { depth: { type: 'int', low: 1, high: 5 } };
    const history: ScoredTrial[] = [1, 2, 3, 4, 5, 1, 2, 3, 4, 5].map((d, i) => ({
      params: { depth: d },
      score: i < 5 ? 1 : 0,
    }));
    const sampler = tpeSampler({ startupTrials: 10, goodCount: (n) => n / 2 });
    const random = new Random(3);
    const counts = [0, 0, 0, 0, 0, 0];
    for (let t = 0; t < 4000; t++) counts[sampler.propose(depth, history, random).depth as number]! += 1;
    for (const end of [1, 5]) expect(counts[end]!).toBeGreaterThan(0.7 * counts[3]!);
  });

  it('TPE concentrates its proposals where the scores are good', () => {
    const line: SearchSpace = { v: { type: 'float', low: 0, high: 1 } };
    const objective = (v: number) => -((v - 0.8) ** 2);
    const run = (sampler: typeof randomSampler) => {
      const random = new Random(7);
      const history: ScoredTrial[] = [];
      for (let t = 0; t < 40; t++) {
        const params = sampler.propose(line, history, random);
        history.push({ params, score: objective(params.v as number) });
      }
      const last = history.slice(-15).map((trial) => trial.params.v as number);
      return last.reduce((s, v) => s + Math.abs(v - 0.8), 0) / last.length;
    };
    const tpeDistance = run(tpeSampler({ startupTrials: 10 }));
    const randomDistance = run(randomSampler);
    // Random search stays about 0.36 away on average over seeds, TPE about 0.14.
    expect(tpeDistance).toBeLessThan(0.16);
    expect(tpeDistance).toBeLessThan(randomDistance / 2);
  });
});

describe('tune', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = tune('gbdt', x, y, { trials: 4, folds: 3, seed: 11, fixed: quick });
    const b = tune('gbdt', x, y, { trials: 4, folds: 3, seed: 11, fixed: quick });
    const strip = (r: typeof a) => r.trials.map(({ seconds: _, ...trial }) => trial);
    expect(strip(b)).toEqual(strip(a));
    const c = tune('gbdt', x, y, { trials: 4, folds: 3, seed: 12, fixed: quick });
    expect(c.trials.map((t) => t.params)).not.toEqual(a.trials.map((t) => t.params));
  });

  it('keeps fixed parameters fixed, picks the best trial, and keeps its cross-validation', () => {
    const result = tune('gbdt', x, y, { trials: 5, folds: 3, seed: 3, fixed: quick });
    for (const trial of result.trials) expect(trial.params.n_estimators).toBe(15);
    const best = Math.max(...result.trials.map((t) => t.roc_auc));
    expect(result.best.roc_auc).toBe(best);
    expect(result.bestCrossValidation.summary.roc_auc.mean).toBe(result.best.value);
    expect(result.bestCrossValidation.perFold).toHaveLength(3);
  });

  it('minimizes losses', () => {
    const result = tune('logistic', x, y, { trials: 6, folds: 3, seed: 2, metric: 'log_loss' });
    expect(result.best.value).toBe(Math.min(...result.trials.map((t) => t.log_loss)));
  });

  it('refuses families without a search space, bad trial counts, metrics and fixed parameters', () => {
    expect(() => tune('linear', x, y, { trials: 3, folds: 3, seed: 1 })).toThrow(
      'linear has no parameters to tune; tunable families: gbdt, oblivious, logistic',
    );
    expect(() => tune('gbdt', x, y, { trials: 0, folds: 3, seed: 1 })).toThrow('positive integer');
    expect(() => tune('gbdt', x, y, { trials: 2, folds: 3, seed: 1, metric: 'speed' as never })).toThrow(
      'Cannot tune for "speed"',
    );
    expect(() => tune('gbdt', x, y, { trials: 2, folds: 3, seed: 1, fixed: { depth: 3 } })).toThrow(
      'Unknown parameter "depth" for gbdt',
    );
  });
});

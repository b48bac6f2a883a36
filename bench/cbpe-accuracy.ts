/**
 * How close confidence-based performance estimation (CBPE) comes to the realized performance, on simulated
 * traffic where P(diagnosis | features) is known (test/support/cbpe-simulation.ts): for each scenario and
 * seed, a gradient-boosted model trained on 4,000 generated patients, CBPE fitted on 4,000 held-out ones,
 * an analysis window of 5,000 under the scenario's shift. Prints estimated − realized ROC AUC and accuracy,
 * whether the realized value fell inside the band, and the largest differences without calibration.
 *   npm run bench:cbpe [-- --seeds 20]
 */
import { reversedSymptomsModel, type Shift, simulate } from '../test/support/cbpe-simulation.js';

const seedsFlag = process.argv.indexOf('--seeds');
const SEEDS = Array.from(
  { length: seedsFlag > 0 ? Number(process.argv[seedsFlag + 1]) : 10 },
  (_, i) => i + 1,
);

const SCENARIOS: readonly (readonly [string, Shift])[] = [
  ['no shift', { kind: 'covariate', deltas: {} }],
  ['UPDRS +25, Age +8', { kind: 'covariate', deltas: { UPDRS: 25, Age: 8 } }],
  ['UPDRS -30, MoCA +4', { kind: 'covariate', deltas: { UPDRS: -30, MoCA: 4 } }],
  ['MoCA -6, FunctionalAssessment -3', { kind: 'covariate', deltas: { MoCA: -6, FunctionalAssessment: -3 } }],
  ['concept shift (symptoms reversed)', { kind: 'concept', labelModel: reversedSymptomsModel() }],
];

const fmt = (x: number) => (x >= 0 ? '+' : '') + x.toFixed(4);
console.log(
  `CBPE against realized performance, seeds ${SEEDS[0]}..${SEEDS.at(-1)}, 5,000 predictions a window\n`,
);
const row = (cells: readonly string[]) =>
  console.log(cells.map((cell, i) => cell.padEnd([34, 15, 22, 22, 13, 0][i]!)).join(' | '));
row(['scenario', 'positives', 'AUC est−real (max)', 'acc est−real (max)', 'in band', 'uncalibrated max |d|']);
const started = Date.now();
for (const [name, shift] of SCENARIOS) {
  const auc: number[] = [];
  const acc: number[] = [];
  const rawAuc: number[] = [];
  const rawAcc: number[] = [];
  let inBandAuc = 0;
  let inBandAcc = 0;
  let refRate = 0;
  let winRate = 0;
  for (const seed of SEEDS) {
    const r = simulate({ seed, shift });
    const raw = simulate({ seed, shift, calibration: 'none' });
    const e = r.estimate.metrics;
    const m = r.realized.metrics;
    auc.push(e.roc_auc.estimate! - m.roc_auc.value!);
    acc.push(e.accuracy.estimate! - m.accuracy.value!);
    rawAuc.push(raw.estimate.metrics.roc_auc.estimate! - m.roc_auc.value!);
    rawAcc.push(raw.estimate.metrics.accuracy.estimate! - m.accuracy.value!);
    if (m.roc_auc.value! >= e.roc_auc.lower! && m.roc_auc.value! <= e.roc_auc.upper!) inBandAuc++;
    if (m.accuracy.value! >= e.accuracy.lower! && m.accuracy.value! <= e.accuracy.upper!) inBandAcc++;
    refRate += r.referencePositiveRate / SEEDS.length;
    winRate += r.analysisPositiveRate / SEEDS.length;
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const maxAbs = (xs: number[]) => Math.max(...xs.map(Math.abs));
  row([
    name,
    `${refRate.toFixed(3)} → ${winRate.toFixed(3)}`,
    `${fmt(mean(auc))} (${maxAbs(auc).toFixed(4)})`,
    `${fmt(mean(acc))} (${maxAbs(acc).toFixed(4)})`,
    `${inBandAuc}/${SEEDS.length}, ${inBandAcc}/${SEEDS.length}`,
    `${maxAbs(rawAuc).toFixed(4)} / ${maxAbs(rawAcc).toFixed(4)}`,
  ]);
}
console.log(
  `\npositives: share of diagnosed patients, reference → window; est−real: mean over seeds (max |est − real|);`,
);
console.log(
  'in band: realized AUC, accuracy inside the ±3 sampling-error band; uncalibrated: CBPE without isotonic',
);
console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);

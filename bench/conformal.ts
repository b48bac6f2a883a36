/**
 * Prediction sets on the real file (generated data when it is absent): every family with its defaults
 * (calibrated, 5 stratified folds, seed 42, level 0.9), the held-out coverage of each diagnosis overall
 * and in each subgroup of 30 patients or more (sex, ethnicity, age band) with its 95% Wilson interval, and
 * the shares of patients undecided and with an empty set. Target: each within 0.02 of the level; a
 * subgroup's coverage whose whole interval lies outside level ± 0.02 is off target (outside the band but
 * with an interval reaching into it, the miss is within a small subgroup's sampling error).
 *
 *   npx tsx bench/conformal.ts
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDatasetFile } from '../src/data/csv-reader.js';
import { generateDataset, writeKaggleCsv } from '../src/data/generator/generator.js';
import { ESTIMATOR_NAMES } from '../src/ml/estimator-registry.js';
import { COVERAGE_TOLERANCE, formatSubgroupCoverage } from '../src/ml/report/model-report.js';
import { trainOnDataset } from '../src/ml/train-on-dataset.js';
import { HAS_REAL_DATA, REAL_DATA_PATH } from '../test/support/fixtures.js';

let path = REAL_DATA_PATH;
if (!HAS_REAL_DATA) {
  path = join(mkdtempSync(join(tmpdir(), 'onset-bench-conformal-')), 'generated.csv');
  await writeKaggleCsv(path, generateDataset({ rows: 2105, seed: 42 }));
}
const { dataset } = await readDatasetFile(path, { target: 'required' });
const pair = (values: readonly (number | null)[]) =>
  values.map((v) => (v === null ? '–' : v.toFixed(3))).join(' / ');
const percent = (value: number) => `${(100 * value).toFixed(1)}%`;

const lines = [
  `Prediction sets on ${HAS_REAL_DATA ? 'the real file' : 'generated data (the real file is absent)'} (${dataset.rowCount} rows), level 0.9, held out (5 folds, seed 42); coverage without / with PD`,
];
for (const estimator of ESTIMATOR_NAMES) {
  const conformal = trainOnDataset(dataset, { estimator }).report.conformal!;
  const held = conformal.held_out;
  const covered = conformal.subgroups.flatMap((g) => g.coverage.filter((v): v is number => v !== null));
  const within = covered.filter((v) => Math.abs(v - conformal.level) <= COVERAGE_TOLERANCE + 1e-12).length;
  const off = conformal.subgroups.flatMap((g) => g.off_target!.filter((v) => v === true)).length;
  lines.push(
    '',
    `${estimator}: overall ${pair(held.coverage)}, undecided ${percent(held.undecided)}, empty ${percent(held.empty)}; subgroups ${Math.min(...covered).toFixed(3)} to ${Math.max(...covered).toFixed(3)} (${conformal.by_subgroup ? 'by subgroup' : 'one threshold per diagnosis'}); ${within} of ${covered.length} within ${COVERAGE_TOLERANCE}, ${off} off target`,
    ...conformal.subgroups.map(
      (g) =>
        `  ${`${g.group} ${g.value}`.padEnd(28)} ${String(g.count).padStart(5)}  ${formatSubgroupCoverage(g, 0).padEnd(22)} / ${formatSubgroupCoverage(g, 1).padEnd(22)}  undecided ${percent(g.undecided)}`,
    ),
  );
}
lines.push(
  '',
  `Target: each diagnosis, overall and in each subgroup, within ${COVERAGE_TOLERANCE} of the level; off target: the 95% interval wholly outside that band.`,
);
process.stdout.write(`${lines.join('\n')}\n`);

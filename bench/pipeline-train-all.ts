/**
 * The `train-all` pipeline on the real file (generated data when it is absent), default settings, twice
 * in a fresh ONSET_HOME: wall time of each run (target < 15 s on this 2-core machine) and whether the
 * second run, started from the first run's recorded parameters, reproduces every candidate's
 * cross-validated and held-out metrics.
 *
 *   tsx bench/pipeline-train-all.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../src/config.js';
import { findPipeline } from '../src/pipelines/builtin/catalog.js';
import type { PipelineRun } from '../src/pipelines/pipeline-store.js';
import { runPipeline } from '../src/pipelines/runner.js';
import { openOnsetStores } from '../src/server/open-stores.js';
import { HAS_REAL_DATA, REAL_DATA_PATH } from '../test/support/fixtures.js';

const TARGET_SECONDS = 15;
const home = mkdtempSync(join(tmpdir(), 'onset-bench-pipeline-'));
const stores = await openOnsetStores(resolveConfig({ home }));
const pipeline = findPipeline('train-all');

const metricsOf = (run: PipelineRun) =>
  JSON.stringify(
    run.blocks
      .filter((block) => block.block.startsWith('train-'))
      .map((block) => [
        block.block,
        block.output?.cv_roc_auc,
        block.output?.cv_accuracy,
        block.output?.holdout_roc_auc,
        block.output?.holdout_accuracy,
      ]),
  );

try {
  const params = HAS_REAL_DATA ? { data: REAL_DATA_PATH } : {};
  let started = performance.now();
  const first = await runPipeline(pipeline, { stores, params });
  const firstSeconds = (performance.now() - started) / 1000;
  started = performance.now();
  const second = await runPipeline(pipeline, { stores, params: first.params });
  const secondSeconds = (performance.now() - started) / 1000;
  const gate = first.blocks.find((block) => block.block === 'gate')?.output;
  process.stdout.write(
    `${[
      `train-all on ${HAS_REAL_DATA ? 'the real file (2,105 rows)' : 'generated data (the real file is absent)'}: ${first.status}, ${second.status}`,
      `  run 1: ${firstSeconds.toFixed(1)} s, run 2: ${secondSeconds.toFixed(1)} s (target < ${TARGET_SECONDS} s: ${(Math.max(firstSeconds, secondSeconds) / TARGET_SECONDS).toFixed(2)}x the budget)`,
      `  best: ${gate?.version ? `version ${gate.version} ` : ''}${first.blocks.find((block) => block.block === 'select')?.output?.estimator}, held-out roc_auc ${Number(gate?.challenger).toFixed(4)}; run 1 -> ${gate?.stage}`,
      `  run 2 from run 1's recorded parameters reproduces every candidate's metrics: ${metricsOf(first) === metricsOf(second) ? 'yes' : 'NO'}`,
      ...first.blocks.map(
        (block) =>
          `    ${block.block.padEnd(16)} ${block.startTime && block.endTime ? ((block.endTime - block.startTime) / 1000).toFixed(1).padStart(5) : '    -'} s`,
      ),
    ].join('\n')}\n`,
  );
} finally {
  await stores.close();
  rmSync(home, { recursive: true, force: true });
}

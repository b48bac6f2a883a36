/**
 * The model card: every TRIPOD+AI section from the model document, its figures the document's own, and
 * the same card written as Markdown and as HTML that holds nothing a browser would run.
 */
import { describe, expect, it } from 'vitest';
import { generateDataset } from '../../data/generator/generator.js';
import { CALIBRATION_METHOD_NAMES } from '../calibration/calibration.js';
import { trainOnDataset } from '../train-on-dataset.js';
import { buildModelCard, type CardBlock, modelCardHtml, modelCardMarkdown } from './model-card.js';

const { document } = trainOnDataset(generateDataset({ rows: 500, seed: 31 }), {
  estimator: 'gbdt',
  params: { n_estimators: 30, max_depth: 3 },
  threshold: { kind: 'min_sensitivity', sensitivity: 0.9 },
});
const card = buildModelCard(
  document,
  { name: 'pd', version: '4', stage: 'Staging', runId: 'a'.repeat(32), datasetSource: '/data/patients.csv' },
  new Date('2026-12-07T00:00:00Z'),
);
const section = (id: string) => card.sections.find((s) => s.id === id)!;
const text = (blocks: readonly CardBlock[]) =>
  blocks
    .map((b) =>
      b.kind === 'paragraph'
        ? b.text
        : b.kind === 'list'
          ? b.items.join('\n')
          : b.kind === 'table'
            ? [b.caption, ...b.rows.map((r) => r.join(' '))].join('\n')
            : b.caption,
    )
    .join('\n');

describe('buildModelCard', () => {
  it('has every reporting item, in order', () => {
    expect(card.title).toBe('Model card: pd version 4');
    expect(card.sections.map((s) => s.id)).toEqual([
      'details',
      'intended-use',
      'data',
      'features',
      'development',
      'performance',
      'calibration',
      'threshold',
      'prediction-sets',
      'subgroups',
      'decision-curve',
      'limitations',
    ]);
    for (const s of card.sections) expect(s.blocks.length, s.id).toBeGreaterThan(0);
  });

  it("takes its figures from the model document: the threshold's policy and reason, calibration, coverage", () => {
    const threshold = document.threshold!;
    const said = text(section('threshold').blocks);
    expect(said).toContain(`at a probability of ${threshold.value} or more`);
    expect(said).toContain('Policy: sensitivity at least 0.9, at the best specificity');
    expect(said).toContain(threshold.reason);
    expect(said).toContain(`Held-out sensitivity ${threshold.held_out!.sensitivity.toFixed(3)}`);
    const calibration = document.report!.calibration!;
    expect(text(section('calibration').blocks)).toContain(
      `after ${calibration.after.ece.toFixed(4)} [${calibration.after.ece_interval[0].toFixed(4)}, ${calibration.after.ece_interval[1].toFixed(4)}]`,
    );
    const conformal = document.conformal!;
    expect(text(section('prediction-sets').blocks)).toContain(
      `coverage ${conformal.held_out.coverage[0].toFixed(3)} for patients without the disease`,
    );
    // Each subgroup's coverage comes with its Wilson interval; off target only when the interval says so.
    const subgroups = document.report!.conformal!.subgroups;
    expect(subgroups.length).toBeGreaterThan(5);
    for (const g of subgroups) {
      for (const label of [0, 1] as const) {
        const coverage = g.coverage[label];
        if (coverage === null) continue;
        const [low, high] = g.coverage_interval![label]!;
        expect(low).toBeLessThanOrEqual(coverage);
        expect(high).toBeGreaterThanOrEqual(coverage);
        expect(g.off_target![label]).toBe(high < conformal.level - 0.02 || low > conformal.level + 0.02);
      }
    }
    const first = subgroups[0]!;
    const [low, high] = first.coverage_interval![1]!;
    expect(text(section('prediction-sets').blocks)).toContain(
      `${first.group} ${first.value} ${first.count} ${first.coverage[0]!.toFixed(3)}`,
    );
    expect(text(section('prediction-sets').blocks)).toContain(
      `${first.coverage[1]!.toFixed(3)} [${low.toFixed(3)}, ${high.toFixed(3)}]`,
    );
    expect(text(section('prediction-sets').blocks)).toMatch(
      /A subgroup's coverage is off target when its 95% interval lies wholly outside 0\.9 ± 0\.02: (none is|.+ PD)\./,
    );
    // The calibration in words, among every method cross-validation compared.
    // (This model's own probabilities won: the card says so, and names a method when one was chosen.)
    expect(document.calibration!.method).toBe('none');
    expect(text(section('development').blocks)).toContain("Probabilities: the model's own (not calibrated)");
    const cubic = buildModelCard(
      { ...document, calibration: { ...document.calibration!, method: 'monotone_cubic' } },
      { name: 'pd', version: '5' },
      new Date('2026-12-07T00:00:00Z'),
    );
    expect(text(cubic.sections.find((s) => s.id === 'development')!.blocks)).toContain(
      `Probabilities calibrated by ${CALIBRATION_METHOD_NAMES.monotone_cubic} (chosen by cross-validation among none, Platt scaling, a monotone cubic, isotonic regression, Venn-Abers, keeping the ranking)`,
    );
    const details = text(section('details').blocks);
    expect(details).toContain('Version: 4 (stage Staging)');
    expect(text(section('data').blocks)).toContain('Read from: /data/patients.csv');
    // The decisions at the threshold are the report's confusion matrix.
    const { tp, fn } = document.report!.evaluation.confusion;
    expect(text(section('performance').blocks)).toContain(`has Parkinson's ${tp} ${fn}`);
  });
});

describe('the card written out', () => {
  it("as Markdown: a heading per section and tables whose rows all have the header's cells", () => {
    const markdown = modelCardMarkdown(card);
    expect(markdown.startsWith('# Model card: pd version 4\n')).toBe(true);
    expect(markdown.match(/^## /gm)).toHaveLength(card.sections.length);
    const tables = markdown.split('\n\n').filter((chunk) => chunk.startsWith('|'));
    expect(tables.length).toBeGreaterThan(5);
    for (const table of tables) {
      const cells = table
        .trim()
        .split('\n')
        .map((line) => line.replace(/\\\|/g, '').split('|').length);
      expect(new Set(cells).size, table).toBe(1);
    }
  });

  it('draws the reliability diagram and the decision curve in HTML, and leaves them to the tables in Markdown', () => {
    const charts = card.sections.flatMap((s) => s.blocks.filter((b) => b.kind === 'chart'));
    expect(charts.map((c) => c.caption)).toEqual([
      'Reliability diagram: the observed rate of the disease against the mean probability, per bin',
      'Decision curve: net benefit against the threshold probability (held out)',
    ]);
    for (const chart of charts) {
      if (chart.kind !== 'chart') continue;
      for (const series of chart.series) expect(series.values).toHaveLength(chart.x.length);
    }
    const html = modelCardHtml(card);
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).toContain(
      'aria-label="Decision curve: net benefit against the threshold probability (held out)"',
    );
    expect(modelCardMarkdown(card)).not.toContain('<svg');
  });

  it('as HTML: one document, every text escaped, no script', () => {
    const hostile = buildModelCard(document, {
      name: '<script>alert(1)</script>',
      version: '1"><img src=x>',
    });
    const html = modelCardHtml(hostile);
    expect(html).not.toMatch(/<script|<img/i);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html.match(/<section id="/g)).toHaveLength(hostile.sections.length);
    expect(html).toContain('<code>onset data schema</code>');
  });
});

/**
 * A drift report as one self-contained HTML page: inline CSS and SVG, no script, no font, image or
 * request from anywhere. A verdict on top (dataset drift, prediction drift, how far each feature moved),
 * a table of every feature, then one card per feature with its reference and current histograms overlaid
 * on the profile's bins, its test, score and verdict.
 */
import { PROBABILITY_COLUMN } from '../../data/reference-profile.js';
import { FEATURE_GROUP_LABELS, FEATURES, type Feature } from '../../data/schema.js';
import { type ColumnDrift, type DriftReport, driftOrder, type HistogramBin } from './compute-drift.js';
import type { DriftSubject } from './drift-report-json.js';
import { STAT_TESTS } from './stat-tests.js';

function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** A score or statistic for people: 4 significant digits, tiny p-values in scientific notation. */
function formatScore(value: number | null): string {
  if (value === null || Number.isNaN(value)) return '–';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '-∞';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs < 1e-3) return value.toExponential(1);
  if (abs >= 1000) return value.toFixed(0);
  return String(Number(value.toPrecision(3)));
}

function formatPercent(share: number): string {
  const percent = share * 100;
  if (percent === 0) return '0%';
  if (percent > 0 && percent < 0.1) return '<0.1%';
  return `${percent < 10 ? percent.toFixed(1) : percent.toFixed(0)}%`;
}

function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}

function featureOf(column: string): Feature | undefined {
  return FEATURES.find((feature) => feature.name === column);
}

/** What the rule looks like: "≤ 0.05", "< 0.05", "≥ 0.1". */
function ruleText(column: ColumnDrift): string {
  const sign = { '<': '<', '<=': '≤', '>=': '≥' }[STAT_TESTS[column.test].driftWhen];
  return `${sign} ${formatScore(column.threshold)}`;
}

type Verdict = 'drift' | 'stable' | 'untested';

function verdictOf(column: ColumnDrift): Verdict {
  if (column.score === null) return 'untested';
  return column.drifted ? 'drift' : 'stable';
}

const VERDICT_TEXT: Record<Verdict, string> = { drift: 'Drift', stable: 'No drift', untested: 'Not tested' };

function badge(verdict: Verdict): string {
  return `<span class="badge ${verdict}">${VERDICT_TEXT[verdict]}</span>`;
}

function anchorOf(column: string): string {
  return `f-${column}`;
}

/** How the column's centre moved: the mean for numbers, the code whose share changed most for codes. */
function changeText(column: ColumnDrift): string {
  if (column.type === 'numerical') {
    if (column.reference.mean === null || column.current.mean === null) return '–';
    const unit = column.column === PROBABILITY_COLUMN ? '' : unitOf(column.column);
    return `mean ${formatScore(column.reference.mean)} → ${formatScore(column.current.mean)}${unit ? ` ${unit}` : ''}`;
  }
  let largest: HistogramBin | undefined;
  for (const bin of column.histogram) {
    if (
      !largest ||
      Math.abs(bin.current.share - bin.reference.share) >
        Math.abs(largest.current.share - largest.reference.share)
    ) {
      largest = bin;
    }
  }
  if (!largest) return '–';
  return `${largest.label} ${formatPercent(largest.reference.share)} → ${formatPercent(largest.current.share)}`;
}

function unitOf(column: string): string {
  const feature = featureOf(column);
  return feature?.kind === 'continuous' && feature.unit !== 'score' ? feature.unit : '';
}

function titleOf(column: string): string {
  return column === PROBABILITY_COLUMN ? 'Predicted probability' : column;
}

function descriptionOf(column: string): string {
  if (column === PROBABILITY_COLUMN) return "The model's probability of Parkinson's disease";
  const feature = featureOf(column);
  if (!feature) return '';
  return `${feature.description} · ${FEATURE_GROUP_LABELS[feature.group]}`;
}

/** The bins a chart shows: every code; every interval, and the open ends only when a patient is there. */
function shownBins(column: ColumnDrift): HistogramBin[] {
  return column.histogram.filter(
    (bin, k) =>
      bin.code !== null ||
      (k !== 0 && k !== column.histogram.length - 1) ||
      bin.reference.count > 0 ||
      bin.current.count > 0 ||
      column.histogram.length === 1,
  );
}

function niceCeiling(value: number): number {
  if (value <= 0) return 0.1;
  const steps = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8, 1];
  return steps.find((step) => step >= value) ?? 1;
}

function compactEdge(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return String(Number(value.toFixed(1)));
  return String(Number(value.toPrecision(2)));
}

/**
 * Reference and current shares per bin, overlaid: the reference as a wide grey bar, the current as a
 * narrower blue one in front. Every bar has a tooltip with both shares and counts.
 */
function histogramSvg(
  column: ColumnDrift,
  size: { width: number; height: number } = { width: 360, height: 190 },
): string {
  const bins = shownBins(column);
  const { width, height } = size;
  const left = 38;
  const right = 14;
  const top = 10;
  const bottom = 40;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  // A little headroom above the tallest bar.
  const yMax = niceCeiling(
    1.08 * Math.max(...bins.map((bin) => Math.max(bin.reference.share, bin.current.share))),
  );
  const y = (share: number) => top + plotHeight - (share / yMax) * plotHeight;
  const slot = plotWidth / Math.max(bins.length, 1);
  // Few wide slots (two codes) get bars of a readable width, not half the chart each.
  const barWidth = Math.min(slot * 0.84, 96);
  const parts: string[] = [];
  parts.push(
    `<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(`${titleOf(column.column)}: training and current shares per bin`)}">`,
  );
  for (const fraction of [0, 0.5, 1]) {
    const gy = y(yMax * fraction).toFixed(1);
    parts.push(`<line class="grid" x1="${left}" x2="${width - right}" y1="${gy}" y2="${gy}"/>`);
    parts.push(
      `<text class="axis" x="${left - 4}" y="${gy}" text-anchor="end" dominant-baseline="middle">${formatPercent(yMax * fraction)}</text>`,
    );
  }
  bins.forEach((bin, i) => {
    const x = left + i * slot;
    const tip = `${titleOf(column.column)} ${bin.label}: training ${formatPercent(bin.reference.share)} (${formatCount(bin.reference.count)}) · current ${formatPercent(bin.current.share)} (${formatCount(bin.current.count)})`;
    const referenceY = y(bin.reference.share);
    const currentY = y(bin.current.share);
    const open = bin.code === null && (bin.lower === null || bin.upper === null) && bins.length > 1;
    parts.push(`<g><title>${escapeHtml(open ? `${tip} (outside the whole training range)` : tip)}</title>`);
    const middle = x + slot / 2;
    parts.push(
      `<rect class="slot${open ? ' open' : ''}" x="${x.toFixed(1)}" y="${top}" width="${slot.toFixed(1)}" height="${plotHeight}"/>`,
    );
    parts.push(
      `<rect class="ref" x="${(middle - barWidth / 2).toFixed(1)}" y="${referenceY.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(top + plotHeight - referenceY).toFixed(1)}"/>`,
    );
    parts.push(
      `<rect class="cur${open ? ' open' : ''}" x="${(middle - barWidth * 0.275).toFixed(1)}" y="${currentY.toFixed(1)}" width="${(barWidth * 0.55).toFixed(1)}" height="${(top + plotHeight - currentY).toFixed(1)}"/>`,
    );
    parts.push('</g>');
  });
  parts.push(
    `<line class="baseline" x1="${left}" x2="${width - right}" y1="${top + plotHeight}" y2="${top + plotHeight}"/>`,
  );
  // x labels: codes and open ends under their bar; interval edges at the boundaries (every other when crowded).
  const labelY = top + plotHeight + 13;
  const crowded = bins.length > 8;
  bins.forEach((bin, i) => {
    const x = left + i * slot;
    if (bin.code !== null || bin.lower === null || bin.upper === null) {
      const text =
        bin.code !== null
          ? bin.label
          : bin.lower === null
            ? `<${compactEdge(bin.upper!)}`
            : bin.upper === null
              ? `>${compactEdge(bin.lower)}`
              : bin.label;
      const maxChars = Math.max(3, Math.floor(slot / 5.2));
      const shown = text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text;
      parts.push(
        `<text class="axis" x="${(x + slot / 2).toFixed(1)}" y="${labelY}" text-anchor="middle">${escapeHtml(shown)}</text>`,
      );
      return;
    }
    // An edge beside an open-ended slot is named by that slot's label ("<50", ">89").
    if (i === 0) {
      parts.push(
        `<text class="axis" x="${x.toFixed(1)}" y="${labelY}" text-anchor="middle">${compactEdge(bin.lower)}</text>`,
      );
    }
    const next = bins[i + 1];
    const nextIsOpen = next !== undefined && (next.lower === null || next.upper === null);
    if (!nextIsOpen && (!crowded || i % 2 === 1 || next === undefined)) {
      parts.push(
        `<text class="axis" x="${(x + slot).toFixed(1)}" y="${labelY}" text-anchor="middle">${compactEdge(bin.upper)}</text>`,
      );
    }
  });
  const axisTitle =
    column.column === PROBABILITY_COLUMN
      ? 'probability, binned at the training deciles'
      : column.type === 'numerical'
        ? `${unitOf(column.column) || 'value'}, binned at the training deciles`
        : 'share of patients per value';
  parts.push(
    `<text class="axis-title" x="${left + plotWidth / 2}" y="${height - 6}" text-anchor="middle">${escapeHtml(axisTitle)}</text>`,
  );
  parts.push('</svg>');
  return parts.join('');
}

function legend(): string {
  return '<div class="legend"><span><i class="swatch ref"></i>training data (reference)</span><span><i class="swatch cur"></i>current data</span></div>';
}

/** The test's own statistic when it is not the score: D, χ², z, or the Wasserstein distance in the unit. */
function statisticText(column: ColumnDrift): string | null {
  if (column.statistic === null) return null;
  switch (column.test) {
    case 'ks':
      return `D = ${formatScore(column.statistic)}`;
    case 'chisquare':
      return `χ² = ${formatScore(column.statistic)}`;
    case 'z':
      return `z = ${formatScore(column.statistic)}`;
    case 'wasserstein': {
      const unit = unitOf(column.column);
      return `distance ${formatScore(column.statistic)}${unit ? ` ${unit}` : ''}`;
    }
    default:
      return null;
  }
}

function scoreLine(column: ColumnDrift): string {
  const test = STAT_TESTS[column.test];
  if (column.score === null) return escapeHtml(column.note ?? 'not tested');
  const what = test.scoreKind === 'p_value' ? 'p' : 'score';
  const chosen = column.testChosenBy === 'override' ? ' (asked for)' : '';
  const statistic = statisticText(column);
  return `${escapeHtml(test.label)}${chosen}: ${what} = <b>${formatScore(column.score)}</b>${statistic ? ` (${escapeHtml(statistic)})` : ''}, drift when ${escapeHtml(ruleText(column))}`;
}

/** A number for a table column: four decimals, smaller values in scientific notation. */
function formatTableNumber(value: number | null): string {
  if (value === null || Number.isNaN(value)) return '–';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '-∞';
  if (value === 0) return '0';
  if (Math.abs(value) < 0.0001) return value.toExponential(1);
  return value.toFixed(4);
}

function card(column: ColumnDrift): string {
  const verdict = verdictOf(column);
  return `<article class="card ${verdict}" id="${escapeHtml(anchorOf(column.column))}">
<header><h3>${escapeHtml(titleOf(column.column))}</h3>${badge(verdict)}</header>
<p class="description">${escapeHtml(descriptionOf(column.column))}</p>
${histogramSvg(column)}
<dl>
<dt>Test</dt><dd>${scoreLine(column)}</dd>
<dt>PSI</dt><dd>${formatScore(column.psi)} <span class="muted">on the training bins</span></dd>
<dt>Change</dt><dd>${escapeHtml(changeText(column))}</dd>
<dt>Values</dt><dd>${formatCount(column.reference.count)} training · ${formatCount(column.current.count)} current${column.current.missing > 0 ? ` (${formatCount(column.current.missing)} missing)` : ''}</dd>
</dl>
</article>`;
}

/** One square per feature, coloured by verdict, each linking to its card. */
function waffle(features: readonly ColumnDrift[]): string {
  const size = 16;
  const gap = 4;
  const perRow = 16;
  const rows = Math.ceil(features.length / perRow);
  const width = perRow * (size + gap);
  const height = rows * (size + gap);
  const squares = features.map((column, i) => {
    const x = (i % perRow) * (size + gap);
    const y = Math.floor(i / perRow) * (size + gap);
    const verdict = verdictOf(column);
    return `<a href="#${escapeHtml(anchorOf(column.column))}"><rect class="sq ${verdict}" x="${x}" y="${y}" width="${size}" height="${size}" rx="3"><title>${escapeHtml(`${column.column}: ${VERDICT_TEXT[verdict]} (${STAT_TESTS[column.test].label} ${formatScore(column.score)})`)}</title></rect></a>`;
  });
  return `<svg class="waffle" viewBox="0 0 ${width} ${height}" role="img" aria-label="one square per feature: red drifted, green stable">${squares.join('')}</svg>`;
}

/** The drifted features as links to their cards. */
function driftedList(ordered: readonly ColumnDrift[]): string {
  const drifted = ordered.filter((column) => column.drifted);
  if (drifted.length === 0) return '';
  return `<p class="chips">${drifted.map((column) => `<a class="chip" href="#${escapeHtml(anchorOf(column.column))}">${escapeHtml(column.column)}</a>`).join(' ')}</p>`;
}

/** The PSI of the features that moved most, largest first, with the usual 0.1 and 0.25 marks. */
function psiChart(features: readonly ColumnDrift[], count: number): string {
  const sorted = [...features].sort((a, b) => (b.psi ?? -1) - (a.psi ?? -1)).slice(0, count);
  const rowHeight = 17;
  const labelWidth = 150;
  const valueWidth = 50;
  const width = 360;
  const barWidth = width - labelWidth - valueWidth;
  const top = 18;
  const height = top + sorted.length * rowHeight + 4;
  const largest = Math.max(0, ...sorted.map((column) => column.psi ?? 0));
  const domain = Math.min(Math.max(0.3, largest * 1.05), 2);
  // A square-root scale: a PSI of 0.01 stays visible beside one of 2.
  const x = (value: number) =>
    labelWidth + Math.sqrt(Math.min(Math.max(value, 0), domain) / domain) * barWidth;
  const parts = [
    `<svg class="psi" viewBox="0 0 ${width} ${height}" role="img" aria-label="population stability index of every feature">`,
  ];
  for (const mark of [0.1, 0.25]) {
    if (mark > domain) continue;
    parts.push(
      `<line class="mark" x1="${x(mark).toFixed(1)}" x2="${x(mark).toFixed(1)}" y1="${top - 4}" y2="${height - 2}"/>`,
      `<text class="axis" x="${x(mark).toFixed(1)}" y="${top - 7}" text-anchor="middle">${mark}</text>`,
    );
  }
  sorted.forEach((column, i) => {
    const y = top + i * rowHeight;
    const psi = column.psi ?? 0;
    const verdict = verdictOf(column);
    parts.push(
      `<a href="#${escapeHtml(anchorOf(column.column))}"><g><title>${escapeHtml(`${column.column}: PSI ${formatScore(column.psi)}; ${VERDICT_TEXT[verdict]} by ${STAT_TESTS[column.test].label}`)}</title>`,
      `<text class="label" x="${labelWidth - 6}" y="${y + rowHeight / 2}" text-anchor="end" dominant-baseline="middle">${escapeHtml(column.column)}</text>`,
      `<rect class="bar ${verdict}" x="${labelWidth}" y="${y + 2}" width="${Math.max(0.5, x(psi) - labelWidth).toFixed(1)}" height="${rowHeight - 4}" rx="2"/>`,
      `<text class="value" x="${width - 2}" y="${y + rowHeight / 2}" text-anchor="end" dominant-baseline="middle">${psi > domain ? '› ' : ''}${formatScore(column.psi)}</text></g></a>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

function tableRow(column: ColumnDrift): string {
  const verdict = verdictOf(column);
  const feature = featureOf(column.column);
  const type =
    column.type === 'numerical' ? 'numerical' : `categorical${feature?.kind === 'binary' ? ' (binary)' : ''}`;
  return `<tr class="${verdict}"><td><a href="#${escapeHtml(anchorOf(column.column))}">${escapeHtml(titleOf(column.column))}</a></td><td>${type}</td><td>${escapeHtml(STAT_TESTS[column.test].label)}${column.testChosenBy === 'override' ? ' *' : ''}</td><td class="num">${formatTableNumber(column.score)}</td><td class="num">${escapeHtml(ruleText(column))}</td><td>${badge(verdict)}</td><td class="num">${formatTableNumber(column.psi)}</td><td>${escapeHtml(changeText(column))}</td></tr>`;
}

const PROBABILITY_SOURCE_TEXT = {
  out_of_fold:
    'out-of-fold predictions (each training patient scored by a cross-validation model that had not seen them, as new patients are)',
  training_fit:
    "the final model's predictions on its own training patients (more confident than on new patients: prediction drift may be overstated; train with cross-validation to get out-of-fold predictions)",
  scored: 'the model scored on the reference file given',
} as const;

const STYLE = `
:root{--ink:#0f172a;--muted:#64748b;--line:#e2e8f0;--bg:#f8fafc;--card:#fff;--ref:#94a3b8;--cur:#2563eb;--drift:#dc2626;--drift-bg:#fee2e2;--ok:#15803d;--ok-bg:#dcfce7;--na:#64748b;--na-bg:#f1f5f9}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1240px;margin:0 auto;padding:28px 24px 48px}
a{color:inherit}
h1{font-size:26px;margin:4px 0 6px;letter-spacing:-.01em}
h1 .sub{font-weight:400;color:var(--muted);font-size:18px}
h2{font-size:15px;margin:0 0 10px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted)}
h3{font-size:16px;margin:0}
.eyebrow{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.1em}
.meta{color:var(--muted);margin:0}
.meta b{color:var(--ink);font-weight:600}
.summary{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:16px;margin:22px 0}
.panel,.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:16px 18px;box-shadow:0 1px 2px rgba(15,23,42,.04)}
.verdict .big{font-size:24px;font-weight:700;margin:0 0 4px}
.verdict.drift .big{color:var(--drift)}
.verdict.stable .big{color:var(--ok)}
.verdict.untested .big{color:var(--na)}
.verdict p{margin:0 0 10px}
.wide{grid-column:1/-1}
.badge{display:inline-block;border-radius:999px;padding:2px 10px;font-size:12px;font-weight:600;white-space:nowrap}
.badge.drift{background:var(--drift-bg);color:var(--drift)}
.badge.stable{background:var(--ok-bg);color:var(--ok)}
.badge.untested{background:var(--na-bg);color:var(--na)}
.legend{display:flex;gap:18px;color:var(--muted);font-size:13px;margin:6px 0 14px}
.swatch{display:inline-block;width:12px;height:12px;border-radius:3px;margin-right:6px;vertical-align:-1px}
.swatch.ref{background:var(--ref);opacity:.55}
.swatch.cur{background:var(--cur)}
.swatch.drift{background:var(--drift)}
.swatch.stable{background:#86efac}
.chips{display:flex;flex-wrap:wrap;gap:6px;margin:10px 0 0}
.chip{background:var(--drift-bg);color:var(--drift);border-radius:6px;padding:2px 8px;font-size:12.5px;font-weight:600;text-decoration:none}
svg{display:block;width:100%;height:auto}
svg text{font-family:inherit}
.chart .grid{stroke:var(--line);stroke-width:1}
.chart .baseline{stroke:#94a3b8;stroke-width:1}
.chart .slot{fill:transparent}
.chart g:hover .slot{fill:#f1f5f9}
.chart .ref{fill:var(--ref);opacity:.5}
.chart .cur{fill:var(--cur);opacity:.85}
.chart .slot.open{fill:#fff7ed}
.chart .cur.open{stroke:#1e3a8a;stroke-dasharray:2 2}
.axis{fill:var(--muted);font-size:10px}
.axis-title{fill:var(--muted);font-size:10px;font-style:italic}
.waffle{max-width:380px;margin-top:6px}
.sq.drift{fill:var(--drift)}.sq.stable{fill:#86efac}.sq.untested{fill:#cbd5e1}
.psi .label{font-size:12px;fill:var(--ink)}
.psi .value{font-size:12px;fill:var(--muted)}
.psi .mark{stroke:#cbd5e1;stroke-dasharray:3 3}
.psi .bar.drift{fill:var(--drift)}.psi .bar.stable{fill:#4ade80}.psi .bar.untested{fill:#cbd5e1}
.psi a:hover .label{text-decoration:underline}
table{width:100%;border-collapse:collapse;background:var(--card);border:1px solid var(--line);border-radius:12px;overflow:hidden}
th,td{padding:7px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:middle}
th{font-size:12px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);background:#f1f5f9}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr:last-child td{border-bottom:0}
tr.drift td:first-child{box-shadow:inset 3px 0 0 var(--drift)}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:16px;margin-top:16px}
.card header{display:flex;justify-content:space-between;align-items:center;gap:8px}
.card.drift{border-color:#fecaca}
.description{color:var(--muted);margin:2px 0 8px;font-size:13px}
dl{display:grid;grid-template-columns:64px 1fr;gap:3px 10px;margin:10px 0 0;font-size:13px}
dt{color:var(--muted)}
dd{margin:0}
dd b{white-space:nowrap}
.small{font-size:12px;margin:8px 0 0}
.muted{color:var(--muted)}
section{margin-top:28px}
footer{margin-top:36px;color:var(--muted);font-size:12.5px;border-top:1px solid var(--line);padding-top:14px}
footer p{margin:0 0 6px}
@media print{body{background:#fff}.panel,.card{box-shadow:none;break-inside:avoid}}
`;

/** The report as one HTML page (see the module comment). */
export function driftReportHtml(report: DriftReport, subject: DriftSubject): string {
  const { dataset, prediction } = report;
  const modelTitle = subject.model.name ?? subject.model.uri;
  const modelSub = [
    subject.model.version ? `version ${subject.model.version}` : null,
    subject.model.estimator,
  ]
    .filter(Boolean)
    .join(' · ');
  const when = `${subject.computedAt.replace('T', ' ').slice(0, 16)} UTC`;
  const datasetVerdict: Verdict = dataset.drifted ? 'drift' : 'stable';
  const predictionVerdict: Verdict | null = prediction ? verdictOf(prediction) : null;
  const ordered = driftOrder(report.features);
  const runText = subject.model.runId ? `, training run ${subject.model.runId.slice(0, 12)}` : '';
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`Drift · ${modelTitle}${subject.model.version ? ` v${subject.model.version}` : ''} · ${when}`)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<div class="eyebrow">Onset · data drift report</div>
<h1>${escapeHtml(modelTitle)} ${modelSub ? `<span class="sub">${escapeHtml(modelSub)}</span>` : ''}</h1>
<p class="meta">Current data <b>${escapeHtml(subject.currentSource)}</b> (${formatCount(report.current.rows)} patients) compared with the model's training data (${formatCount(report.reference.trainingRows)} patients${escapeHtml(runText)}) · ${escapeHtml(when)}</p>

<div class="summary">
<article class="panel verdict ${datasetVerdict}">
<h2>Dataset drift</h2>
<p class="big">${dataset.drifted ? 'Drift detected' : 'No dataset drift'}</p>
<p>${dataset.driftedFeatures} of ${dataset.features} features drifted (${formatPercent(dataset.share)}); the data set counts as drifted from ${formatPercent(dataset.driftShare)}.</p>
${waffle(report.features)}
<p class="muted small"><i class="swatch drift"></i>drifted <i class="swatch stable"></i>no drift · one square per feature</p>
${driftedList(ordered)}
</article>
<article class="panel verdict ${predictionVerdict ?? 'untested'}">
<h2>Prediction drift</h2>
${
  prediction
    ? `<p class="big">${predictionVerdict === 'drift' ? 'Predictions drifted' : predictionVerdict === 'stable' ? 'Predictions stable' : 'Not tested'}</p>
<p>${scoreLine(prediction)} · PSI ${formatScore(prediction.psi)} · ${escapeHtml(changeText(prediction))}</p>
${histogramSvg(prediction, { width: 360, height: 150 })}`
    : '<p class="big">Not tested</p><p>The current data has no predicted probabilities.</p>'
}
</article>
<article class="panel">
<h2>Largest moves (PSI)</h2>
${psiChart(report.features, 10)}
<p class="muted small">PSI on the training bins; below 0.1 is usually read as stable, above 0.25 as a major shift. Every feature is in the table below.</p>
</article>
</div>

<section>
<h2>Every feature</h2>
${legend()}
<table>
<thead><tr><th>Feature</th><th>Type</th><th>Test</th><th>Score</th><th>Drift when</th><th>Verdict</th><th>PSI</th><th>Change</th></tr></thead>
<tbody>
${ordered.map(tableRow).join('\n')}
</tbody>
</table>
</section>

<section>
<h2>Feature by feature</h2>
${legend()}
<div class="cards">
${ordered.map(card).join('\n')}
</div>
</section>

<footer>
<p><b>How to read this.</b> Each feature is tested as Evidently does by default: with at most 1,000 reference rows, the Kolmogorov-Smirnov test for numbers and the chi-square test for categories (a z-test for two values), drift when p &lt; 0.05 (KS: p ≤ 0.05); above 1,000, the Wasserstein distance divided by the training standard deviation for numbers and the Jensen-Shannon distance for categories, drift when ≥ 0.1. * marks a test asked for. The data set drifts when at least ${formatPercent(dataset.driftShare)} of its features do.</p>
<p>The tests compare the current data with a sample of ${formatCount(report.reference.sampleRows)} training rows. The histograms and the PSI use bins fixed on all ${formatCount(report.reference.trainingRows)} training rows: deciles for numbers (each training bar holds about a tenth of the patients), with a shaded bin at either end, shown when it holds anyone, for values below or above the whole training range; one bin per value for categories. PSI below 0.1 is usually read as stable, 0.1 to 0.25 as a moderate shift, above 0.25 as a major one.</p>
<p>Training probabilities: ${escapeHtml(PROBABILITY_SOURCE_TEXT[report.reference.probabilitySource])}. Reference: ${escapeHtml(subject.referenceSource)}. Model: ${escapeHtml(subject.model.uri)}. Computed in ${subject.seconds.toFixed(2)} s by onset monitor drift.</p>
</footer>
</main>
</body>
</html>
`;
  return html;
}

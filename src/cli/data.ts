import { type Command, Option } from 'commander';
import { assertIngested, formatIssue, type IngestReport, ingestCsvFile } from '../data/csv-reader.js';
import { generateDataset, writeKaggleCsv } from '../data/generator/generator.js';
import { type DatasetProfile, type FeatureProfile, profileDataset } from '../data/profile.js';
import {
  CONFIDENTIAL_COLUMNS,
  describeCodes,
  describeValues,
  FEATURE_GROUP_LABELS,
  FEATURES,
  ID_COLUMN,
  TARGET,
} from '../data/schema.js';
import { datasetProfileJson, ingestReportJson } from './json-views.js';
import { integerArgument, policyOption, positiveIntegerArgument } from './options.js';
import { formatDecimals, formatPercent, marks, printJson, renderTable } from './output.js';

const TEXT_ISSUE_LIMIT = 20;

export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('validate, profile and generate patient data files');

  data
    .command('validate')
    .description('check a CSV file against the feature schema and report every problem')
    .argument('<file>', 'CSV file in the layout of the Kaggle file (columns in any order)')
    .option('--json', 'print the full report as JSON (every issue)')
    .option('--require-target', 'require a Diagnosis column with 0/1 in every row (as training does)')
    .addOption(policyOption())
    .addOption(missingOption())
    .action(async (file: string, options: ValidateOptions) => {
      const { report } = await ingestCsvFile(file, {
        policy: options.policy,
        target: options.requireTarget ? 'required' : 'optional',
        missingFeatures: options.missing,
      });
      if (options.json) printJson(ingestReportJson(report));
      else process.stdout.write(renderValidation(report));
      if (!report.valid) process.exitCode = 1;
    });

  data
    .command('profile')
    .description(
      'describe every feature (range, mean, quantiles, missing, code shares) and the class balance',
    )
    .argument('<file>', 'CSV file to profile')
    .option('--json', 'print the profile as JSON')
    .addOption(policyOption())
    .action(async (file: string, options: { json?: boolean; policy: 'fail' | 'skip' }) => {
      const { dataset, report } = assertIngested(await ingestCsvFile(file, { policy: options.policy }));
      const profile = profileDataset(dataset);
      if (options.json) printJson(datasetProfileJson(profile));
      else process.stdout.write(renderProfile(profile, report));
    });

  data
    .command('schema')
    .description('print the feature schema: every column with its group, kind, unit, range or codes')
    .option('--json', 'print the schema as JSON')
    .action((options: { json?: boolean }) => {
      if (options.json) {
        printJson({ id: ID_COLUMN, features: FEATURES, target: TARGET, confidential: CONFIDENTIAL_COLUMNS });
      } else {
        process.stdout.write(renderSchema());
      }
    });

  data
    .command('generate')
    .description(
      'write a synthetic data set in the exact layout of the Kaggle file (calibrated on the real one)',
    )
    .requiredOption('-o, --output <file>', 'CSV file to write')
    .option('-n, --rows <n>', 'number of patients', positiveIntegerArgument, 2105)
    .option(
      '-s, --seed <seed>',
      'random seed: the same seed gives the same file, byte for byte',
      integerArgument,
      42,
    )
    .option('--json', 'print a JSON summary')
    .action(async (options: { output: string; rows: number; seed: number; json?: boolean }) => {
      const dataset = generateDataset({ rows: options.rows, seed: options.seed });
      await writeKaggleCsv(options.output, dataset);
      const positives = dataset.target!.reduce((sum: number, value: number) => sum + value, 0);
      const summary = {
        output: options.output,
        rows: dataset.rowCount,
        seed: options.seed,
        positive_rate: positives / dataset.rowCount,
      };
      if (options.json) printJson(summary);
      else {
        process.stdout.write(
          `${marks().ok} wrote ${summary.rows} generated patients to ${summary.output} (seed ${summary.seed}, Diagnosis rate ${formatPercent(summary.positive_rate)})\n`,
        );
      }
    });
}

interface ValidateOptions {
  json?: boolean;
  requireTarget?: boolean;
  policy: 'fail' | 'skip';
  missing: 'allow' | 'reject';
}

function missingOption(): Option {
  return new Option(
    '--missing <mode>',
    'missing feature values: allow keeps them as missing, reject makes them errors',
  )
    .choices(['allow', 'reject'])
    .default('allow');
}

export function renderValidation(report: IngestReport): string {
  const mark = marks();
  const lines: string[] = [];
  if (report.valid) {
    lines.push(`${mark.ok} ${report.source} is valid`);
  } else if (!report.readable) {
    lines.push(`${mark.fail} ${report.source} cannot be read as a data set`);
  } else {
    lines.push(
      `${mark.fail} ${report.source} has ${report.errorCount} error(s) in ${report.rowsInvalid} of ${report.rowsRead} row(s)`,
    );
  }
  if (report.readable) {
    lines.push(
      `  rows: ${report.rowsRead} read, ${report.rowsValid} valid, ${report.rowsInvalid} invalid` +
        (report.policy === 'skip' ? `, ${report.rowsSkipped} skipped, ${report.rowsAccepted} accepted` : ''),
    );
    lines.push(
      `  Diagnosis column: ${report.hasTarget ? 'present' : 'absent'} · PatientID column: ${report.hasPatientId ? 'present' : 'absent'}`,
    );
  }
  if (report.columns.dropped.length > 0) {
    lines.push(`  dropped confidential column(s): ${report.columns.dropped.join(', ')}`);
  }
  if (report.fingerprint) lines.push(`  fingerprint: ${report.fingerprint}`);

  const errors = report.issues.filter((issue) => issue.severity === 'error');
  const warnings = report.issues.filter((issue) => issue.severity === 'warning');
  if (errors.length > 0) {
    lines.push('', 'Errors:');
    for (const issue of errors.slice(0, TEXT_ISSUE_LIMIT)) lines.push(`  ${formatIssue(issue)}`);
    if (report.errorCount > TEXT_ISSUE_LIMIT) {
      lines.push(`  … and ${report.errorCount - TEXT_ISSUE_LIMIT} more (use --json to see all)`);
    }
    const byRule = Object.entries(report.errorsByRule)
      .map(([rule, count]) => `${rule} ${count}`)
      .join(', ');
    lines.push(`  by rule: ${byRule}`);
  }
  if (warnings.length > 0) {
    lines.push('', 'Warnings:');
    for (const issue of warnings.slice(0, TEXT_ISSUE_LIMIT)) lines.push(`  ${formatIssue(issue)}`);
    if (report.warningCount > TEXT_ISSUE_LIMIT)
      lines.push(`  … and ${report.warningCount - TEXT_ISSUE_LIMIT} more`);
  }
  return `${lines.join('\n')}\n`;
}

/** The profile's statistics all have two decimals: the features' units (years, mg/dL, scores) need no more. */
const PROFILE_DECIMALS = 2;

export function renderProfile(profile: DatasetProfile, report: IngestReport): string {
  const continuous = profile.features.filter((feature) => feature.kind === 'continuous');
  const coded = profile.features.filter((feature) => feature.kind !== 'continuous');
  const quantile = (q: number) => (feature: FeatureProfile) =>
    formatDecimals(feature.quantiles.find((entry) => entry.q === q)?.value, PROFILE_DECIMALS);
  const lines = [
    `${report.source}: ${profile.rowCount} rows, fingerprint ${profile.fingerprint}`,
    '',
    'Continuous features',
    renderTable(continuous, [
      { header: 'feature', value: (f) => f.name },
      { header: 'missing', value: (f) => String(f.missing), align: 'right' },
      { header: 'min', value: (f) => formatDecimals(f.min, PROFILE_DECIMALS), align: 'right' },
      { header: 'p05', value: quantile(0.05), align: 'right' },
      { header: 'p25', value: quantile(0.25), align: 'right' },
      { header: 'median', value: quantile(0.5), align: 'right' },
      { header: 'mean', value: (f) => formatDecimals(f.mean, PROFILE_DECIMALS), align: 'right' },
      { header: 'p75', value: quantile(0.75), align: 'right' },
      { header: 'p95', value: quantile(0.95), align: 'right' },
      { header: 'max', value: (f) => formatDecimals(f.max, PROFILE_DECIMALS), align: 'right' },
      { header: 'std', value: (f) => formatDecimals(f.std, PROFILE_DECIMALS), align: 'right' },
    ]),
    '',
    'Binary and categorical features (share of each code)',
    renderTable(coded, [
      { header: 'feature', value: (f) => f.name },
      { header: 'missing', value: (f) => String(f.missing), align: 'right' },
      {
        header: 'codes',
        value: (f) =>
          (f.codes ?? []).map((c) => `${c.code} ${c.label}: ${formatPercent(c.share)}`).join(' · '),
      },
    ]),
  ];
  if (profile.target) {
    const classes = profile.target.classes.map(
      (c) => `${c.code} ${c.label}: ${c.count} (${formatPercent(c.share)})`,
    );
    lines.push(
      '',
      `Class balance (Diagnosis): ${classes.join(' · ')}${profile.target.missing ? ` · missing: ${profile.target.missing}` : ''}`,
    );
  } else {
    lines.push('', 'Class balance: the file has no Diagnosis column');
  }
  return `${lines.join('\n')}\n`;
}

export function renderSchema(): string {
  const lines = [
    `${ID_COLUMN}: patient identifier (optional; must be unique; never a model input)`,
    '',
    renderTable(FEATURES, [
      { header: 'feature', value: (f) => f.name },
      { header: 'group', value: (f) => FEATURE_GROUP_LABELS[f.group] },
      { header: 'kind', value: (f) => f.kind },
      {
        header: 'valid values',
        value: (f) => describeValues(f),
      },
    ]),
    '',
    `${TARGET.name}: target, ${describeCodes(TARGET.codes)}`,
    `${CONFIDENTIAL_COLUMNS.join(', ')}: confidential, dropped at ingestion and never stored or logged`,
  ];
  return `${lines.join('\n')}\n`;
}

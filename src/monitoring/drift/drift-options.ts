/**
 * The choices a drift check takes beyond its defaults: the test and the threshold of a column, and the
 * share of drifted features that makes the data set drifted. Every name is checked, and an unknown one
 * is refused with the list of known ones.
 */
import { PROBABILITY_COLUMN, type ProfileColumnName } from '../../data/reference-profile.js';
import { FEATURE_NAMES, FEATURES, isFeatureName } from '../../data/schema.js';
import { invalidParameter } from '../../errors.js';
import {
  type ColumnType,
  isStatTestName,
  STAT_TEST_NAMES,
  STAT_TESTS,
  type StatTestName,
} from './stat-tests.js';

/** Evidently's default: the data set drifts when at least half of its features do. */
export const DEFAULT_DRIFT_SHARE = 0.5;

export interface DriftOptions {
  /** The test of a column instead of Evidently's default choice (a feature, or `probability`). */
  readonly tests?: Readonly<Partial<Record<ProfileColumnName, StatTestName>>>;
  /** The threshold of a column instead of its test's default. */
  readonly thresholds?: Readonly<Partial<Record<ProfileColumnName, number>>>;
  /** The share of drifted features (0 to 1) at which the data set counts as drifted; default 0.5. */
  readonly driftShare?: number;
}

/** The columns a drift check tests: the 32 features, then the model's predicted probability. */
export const DRIFT_COLUMNS: readonly ProfileColumnName[] = [...FEATURE_NAMES, PROBABILITY_COLUMN];

/** How Evidently treats a column: continuous features and the probability as numbers, codes as categories. */
export function columnTypeOf(column: ProfileColumnName): ColumnType {
  if (column === PROBABILITY_COLUMN) return 'numerical';
  return FEATURES.find((feature) => feature.name === column)!.kind === 'continuous'
    ? 'numerical'
    : 'categorical';
}

function describeColumnType(column: ProfileColumnName): string {
  if (column === PROBABILITY_COLUMN) return 'numerical (the predicted probability)';
  const feature = FEATURES.find((entry) => entry.name === column)!;
  return feature.kind === 'continuous' ? 'numerical' : `categorical (${feature.kind})`;
}

/** A column name as given, or an error naming it and every known column (with a close match, if any). */
export function checkColumnName(name: string, where: string): ProfileColumnName {
  if (name === PROBABILITY_COLUMN || isFeatureName(name)) return name;
  const close = DRIFT_COLUMNS.find((column) => column.toLowerCase() === name.toLowerCase());
  throw invalidParameter(
    `Unknown feature "${name}" in ${where}${close ? ` (did you mean ${close}?)` : ''}; the features are ${FEATURE_NAMES.join(', ')}, and ${PROBABILITY_COLUMN} is the model's prediction`,
  );
}

/** A test name for a column, or an error naming the known tests, or those that apply to the column. */
export function checkStatTest(column: ProfileColumnName, name: string, where: string): StatTestName {
  if (!isStatTestName(name)) {
    throw invalidParameter(
      `Unknown test "${name}" in ${where}; the tests are ${STAT_TEST_NAMES.map((test) => `${test} (${STAT_TESTS[test].description}; ${STAT_TESTS[test].appliesTo.join(' or ')})`).join(', ')}`,
    );
  }
  const type = columnTypeOf(column);
  if (!STAT_TESTS[name].appliesTo.includes(type)) {
    const usable = STAT_TEST_NAMES.filter((test) => STAT_TESTS[test].appliesTo.includes(type));
    throw invalidParameter(
      `The test ${name} applies to ${STAT_TESTS[name].appliesTo.join(' or ')} columns, and ${column} is ${describeColumnType(column)} (in ${where}); its tests are ${usable.join(', ')}`,
    );
  }
  return name;
}

function checkThreshold(column: ProfileColumnName, value: number, where: string, given: string): number {
  if (!Number.isFinite(value) || value < 0) {
    throw invalidParameter(
      `The threshold of ${column} must be a number of at least 0, got ${given} (in ${where})`,
    );
  }
  return value;
}

/** Checks every name and value of `options`, returning them typed; the errors say what is wrong and where. */
export function checkDriftOptions(options: DriftOptions = {}): Required<DriftOptions> {
  const tests: Partial<Record<ProfileColumnName, StatTestName>> = {};
  for (const [name, test] of Object.entries(options.tests ?? {})) {
    const column = checkColumnName(name, 'the test overrides');
    tests[column] = checkStatTest(column, String(test), `the test of ${column}`);
  }
  const thresholds: Partial<Record<ProfileColumnName, number>> = {};
  for (const [name, value] of Object.entries(options.thresholds ?? {})) {
    const column = checkColumnName(name, 'the threshold overrides');
    thresholds[column] = checkThreshold(column, Number(value), 'the threshold overrides', String(value));
  }
  const driftShare = options.driftShare ?? DEFAULT_DRIFT_SHARE;
  if (!(driftShare >= 0 && driftShare <= 1)) {
    throw invalidParameter(`The drift share must be a number from 0 to 1, got ${driftShare}`);
  }
  return { tests, thresholds, driftShare };
}

/**
 * Two sets of options as one: `over`'s tests and thresholds replace `base`'s column by column, and its
 * drift share replaces `base`'s.
 */
export function mergeDriftOptions(base: DriftOptions = {}, over: DriftOptions = {}): DriftOptions {
  const driftShare = over.driftShare ?? base.driftShare;
  return {
    tests: { ...base.tests, ...over.tests },
    thresholds: { ...base.thresholds, ...over.thresholds },
    ...(driftShare === undefined ? {} : { driftShare }),
  };
}

/** The choices of `options` that differ from the defaults, in words (empty when there are none). */
export function describeDriftOptions(options: DriftOptions = {}): string {
  const parts = [
    ...Object.entries(options.tests ?? {}).map(([column, test]) => `${column} by ${test}`),
    ...Object.entries(options.thresholds ?? {}).map(([column, value]) => `${column} at ${value}`),
    ...(options.driftShare === undefined || options.driftShare === DEFAULT_DRIFT_SHARE
      ? []
      : [`drift share ${options.driftShare}`]),
  ];
  return parts.join(', ');
}

/** Splits `NAME=VALUE` (the form of `--test` and `--threshold`), or says what the form is. */
function splitAssignment(assignment: string, flag: string, example: string): [string, string] {
  const at = assignment.indexOf('=');
  if (at <= 0 || at === assignment.length - 1) {
    throw invalidParameter(`${flag} takes FEATURE=VALUE (e.g. ${flag} ${example}), got "${assignment}"`);
  }
  return [assignment.slice(0, at).trim(), assignment.slice(at + 1).trim()];
}

/** A number as the command line writes it (no hex, no Infinity), or NaN. */
function parseDecimal(text: string): number {
  return /^[+]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) : Number.NaN;
}

/**
 * Drift options from the command line's repeated `--test FEATURE=TEST` and `--threshold FEATURE=X`
 * flags and its `--drift-share X`, each checked (unknown features and tests, tests that do not apply,
 * thresholds and shares that are not numbers are errors naming the flag).
 */
export function driftOptionsFromAssignments(
  testAssignments: readonly string[],
  thresholdAssignments: readonly string[],
  driftShareText?: string,
): Required<DriftOptions> {
  const tests: Partial<Record<ProfileColumnName, StatTestName>> = {};
  for (const assignment of testAssignments) {
    const [name, test] = splitAssignment(assignment, '--test', 'Age=ks');
    const where = `--test ${assignment}`;
    const column = checkColumnName(name, where);
    tests[column] = checkStatTest(column, test, where);
  }
  const thresholds: Partial<Record<ProfileColumnName, number>> = {};
  for (const assignment of thresholdAssignments) {
    const [name, text] = splitAssignment(assignment, '--threshold', 'Age=0.2');
    const where = `--threshold ${assignment}`;
    const column = checkColumnName(name, where);
    thresholds[column] = checkThreshold(column, parseDecimal(text), where, `"${text}"`);
  }
  const driftShare = driftShareText === undefined ? DEFAULT_DRIFT_SHARE : parseDecimal(driftShareText.trim());
  if (!(driftShare >= 0 && driftShare <= 1)) {
    throw invalidParameter(`--drift-share takes a number from 0 to 1, got "${driftShareText}"`);
  }
  return { tests, thresholds, driftShare };
}

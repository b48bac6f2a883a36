import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { CsvError } from 'csv-parse';
import { OnsetError } from '../errors.js';
import { forEachCsvRecord } from './csv-records.js';
import { createDataset, type Dataset } from './dataset.js';
import { fingerprintDataset } from './fingerprint.js';
import {
  CONFIDENTIAL_COLUMNS,
  checkFeatureValue,
  describeCodes,
  FEATURE_NAMES,
  FEATURES,
  type FeatureName,
  ID_COLUMN,
  parseNumber,
  SCHEMA_TRAINING_RANGES,
  TARGET,
  TARGET_COLUMN,
  type TrainingRanges,
  VALID_INTERVALS,
} from './schema.js';

/** What to do with a row that breaks a rule: refuse the whole file (default) or skip the row and report it. */
export type InvalidRowPolicy = 'fail' | 'skip';

/**
 * `required`: the file must have a Diagnosis column with a 0/1 value in every row (training, evaluation).
 * `optional`: a Diagnosis column is validated when present, and empty cells are allowed (scoring).
 */
export type TargetRequirement = 'required' | 'optional';

export interface ReadOptions {
  readonly policy?: InvalidRowPolicy;
  readonly target?: TargetRequirement;
  /** `allow` (default) keeps missing feature values as NaN and counts them; `reject` makes them errors. */
  readonly missingFeatures?: 'allow' | 'reject';
  /** A name for the input used in messages (defaults to the file path). */
  readonly sourceName?: string;
  /** How many issues to keep in the report; counts stay exact beyond it. Default 100,000. */
  readonly maxIssues?: number;
  /**
   * The ranges a possible value is warned about outside of (`outside_training_range`): a model's own when
   * the file is to be scored by it, else the schema's (the documented data set's).
   */
  readonly trainingRanges?: TrainingRanges;
}

export type IssueRule =
  | 'empty_file'
  | 'malformed_csv'
  | 'missing_column'
  | 'duplicate_column'
  | 'extra_column'
  | 'wrong_field_count'
  | 'missing_value'
  | 'not_numeric'
  | 'not_finite'
  | 'out_of_range'
  | 'outside_training_range'
  | 'not_binary'
  | 'unknown_code'
  | 'missing_target'
  | 'missing_id'
  | 'duplicate_id';

/** One problem found in an input file. Rows are numbered from 1 after the header; lines as in the file. */
export interface DataIssue {
  readonly severity: 'error' | 'warning';
  readonly rule: IssueRule;
  /** Data row number (1 = first row after the header); null for problems with the file or header. */
  readonly row: number | null;
  /** Line number in the file where the record ends (1 = header line). */
  readonly line: number | null;
  readonly column: string | null;
  /** The offending value as written in the file; null when not applicable. Never a confidential column. */
  readonly value: string | null;
  readonly message: string;
}

export interface IngestReport {
  readonly source: string;
  readonly policy: InvalidRowPolicy;
  /** True when the file has no errors (warnings are allowed). */
  readonly valid: boolean;
  /** False when the file could not be read at all (missing columns, malformed CSV, empty file). */
  readonly readable: boolean;
  /** Data rows read: `rowsValid + rowsInvalid`. */
  readonly rowsRead: number;
  readonly rowsValid: number;
  /** Rows with at least one error. With the `skip` policy these are the rows left out. */
  readonly rowsInvalid: number;
  readonly rowsSkipped: number;
  /** Rows in the resulting data set (0 when the `fail` policy refused the file). */
  readonly rowsAccepted: number;
  readonly errorCount: number;
  readonly warningCount: number;
  /** Exact error counts per rule, even when `issues` was truncated. */
  readonly errorsByRule: Readonly<Partial<Record<IssueRule, number>>>;
  /** Exact warning counts per rule. */
  readonly warningsByRule: Readonly<Partial<Record<IssueRule, number>>>;
  readonly issues: readonly DataIssue[];
  readonly issuesTruncated: boolean;
  readonly columns: {
    /** Header as found in the file, confidential columns included by name only. */
    readonly found: readonly string[];
    readonly missing: readonly string[];
    readonly extra: readonly string[];
    /** Confidential columns present in the file and dropped at ingestion. */
    readonly dropped: readonly string[];
  };
  readonly hasTarget: boolean;
  readonly hasPatientId: boolean;
  /** Missing values kept as NaN, per feature (only features with at least one). */
  readonly missingValues: Readonly<Partial<Record<FeatureName, number>>>;
  /** Fingerprint of the accepted rows (see `fingerprintDataset`), or null when no data set was produced. */
  readonly fingerprint: string | null;
}

export interface IngestResult {
  /** The accepted rows; undefined when the file was unreadable or refused under the `fail` policy. */
  readonly dataset: Dataset | undefined;
  readonly report: IngestReport;
}

const MISSING_TOKENS = new Set(['', 'na', 'n/a', 'nan', 'null', 'none', '?']);
const LONGEST_MISSING_TOKEN = Math.max(...[...MISSING_TOKENS].map((token) => token.length));

/** Whether a cell says "no value" (a number is never lowered to compare: most cells are numbers). */
function isMissing(raw: string): boolean {
  return raw.length <= LONGEST_MISSING_TOKEN && MISSING_TOKENS.has(raw.toLowerCase());
}

/**
 * Reads a CSV file into a columnar data set and a report of every problem found. Never throws for bad
 * content (the report says what is wrong); throws an `OnsetError` only when the file cannot be opened.
 */
export async function ingestCsvFile(path: string, options: ReadOptions = {}): Promise<IngestResult> {
  await dataFileSize(path);
  return ingestCsv(createReadStream(path), { sourceName: path, ...options });
}

/**
 * Reads a data set from a CSV file, throwing an `OnsetError` (code INVALID_PARAMETER_VALUE, the report in
 * `details`) when the file is unreadable or, under the `fail` policy, has any error.
 */
export async function readDatasetFile(
  path: string,
  options: ReadOptions = {},
): Promise<IngestResult & { dataset: Dataset }> {
  const result = await ingestCsvFile(path, options);
  return assertIngested(result);
}

/** Throws the error `readDatasetFile` throws when `result` holds no data set. */
export function assertIngested(result: IngestResult): IngestResult & { dataset: Dataset } {
  if (result.dataset !== undefined) return { dataset: result.dataset, report: result.report };
  const { report } = result;
  const first = report.issues.filter((issue) => issue.severity === 'error').slice(0, 3);
  const more = report.errorCount - first.length;
  throw new OnsetError(
    'INVALID_PARAMETER_VALUE',
    `${report.source} is not a valid data set: ${first.map(formatIssue).join('; ')}${more > 0 ? `; and ${more} more error(s)` : ''}`,
    { details: report },
  );
}

/** One issue as a line of text: where, what value, which rule. */
export function formatIssue(issue: DataIssue): string {
  const where = [
    issue.row !== null ? `row ${issue.row}` : null,
    issue.line !== null ? `line ${issue.line}` : null,
    issue.column !== null ? `column ${issue.column}` : null,
  ]
    .filter((part) => part !== null)
    .join(', ');
  const value = issue.value !== null ? ` value ${JSON.stringify(issue.value)}:` : '';
  return `${where ? `${where}:` : ''}${value} ${issue.message} [${issue.rule}]`.trim();
}

/** The size in bytes of a data file, or the error a user should see when it is missing or not a file. */
export async function dataFileSize(path: string): Promise<number> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    throw new OnsetError('RESOURCE_DOES_NOT_EXIST', `Data file not found: ${path}`);
  }
  if (!info.isFile()) {
    throw new OnsetError('INVALID_PARAMETER_VALUE', `Not a file: ${path}`);
  }
  return Number(info.size);
}

interface ColumnPlan {
  readonly featureIndex: Int32Array; // field index per feature (schema order)
  readonly targetIndex: number; // -1 when absent
  readonly idIndex: number; // -1 when absent
}

/** One data row as read and validated by `scanCsv`. */
export interface ScannedRow {
  /** Data row number (1 = first row after the header). */
  readonly row: number;
  readonly line: number;
  /** False when the row broke a rule (its issues are in the report); its values are then partial. */
  readonly valid: boolean;
  /** Feature values in schema order (NaN = missing). A buffer reused for the next row: copy to keep. */
  readonly features: Float64Array;
  /** Diagnosis, or NaN when absent or empty. */
  readonly target: number;
  /** PatientID, or undefined when the file has no such column. */
  readonly patientId: string | undefined;
}

/** What `scanCsv` found, before a consumer decides which rows it kept. */
export interface ScanSummary {
  readonly source: string;
  readonly policy: InvalidRowPolicy;
  readonly readable: boolean;
  readonly rowsRead: number;
  readonly rowsInvalid: number;
  readonly errorCount: number;
  readonly warningCount: number;
  readonly errorsByRule: Readonly<Partial<Record<IssueRule, number>>>;
  readonly warningsByRule: Readonly<Partial<Record<IssueRule, number>>>;
  readonly issues: readonly DataIssue[];
  readonly columns: IngestReport['columns'];
  readonly hasTarget: boolean;
  readonly hasPatientId: boolean;
  readonly missingValues: Readonly<Partial<Record<FeatureName, number>>>;
}

/**
 * Reads and validates CSV text row by row, calling `onRow` for every data row (valid or not, in file
 * order; awaited, so a consumer can write as it goes). Never throws for bad content: every problem is
 * collected into the summary with its row, line, column, value and rule.
 */
export async function scanCsv(
  input: Readable,
  options: ReadOptions,
  onRow: (row: ScannedRow) => void | Promise<void>,
): Promise<ScanSummary> {
  const policy = options.policy ?? 'fail';
  const targetRequirement = options.target ?? 'optional';
  const rejectMissing = options.missingFeatures === 'reject';
  const maxIssues = options.maxIssues ?? 100_000;
  const source = options.sourceName ?? 'input';
  const trainingRanges = options.trainingRanges ?? SCHEMA_TRAINING_RANGES;

  const issues: DataIssue[] = [];
  const errorsByRule: Partial<Record<IssueRule, number>> = {};
  const warningsByRule: Partial<Record<IssueRule, number>> = {};
  let errorCount = 0;
  let warningCount = 0;
  const addIssue = (issue: DataIssue): void => {
    const counts = issue.severity === 'error' ? errorsByRule : warningsByRule;
    counts[issue.rule] = (counts[issue.rule] ?? 0) + 1;
    if (issue.severity === 'error') errorCount++;
    else warningCount++;
    if (issues.length < maxIssues) issues.push(issue);
  };

  let header: string[] | undefined;
  let plan: ColumnPlan | undefined;
  let fatal = false;
  const columnsFound: string[] = [];
  const missingColumns: string[] = [];
  const extraColumns: string[] = [];
  const droppedColumns: string[] = [];
  const seenIds = new Map<string | number, number>();
  const missingCounts = new Array<number>(FEATURE_NAMES.length).fill(0);
  // Where each column's first kept missing value is, so the summary warning says where to look.
  const firstMissing = new Array<{ row: number; line: number } | undefined>(FEATURE_NAMES.length);
  // Possible values outside the training range: kept (a real patient), counted, warned about per column.
  const outsideCounts = new Array<number>(FEATURE_NAMES.length).fill(0);
  const firstOutside = new Array<{ row: number; line: number; value: string } | undefined>(
    FEATURE_NAMES.length,
  );
  const rowOutside: number[] = [];
  let rowsRead = 0;
  let rowsInvalid = 0;

  const rowFeatures = new Float64Array(FEATURE_NAMES.length);
  const { low: validLow, high: validHigh, whole: validWhole } = VALID_INTERVALS;
  const trainingLow = Float64Array.from(trainingRanges, (range) => range?.min ?? Number.NEGATIVE_INFINITY);
  const trainingHigh = Float64Array.from(trainingRanges, (range) => range?.max ?? Number.POSITIVE_INFINITY);
  const deliver = (scanned: ScannedRow): void | Promise<void> => {
    let outcome: void | Promise<void>;
    try {
      outcome = onRow(scanned);
    } catch (error) {
      throw new ConsumerFailure(error);
    }
    if (outcome === undefined) return;
    return Promise.resolve(outcome).catch((error: unknown) => {
      throw new ConsumerFailure(error);
    });
  };
  try {
    await forEachCsvRecord(input, (record) => {
      const { line } = record;
      if (header === undefined) {
        header = record.fields();
        columnsFound.push(...header);
        plan = planColumns(header, targetRequirement, addIssue, missingColumns, extraColumns, droppedColumns);
        if (plan === undefined) {
          fatal = true;
          return 'stop';
        }
        return;
      }
      const columnPlan = plan!;
      rowsRead++;
      const row = rowsRead;
      if (record.size !== header.length) {
        addIssue({
          severity: 'error',
          rule: 'wrong_field_count',
          row,
          line,
          column: null,
          value: null,
          message: `has ${record.size} fields; the header has ${header.length}`,
        });
        rowsInvalid++;
        rowFeatures.fill(Number.NaN);
        return deliver({
          row,
          line,
          valid: false,
          features: rowFeatures,
          target: Number.NaN,
          patientId: undefined,
        });
      }
      let rowHasError = false;
      const rowError = (issue: Omit<DataIssue, 'severity' | 'row' | 'line'>): void => {
        rowHasError = true;
        addIssue({ severity: 'error', row, line, ...issue });
      };

      for (let j = 0; j < FEATURE_NAMES.length; j++) {
        const feature = FEATURES[j]!;
        const field = columnPlan.featureIndex[j]!;
        rowFeatures[j] = Number.NaN;
        // Most cells are plain decimals, read in place; the rest are made into text and judged as such.
        let value = record.plainNumber(field);
        if (Number.isNaN(value)) {
          const raw = record.field(field);
          if (isMissing(raw)) {
            if (rejectMissing) {
              rowError({ rule: 'missing_value', column: feature.name, value: raw, message: 'is missing' });
            }
            continue;
          }
          const parsed = parseNumber(raw);
          if (parsed === undefined) {
            rowError({
              rule: 'not_numeric',
              column: feature.name,
              value: raw,
              message: `is not a number; ${feature.name} must be ${describeExpected(j)}`,
            });
            continue;
          }
          value = parsed;
        }
        const valid =
          value >= validLow[j]! && value <= validHigh[j]! && (validWhole[j] === 0 || Number.isInteger(value));
        const problem = valid ? undefined : checkFeatureValue(feature, value);
        if (problem !== undefined) {
          const raw = record.field(field);
          rowError({ rule: problem.rule, column: feature.name, value: raw, message: problem.message });
          continue;
        }
        if (value < trainingLow[j]! || value > trainingHigh[j]!) rowOutside.push(j);
        rowFeatures[j] = value;
      }

      let target = Number.NaN;
      if (columnPlan.targetIndex >= 0) {
        const raw = record.field(columnPlan.targetIndex);
        if (isMissing(raw)) {
          if (targetRequirement === 'required') {
            rowError({
              rule: 'missing_target',
              column: TARGET_COLUMN,
              value: raw,
              message: `is missing; ${TARGET_COLUMN} is required and must be 0 or 1`,
            });
          }
        } else if (parseNumber(raw) !== 0 && parseNumber(raw) !== 1) {
          rowError({
            rule: 'not_binary',
            column: TARGET_COLUMN,
            value: raw,
            message: `${TARGET_COLUMN} must be 0 or 1 (${describeCodes(TARGET.codes)})`,
          });
        } else {
          target = Number(raw);
        }
      }

      let patientId: string | undefined;
      if (columnPlan.idIndex >= 0) {
        patientId = record.field(columnPlan.idIndex);
        if (patientId === '') {
          rowError({
            rule: 'missing_id',
            column: ID_COLUMN,
            value: patientId,
            message: `${ID_COLUMN} is empty`,
          });
        } else {
          const key = idKey(patientId);
          const firstRow = seenIds.get(key);
          if (firstRow !== undefined) {
            rowError({
              rule: 'duplicate_id',
              column: ID_COLUMN,
              value: patientId,
              message: `${ID_COLUMN} repeats the one in row ${firstRow}`,
            });
          } else {
            seenIds.set(key, row);
          }
        }
      }

      if (rowHasError) {
        rowsInvalid++;
      } else {
        for (let j = 0; j < FEATURE_NAMES.length; j++) {
          if (!Number.isNaN(rowFeatures[j]!)) continue;
          missingCounts[j]!++;
          firstMissing[j] ??= { row, line };
        }
        for (const j of rowOutside) {
          outsideCounts[j]!++;
          firstOutside[j] ??= { row, line, value: record.field(columnPlan.featureIndex[j]!) };
        }
      }
      rowOutside.length = 0;
      return deliver({ row, line, valid: !rowHasError, features: rowFeatures, target, patientId });
    });
  } catch (error) {
    // A consumer's own failure is not a problem of the file: it propagates unchanged.
    if (error instanceof ConsumerFailure) throw error.failure;
    fatal = true;
    addIssue(csvErrorIssue(error));
  }

  if (header === undefined && !fatal) {
    fatal = true;
    addIssue({
      severity: 'error',
      rule: 'empty_file',
      row: null,
      line: null,
      column: null,
      value: null,
      message: 'the file is empty: expected a header line naming the columns',
    });
  }

  const missingValues: Partial<Record<FeatureName, number>> = {};
  FEATURE_NAMES.forEach((name, j) => {
    if (missingCounts[j]! > 0) missingValues[name] = missingCounts[j]!;
  });
  FEATURE_NAMES.forEach((name, j) => {
    const count = missingValues[name];
    const first = firstMissing[j];
    if (count !== undefined && first !== undefined) {
      addIssue({
        severity: 'warning',
        rule: 'missing_value',
        row: first.row,
        line: first.line,
        column: name,
        value: null,
        message: `${count} missing value(s) kept as missing (NaN), the first at row ${first.row} (line ${first.line})`,
      });
    }
  });

  FEATURE_NAMES.forEach((name, j) => {
    const first = firstOutside[j];
    const range = trainingRanges[j];
    if (first === undefined || range === undefined) return;
    const feature = FEATURES[j]!;
    const unit = feature.kind === 'continuous' ? ` ${feature.unit}` : '';
    addIssue({
      severity: 'warning',
      rule: 'outside_training_range',
      row: first.row,
      line: first.line,
      column: name,
      value: first.value,
      message: `${outsideCounts[j]} value(s) outside the training range ${range.min} to ${range.max}${unit}, kept (possible, but unlike the data models were trained on), the first at row ${first.row} (line ${first.line})`,
    });
  });

  return {
    source,
    policy,
    readable: !fatal,
    rowsRead,
    rowsInvalid,
    errorCount,
    warningCount,
    errorsByRule,
    warningsByRule,
    issues,
    columns: { found: columnsFound, missing: missingColumns, extra: extraColumns, dropped: droppedColumns },
    hasTarget: plan !== undefined && plan.targetIndex >= 0,
    hasPatientId: plan !== undefined && plan.idIndex >= 0,
    missingValues,
  };
}

/**
 * A patient id as a key of the ids seen: a whole number written the one way it can be ("0", "3058": no
 * sign, point or leading zero; at most 15 digits) becomes that number, which a map keeps in a fraction of
 * the memory a string takes; any other id stays text. No text becomes a number another id's text also
 * becomes, so two ids share a key only when they are the same.
 */
function idKey(id: string): string | number {
  const length = id.length;
  if (length === 0 || length > 15 || (id.charCodeAt(0) === 48 && length > 1)) return id;
  let value = 0;
  for (let k = 0; k < length; k++) {
    const digit = id.charCodeAt(k) - 48;
    if (digit < 0 || digit > 9) return id;
    value = value * 10 + digit;
  }
  return value;
}

/** Wraps an error thrown by a `scanCsv` consumer, so it is not mistaken for a CSV problem. */
class ConsumerFailure extends Error {
  constructor(readonly failure: unknown) {
    super('scanCsv consumer failed', { cause: failure });
  }
}

/**
 * The report of a scan, given what the consumer kept: `accepted` rows (none when it refused the file)
 * and the fingerprint of what it produced.
 */
export function reportOf(
  scan: ScanSummary,
  produced: { accepted: number; fingerprint: string | null } | undefined,
): IngestReport {
  const { issues, errorsByRule, warningsByRule, ...rest } = scan;
  const valid = scan.readable && scan.errorCount === 0;
  return {
    ...rest,
    valid,
    rowsValid: scan.rowsRead - scan.rowsInvalid,
    rowsSkipped: produced !== undefined ? scan.rowsInvalid : 0,
    rowsAccepted: produced?.accepted ?? 0,
    errorsByRule,
    warningsByRule,
    issues,
    issuesTruncated: scan.errorCount + scan.warningCount > issues.length,
    fingerprint: produced?.fingerprint ?? null,
  };
}

/** Reads CSV text from a stream into a data set. See `ingestCsvFile`. */
export async function ingestCsv(input: Readable, options: ReadOptions = {}): Promise<IngestResult> {
  const values: number[][] = FEATURE_NAMES.map(() => []);
  const targetValues: number[] = [];
  const ids: string[] = [];
  const scan = await scanCsv(input, options, (row) => {
    if (!row.valid) return;
    for (let j = 0; j < FEATURE_NAMES.length; j++) values[j]!.push(row.features[j]!);
    targetValues.push(row.target);
    if (row.patientId !== undefined) ids.push(row.patientId);
  });
  const valid = scan.readable && scan.errorCount === 0;
  if (!scan.readable || (!valid && scan.policy !== 'skip')) {
    return { dataset: undefined, report: reportOf(scan, undefined) };
  }
  const columns = {} as Record<FeatureName, Float64Array>;
  FEATURE_NAMES.forEach((name, j) => {
    columns[name] = Float64Array.from(values[j]!);
  });
  const dataset = createDataset({
    columns,
    target: scan.hasTarget ? Float64Array.from(targetValues) : undefined,
    patientIds: scan.hasPatientId ? ids : undefined,
  });
  return {
    dataset,
    report: reportOf(scan, { accepted: dataset.rowCount, fingerprint: fingerprintDataset(dataset) }),
  };
}

function planColumns(
  header: readonly string[],
  targetRequirement: TargetRequirement,
  addIssue: (issue: DataIssue) => void,
  missing: string[],
  extra: string[],
  dropped: string[],
): ColumnPlan | undefined {
  const headerIssue = (
    rule: IssueRule,
    column: string,
    message: string,
    severity: 'error' | 'warning' = 'error',
  ) => addIssue({ severity, rule, row: null, line: 1, column, value: null, message });

  const positions = new Map<string, number[]>();
  header.forEach((name, index) => {
    positions.set(name, [...(positions.get(name) ?? []), index]);
  });
  const known = new Set<string>([...FEATURE_NAMES, TARGET_COLUMN, ID_COLUMN]);
  const confidential = new Set<string>(CONFIDENTIAL_COLUMNS);
  let ok = true;

  for (const [name, at] of positions) {
    if (at.length > 1) {
      const columnsText = at.map((index) => index + 1).join(', ');
      if (known.has(name)) {
        ok = false;
        headerIssue(
          'duplicate_column',
          name,
          `column ${name} appears ${at.length} times (columns ${columnsText})`,
        );
      } else if (!confidential.has(name)) {
        headerIssue(
          'duplicate_column',
          name,
          `extra column ${name} appears ${at.length} times (columns ${columnsText}); ignored`,
          'warning',
        );
      }
    }
    if (confidential.has(name)) {
      dropped.push(name);
    } else if (!known.has(name)) {
      extra.push(name);
      headerIssue(
        'extra_column',
        name === '' ? '(unnamed)' : name,
        'is not part of the schema; ignored',
        'warning',
      );
    }
  }

  const required = [...FEATURE_NAMES, ...(targetRequirement === 'required' ? [TARGET_COLUMN] : [])];
  for (const name of required) {
    if (!positions.has(name)) {
      ok = false;
      missing.push(name);
      const similar = header.find((candidate) => candidate.toLowerCase() === name.toLowerCase());
      headerIssue(
        'missing_column',
        name,
        `required column ${name} is missing${similar !== undefined ? ` (found "${similar}": column names are case-sensitive)` : ''}`,
      );
    }
  }
  if (!ok) return undefined;
  return {
    featureIndex: Int32Array.from(FEATURE_NAMES.map((name) => positions.get(name)![0]!)),
    targetIndex: positions.get(TARGET_COLUMN)?.[0] ?? -1,
    idIndex: positions.get(ID_COLUMN)?.[0] ?? -1,
  };
}

function describeExpected(featureIndex: number): string {
  const feature = FEATURES[featureIndex]!;
  switch (feature.kind) {
    case 'continuous':
      return `a number between ${feature.limits.min} and ${feature.limits.max}`;
    case 'binary':
      return '0 or 1';
    case 'categorical':
      return `one of the codes ${describeCodes(feature.codes)}`;
  }
}

function csvErrorIssue(error: unknown): DataIssue {
  if (error instanceof CsvError) {
    const lines = typeof error.lines === 'number' ? error.lines : null;
    const records = typeof error.records === 'number' ? error.records : null;
    return {
      severity: 'error',
      rule: 'malformed_csv',
      row: records !== null && records > 0 ? records : null,
      line: lines,
      column: null,
      value: null,
      message: `the file is not valid CSV: ${error.message} (${error.code})`,
    };
  }
  return {
    severity: 'error',
    rule: 'malformed_csv',
    row: null,
    line: null,
    column: null,
    value: null,
    message: `the file could not be read: ${error instanceof Error ? error.message : String(error)}`,
  };
}

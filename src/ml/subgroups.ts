import { FEATURE_NAMES, getFeature } from '../data/schema.js';

/** The age bands subgroups are compared in (the real file's patients are 50 to 89). */
export const AGE_BANDS = [
  { label: '50-59', low: 50, high: 60 },
  { label: '60-69', low: 60, high: 70 },
  { label: '70-79', low: 70, high: 80 },
  { label: '80-90', low: 80, high: 91 },
] as const;

const GENDER = FEATURE_NAMES.indexOf('Gender');
const ETHNICITY = FEATURE_NAMES.indexOf('Ethnicity');
const AGE = FEATURE_NAMES.indexOf('Age');

/** A subgroup indicator: whether a row (its features in schema order) belongs to it. */
interface Indicator {
  readonly name: string;
  readonly member: (row: ArrayLike<number>) => boolean;
}

function codeIndicators(name: 'Gender' | 'Ethnicity', column: number): Indicator[] {
  const feature = getFeature(name);
  if (feature.kind === 'continuous') return [];
  // The first code is the baseline: the intercept stands for it.
  return feature.codes.slice(1).map(({ code, label }) => ({
    name: `${name}=${label}`,
    member: (row: ArrayLike<number>) => row[column] === code,
  }));
}

/**
 * The subgroup design: an intercept, then one indicator per sex, ethnicity and age band other than the
 * first of each (Male, Caucasian, 50-59). A linear function of it gives each combination of subgroups its
 * own value, and fitting one coordinate moves exactly the rows of one subgroup.
 */
const INDICATORS: readonly Indicator[] = [
  { name: 'intercept', member: () => true },
  ...codeIndicators('Gender', GENDER),
  ...codeIndicators('Ethnicity', ETHNICITY),
  ...AGE_BANDS.slice(1).map((band) => ({
    name: `Age ${band.label}`,
    member: (row: ArrayLike<number>) => row[AGE]! >= band.low && row[AGE]! < band.high,
  })),
];

/** The names of the subgroup design's columns, in order. */
export const SUBGROUP_DESIGN_COLUMNS: readonly string[] = INDICATORS.map((indicator) => indicator.name);

/**
 * The sum of `coefficients` (one per design column) over the columns a row belongs to: `subgroupDesign(row)`
 * times them, without making the design (it runs for every prediction that answers a set).
 */
export function subgroupSum(coefficients: readonly number[], row: ArrayLike<number>): number {
  let sum = 0;
  for (let j = 0; j < INDICATORS.length; j++) if (INDICATORS[j]!.member(row)) sum += coefficients[j]!;
  return sum;
}

/** A row's subgroup design: 1 for the intercept and each subgroup it belongs to, else 0. */
export function subgroupDesign(row: ArrayLike<number>): Uint8Array {
  return Uint8Array.from(INDICATORS, (indicator) => (indicator.member(row) ? 1 : 0));
}

import { GENERATOR_CONSTANTS } from '../../data/generator/constants.js';
import { generateDataset } from '../../data/generator/generator.js';
import { labelLogit } from '../../data/generator/model.js';
import {
  describeValues,
  FEATURE_NAMES,
  FEATURES,
  type Feature,
  type FeatureName,
  getFeature,
  isFeatureName,
  parseNumber,
} from '../../data/schema.js';
import { invalidParameter } from '../../errors.js';
import { sigmoid } from '../../math/sigmoid.js';
import { Random } from '../../util/random.js';

/**
 * A change to the generated patients: a continuous feature moved by `delta` (`Age=+15`), or any feature
 * set to one value (`Gender=1`, `MoCA=12`).
 */
export type FeatureShift =
  | { readonly feature: FeatureName; readonly kind: 'delta'; readonly delta: number }
  | { readonly feature: FeatureName; readonly kind: 'set'; readonly value: number };

/** A shift as written: `FEATURE=+DELTA`, `FEATURE=-DELTA`, or `FEATURE=VALUE`. */
export function describeShift(shift: FeatureShift): string {
  return shift.kind === 'delta'
    ? `${shift.feature}=${shift.delta >= 0 ? '+' : ''}${shift.delta}`
    : `${shift.feature}=${shift.value}`;
}

/**
 * Reads a shift, `FEATURE=+DELTA` / `FEATURE=-DELTA` (a continuous feature, moved; values are then kept
 * within the feature's limits) or `FEATURE=VALUE` (set: a possible value, for a binary or categorical
 * feature one of its codes). Errors name the feature and what it takes.
 */
export function parseShift(text: string): FeatureShift {
  const equals = text.indexOf('=');
  if (equals <= 0) {
    throw invalidParameter(
      `shift "${text}" is not FEATURE=+DELTA, FEATURE=-DELTA or FEATURE=VALUE (e.g. Age=+15, Gender=1)`,
    );
  }
  const name = text.slice(0, equals).trim();
  const written = text.slice(equals + 1).trim();
  if (!isFeatureName(name)) {
    const similar = FEATURE_NAMES.find((candidate) => candidate.toLowerCase() === name.toLowerCase());
    throw invalidParameter(
      `shift "${text}": ${JSON.stringify(name)} is not a feature${similar ? ` (did you mean ${similar}?)` : ''}; the features are ${FEATURE_NAMES.join(', ')}`,
    );
  }
  const feature = getFeature(name);
  const number = parseNumber(written);
  if (number === undefined) {
    throw invalidParameter(
      `shift "${text}": ${JSON.stringify(written)} is not a number; ${name} takes ${describeValues(feature)}`,
    );
  }
  const relative = written.startsWith('+') || written.startsWith('-');
  if (relative) {
    if (feature.kind !== 'continuous') {
      throw invalidParameter(
        `shift "${text}": ${name} is ${feature.kind}, set to one of its codes, not moved (e.g. ${name}=${feature.codes.at(-1)!.code}); it takes ${describeValues(feature)}`,
      );
    }
    const span = feature.limits.max - feature.limits.min;
    if (Math.abs(number) >= span) {
      throw invalidParameter(
        `shift "${text}" moves ${name} by more than all it can be (${describeValues(feature)}): every patient would sit at the limit; give a smaller delta`,
      );
    }
    return { feature: name, kind: 'delta', delta: number };
  }
  const problem = possibleValueProblem(feature, number);
  if (problem !== undefined) throw invalidParameter(`shift "${text}": ${problem}`);
  return { feature: name, kind: 'set', value: number };
}

function possibleValueProblem(feature: Feature, value: number): string | undefined {
  if (feature.kind === 'continuous') {
    const { min, max } = feature.limits;
    return value < min || value > max
      ? `${value} is outside what ${feature.name} can be: ${describeValues(feature)}`
      : undefined;
  }
  return feature.codes.some((entry) => entry.code === value)
    ? undefined
    : `${value} is not a code of ${feature.name}: ${describeValues(feature)}`;
}

/** Reads every shift, refusing one feature shifted twice. */
export function parseShifts(texts: readonly string[]): FeatureShift[] {
  const shifts = texts.map(parseShift);
  const seen = new Set<FeatureName>();
  for (const shift of shifts) {
    if (seen.has(shift.feature)) {
      throw invalidParameter(`${shift.feature} is shifted twice; give one --shift per feature`);
    }
    seen.add(shift.feature);
  }
  return shifts;
}

/** One generated patient: its 32 feature values and its true diagnosis. */
export interface SimulatedPatient {
  readonly patientId: string;
  readonly features: Readonly<Record<FeatureName, number>>;
  readonly diagnosis: 0 | 1;
}

export interface SimulatedPatientsOptions {
  readonly seed: number;
  readonly shifts?: readonly FeatureShift[];
  /**
   * The share of patients with the disease, 0 to 1: patients of each class are drawn in that proportion
   * (the features of a class keep their distribution: a prior shift). Default: the generator's own.
   */
  readonly prevalence?: number;
  /** Patients generated at a time (default 500). */
  readonly batchRows?: number;
}

/**
 * Patients drawn from Onset's generator (the marginals and label model calibrated on the Kaggle file),
 * optionally shifted: each shift applied to the features (moved values kept within the feature's limits),
 * then the diagnosis drawn from the generator's label model on the shifted features, so that P(diagnosis
 * | features) stays what it was (a covariate shift) and the truth fed back is what it would be; with a
 * prevalence, patients of each class are then drawn in that proportion. The same options give the same
 * patients.
 */
export class SimulatedPatients {
  readonly #seed: number;
  readonly #shifts: readonly FeatureShift[];
  readonly #prevalence: number | undefined;
  readonly #batchRows: number;
  readonly #labels: Random;
  readonly #classes: Random;
  #batch = 0;
  #count = 0;
  /** Generated patients waiting, by class (both classes drawn in order when no prevalence is set). */
  readonly #waiting: [SimulatedPatient[], SimulatedPatient[]] = [[], []];
  readonly #inOrder: SimulatedPatient[] = [];

  constructor(options: SimulatedPatientsOptions) {
    if (!Number.isInteger(options.seed))
      throw invalidParameter(`seed must be an integer, got ${options.seed}`);
    if (options.prevalence !== undefined && !(options.prevalence >= 0 && options.prevalence <= 1)) {
      throw invalidParameter(`prevalence must be a share from 0 to 1, got ${options.prevalence}`);
    }
    this.#seed = options.seed;
    this.#shifts = options.shifts ?? [];
    this.#prevalence = options.prevalence;
    this.#batchRows = options.batchRows ?? 500;
    this.#labels = new Random(options.seed ^ 0x5eed);
    this.#classes = new Random(options.seed ^ 0xc1a55);
  }

  /** The next patient. */
  next(): SimulatedPatient {
    if (this.#prevalence === undefined) {
      if (this.#inOrder.length === 0) this.#inOrder.push(...this.#generate());
      return this.#inOrder.shift()!;
    }
    const wanted: 0 | 1 = this.#classes.next() < this.#prevalence ? 1 : 0;
    const queue = this.#waiting[wanted];
    // A class the shifted generator (almost) never draws would loop for long: give up after a while.
    for (let tries = 0; queue.length === 0; tries++) {
      if (tries >= 200) {
        throw invalidParameter(
          `cannot draw patients ${wanted === 1 ? 'with' : 'without'} the disease at prevalence ${this.#prevalence}: the shifted generator makes almost none`,
        );
      }
      for (const patient of this.#generate()) this.#waiting[patient.diagnosis].push(patient);
    }
    return queue.shift()!;
  }

  #generate(): SimulatedPatient[] {
    const rows = this.#batchRows;
    // Each batch from a seed of its own: batches differ, and the same seed gives the same patients.
    const data = generateDataset({ rows, seed: this.#seed * 1_000 + this.#batch++ });
    const columns = { ...data.columns };
    for (const shift of this.#shifts) {
      const feature = getFeature(shift.feature);
      const column = new Float64Array(rows);
      if (shift.kind === 'set') column.fill(shift.value);
      else if (feature.kind === 'continuous') {
        const { min, max } = feature.limits;
        const source = data.columns[shift.feature];
        for (let i = 0; i < rows; i++) column[i] = Math.min(max, Math.max(min, source[i]! + shift.delta));
      }
      columns[shift.feature] = column;
    }
    const model = GENERATOR_CONSTANTS.labelModel;
    const patients: SimulatedPatient[] = [];
    for (let i = 0; i < rows; i++) {
      const features = {} as Record<FeatureName, number>;
      for (const { name } of FEATURES) features[name] = columns[name][i]!;
      const probability = sigmoid(labelLogit(model, (name) => features[name]));
      const diagnosis = this.#labels.next() < probability ? 1 : 0;
      patients.push({ patientId: `sim-${this.#seed}-${++this.#count}`, features, diagnosis });
    }
    return patients;
  }
}

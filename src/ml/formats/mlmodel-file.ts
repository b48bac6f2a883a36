import { parse, stringify } from 'yaml';
import { FEATURES, type Feature } from '../../data/schema.js';
import { invalidParameter } from '../../errors.js';

/**
 * MLflow's `MLmodel` file: the YAML at the root of every MLflow model directory that says which flavors
 * (ways to load the model) the directory holds. Reference: `mlflow/models/model.py` (MLflow 2.12), which
 * writes it with PyYAML's `safe_dump`: YAML 1.1, keys sorted, fields that are None left out.
 */

/** The name of the file. */
export const MLMODEL_FILE = 'MLmodel';

/** The MLflow release whose model format Onset writes, and against whose client it was checked. */
export const MLFLOW_FORMAT_VERSION = '2.12.1';

/** One flavor's configuration: what its loader needs (`data`, `loader_module`, ...), as MLflow has it. */
export type FlavorConfiguration = Readonly<Record<string, unknown>>;

/** MLflow's model signature: the column specs as JSON text, as MLflow stores them. */
export interface MlmodelSignature {
  readonly inputs: string;
  readonly outputs: string;
  readonly params: string | null;
}

/** The fields of an `MLmodel` file Onset reads or writes; other fields are kept as they are. */
export interface Mlmodel {
  /** The model's path in its run's artifacts, when it was logged to a run. */
  readonly artifact_path?: string;
  readonly run_id?: string;
  /** When the model was saved, as Python's `str(datetime.utcnow())`: `2024-05-01 12:00:00.123000`. */
  readonly utc_time_created?: string;
  /** 32 lower-case hex digits, new for every saved model. */
  readonly model_uuid?: string;
  readonly mlflow_version?: string;
  readonly flavors: Readonly<Record<string, FlavorConfiguration>>;
  readonly signature?: MlmodelSignature;
  /** Bytes of the model's data files. */
  readonly model_size_bytes?: number;
  readonly [field: string]: unknown;
}

/** Reads an `MLmodel` file; INVALID_PARAMETER_VALUE (naming `where`) when it is not one. */
export function parseMlmodel(text: string, where: string): Mlmodel {
  let value: unknown;
  try {
    // YAML 1.1, as PyYAML reads and writes it.
    value = parse(text, { version: '1.1', maxAliasCount: 100 });
  } catch (error) {
    throw invalidParameter(`${where} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  if (!isRecord(value)) throw invalidParameter(`${where} is not an MLmodel file: it is not a YAML mapping`);
  const flavors = value.flavors;
  if (!isRecord(flavors) || Object.keys(flavors).length === 0) {
    throw invalidParameter(`${where} is not an MLmodel file: it has no flavors`);
  }
  for (const [name, configuration] of Object.entries(flavors)) {
    if (!isRecord(configuration)) {
      throw invalidParameter(`${where}: flavor ${name} has no configuration (a mapping)`);
    }
  }
  return value as Mlmodel;
}

/** Writes an `MLmodel` file as MLflow does: YAML 1.1 (so PyYAML reads back every string), keys sorted. */
export function stringifyMlmodel(mlmodel: Mlmodel): string {
  const fields = Object.fromEntries(Object.entries(mlmodel).filter(([, value]) => value !== undefined));
  return stringify(fields, { version: '1.1', sortMapEntries: true, singleQuote: true });
}

/**
 * The signature of an Onset model as MLflow writes one: the 32 schema features as required columns, in
 * schema order, and the probability of Parkinson's disease as a float32 vector (what XGBoost's
 * `Booster.predict` answers). A column's type is the one MLflow infers from the data file as pandas reads
 * it: `long` for the coded features and the whole-number measurements, `double` for the others. MLflow's
 * check of an input converts neither int64 to double nor float to long, so these are the types a
 * DataFrame of the data file has.
 */
export function schemaSignature(): MlmodelSignature {
  // Python's json.dumps separators (", " and ": "), as MLflow writes the specs.
  const column = (feature: Feature) =>
    `{"type": "${feature.kind !== 'continuous' || feature.integer ? 'long' : 'double'}", "name": ${JSON.stringify(feature.name)}, "required": true}`;
  return {
    inputs: `[${FEATURES.map(column).join(', ')}]`,
    outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1]}}]',
    params: null,
  };
}

/** A time as MLflow writes `utc_time_created` (Python's `str` of a naive UTC datetime). */
export function mlflowTime(time: Date): string {
  const iso = time.toISOString(); // 2024-05-01T12:00:00.123Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}000`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

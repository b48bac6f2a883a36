import { invalidParameter } from '../errors.js';

/** The value types a hyper-parameter can take. */
export type ParamValue = number | boolean | string | null;

export interface NumberParamSpec {
  readonly type: 'number' | 'integer';
  readonly default: number | null;
  /** Inclusive bounds unless the matching `exclusive` flag is set. */
  readonly min?: number;
  readonly max?: number;
  readonly minExclusive?: boolean;
  readonly maxExclusive?: boolean;
  /** Whether null is allowed (e.g. "no early stopping"). */
  readonly nullable?: boolean;
  readonly description: string;
  /** Other names accepted for this parameter (e.g. `eta` for `learning_rate`). */
  readonly aliases?: readonly string[];
}

export interface BooleanParamSpec {
  readonly type: 'boolean';
  readonly default: boolean;
  readonly description: string;
  readonly aliases?: readonly string[];
}

export interface ChoiceParamSpec {
  readonly type: 'choice';
  readonly default: string;
  readonly choices: readonly string[];
  readonly description: string;
  readonly aliases?: readonly string[];
}

export type ParamSpec = NumberParamSpec | BooleanParamSpec | ChoiceParamSpec;
export type ParamSpecs = Readonly<Record<string, ParamSpec>>;

/** The parameter object a spec table describes, with each key typed by its spec. */
export type ParamsOf<S extends ParamSpecs> = {
  readonly [K in keyof S]: S[K] extends NumberParamSpec
    ? S[K]['nullable'] extends true
      ? number | null
      : number
    : S[K] extends BooleanParamSpec
      ? boolean
      : string;
};

/** Human-readable allowed values of one parameter, e.g. "a number in (0, 1]". */
export function describeSpec(spec: ParamSpec): string {
  switch (spec.type) {
    case 'boolean':
      return 'true or false';
    case 'choice':
      return `one of ${spec.choices.join(', ')}`;
    default: {
      const kind = spec.type === 'integer' ? 'an integer' : 'a number';
      const low = spec.min === undefined ? '(-inf' : `${spec.minExclusive ? '(' : '['}${spec.min}`;
      const high = spec.max === undefined ? 'inf)' : `${spec.max}${spec.maxExclusive ? ')' : ']'}`;
      return `${kind} in ${low}, ${high}${spec.nullable ? ' or null' : ''}`;
    }
  }
}

function listKnown(estimator: string, specs: ParamSpecs): string {
  return Object.entries(specs)
    .map(([name, spec]) => {
      const aliases = spec.aliases?.length ? ` (alias ${spec.aliases.join(', ')})` : '';
      return `${name}${aliases}: ${describeSpec(spec)}, default ${String(spec.default)}`;
    })
    .join('; ')
    .replace(/^/, `valid parameters of ${estimator}: `);
}

/**
 * Validates parameters against a spec table: fills defaults, resolves aliases, accepts numbers and
 * booleans given as strings (as from `--param key=value`), and rejects unknown keys and out-of-range
 * values with the list of valid parameters and their ranges.
 */
export function resolveParams<S extends ParamSpecs>(
  estimator: string,
  specs: S,
  input: Readonly<Record<string, unknown>> = {},
): ParamsOf<S> {
  const byName = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) {
    byName.set(name, name);
    for (const alias of spec.aliases ?? []) byName.set(alias, name);
  }
  const out: Record<string, ParamValue> = {};
  for (const [name, spec] of Object.entries(specs)) out[name] = spec.default;
  const given = new Set<string>();
  for (const [key, raw] of Object.entries(input)) {
    if (raw === undefined) continue;
    const name = byName.get(key);
    if (name === undefined) {
      throw invalidParameter(`Unknown parameter "${key}" for ${estimator}; ${listKnown(estimator, specs)}`);
    }
    if (given.has(name)) {
      throw invalidParameter(`Parameter ${name} of ${estimator} is given twice (through an alias)`);
    }
    given.add(name);
    out[name] = coerce(estimator, name, specs[name]!, raw);
  }
  return out as ParamsOf<S>;
}

function coerce(estimator: string, name: string, spec: ParamSpec, raw: unknown): ParamValue {
  const fail = (): never => {
    throw invalidParameter(
      `Invalid value ${JSON.stringify(raw)} for parameter ${name} of ${estimator}: expected ${describeSpec(spec)}`,
    );
  };
  switch (spec.type) {
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      return fail();
    case 'choice':
      if (typeof raw === 'string' && spec.choices.includes(raw)) return raw;
      return fail();
    default: {
      if ((raw === null || raw === 'null' || raw === 'none') && spec.nullable) return null;
      const value =
        typeof raw === 'number'
          ? raw
          : typeof raw === 'string' && raw.trim() !== ''
            ? Number(raw)
            : Number.NaN;
      if (!Number.isFinite(value)) return fail();
      if (spec.type === 'integer' && !Number.isInteger(value)) return fail();
      if (spec.min !== undefined && (spec.minExclusive ? value <= spec.min : value < spec.min)) return fail();
      if (spec.max !== undefined && (spec.maxExclusive ? value >= spec.max : value > spec.max)) return fail();
      return value;
    }
  }
}

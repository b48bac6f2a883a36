/**
 * MLflow's search grammar: `filter` strings (a conjunction of comparisons) and `order_by` clauses, parsed
 * into the AST of `filter-ast.ts` and checked against what each search target allows. Every error is an
 * INVALID_PARAMETER_VALUE `OnsetError` whose message quotes the input, gives the character position
 * (1-based), says what was found and what is allowed; `details` carries the same as fields.
 *
 * Filter grammar (keywords and comparators are case-insensitive, whitespace is free between tokens):
 *
 * ```
 * filter      := comparison ( AND comparison )*          (empty or blank → [])
 * comparison  := identifier comparator value
 * identifier  := prefix "." key | attribute
 * prefix      := metric(s) | param(s) | parameter(s) | tag(s) | attribute(s) | attr
 *                | run | dataset(s) (runs only; datasets.name, .digest or .context)
 * key         := bare-key | `quoted` | "quoted"          bare-key: letters, digits, _ - / : and dots
 * attribute   := segment (a bare word or a `quoted` / "quoted" name)
 * comparator  := = | != | > | >= | < | <= | LIKE | ILIKE | IN | NOT IN | IS NULL | IS NOT NULL
 * value       := 'string' | "string" | number | ( string , ... )
 * number      := [+-] digits [. digits] [e [+-] digits]  (also .5)
 * ```
 *
 * Inside quotes, a doubled quote (`'it''s'`) or a backslash before the quote or a backslash (`'it\'s'`,
 * `'a\\b'`) stands for that character; any other backslash is kept as written (so `'50\%'` reaches the
 * store as `50\%` for LIKE escaping).
 */
import { invalidParameter, type OnsetError } from '../../errors.js';
import type { Comparator, Comparison, Filter, FilterEntity, OrderBy, SearchTarget } from './filter-ast.js';

/**
 * The most comparisons one filter may join with AND. Each is a nested expression in the SQL, and SQLite
 * refuses expressions deeper than 1,000; real filters use a handful.
 */
export const MAX_FILTER_COMPARISONS = 200;
/** The most values one IN (...) list may hold: each is a bound parameter, and databases limit them. */
export const MAX_IN_VALUES = 1000;

/** How an attribute compares: `number` takes numeric comparators and a number, `string` a quoted string. */
export interface AttributeSpec {
  readonly type: 'number' | 'string';
  readonly comparators: readonly Comparator[];
}

const NUMERIC: readonly Comparator[] = ['=', '!=', '>', '>=', '<', '<='];
const STRING: readonly Comparator[] = ['=', '!=', 'LIKE', 'ILIKE'];
const TAG: readonly Comparator[] = [...STRING, 'IS NULL', 'IS NOT NULL'];

const num: AttributeSpec = { type: 'number', comparators: NUMERIC };
const str: AttributeSpec = { type: 'string', comparators: STRING };
/** MLflow 3's logged-model search also compares strings with IN and NOT IN. */
const strIn: AttributeSpec = { type: 'string', comparators: [...STRING, 'IN', 'NOT IN'] };

/**
 * The attributes each target's filter accepts, by canonical (snake_case) name, with their comparators.
 * Stores can rely on a parsed comparison naming one of these with one of its comparators.
 */
export const FILTER_ATTRIBUTES: Readonly<Record<SearchTarget, Readonly<Record<string, AttributeSpec>>>> = {
  runs: {
    run_id: { type: 'string', comparators: [...STRING, 'IN', 'NOT IN'] },
    run_name: str,
    status: str,
    user_id: str,
    artifact_uri: str,
    start_time: num,
    end_time: num,
  },
  experiments: { name: str, creation_time: num, last_update_time: num },
  registered_models: { name: str },
  model_versions: {
    name: str,
    run_id: { type: 'string', comparators: [...STRING, 'IN'] },
    source_path: str,
    version_number: num,
  },
  logged_models: {
    name: strIn,
    model_id: strIn,
    model_type: strIn,
    status: strIn,
    source_run_id: strIn,
    creation_timestamp: num,
    last_updated_timestamp: num,
  },
};

/** The attributes each target's `order_by` accepts (canonical names). */
export const ORDER_BY_ATTRIBUTES: Readonly<Record<SearchTarget, readonly string[]>> = {
  runs: ['run_id', 'run_name', 'status', 'user_id', 'artifact_uri', 'start_time', 'end_time'],
  experiments: ['name', 'experiment_id', 'creation_time', 'last_update_time'],
  registered_models: ['name', 'creation_timestamp', 'last_updated_timestamp'],
  model_versions: ['name', 'version_number', 'creation_timestamp', 'last_updated_timestamp'],
  logged_models: [
    'name',
    'model_id',
    'model_type',
    'status',
    'source_run_id',
    'creation_timestamp',
    'last_updated_timestamp',
  ],
};

/** MLflow's alternative attribute names, mapped to the canonical ones. */
const ATTRIBUTE_ALIASES: Readonly<Record<SearchTarget, Readonly<Record<string, string>>>> = {
  runs: {
    created: 'start_time',
    Created: 'start_time',
    'run name': 'run_name',
    'Run name': 'run_name',
    'Run Name': 'run_name',
  },
  experiments: {},
  // MLflow's registry orders by `timestamp`, meaning the last update.
  registered_models: { timestamp: 'last_updated_timestamp' },
  model_versions: {},
  logged_models: {
    creation_time: 'creation_timestamp',
    creation_timestamp_ms: 'creation_timestamp',
    last_updated_timestamp_ms: 'last_updated_timestamp',
  },
};

/** Entity prefixes as MLflow spells them (matched case-insensitively). `run.` is an attribute prefix for runs. */
const PREFIXES: Readonly<Record<string, FilterEntity>> = {
  metric: 'metric',
  metrics: 'metric',
  param: 'param',
  params: 'param',
  parameter: 'param',
  parameters: 'param',
  tag: 'tag',
  tags: 'tag',
  attribute: 'attribute',
  attributes: 'attribute',
  attr: 'attribute',
  run: 'attribute',
  dataset: 'dataset',
  datasets: 'dataset',
};

/** Entities (besides attributes) each target can filter and order by. */
const FILTER_ENTITIES: Readonly<Record<SearchTarget, readonly FilterEntity[]>> = {
  runs: ['metric', 'param', 'tag', 'attribute', 'dataset'],
  experiments: ['tag', 'attribute'],
  registered_models: ['tag', 'attribute'],
  model_versions: ['tag', 'attribute'],
  logged_models: ['metric', 'param', 'tag', 'attribute'],
};
const ORDER_BY_ENTITIES: Readonly<Record<SearchTarget, readonly FilterEntity[]>> = {
  runs: ['metric', 'param', 'tag', 'attribute'],
  experiments: ['attribute'],
  registered_models: ['attribute'],
  model_versions: ['attribute'],
  logged_models: ['metric', 'attribute'],
};

const ENTITY_SYNTAX: Readonly<Record<FilterEntity, string>> = {
  metric: 'metrics.<key>',
  param: 'params.<key>',
  tag: 'tags.<key>',
  attribute: 'attributes.<name>',
  dataset: 'datasets.<name|digest|context>',
};

/**
 * What a run's datasets are searched by (MLflow's): the dataset's name and digest, and the context of the
 * run's use of it (its `mlflow.data.context` tag); a list compares with IN and NOT IN.
 */
export const DATASET_KEYS = ['name', 'digest', 'context'] as const;
const DATASET_COMPARATORS: readonly Comparator[] = ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'];

const TARGET_LABEL: Readonly<Record<SearchTarget, string>> = {
  runs: 'runs',
  experiments: 'experiments',
  registered_models: 'registered models',
  model_versions: 'model versions',
  logged_models: 'logged models',
};

// ---------------------------------------------------------------------------------------------------------
// Scanning

/** Bare name characters: letters, digits, `_`, `-`, `/`, `:` (MLflow's key alphabet without spaces). */
const SEGMENT = /[\p{L}\p{N}_\-/:]+/uy;
/** A bare key after a prefix may also hold dots: `tags.mlflow.source.name`. */
const DOTTED_KEY = /[\p{L}\p{N}_\-/:.]+/uy;
const NUMBER = /[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const WORD = /[A-Za-z]+/y;
const OPERATOR = /!=|<>|==|>=|<=|=|<|>/y;
const WHITESPACE = /\s*/y;
const SNIPPET_WORD = /[\p{L}\p{N}_\-/:.+]+/uy;
const SNIPPET_OPERATOR = /[<>=!]+/y;

/** Builds the error for one input (a filter, or one order_by clause) at a character index. */
type Fail = (index: number, what: string, allowed?: string, found?: string) => never;

function makeFail(kind: string, text: string): Fail {
  return (index, what, allowed, found) => {
    const message = `${what} at character ${index + 1} of ${kind} ${JSON.stringify(text)}${allowed ? `: ${allowed}` : ''}`;
    const error: OnsetError = invalidParameter(message, {
      [kind === 'filter' ? 'filter' : 'orderBy']: text,
      position: index + 1,
      found,
      allowed,
    });
    throw error;
  };
}

class Scanner {
  pos = 0;
  constructor(
    readonly text: string,
    readonly fail: Fail,
  ) {}

  skipWhitespace(): void {
    WHITESPACE.lastIndex = this.pos;
    WHITESPACE.exec(this.text);
    this.pos = WHITESPACE.lastIndex;
  }

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): string | undefined {
    return this.text[this.pos];
  }

  /** The match of a sticky regex at the cursor, consumed; undefined (nothing consumed) when none. */
  take(re: RegExp): string | undefined {
    re.lastIndex = this.pos;
    const match = re.exec(this.text);
    if (!match || match[0] === '') return undefined;
    this.pos = re.lastIndex;
    return match[0];
  }

  /** Like `take` but without consuming. */
  look(re: RegExp, at = this.pos): string | undefined {
    re.lastIndex = at;
    const match = re.exec(this.text);
    return match && match[0] !== '' ? match[0] : undefined;
  }

  /** A short description of what is at `at`, for "found ..." in messages. */
  describe(at = this.pos): string {
    if (at >= this.text.length) return 'end of input';
    const ch = this.text[at]!;
    if (/\s/.test(ch)) return 'whitespace';
    let snippet: string;
    if (ch === "'" || ch === '"' || ch === '`') {
      const close = this.text.indexOf(ch, at + 1);
      snippet = close < 0 ? this.text.slice(at) : this.text.slice(at, close + 1);
    } else {
      snippet = this.look(SNIPPET_WORD, at) ?? this.look(SNIPPET_OPERATOR, at) ?? ch;
    }
    if (snippet.length > 30) snippet = `${snippet.slice(0, 30)}…`;
    // A quoted snippet already shows its quotes.
    return ch === "'" || ch === '"' || ch === '`' ? snippet : `'${snippet}'`;
  }

  /**
   * A quoted run opening at the cursor with `quote`, unescaped: a doubled quote, or a backslash before
   * the quote or a backslash, stands for that character; other backslashes are kept.
   */
  quoted(what: string): string {
    const start = this.pos;
    const quote = this.text[start]!;
    let out = '';
    let i = start + 1;
    while (i < this.text.length) {
      const ch = this.text[i]!;
      const next = this.text[i + 1];
      if (ch === '\\' && (next === quote || next === '\\')) {
        out += next;
        i += 2;
      } else if (ch === quote) {
        if (next === quote) {
          out += quote;
          i += 2;
        } else {
          this.pos = i + 1;
          return out;
        }
      } else {
        out += ch;
        i += 1;
      }
    }
    return this.fail(
      start,
      `Unterminated ${what} starting with ${quote}`,
      `close it with ${quote} (write ${quote}${quote} or \\${quote} for a ${quote} inside)`,
      this.describe(start),
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// Identifiers

interface Identifier {
  readonly entity: FilterEntity;
  readonly key: string;
  /** Where the identifier starts, and where its key starts. */
  readonly start: number;
  readonly keyStart: number;
  /** The prefix as written (`metrics`), undefined for a bare attribute. */
  readonly prefix: string | undefined;
}

function readSegment(s: Scanner, dotted: boolean, what: string): string | undefined {
  const ch = s.peek();
  if (ch === '`' || ch === '"') {
    const start = s.pos;
    const value = s.quoted(what);
    if (value === '') s.fail(start, `Empty ${what}`, 'name a key inside the quotes', s.describe(start));
    return value;
  }
  return s.take(dotted ? DOTTED_KEY : SEGMENT);
}

/** What may start a comparison or an order_by clause, for messages. */
function identifierHelp(target: SearchTarget, purpose: Purpose): string {
  const entities = purpose === 'filter' ? FILTER_ENTITIES[target] : ORDER_BY_ENTITIES[target];
  const names = purpose === 'filter' ? Object.keys(FILTER_ATTRIBUTES[target]) : ORDER_BY_ATTRIBUTES[target];
  const syntaxes = entities.filter((e) => e !== 'attribute').map((e) => ENTITY_SYNTAX[e]);
  const attributes = `an attribute (${names.join(', ')}, optionally as attributes.<name>)`;
  return syntaxes.length > 0 ? `use ${syntaxes.join(', ')} or ${attributes}` : `use ${attributes}`;
}

type Purpose = 'filter' | 'order_by';

function readIdentifier(s: Scanner, target: SearchTarget, purpose: Purpose): Identifier {
  const start = s.pos;
  const first = readSegment(s, false, 'name');
  if (first === undefined) {
    return s.fail(
      start,
      `Expected a key, found ${s.describe()}`,
      identifierHelp(target, purpose),
      s.describe(),
    );
  }
  if (s.peek() !== '.') {
    return { entity: 'attribute', key: first, start, keyStart: start, prefix: undefined };
  }
  const entity = own(PREFIXES, first.toLowerCase());
  if (entity === undefined || (first.toLowerCase() === 'run' && target !== 'runs')) {
    return s.fail(start, `Invalid entity '${first}'`, identifierHelp(target, purpose), `'${first}'`);
  }
  s.pos += 1;
  const keyStart = s.pos;
  const key = readSegment(s, true, 'key');
  if (key === undefined) {
    return s.fail(
      keyStart,
      `Expected a key after '${first}.', found ${s.describe()}`,
      'write the key bare (letters, digits, _ - / : .) or quote it with `backticks` or "double quotes"',
      s.describe(),
    );
  }
  return { entity, key, start, keyStart, prefix: first };
}

/** Checks the identifier's entity against the target and resolves attribute aliases. */
function resolveIdentifier(
  s: Scanner,
  target: SearchTarget,
  id: Identifier,
  purpose: Purpose,
): { entity: FilterEntity; key: string } {
  const entities = purpose === 'filter' ? FILTER_ENTITIES[target] : ORDER_BY_ENTITIES[target];
  const label = TARGET_LABEL[target];
  if (id.entity === 'dataset' && (purpose === 'order_by' || target !== 'runs')) {
    s.fail(
      id.start,
      purpose === 'filter'
        ? `Dataset filters are only supported when searching runs, not ${label}`
        : `Dataset ordering is not supported: order ${label} by attributes${target === 'runs' ? ', metrics, params or tags' : ''}`,
      identifierHelp(target, purpose),
      `'${id.prefix}'`,
    );
  }
  if (!entities.includes(id.entity)) {
    s.fail(
      id.start,
      `Invalid entity '${id.prefix}': ${purpose === 'filter' ? 'searching' : 'ordering'} ${label} by ${id.entity}s is not supported`,
      identifierHelp(target, purpose),
      `'${id.prefix}'`,
    );
  }
  if (id.entity === 'dataset' && !(DATASET_KEYS as readonly string[]).includes(id.key)) {
    s.fail(
      id.keyStart,
      `Invalid dataset key '${id.key}'`,
      `use datasets.${orList([...DATASET_KEYS])}`,
      `'${id.key}'`,
    );
  }
  if (id.entity !== 'attribute') return { entity: id.entity, key: id.key };

  const key = own(ATTRIBUTE_ALIASES[target], id.key) ?? id.key;
  const known =
    purpose === 'filter'
      ? Object.hasOwn(FILTER_ATTRIBUTES[target], key)
      : ORDER_BY_ATTRIBUTES[target].includes(key);
  if (!known) {
    const names = purpose === 'filter' ? Object.keys(FILTER_ATTRIBUTES[target]) : ORDER_BY_ATTRIBUTES[target];
    const others = entities.filter((e) => e !== 'attribute').map((e) => ENTITY_SYNTAX[e]);
    s.fail(
      id.keyStart,
      `Invalid attribute '${id.key}' for ${purpose === 'filter' ? 'searching' : 'ordering'} ${label}`,
      `use ${orList(names)}${others.length > 0 ? `, or ${orList(others)}` : ''}`,
      `'${id.key}'`,
    );
  }
  return { entity: 'attribute', key };
}

/** `record[key]` for the record's own keys only (so `constructor` or `toString` is not found). */
function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function orList(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

// ---------------------------------------------------------------------------------------------------------
// Filters

function readComparator(s: Scanner, id: Identifier): { comparator: Comparator; start: number } {
  const start = s.pos;
  const operator = s.take(OPERATOR);
  if (operator !== undefined) {
    if (operator === '<>' || operator === '==') {
      s.fail(
        start,
        `Unknown comparator '${operator}'`,
        `use ${operator === '==' ? '=' : '!='}`,
        `'${operator}'`,
      );
    }
    return { comparator: operator as Comparator, start };
  }
  const word = s.take(WORD)?.toUpperCase();
  switch (word) {
    case 'LIKE':
    case 'ILIKE':
    case 'IN':
      return { comparator: word, start };
    case 'NOT': {
      s.skipWhitespace();
      const nextStart = s.pos;
      const next = s.take(WORD)?.toUpperCase();
      if (next === 'IN') return { comparator: 'NOT IN', start };
      return s.fail(
        nextStart,
        `Expected IN after NOT, found ${s.describe(nextStart)}`,
        'NOT is only allowed in NOT IN (...) and IS NOT NULL; use != instead of NOT LIKE or NOT =',
        s.describe(nextStart),
      );
    }
    case 'IS': {
      s.skipWhitespace();
      let nextStart = s.pos;
      let next = s.take(WORD)?.toUpperCase();
      let negated = false;
      if (next === 'NOT') {
        negated = true;
        s.skipWhitespace();
        nextStart = s.pos;
        next = s.take(WORD)?.toUpperCase();
      }
      if (next === 'NULL') return { comparator: negated ? 'IS NOT NULL' : 'IS NULL', start };
      return s.fail(
        nextStart,
        `Expected NULL after IS${negated ? ' NOT' : ''}, found ${s.describe(nextStart)}`,
        'write IS NULL or IS NOT NULL',
        s.describe(nextStart),
      );
    }
    default: {
      s.pos = start;
      const written = id.prefix === undefined ? id.key : `${id.prefix}.${id.key}`;
      return s.fail(
        start,
        `Expected a comparator after '${written}', found ${s.describe(start)}`,
        'use =, !=, >, >=, <, <=, LIKE, ILIKE, IN, NOT IN, IS NULL or IS NOT NULL (quote keys with spaces)',
        s.describe(start),
      );
    }
  }
}

type RawValue =
  | { readonly kind: 'string'; readonly value: string; readonly start: number }
  | { readonly kind: 'number'; readonly value: number; readonly text: string; readonly start: number }
  | { readonly kind: 'list'; readonly value: readonly string[]; readonly start: number }
  | { readonly kind: 'none'; readonly start: number };

function readValue(s: Scanner, comparator: Comparator): RawValue {
  const start = s.pos;
  if (comparator === 'IS NULL' || comparator === 'IS NOT NULL') return { kind: 'none', start };
  const ch = s.peek();
  if (ch === "'" || ch === '"') return { kind: 'string', value: s.quoted('string'), start };
  if (ch === '(') return { kind: 'list', value: readList(s), start };
  const text = s.take(NUMBER);
  if (text !== undefined) {
    if (s.look(SEGMENT) !== undefined || s.peek() === '.') {
      s.pos = start;
      s.fail(
        start,
        `Invalid number ${s.describe(start)}`,
        'write a number such as 42, -0.5 or 1e-3',
        s.describe(start),
      );
    }
    const value = Number(text);
    if (!Number.isFinite(value)) {
      s.fail(start, `Number ${text} is out of range`, 'use a finite number', `'${text}'`);
    }
    return { kind: 'number', value, text, start };
  }
  if (s.atEnd()) {
    return s.fail(start, `Expected a value after ${comparator}, found end of input`, valueHelp(comparator));
  }
  return s.fail(
    start,
    `Expected a value after ${comparator}, found ${s.describe()}`,
    valueHelp(comparator),
    s.describe(),
  );
}

function valueHelp(comparator: Comparator): string {
  if (comparator === 'IN' || comparator === 'NOT IN')
    return "use a parenthesized list of quoted strings: ('a', 'b')";
  return 'use a quoted string (\'text\' or "text") or a number (42, -0.5, 1e-3)';
}

function readList(s: Scanner): string[] {
  const open = s.pos;
  s.pos += 1;
  const items: string[] = [];
  for (;;) {
    s.skipWhitespace();
    const ch = s.peek();
    if (ch === ')' && items.length === 0) {
      s.fail(open, 'Empty list', "put at least one quoted string in the list: ('a', 'b')", "'()'");
    }
    if (ch !== "'" && ch !== '"') {
      s.fail(
        s.pos,
        `Expected a quoted string in the list, found ${s.describe()}`,
        "a list holds quoted strings separated by commas: ('a', 'b')",
        s.describe(),
      );
    }
    items.push(s.quoted('string'));
    s.skipWhitespace();
    const sep = s.peek();
    if (sep === ')') {
      s.pos += 1;
      return items;
    }
    if (sep !== ',') {
      s.fail(
        s.pos,
        `Expected ',' or ')' in the list, found ${s.describe()}`,
        "a list holds quoted strings separated by commas: ('a', 'b')",
        s.describe(),
      );
    }
    s.pos += 1;
  }
}

function describeValue(v: RawValue, s: Scanner): string {
  switch (v.kind) {
    case 'string':
      return `string ${s.describe(v.start)}`;
    case 'number':
      return `number ${v.text}`;
    case 'list':
      return 'a list';
    case 'none':
      return 'nothing';
  }
}

/** The field a comparison names: its label for messages and its comparators. */
function fieldSpec(
  target: SearchTarget,
  entity: FilterEntity,
  key: string,
): { label: string; spec: AttributeSpec } {
  switch (entity) {
    case 'metric':
      return { label: `metric '${key}'`, spec: num };
    case 'param':
      return { label: `param '${key}'`, spec: target === 'logged_models' ? strIn : str };
    case 'tag':
      return {
        label: `tag '${key}'`,
        spec: { type: 'string', comparators: target === 'logged_models' ? [...TAG, 'IN', 'NOT IN'] : TAG },
      };
    case 'dataset':
      return { label: `dataset ${key}`, spec: { type: 'string', comparators: DATASET_COMPARATORS } };
    default:
      return { label: `attribute '${key}'`, spec: FILTER_ATTRIBUTES[target][key]! };
  }
}

function readComparison(s: Scanner, target: SearchTarget): Comparison {
  const id = readIdentifier(s, target, 'filter');
  const { entity, key } = resolveIdentifier(s, target, id, 'filter');
  const { label, spec } = fieldSpec(target, entity, key);
  s.skipWhitespace();
  const { comparator, start: comparatorStart } = readComparator(s, id);
  if (!spec.comparators.includes(comparator)) {
    s.fail(
      comparatorStart,
      `Invalid comparator '${comparator}' for ${label}`,
      `use ${orList(spec.comparators)}`,
      `'${comparator}'`,
    );
  }
  s.skipWhitespace();
  const raw = readValue(s, comparator);

  if (comparator === 'IN' || comparator === 'NOT IN') {
    if (raw.kind !== 'list') {
      s.fail(
        raw.start,
        `Expected a parenthesized list after ${comparator}, found ${describeValue(raw, s)}`,
        valueHelp(comparator),
        s.describe(raw.start),
      );
    }
    if (raw.value.length > MAX_IN_VALUES) {
      s.fail(
        raw.start,
        `A list after ${comparator} may hold at most ${MAX_IN_VALUES} values, found ${raw.value.length}`,
        'split the search into several, each with a shorter list',
        s.describe(raw.start),
      );
    }
    return { entity, key, comparator, value: raw.value };
  }
  if (raw.kind === 'none') return { entity, key, comparator, value: null };
  if (raw.kind === 'list') {
    s.fail(
      raw.start,
      `A list is only allowed after IN or NOT IN, found a list after ${comparator} for ${label}`,
      spec.comparators.includes('IN')
        ? `use ${key} IN ('a', 'b')`
        : `compare ${label} with ${spec.type === 'number' ? 'a number' : 'a quoted string'}`,
      s.describe(raw.start),
    );
  }
  if (spec.type === 'number' && raw.kind !== 'number') {
    s.fail(
      raw.start,
      `Expected a number for ${label}, found ${describeValue(raw, s)}`,
      'use an unquoted number such as 42, -0.5 or 1e-3',
      s.describe(raw.start),
    );
  }
  if (spec.type === 'string' && raw.kind !== 'string') {
    s.fail(
      raw.start,
      `Expected a quoted string for ${label}, found ${describeValue(raw, s)}`,
      raw.kind === 'number' ? `quote it: '${raw.text}'` : 'use \'single\' or "double" quotes',
      s.describe(raw.start),
    );
  }
  return { entity, key, comparator, value: raw.value };
}

/**
 * Parses an MLflow search filter for `target` (see the module comment for the grammar). An empty, blank
 * or undefined filter gives `[]` (match everything).
 *
 * @throws OnsetError INVALID_PARAMETER_VALUE on a syntax error, an entity or attribute the target does not
 * search, a comparator the field does not allow, or a value of the wrong type.
 */
export function parseFilter(target: SearchTarget, text: string | undefined): Filter {
  if (text === undefined) return [];
  const s = new Scanner(text, makeFail('filter', text));
  const comparisons: Comparison[] = [];
  s.skipWhitespace();
  if (s.atEnd()) return comparisons;
  for (;;) {
    if (comparisons.length === MAX_FILTER_COMPARISONS) {
      s.fail(
        s.pos,
        `A filter may join at most ${MAX_FILTER_COMPARISONS} comparisons with AND`,
        'narrow the search with fewer comparisons (IN (...) compares one key with many values)',
        s.describe(s.pos),
      );
    }
    comparisons.push(readComparison(s, target));
    s.skipWhitespace();
    if (s.atEnd()) return comparisons;
    const joinStart = s.pos;
    const word = s.take(WORD)?.toUpperCase();
    if (word !== 'AND') {
      s.pos = joinStart;
      const found = s.describe(joinStart);
      s.fail(
        joinStart,
        word === 'OR' ? 'OR is not supported' : `Expected AND or the end of the filter, found ${found}`,
        word === 'OR'
          ? 'MLflow filters are a conjunction: join comparisons with AND (run one search per alternative, or use IN for run ids)'
          : 'join comparisons with AND (quote strings and keys that contain spaces)',
        found,
      );
    }
    s.skipWhitespace();
    if (s.atEnd()) {
      s.fail(
        s.pos,
        'Expected a comparison after AND, found end of input',
        'remove the trailing AND or add a comparison',
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// order_by

/**
 * Parses `order_by` clauses for `target`: each is `<identifier> [ASC|DESC]` (ascending by default, the
 * direction case-insensitive), with identifiers as in filters. Runs order by metrics, params, tags and
 * attributes; experiments, registered models and model versions by attributes only (see
 * `ORDER_BY_ATTRIBUTES`). The result keeps the clauses' order; undefined or `[]` gives `[]`.
 *
 * @throws OnsetError INVALID_PARAMETER_VALUE naming the clause (and its index when there are several).
 */
export function parseOrderBy(target: SearchTarget, clauses: readonly string[] | undefined): OrderBy[] {
  if (clauses === undefined) return [];
  return clauses.map((clause, index) => {
    const kind = clauses.length > 1 ? `order_by clause #${index + 1}` : 'order_by clause';
    const s = new Scanner(clause, makeFail(kind, clause));
    s.skipWhitespace();
    if (s.atEnd()) {
      s.fail(0, 'Empty order_by clause', `write <key> [ASC|DESC], e.g. ${orderByExample(target)}`);
    }
    const id = readIdentifier(s, target, 'order_by');
    const { entity, key } = resolveIdentifier(s, target, id, 'order_by');
    s.skipWhitespace();
    let ascending = true;
    const directionStart = s.pos;
    const direction = s.take(WORD)?.toUpperCase();
    if (direction === 'DESC') ascending = false;
    else if (direction !== undefined && direction !== 'ASC') {
      s.pos = directionStart;
      s.fail(
        directionStart,
        `Invalid direction ${s.describe()}`,
        'use ASC or DESC (or nothing for ASC)',
        s.describe(),
      );
    }
    s.skipWhitespace();
    if (!s.atEnd()) {
      s.fail(
        s.pos,
        `Unexpected ${s.describe()} after the ${direction === undefined ? 'key' : 'direction'}`,
        `write one <key> [ASC|DESC] per clause, e.g. ${orderByExample(target)} (quote keys with spaces)`,
        s.describe(),
      );
    }
    return { entity, key, ascending };
  });
}

function orderByExample(target: SearchTarget): string {
  return target === 'runs' ? "'metrics.roc_auc DESC'" : `'${ORDER_BY_ATTRIBUTES[target][0]} ASC'`;
}

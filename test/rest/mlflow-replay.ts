/**
 * Replays recorded MLflow client exchanges (see scripts/mlflow/exchange-fixture.ts) against an Onset app,
 * in order, and says where Onset's answers differ from the recorded ones in what the client depends on.
 *
 * Identifiers the server assigns are learned from the answers: the first time a recorded answer holds
 * one (an experiment or run id, an artifact location, a page token, a generated run name), the actual
 * value is bound to it, and later requests carry the actual value wherever the recorded one was. What
 * is compared, and what is not, is written out in `compareJson`.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import {
  type Exchange,
  parseLenientJson,
  type RecordedBody,
  sha256Hex,
} from '../../scripts/mlflow/exchange-fixture.js';

/** Answer fields whose values the server chooses: bound to the actual values the first time seen. */
const ASSIGNED = new Set([
  'run_id',
  'run_uuid',
  'artifact_uri',
  'artifact_location',
  'next_page_token',
  'run_name',
]);
/** Experiment ids are short numbers: mapped only where a field or path position says it is one. */
const EXPERIMENT_ID_FIELDS = new Set(['experiment_id', 'experiment_ids']);
/** Times the server stamps: compared exactly only when the client sent the value (a metric's timestamp). */
const TIMES = new Set([
  'creation_time',
  'last_update_time',
  'start_time',
  'end_time',
  'timestamp',
  'creation_timestamp',
  'last_updated_timestamp',
  'deleted_time',
]);
/** Bound strings at least this long are replaced anywhere in later requests (ids, URIs, tokens). */
const SUBSTITUTE_FROM = 16;
const ARTIFACT_PROXY = '/api/2.0/mlflow-artifacts/artifacts';
const RUN_NAME_TAG = 'mlflow.runName';

/** A recorded `mlflow-artifacts:/` location answered with another scheme (today: `file://`). */
export interface SchemeDifference {
  readonly recorded: string;
  readonly actual: string;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Protobuf's JSON leaves default values out: an absent field reads as one of these. */
function isProtoDefault(value: unknown): boolean {
  return (
    value === null ||
    value === '' ||
    value === 0 ||
    value === false ||
    (Array.isArray(value) && value.length === 0) ||
    (isObject(value) && Object.keys(value).length === 0)
  );
}

const SPECIAL_NUMBERS: Readonly<Record<string, number>> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
};

/**
 * A JSON number as the client reads it: protobuf accepts numbers, numeric strings (int64) and
 * "NaN"/"Infinity"; MLflow's SQL store keeps ±infinity as ±Number.MAX_VALUE, which reads the same to a
 * client (both are beyond any finite metric).
 */
function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    if (value in SPECIAL_NUMBERS) return SPECIAL_NUMBERS[value];
    if (/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(value)) return Number(value);
  }
  return undefined;
}

function sameNumber(recorded: number, actual: number): boolean {
  if (Number.isNaN(recorded)) return Number.isNaN(actual);
  const infinite = (n: number) => (Math.abs(n) >= Number.MAX_VALUE ? Math.sign(n) : 0);
  if (infinite(recorded) !== 0 || infinite(actual) !== 0) return infinite(recorded) === infinite(actual);
  return recorded === actual;
}

/** How list elements are matched: by a key field where the client reads the list as a map. */
function elementKey(element: unknown): string | undefined {
  if (!isObject(element)) return undefined;
  if (typeof element.key === 'string') return `key:${element.key}`;
  if (typeof element.path === 'string') return `path:${element.path}`;
  return undefined;
}

/** The replay of one fixture file's exchanges against one app, in order. */
export class ExchangeReplay {
  /** Recorded value → actual value, for what the server assigns. */
  private readonly bound = new Map<string, string>();
  private readonly experimentIds = new Map<string, string>();
  /** sha256 of a recorded binary body → sha256 of the stand-in bytes the replay sent instead. */
  private readonly standIns = new Map<string, string>();
  /** Strings and numbers the client itself sent: answered back, they are compared exactly. */
  private readonly sentStrings = new Set<string>();
  private readonly sentNumbers = new Set<number>();
  readonly schemeDifferences: SchemeDifference[] = [];

  constructor(
    private readonly app: FastifyInstance,
    private readonly headers: Readonly<Record<string, string>>,
  ) {}

  /** Sends `exchange`'s request (with bound values) and returns the differences from its recorded answer. */
  async replay(exchange: Exchange): Promise<string[]> {
    const where = `${exchange.method} ${exchange.path}`;
    const path = this.requestPath(exchange.path);
    const query = this.requestQuery(exchange.query);
    const body = this.requestBody(exchange.request);
    if (exchange.method === 'POST' && exchange.path.endsWith('/create')) {
      // The client's pace: what it creates gets distinct creation times, which default orders sort by
      // (an injected request takes well under a millisecond).
      await new Promise((wait) => setTimeout(wait, 2));
    }
    const answer = await this.app.inject({
      method: exchange.method as 'GET',
      url: query ? `${path}?${query}` : path,
      headers: {
        ...this.headers,
        ...(exchange.requestType ? { 'content-type': exchange.requestType } : {}),
      },
      ...(body === undefined ? {} : { payload: body }),
    });
    const problems: string[] = [];
    if (answer.statusCode !== exchange.status) {
      problems.push(
        `${where}: status ${answer.statusCode}, recorded ${exchange.status} (${answer.body.slice(0, 300)})`,
      );
      return problems;
    }
    problems.push(...this.compareBody(exchange.response, answer.rawPayload, where));
    return problems;
  }

  // ------------------------------------------------------------------------------------- requests

  private substitute(text: string): string {
    const long = [...this.bound.entries()]
      .filter(([recorded, actual]) => recorded.length >= SUBSTITUTE_FROM && recorded !== actual)
      .sort((a, b) => b[0].length - a[0].length);
    let out = text;
    for (const [recorded, actual] of long) {
      out = out.replace(new RegExp(`${escapeRegExp(recorded)}(?![0-9A-Za-z_])`, 'g'), () => actual);
    }
    return out;
  }

  /** A path under the artifact root starts with the experiment id (`<experiment>/<run>/artifacts/...`). */
  private artifactPath(path: string): string {
    const [first = '', ...rest] = path.split('/');
    const experiment = this.experimentIds.get(first);
    return this.substitute(experiment === undefined ? path : [experiment, ...rest].join('/'));
  }

  private requestPath(path: string): string {
    if (path.startsWith(`${ARTIFACT_PROXY}/`)) {
      return `${ARTIFACT_PROXY}/${this.artifactPath(path.slice(ARTIFACT_PROXY.length + 1))}`;
    }
    return this.substitute(path);
  }

  private requestQuery(query: string): string {
    if (!query) return '';
    const params = new URLSearchParams(query);
    const out = new URLSearchParams();
    for (const [name, value] of params) {
      this.sentStrings.add(value);
      if (EXPERIMENT_ID_FIELDS.has(name)) out.append(name, this.experimentIds.get(value) ?? value);
      else if (name === 'path') out.append(name, this.artifactPath(value));
      else out.append(name, this.substitute(value));
    }
    return out.toString();
  }

  private remember(value: unknown): void {
    if (typeof value === 'string') this.sentStrings.add(value);
    else if (typeof value === 'number') this.sentNumbers.add(value);
    else if (Array.isArray(value)) for (const item of value) this.remember(item);
    else if (isObject(value)) for (const item of Object.values(value)) this.remember(item);
  }

  private requestJson(value: unknown, field?: string): unknown {
    if (typeof value === 'string') {
      if (field !== undefined && EXPERIMENT_ID_FIELDS.has(field))
        return this.experimentIds.get(value) ?? value;
      return this.substitute(value);
    }
    if (Array.isArray(value)) return value.map((item) => this.requestJson(item, field));
    if (isObject(value)) {
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [key, this.requestJson(item, key)]),
      );
    }
    return value;
  }

  private requestBody(body: RecordedBody | undefined): string | Buffer | undefined {
    if (body === undefined) return undefined;
    if ('json' in body) {
      this.remember(body.json);
      return JSON.stringify(this.requestJson(body.json));
    }
    if ('text' in body) {
      try {
        this.remember(parseLenientJson(body.text));
      } catch {
        // an artifact's text, not a request message
      }
      return this.substitute(body.text);
    }
    // Binary content is not recorded: the same number of bytes stands in for it, derived from its digest.
    const { size, sha256 } = body.bytes;
    const block = createHash('sha512').update(sha256).digest();
    const standIn = Buffer.alloc(size);
    for (let offset = 0; offset < size; offset += block.length) block.copy(standIn, offset);
    this.standIns.set(sha256, sha256Hex(standIn));
    return standIn;
  }

  // ------------------------------------------------------------------------------------- answers

  private compareBody(recorded: RecordedBody | undefined, actual: Buffer, where: string): string[] {
    if (recorded === undefined) return [];
    if ('bytes' in recorded) {
      const expected = this.standIns.get(recorded.bytes.sha256) ?? recorded.bytes.sha256;
      if (actual.length !== recorded.bytes.size) {
        return [`${where}: ${actual.length} bytes, recorded ${recorded.bytes.size}`];
      }
      return sha256Hex(actual) === expected ? [] : [`${where}: the bytes differ from those uploaded`];
    }
    if ('text' in recorded) {
      let recordedJson: unknown;
      try {
        recordedJson = parseLenientJson(recorded.text);
      } catch {
        const expected = this.substitute(recorded.text);
        return actual.toString('utf8') === expected ? [] : [`${where}: the text differs`];
      }
      return this.compareParsed(recordedJson, actual, where);
    }
    return this.compareParsed(recorded.json, actual, where);
  }

  private compareParsed(recorded: unknown, actual: Buffer, where: string): string[] {
    let parsed: unknown;
    try {
      parsed = parseLenientJson(actual.toString('utf8'));
    } catch {
      return [`${where}: the answer is not JSON: ${actual.toString('utf8').slice(0, 200)}`];
    }
    const problems: string[] = [];
    this.compareJson(recorded, parsed, where, undefined, problems);
    return problems;
  }

  /**
   * Compares an answer with the recorded one as MLflow's client reads it (protobuf's JSON parser with
   * unknown fields ignored):
   * - fields Onset adds are fine; a recorded field may be absent when its value is protobuf's default;
   * - lists of `{key, ...}` (tags, params, metrics) and of `{path, ...}` (artifact listings) are matched by
   *   key, in any order; other lists element by element, in order;
   * - assigned values (ids, locations, page tokens, generated run names) are bound, then compared as
   *   bound; server times only by type, unless the client sent the value;
   * - error messages are not compared (their codes are): the client shows them, it does not branch on them;
   * - an `mlflow-artifacts:/` location answered as another URI ending in the same path is noted in
   *   `schemeDifferences`, not here.
   */
  private compareJson(
    recorded: unknown,
    actual: unknown,
    where: string,
    field: string | undefined,
    problems: string[],
    trail = '',
  ): void {
    const at = `${where} ${trail || '(body)'}`;
    if (isObject(recorded)) {
      if (!isObject(actual)) {
        problems.push(`${at}: ${JSON.stringify(actual)?.slice(0, 120)}, recorded an object`);
        return;
      }
      const runNameTag = recorded.key === RUN_NAME_TAG;
      for (const [key, value] of Object.entries(recorded)) {
        if (key === 'message' && typeof recorded.error_code === 'string') continue;
        const other = actual[key];
        if (other === undefined || other === null) {
          if (!isProtoDefault(value)) {
            problems.push(
              `${where} ${trail}.${key}: missing, recorded ${JSON.stringify(value)?.slice(0, 120)}`,
            );
          }
          continue;
        }
        const name = runNameTag && key === 'value' ? 'run_name' : key;
        this.compareJson(value, other, where, name, problems, `${trail}.${key}`);
      }
      return;
    }
    if (Array.isArray(recorded)) {
      if (!Array.isArray(actual)) {
        problems.push(`${at}: ${JSON.stringify(actual)?.slice(0, 120)}, recorded a list`);
        return;
      }
      const keys = recorded.map(elementKey);
      // By key only where keys are unique: a metric's history repeats its key, in order.
      if (keys.length > 0 && keys.every((key) => key !== undefined) && new Set(keys).size === keys.length) {
        const actualByKey = new Map(actual.map((element) => [elementKey(element), element]));
        for (const [index, element] of recorded.entries()) {
          const match = actualByKey.get(keys[index]);
          if (match === undefined) problems.push(`${at}: no element ${keys[index]}`);
          else this.compareJson(element, match, where, field, problems, `${trail}[${keys[index]}]`);
        }
        if (actual.length !== recorded.length) {
          problems.push(`${at}: ${actual.length} elements, recorded ${recorded.length}`);
        }
        return;
      }
      if (actual.length !== recorded.length) {
        problems.push(`${at}: ${actual.length} elements, recorded ${recorded.length}`);
        return;
      }
      for (const [index, element] of recorded.entries()) {
        this.compareJson(element, actual[index], where, field, problems, `${trail}[${index}]`);
      }
      return;
    }
    if (typeof recorded === 'string' && !(recorded in SPECIAL_NUMBERS)) {
      this.compareString(recorded, actual, at, field, problems);
      return;
    }
    if (typeof recorded === 'number' || typeof recorded === 'string') {
      // A number, or NaN/Infinity (Python writes them as bare words, read here as "NaN", "Infinity").
      const recordedNumber = asNumber(recorded) ?? Number.NaN;
      const actualNumber = asNumber(actual);
      if (actualNumber === undefined) {
        problems.push(`${at}: ${JSON.stringify(actual)?.slice(0, 120)}, recorded the number ${recorded}`);
      } else if (field !== undefined && TIMES.has(field) && !this.sentNumbers.has(recordedNumber)) {
        // stamped by the server: any time will do
      } else if (!sameNumber(recordedNumber, actualNumber)) {
        problems.push(`${at}: ${actualNumber}, recorded ${recordedNumber}`);
      }
      return;
    }
    if (recorded !== actual) {
      problems.push(`${at}: ${JSON.stringify(actual)?.slice(0, 120)}, recorded ${JSON.stringify(recorded)}`);
    }
  }

  private compareString(
    recorded: string,
    actual: unknown,
    at: string,
    field: string | undefined,
    problems: string[],
  ): void {
    if (typeof actual !== 'string') {
      // protobuf refuses a number for a string field
      problems.push(
        `${at}: ${JSON.stringify(actual)?.slice(0, 120)}, recorded the string ${JSON.stringify(recorded)}`,
      );
      return;
    }
    const value = actual;
    if (field !== undefined && EXPERIMENT_ID_FIELDS.has(field)) {
      const bound = this.experimentIds.get(recorded);
      if (bound === undefined) this.experimentIds.set(recorded, value);
      else if (bound !== value)
        problems.push(`${at}: experiment ${value}, expected ${bound} (recorded ${recorded})`);
      return;
    }
    const bound = this.bound.get(recorded);
    if (bound !== undefined) {
      if (bound !== value)
        problems.push(`${at}: ${JSON.stringify(value)}, expected ${JSON.stringify(bound)}`);
      return;
    }
    if (field !== undefined && ASSIGNED.has(field) && !this.sentStrings.has(recorded)) {
      if (recorded.startsWith('mlflow-artifacts:') && !value.startsWith('mlflow-artifacts:')) {
        const recordedPath = this.artifactPath(
          recorded.slice('mlflow-artifacts:'.length).replace(/^\/+/, ''),
        );
        if (!value.endsWith(`/${recordedPath}`)) {
          problems.push(`${at}: ${JSON.stringify(value)}, recorded ${JSON.stringify(recorded)}`);
          return;
        }
        this.schemeDifferences.push({ recorded, actual: value });
      }
      this.bound.set(recorded, value);
      return;
    }
    const expected = this.substitute(recorded);
    if (expected === value) return;
    if (recorded.startsWith('mlflow-artifacts:') && !value.startsWith('mlflow-artifacts:')) {
      // A location derived from a bound one (a model version's source, a download URI).
      const recordedPath = this.artifactPath(recorded.slice('mlflow-artifacts:'.length).replace(/^\/+/, ''));
      if (value.endsWith(`/${recordedPath}`)) {
        this.schemeDifferences.push({ recorded, actual: value });
        return;
      }
    }
    problems.push(
      `${at}: ${JSON.stringify(value).slice(0, 200)}, recorded ${JSON.stringify(recorded).slice(0, 200)}`,
    );
  }
}

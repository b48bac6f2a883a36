/**
 * The format of the recorded MLflow client exchanges (`test/fixtures/mlflow-client/*.json`), written by
 * `record-exchanges.ts` and replayed by `test/rest/mlflow-client-replay.test.ts`, and how a body is kept:
 * JSON as JSON, other text as text, and binary content (or text over `TEXT_LIMIT`) as its size and sha256
 * only, so that no pickled model is checked in.
 */
import { createHash } from 'node:crypto';

/** A request or response body as recorded. Absent: the body was empty. */
export type RecordedBody =
  | { readonly json: unknown }
  | { readonly text: string }
  | { readonly bytes: { readonly size: number; readonly sha256: string } };

/** One HTTP exchange between the client and the server, in the order the client made them. */
export interface Exchange {
  readonly method: string;
  /** The path, without the query string. */
  readonly path: string;
  /** The raw query string, without `?`; empty when there was none. */
  readonly query: string;
  readonly requestType?: string;
  readonly request?: RecordedBody;
  readonly status: number;
  readonly responseType?: string;
  readonly response?: RecordedBody;
}

/** The exchanges one client check made, and how the check ended against the recorded server. */
export interface RecordedCheck {
  /** `group/name`, as client-checks.py prints it. */
  readonly name: string;
  readonly outcome: 'PASS' | 'FAIL';
  /** The reason client-checks.py gave, for a failed check. */
  readonly reason?: string;
  readonly exchanges: readonly Exchange[];
}

/** One fixture file: a group of client checks. */
export interface ExchangeFixture {
  readonly about: string;
  readonly group: string;
  /** What answered: e.g. `MLflow 2.12.2.dev0 (mlflow server, SQLite, proxied artifacts)`. */
  readonly server: string;
  readonly client: string;
  readonly command: string;
  readonly checks: readonly RecordedCheck[];
}

/** Text bodies up to this many bytes are kept whole; longer ones only as size and sha256. */
export const TEXT_LIMIT = 256 * 1024;

export function sha256Hex(content: Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

function isText(content: Buffer): boolean {
  if (content.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(content);
    return true;
  } catch {
    return false;
  }
}

/** How `content` is recorded: parsed JSON, text or size and digest. */
export function recordBody(content: Buffer, contentType: string | undefined): RecordedBody | undefined {
  if (content.length === 0) return undefined;
  if (!isText(content) || content.length > TEXT_LIMIT) {
    return { bytes: { size: content.length, sha256: sha256Hex(content) } };
  }
  const text = content.toString('utf8');
  if (contentType?.includes('json')) {
    try {
      return { json: JSON.parse(text) };
    } catch {
      // Python's json writes NaN and Infinity, which JSON.parse refuses: keep such a body as text.
    }
  }
  return { text };
}

/**
 * Parses JSON that may hold Python's `NaN`, `Infinity` and `-Infinity` literals (outside strings), as
 * MLflow writes them, reading each as the string protobuf's JSON uses for it (`"NaN"`, ...).
 */
export function parseLenientJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    let out = '';
    let inString = false;
    for (let i = 0; i < text.length; i++) {
      const char = text[i];
      if (inString) {
        out += char;
        if (char === '\\') out += text[++i] ?? '';
        else if (char === '"') inString = false;
        continue;
      }
      if (char === '"') {
        inString = true;
        out += char;
        continue;
      }
      const literal = ['-Infinity', 'Infinity', 'NaN'].find((word) => text.startsWith(word, i));
      if (literal) {
        out += JSON.stringify(literal);
        i += literal.length - 1;
      } else {
        out += char;
      }
    }
    return JSON.parse(out);
  }
}

import { invalidParameter } from '../../errors.js';

/**
 * A decoder for Universal Binary JSON (ubjson.org, draft 12), the format of XGBoost's `.ubj` models
 * (`save_model("model.ubj")`, XGBoost's default from 2.0). XGBoost writes objects and strongly typed,
 * counted arrays (`[$d#L<count>` followed by big-endian float32 values), and keys and strings with int64
 * lengths. The decoder answers what `JSON.parse` gives for the same document in JSON: plain objects,
 * plain arrays of numbers (a typed array decodes to a plain one), strings, booleans and null. A float32
 * decodes to its exact value, which the JSON text of the same model rounds to (`Math.fround` of the
 * parsed JSON number equals it).
 */

/** Deepest nesting accepted: XGBoost models nest about 8 levels; a limit keeps hostile input off the stack. */
const MAX_DEPTH = 512;
/** Most elements of a typed container of nulls or booleans, which take no bytes each. */
const MAX_PAYLOAD_FREE_COUNT = 1 << 24;

/**
 * Whether the bytes start like a UBJSON object (every XGBoost model is one): `{` followed by the length
 * marker of a key or an optimized-container marker, where a JSON object continues with a quote or
 * whitespace. (`{}` reads as the same empty object either way.)
 */
export function looksLikeUbjson(bytes: Uint8Array): boolean {
  const second = bytes[1];
  return bytes[0] === 0x7b && second !== undefined && 'iUIlL$#N}'.includes(String.fromCharCode(second));
}

/** Decodes one UBJSON value that takes up all of `bytes`; INVALID_PARAMETER_VALUE when it is not valid. */
export function parseUbjson(bytes: Uint8Array, where = 'UBJSON document'): unknown {
  const reader = new UbjsonReader(bytes, where);
  const value = reader.value(reader.marker(), 0);
  reader.expectEnd();
  return value;
}

const textDecoder = new TextDecoder('utf-8', { fatal: true });

class UbjsonReader {
  private offset = 0;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly where: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(reason: string, at = this.offset): never {
    throw invalidParameter(`${this.where} is not valid UBJSON: ${reason} at byte ${at}`);
  }

  expectEnd(): void {
    while (this.offset < this.bytes.length && this.bytes[this.offset] === 0x4e) this.offset++; // 'N' no-op
    if (this.offset !== this.bytes.length) this.fail('trailing bytes after the value');
  }

  /** The next type marker, skipping no-op markers. */
  marker(): string {
    let byte: number | undefined;
    do {
      byte = this.bytes[this.offset++];
      if (byte === undefined) this.fail('unexpected end of data', this.bytes.length);
    } while (byte === 0x4e);
    return String.fromCharCode(byte);
  }

  private take(length: number): number {
    const start = this.offset;
    if (start + length > this.bytes.length) this.fail(`needs ${length} more bytes`, start);
    this.offset += length;
    return start;
  }

  /** A value whose type marker has been read. */
  value(marker: string, depth: number): unknown {
    switch (marker) {
      case 'Z':
        return null;
      case 'T':
        return true;
      case 'F':
        return false;
      case 'i':
        return this.view.getInt8(this.take(1));
      case 'U':
        return this.view.getUint8(this.take(1));
      case 'I':
        return this.view.getInt16(this.take(2));
      case 'l':
        return this.view.getInt32(this.take(4));
      case 'L':
        // Beyond 2^53 a value loses precision, as it does in JSON.parse.
        return Number(this.view.getBigInt64(this.take(8)));
      case 'd':
        return this.view.getFloat32(this.take(4));
      case 'D':
        return this.view.getFloat64(this.take(8));
      case 'H': {
        const at = this.offset;
        const text = this.string();
        const number = Number(text);
        if (text.trim() === '' || !Number.isFinite(number)) this.fail(`high-precision number "${text}"`, at);
        return number;
      }
      case 'C': {
        const byte = this.view.getUint8(this.take(1));
        if (byte > 0x7f) this.fail('a char outside ASCII', this.offset - 1);
        return String.fromCharCode(byte);
      }
      case 'S':
        return this.string();
      case '[':
        return this.array(depth + 1);
      case '{':
        return this.object(depth + 1);
      default:
        return this.fail(`unknown type marker "${printable(marker)}"`, this.offset - 1);
    }
  }

  /** A length or count: an integer value with its own marker, not negative. */
  private length(): number {
    const at = this.offset;
    const marker = this.marker();
    if (!'iUIlL'.includes(marker)) this.fail(`a length must be an integer, not "${printable(marker)}"`, at);
    const value = this.value(marker, 0) as number;
    if (!Number.isSafeInteger(value) || value < 0) this.fail(`invalid length ${value}`, at);
    return value;
  }

  private string(): string {
    const length = this.length();
    const start = this.take(length);
    try {
      return textDecoder.decode(this.bytes.subarray(start, start + length));
    } catch {
      return this.fail('a string that is not UTF-8', start);
    }
  }

  /** The optional `$type` and `#count` of an optimized container. */
  private containerHeader(): { type: string | undefined; count: number | undefined } {
    let type: string | undefined;
    if (this.bytes[this.offset] === 0x24) {
      // '$'
      this.offset++;
      type = this.marker();
      if (this.bytes[this.offset] !== 0x23) this.fail('a typed container ($) without a count (#)');
    }
    let count: number | undefined;
    if (this.bytes[this.offset] === 0x23) {
      // '#'
      this.offset++;
      count = this.length();
      // Every element takes at least a byte, except typed ones without a payload (null, true, false).
      const payloadFree = type !== undefined && 'ZTF'.includes(type);
      if (count > (payloadFree ? MAX_PAYLOAD_FREE_COUNT : this.bytes.length - this.offset)) {
        this.fail(`a count of ${count} exceeds the bytes left`);
      }
    }
    return { type, count };
  }

  private array(depth: number): unknown[] {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH}`);
    const { type, count } = this.containerHeader();
    if (count !== undefined) {
      const typed = type === undefined ? undefined : this.typedArray(type, count);
      if (typed) return typed;
      const items = new Array<unknown>(count);
      for (let i = 0; i < count; i++) items[i] = this.value(type ?? this.marker(), depth);
      return items;
    }
    const items: unknown[] = [];
    for (;;) {
      const marker = this.marker();
      if (marker === ']') return items;
      items.push(this.value(marker, depth));
    }
  }

  /** A counted array of fixed-size numbers, read in one pass (the bulk of an XGBoost model). */
  private typedArray(type: string, count: number): number[] | undefined {
    const size = { i: 1, U: 1, I: 2, l: 4, d: 4, D: 8 }[type];
    if (size === undefined) return undefined;
    const start = this.take(size * count);
    const view = this.view;
    const out = new Array<number>(count);
    for (let i = 0, at = start; i < count; i++, at += size) {
      switch (type) {
        case 'i':
          out[i] = view.getInt8(at);
          break;
        case 'U':
          out[i] = view.getUint8(at);
          break;
        case 'I':
          out[i] = view.getInt16(at);
          break;
        case 'l':
          out[i] = view.getInt32(at);
          break;
        case 'd':
          out[i] = view.getFloat32(at);
          break;
        default:
          out[i] = view.getFloat64(at);
      }
    }
    return out;
  }

  private object(depth: number): Record<string, unknown> {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH}`);
    const { type, count } = this.containerHeader();
    const out: Record<string, unknown> = {};
    const add = (key: string, value: unknown) => {
      // As JSON.parse: "__proto__" becomes an ordinary own property, a repeated key keeps its last value.
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    };
    if (count !== undefined) {
      for (let i = 0; i < count; i++) add(this.string(), this.value(type ?? this.marker(), depth));
      return out;
    }
    for (;;) {
      // Keys carry no 'S' marker; '}' (0x7d) ends the object, a length marker starts a key.
      while (this.bytes[this.offset] === 0x4e) this.offset++;
      if (this.bytes[this.offset] === 0x7d) {
        this.offset++;
        return out;
      }
      const key = this.string();
      add(key, this.value(type ?? this.marker(), depth));
    }
  }
}

function printable(marker: string): string {
  const code = marker.charCodeAt(0);
  return code >= 0x20 && code < 0x7f ? marker : `0x${code.toString(16).padStart(2, '0')}`;
}

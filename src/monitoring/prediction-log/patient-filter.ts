/**
 * Bloom filters of the patient keys of a run of logged predictions: how the log finds a patient's
 * predictions without an index of the keys. An index entry per prediction lands at a random place in
 * its B-tree and cost as much to write as the rest of the row (8 µs of 17 per row on SQLite, measured
 * by appending 100,000 rows to 100,000); a filter per appended batch costs a few bit operations per
 * prediction and one row per batch. A lookup tests the key against every filter and reads only the
 * predictions of the batches that may hold it (see `SqlPredictionLogStore.findByPatientKey`).
 */

/** Bits per key and bits set per key: a false positive about once in 2,000 batches without the key. */
const BITS_PER_KEY = 16;
const HASHES = 11;
/** The smallest filter, for a batch of a few keys. */
const MIN_BYTES = 8;

/**
 * Two independent 32-bit hashes of `key`. Patient keys are HMAC-SHA256 digests in hex, uniformly
 * random: their first 16 digits are the hashes. Any other string (none the log makes) is hashed with
 * FNV-1a under two seeds.
 */
function hashesOf(key: string): [number, number] {
  if (/^[0-9a-f]{16}/.test(key)) {
    return [Number.parseInt(key.slice(0, 8), 16), Number.parseInt(key.slice(8, 16), 16)];
  }
  return [fnv1a(key, 0x811c9dc5), fnv1a(key, 0x01000193)];
}

function fnv1a(text: string, seed: number): number {
  let hash = seed;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** The filter's bit positions of `key` (double hashing, Kirsch and Mitzenmacher), each passed to `visit`. */
function forEachBit(key: string, bits: number, visit: (bit: number) => void): void {
  const [first, second] = hashesOf(key);
  // An odd step visits distinct positions even when `bits` is a power of two.
  const step = (second | 1) >>> 0;
  for (let i = 0; i < HASHES; i++) visit((first + i * step) % bits);
}

/** A filter of `keys` (a key may repeat), sized for them. */
export function buildPatientFilter(keys: readonly string[]): Uint8Array {
  const filter = new Uint8Array(Math.max(MIN_BYTES, Math.ceil((keys.length * BITS_PER_KEY) / 8)));
  const bits = filter.length * 8;
  for (const key of keys) {
    forEachBit(key, bits, (bit) => {
      filter[bit >>> 3]! |= 1 << (bit & 7);
    });
  }
  return filter;
}

/** Whether `filter` may hold `key`: false means it certainly does not. */
export function patientFilterMayHold(filter: Uint8Array, key: string): boolean {
  const bits = filter.length * 8;
  if (bits === 0) return false;
  let all = true;
  forEachBit(key, bits, (bit) => {
    if ((filter[bit >>> 3]! & (1 << (bit & 7))) === 0) all = false;
  });
  return all;
}

/** Keyed predictions per filter: a lookup that hits a filter reads at most this many of its rows. */
export const KEYS_PER_FILTER = 1_000;

/** A filter of the patient keys of the predictions with ids from `firstId` to `lastId`. */
export interface PatientFilterRun {
  readonly firstId: string;
  readonly lastId: string;
  readonly filter: Uint8Array;
}

/**
 * The filters of `count` predictions in append order: one per KEYS_PER_FILTER predictions that have a
 * patient key, each over the range of their ids (ids begin with their time, and a batch is nearly in
 * time order, so the ranges are short; ranges of different writers may overlap).
 */
export function patientFilterRuns(
  count: number,
  idAt: (row: number) => string,
  keyAt: (row: number) => string | null,
): PatientFilterRun[] {
  const runs: PatientFilterRun[] = [];
  let keys: string[] = [];
  let firstId = '';
  let lastId = '';
  const close = () => {
    if (keys.length > 0) runs.push({ firstId, lastId, filter: buildPatientFilter(keys) });
    keys = [];
  };
  for (let row = 0; row < count; row++) {
    const key = keyAt(row);
    if (key === null) continue;
    const id = idAt(row);
    if (keys.length === 0) {
      firstId = id;
      lastId = id;
    } else {
      if (id < firstId) firstId = id;
      if (id > lastId) lastId = id;
    }
    keys.push(key);
    if (keys.length === KEYS_PER_FILTER) close();
  }
  close();
  return runs;
}

/**
 * Reading `/metrics` (Prometheus' text exposition format, version 0.0.4) in the browser, and the few
 * figures the overview shows from two scrapes: request rate, error rate and a latency quantile.
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

function parseValue(text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(text);
}

/** The samples of an exposition (comments and `# TYPE` lines skipped); a malformed line throws. */
export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    let i = 0;
    while (i < line.length && /[a-zA-Z0-9_:]/.test(line[i]!)) i++;
    const name = line.slice(0, i);
    if (name === '') throw new Error(`metrics line ${n + 1}: no metric name in ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    if (line[i] === '{') {
      i++;
      while (line[i] !== '}') {
        while (line[i] === ' ' || line[i] === ',') i++;
        if (line[i] === '}') break;
        const eq = line.indexOf('=', i);
        if (eq < 0 || line[eq + 1] !== '"') throw new Error(`metrics line ${n + 1}: malformed labels`);
        const key = line.slice(i, eq).trim();
        let value = '';
        let j = eq + 2;
        for (; j < line.length && line[j] !== '"'; j++) {
          if (line[j] === '\\') {
            j++;
            value += line[j] === 'n' ? '\n' : line[j];
          } else value += line[j];
        }
        if (j >= line.length) throw new Error(`metrics line ${n + 1}: unterminated label value`);
        labels[key] = value;
        i = j + 1;
      }
      i++;
    }
    const [value] = line.slice(i).trim().split(/\s+/);
    if (value === undefined || value === '') throw new Error(`metrics line ${n + 1}: no value`);
    samples.push({ name, labels, value: parseValue(value) });
  }
  return samples;
}

/** A scrape: its samples and when it was taken (ms). */
export interface Scrape {
  readonly at: number;
  readonly samples: readonly Sample[];
}

type LabelFilter = (labels: Readonly<Record<string, string>>) => boolean;

/** The sum of a metric's samples whose labels pass `filter`. */
export function total(scrape: Scrape, name: string, filter: LabelFilter = () => true): number {
  let sum = 0;
  for (const sample of scrape.samples) if (sample.name === name && filter(sample.labels)) sum += sample.value;
  return sum;
}

/** Per second between two scrapes (a counter that went down, a restart, counts from zero). */
export function rate(before: Scrape, after: Scrape, name: string, filter: LabelFilter = () => true): number {
  const seconds = (after.at - before.at) / 1000;
  if (seconds <= 0) return 0;
  const now = total(after, name, filter);
  const then = total(before, name, filter);
  return (now >= then ? now - then : now) / seconds;
}

/**
 * A quantile of a histogram's observations between two scrapes (all of them since the start when
 * `before` is undefined), interpolated linearly within its bucket as PromQL's `histogram_quantile`
 * does; undefined when nothing was observed.
 */
export function histogramQuantile(
  q: number,
  after: Scrape,
  before: Scrape | undefined,
  name: string,
  filter: LabelFilter = () => true,
): number | undefined {
  const buckets = new Map<number, number>();
  const add = (scrape: Scrape, sign: number) => {
    for (const sample of scrape.samples) {
      if (sample.name !== `${name}_bucket` || !filter(sample.labels)) continue;
      const le = parseValue(sample.labels.le ?? '+Inf');
      buckets.set(le, (buckets.get(le) ?? 0) + sign * sample.value);
    }
  };
  add(after, 1);
  if (before) add(before, -1);
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const count = sorted.at(-1)?.[1] ?? 0;
  if (count <= 0) return undefined;
  const rank = q * count;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [upper, cumulative] of sorted) {
    if (cumulative >= rank) {
      if (!Number.isFinite(upper)) return lowerBound;
      const inBucket = cumulative - lowerCount;
      return inBucket <= 0 ? upper : lowerBound + ((upper - lowerBound) * (rank - lowerCount)) / inBucket;
    }
    lowerBound = upper;
    lowerCount = cumulative;
  }
  return lowerBound;
}

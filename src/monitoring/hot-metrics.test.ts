import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HotCounter, HotHistogram } from './hot-metrics.js';

describe('hot metrics', () => {
  it("write exactly what prom-client's own counter and histogram write for the same updates", async () => {
    const reference = new Registry();
    const hot = new Registry();
    const buckets = [0.001, 0.01, 0.1, 1];
    const counter = new Counter({
      name: 'x_total',
      help: 'h',
      labelNames: ['a', 'b'],
      registers: [reference],
    });
    const histogram = new Histogram({
      name: 'y_seconds',
      help: 'h',
      labelNames: ['route'],
      buckets,
      registers: [reference],
    });
    const plain = new Histogram({ name: 'z', help: 'h', buckets, registers: [reference] });
    const hotCounter = new HotCounter('x_total', 'h', hot);
    const hotHistogram = new HotHistogram('y_seconds', 'h', buckets, hot);
    const hotPlain = new HotHistogram('z', 'h', buckets, hot);
    const values = [0.0005, 0.001, 0.004, 0.05, 0.5, 1, 3, 0.02];
    values.forEach((value, i) => {
      const labels = { a: i % 2 ? 'odd' : 'even', b: 'x' };
      counter.inc(labels, i);
      hotCounter.handle(labels).inc(i);
      histogram.observe({ route: i < 4 ? '/predict' : '/ready' }, value);
      hotHistogram.handle({ route: i < 4 ? '/predict' : '/ready' }).observe(value);
      plain.observe(value);
      hotPlain.observe(value);
    });
    expect(await hot.metrics()).toBe(await reference.metrics());
    hot.resetMetrics();
    expect(await hot.metrics()).not.toMatch(/ \d/);
  });
});

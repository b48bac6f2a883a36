import { describe, expect, it } from 'vitest';
import type { PipelineEvent } from '../pipelines/runner.js';
import { liveRenderer } from './pipeline.js';
import { plainProgressGate, progressBar } from './progress.js';

/** A stand-in for stderr that is not a terminal (or is, with `isTTY`), keeping what is written. */
function fakeStream(isTTY: boolean): NodeJS.WriteStream & { text: () => string } {
  let text = '';
  return {
    isTTY,
    write(chunk: string) {
      text += chunk;
      return true;
    },
    text: () => text,
  } as unknown as NodeJS.WriteStream & { text: () => string };
}

describe('plain progress lines', () => {
  it('come at the first step, each quarter and the end, not at every step', () => {
    const due = plainProgressGate({ now: () => 0 });
    const shown = Array.from({ length: 100 }, (_, i) => i + 1).filter((done) => due('trials', done, 100));
    expect(shown).toEqual([1, 25, 50, 75, 100]);
  });

  it('come every interval besides, when a task moves slowly, and are counted per task', () => {
    let clock = 0;
    const due = plainProgressGate({ now: () => clock, intervalMs: 30_000 });
    expect(due('a', 1, 1000)).toBe(true);
    clock = 10_000;
    expect(due('a', 2, 1000)).toBe(false);
    expect(due('b', 1, 10)).toBe(true);
    clock = 31_000;
    expect(due('a', 3, 1000)).toBe(true);
    expect(due('a', 3, 1000)).toBe(false);
    clock = 70_000;
    // Not moved since its last line: nothing new to say.
    expect(due('a', 3, 1000)).toBe(false);
  });

  it('draw a bar of a fixed width', () => {
    expect(progressBar(0.5, 10)).toBe('[█████·····]');
    expect(progressBar(1.2, 4)).toBe('[████]');
  });
});

describe('the live lines of a pipeline run', () => {
  const trialEvents = (total: number): PipelineEvent[] =>
    Array.from({ length: total }, (_, i) => ({
      type: 'block-progress',
      block: 'train-gbdt',
      done: i + 1,
      total,
      label: 'trials',
    }));

  it('show block starts, tuning progress with the time spent, and ends with durations, in plain lines off a terminal', () => {
    let clock = 1_000;
    const stream = fakeStream(false);
    const render = liveRenderer(stream, { now: () => clock });
    render({ type: 'block-started', block: 'train-gbdt', attempt: 1 });
    for (const event of trialEvents(40)) {
      clock += 500;
      render(event);
    }
    render({
      type: 'block-finished',
      block: 'train-gbdt',
      status: 'SUCCEEDED',
      seconds: 20.4,
      output: null,
      error: null,
    });
    expect(stream.text().split('\n')).toEqual([
      '  > train-gbdt',
      '    train-gbdt: trials 1/40 (3%, 0.5 s)',
      '    train-gbdt: trials 10/40 (25%, 5.0 s)',
      '    train-gbdt: trials 20/40 (50%, 10.0 s)',
      '    train-gbdt: trials 30/40 (75%, 15.0 s)',
      '    train-gbdt: trials 40/40 (100%, 20.0 s)',
      '  OK train-gbdt SUCCEEDED (20.4 s)',
      '',
    ]);
  });

  it('redraw one bar on a terminal and clear it before the next line', () => {
    const stream = fakeStream(true);
    const render = liveRenderer(stream, { now: () => 0 });
    render({ type: 'block-started', block: 'train-gbdt', attempt: 1 });
    for (const event of trialEvents(4)) render(event);
    render({
      type: 'block-finished',
      block: 'train-gbdt',
      status: 'SUCCEEDED',
      seconds: 1,
      output: null,
      error: null,
    });
    const text = stream.text();
    expect(text).toContain('\r\x1b[2K    train-gbdt: trials 2/4 [██████████··········] 50%, 0.0 s');
    expect(
      text.endsWith(`trials 4/4 [${'█'.repeat(20)}] 100%, 0.0 s\r\x1b[2K  ✔ train-gbdt SUCCEEDED (1.0 s)\n`),
    ).toBe(true);
  });
});

/**
 * Progress for long work: a redrawn bar on a terminal, a few plain lines otherwise (logs, CI). Always on
 * stderr, so stdout stays clean for results and `--json`.
 */
export interface Progress {
  update(done: number, total: number): void;
  done(message?: string): void;
}

/** A plain progress line is written at most this often (besides each quarter of the work). */
export const PLAIN_PROGRESS_INTERVAL_MS = 30_000;

/**
 * Decides when a plain (not redrawn) progress line is worth writing: at a task's first step, at each
 * quarter and at its end, and otherwise when `intervalMs` has passed since the task's last line and it has
 * moved. A log gets a handful of lines per task, however many steps it has, and a long task is never
 * silent for long.
 */
export function plainProgressGate(
  options: { intervalMs?: number; now?: () => number } = {},
): (task: string, done: number, total: number) => boolean {
  const intervalMs = options.intervalMs ?? PLAIN_PROGRESS_INTERVAL_MS;
  const now = options.now ?? Date.now;
  const seen = new Map<string, { quarter: number; at: number; done: number }>();
  return (task, done, total) => {
    const time = now();
    const quarter = total > 0 ? Math.floor(Math.min(1, done / total) * 4) : 0;
    const last = seen.get(task) ?? { quarter: -1, at: time, done: 0 };
    const due = quarter > last.quarter || (time - last.at >= intervalMs && done > last.done);
    seen.set(task, due ? { quarter, at: time, done } : last);
    return due;
  };
}

/** A progress bar of `width` cells for a share from 0 to 1. */
export function progressBar(share: number, width = 20): string {
  const filled = Math.round(Math.min(1, Math.max(0, share)) * width);
  return `[${'█'.repeat(filled)}${'·'.repeat(width - filled)}]`;
}

export function createProgress(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  const plainLineDue = plainProgressGate();
  let lastDraw = 0;
  return {
    update(done, total) {
      const share = total > 0 ? Math.min(1, done / total) : 0;
      if (stream.isTTY) {
        const now = Date.now();
        if (now - lastDraw < 50 && done < total) return;
        lastDraw = now;
        stream.write(`\r${label} ${progressBar(share, 30)} ${Math.round(share * 100)}%`);
      } else if (plainLineDue(label, done, total)) {
        stream.write(`${label}: ${Math.round(share * 100)}%\n`);
      }
    },
    done(message) {
      if (stream.isTTY) stream.write('\r\x1b[2K');
      if (message) stream.write(`${message}\n`);
    },
  };
}

/**
 * Progress for long work: a redrawn bar on a terminal, a few plain lines otherwise (logs, CI). Always on
 * stderr, so stdout stays clean for results and `--json`.
 */
export interface Progress {
  update(done: number, total: number): void;
  done(message?: string): void;
}

export function createProgress(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  let lastPlainQuarter = -1;
  let lastDraw = 0;
  return {
    update(done, total) {
      const share = total > 0 ? Math.min(1, done / total) : 0;
      if (stream.isTTY) {
        const now = Date.now();
        if (now - lastDraw < 50 && done < total) return;
        lastDraw = now;
        const width = 30;
        const filled = Math.round(share * width);
        stream.write(
          `\r${label} [${'█'.repeat(filled)}${'·'.repeat(width - filled)}] ${Math.round(share * 100)}%`,
        );
      } else {
        const quarter = Math.floor(share * 4);
        if (quarter > lastPlainQuarter) {
          lastPlainQuarter = quarter;
          stream.write(`${label}: ${Math.round(share * 100)}%\n`);
        }
      }
    },
    done(message) {
      if (stream.isTTY) stream.write('\r\x1b[2K');
      if (message) stream.write(`${message}\n`);
    },
  };
}

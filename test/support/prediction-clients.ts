/**
 * Clients that keep predicting while a test swaps the served model: each sends one record after another
 * and keeps the versions that answered, so a test can check that none failed and that each client saw
 * versions only move forward.
 */
export interface PredictionClients {
  /** The versions each client was answered by, in order. */
  readonly seen: readonly (readonly string[])[];
  /** Every answer that was not a 200, with its body. */
  readonly failures: readonly string[];
  /** Predictions answered 200 so far. */
  answered(): number;
  /** Stops sending and waits for the requests in flight. */
  stop(): Promise<void>;
}

export function startPredictionClients(
  address: string,
  records: readonly unknown[],
  count = 8,
): PredictionClients {
  let running = true;
  let answered = 0;
  const seen: string[][] = [];
  const failures: string[] = [];
  const clients = Array.from({ length: count }, async (_, client) => {
    const versions: string[] = [];
    seen.push(versions);
    for (let i = 0; running; i++) {
      const response = await fetch(`${address}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(records[(client + i) % records.length]),
      });
      if (response.status !== 200) failures.push(`${response.status} ${await response.text()}`);
      else {
        answered++;
        versions.push(((await response.json()) as { model: { version: string } }).model.version);
      }
    }
  });
  return {
    seen,
    failures,
    answered: () => answered,
    async stop() {
      running = false;
      await Promise.all(clients);
    },
  };
}

/** Whether each client's versions only moved forward (numerically). */
export function onlyForward(seen: readonly (readonly string[])[]): boolean {
  return seen.every((versions) => versions.every((v, i) => i === 0 || Number(v) >= Number(versions[i - 1])));
}
